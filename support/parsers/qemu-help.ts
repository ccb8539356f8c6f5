/**
 * What a QEMU binary says about itself without starting a guest (no KVM, no devices needed):
 * `qemu-system-x86_64 --version` and `qemu-system-x86_64 -object help`.
 *
 * - `--version`: first line `QEMU emulator version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)`
 *   (qemu/qemu system/vl.c version(): "QEMU emulator version " QEMU_FULL_VERSION).
 * - `-object help`: `List of user creatable objects:` then one type name per line, indented
 *   (qemu/qemu qom/object_interfaces.c user_creatable_print_help()).
 * The object types SEV needs: `sev-guest` (SEV and SEV-ES; qemu target/i386/sev.c TYPE_SEV_GUEST)
 * and `sev-snp-guest` (SEV-SNP; TYPE_SEV_SNP_GUEST, first released in QEMU 9.1.0).
 */
import { ok, parseError, type ParseResult } from './parse-result.js';

export function parseQemuVersion(text: string, source = 'qemu-system-x86_64 --version'): ParseResult<string> {
  const m = /QEMU emulator version (\d+\.\d+(?:\.\d+)?)/.exec(text);
  return m?.[1] ? ok(m[1]) : parseError(source, 1, `no "QEMU emulator version" in '${text.trim().split('\n')[0]?.slice(0, 80) ?? ''}'`);
}

export function parseObjectHelp(text: string, source = 'qemu-system-x86_64 -object help'): ParseResult<readonly string[]> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^List of user creatable objects:\s*$/.test(l.trim()));
  if (start < 0) return parseError(source, 1, `no "List of user creatable objects:" header`);
  const types: string[] = [];
  for (const l of lines.slice(start + 1)) {
    const t = l.trim();
    if (t === '') continue;
    if (!/^[A-Za-z0-9_.,-]+$/.test(t)) return parseError(source, 0, `not an object type name: '${t.slice(0, 80)}'`);
    types.push(t);
  }
  return ok(types);
}
