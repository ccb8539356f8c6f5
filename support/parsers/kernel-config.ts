/**
 * A kernel build configuration as distributions install it (/boot/config-<release>,
 * /lib/modules/<release>/config, /usr/lib/modules/<release>/config): the `.config` Kconfig wrote.
 *
 * Format (torvalds/linux scripts/kconfig/confdata.c conf_write() / conf_read_simple()):
 * - `CONFIG_NAME=value` (value y, m, a number, or a "quoted string");
 * - `# CONFIG_NAME is not set` for a bool/tristate that is n;
 * - other `#` lines are comments; the header says `# Linux/x86 6.12.117 Kernel Configuration`
 *   (the upstream version, without the distribution's package suffix).
 */
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

export interface KernelConfig {
  /** the upstream version from the header ("6.12.117"), when the header is there */
  readonly version?: string | undefined;
  /** option name (with CONFIG_) → value; `n` for "is not set" */
  readonly options: ReadonlyMap<string, string>;
}

const HEADER = /^#\s*Linux\/\S+\s+(\d+\.\d+(?:\.\d+)?)\S*\s+Kernel Configuration\s*$/;
const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^#\s*(CONFIG_[A-Za-z0-9_]+) is not set\s*$/;

export function parseKernelConfig(text: string, source: string): ParseResult<KernelConfig> {
  if (text.includes('\0')) return parseError(source, 0, 'binary data, not a kernel configuration');
  const options = new Map<string, string>();
  let version: string | undefined;
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    const h = HEADER.exec(t);
    if (h) {
      version ??= h[1];
      continue;
    }
    const u = UNSET.exec(t);
    if (u?.[1]) {
      options.set(u[1], 'n');
      continue;
    }
    if (t.startsWith('#')) continue;
    const m = SET.exec(t);
    if (!m?.[1]) return parseError(source, line, `not a Kconfig line: '${t.slice(0, 80)}'`);
    options.set(m[1], m[2] ?? '');
  }
  if (options.size === 0) return parseError(source, 0, 'no CONFIG_ lines: not a kernel configuration');
  return ok({ version, options });
}

/** "6.1.0-50-amd64" → [6, 1]; undefined when it does not start with two numbers. */
export function kernelMajorMinor(version: string): readonly [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** a ≥ b on major.minor */
export function kernelAtLeast(version: string, min: readonly [number, number]): boolean | undefined {
  const v = kernelMajorMinor(version);
  if (!v) return undefined;
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}
