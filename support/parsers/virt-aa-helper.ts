/**
 * libvirt's virt-aa-helper in dry-run mode (`virt-aa-helper -d -c -u libvirt-<uuid> < guest.xml`):
 * the per-guest AppArmor rules libvirt would write to /etc/apparmor.d/libvirt/libvirt-<uuid>.files
 * for that guest, printed instead of written.
 *
 * Format (libvirt/libvirt src/security/virt-aa-helper.c, unchanged from 2009 to 12.x; read at
 * 74e86b6b2521 and 00fbb9e51678): everything goes to stderr.
 * - vah_info(str): `fprintf(stderr, "%s:\n%s%c", progname, str, '\n')` — a line holding only
 *   "virt-aa-helper:", then the text, then a newline. main() with -d and -c calls it five times:
 *   the include file's path (…/libvirt-<uuid>.files), the rules that file would hold (one per
 *   line, each `  "PATH" PERMS,`, possibly empty), the profile's path, the profile name, and the
 *   `#include <libvirt/libvirt-<uuid>.files>` line of the profile.
 * - vah_warning(str) / vah_error(ctl, …, str): one line "virt-aa-helper: warning: …" /
 *   "virt-aa-helper: error: …" (an error exits 1, e.g. "could not get VM definition").
 * progname is argv[0]'s base name.
 */
import { ok, parseError, type ParseResult } from './parse-result.js';

export interface VirtAaHelperOutput {
  /** the include file the rules would go to (/etc/apparmor.d/libvirt/libvirt-<uuid>.files) */
  readonly includeFile: string;
  /** the rules that file would hold, as printed */
  readonly rules: string;
  readonly warnings: readonly string[];
}

/** Parse a dry run's stderr. `source` names it in errors; `prog` is the program's base name. */
export function parseVirtAaHelperDryRun(stderr: string, source: string, prog = 'virt-aa-helper'): ParseResult<VirtAaHelperOutput> {
  if (stderr.includes('\0')) return parseError(source, 0, 'binary data, not virt-aa-helper output');
  const lines = stderr.split('\n');
  const blocks: { line: number; text: string[] }[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  let cur: { line: number; text: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l === `${prog}:`) {
      cur = { line: i + 1, text: [] };
      blocks.push(cur);
    } else if (l.startsWith(`${prog}: error: `)) {
      errors.push(l.slice(prog.length + 9));
      cur = undefined;
    } else if (l.startsWith(`${prog}: warning: `)) {
      warnings.push(l.slice(prog.length + 11));
      cur = undefined;
    } else if (cur) cur.text.push(l);
    else if (l.trim() !== '') return parseError(source, i + 1, `unexpected line outside virt-aa-helper's blocks: '${l.slice(0, 80)}'`);
  }
  // a failure line is never outweighed by later output
  if (errors.length > 0) return parseError(source, 0, `virt-aa-helper: error: ${errors[0]}`);
  // each block is the text plus the newline vah_info adds: drop that one empty last line
  const text = (b: { text: string[] }): string => (b.text.length > 0 && b.text[b.text.length - 1] === '' ? b.text.slice(0, -1) : b.text).join('\n');
  const at = blocks.findIndex((b) => /^\/\S*\/libvirt-[0-9a-f-]{36}\.files$/.test(text(b)));
  if (at < 0) return parseError(source, 0, 'no include file (…/libvirt-<uuid>.files) announced: not a dry run of virt-aa-helper -c');
  const rules = blocks[at + 1];
  if (!rules) return parseError(source, blocks[at]?.line ?? 0, 'the include file is announced but its rules do not follow (output cut off?)');
  return ok({ includeFile: text(blocks[at] as { text: string[] }), rules: text(rules), warnings });
}
