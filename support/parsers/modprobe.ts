/**
 * modprobe.d configuration (modprobe.d(5)): `options MODULE opt=val ...` lines, `#` comments,
 * backslash line continuation. Directories searched, in precedence order: /etc/modprobe.d,
 * /run/modprobe.d, /usr/local/lib/modprobe.d, /usr/lib/modprobe.d, /lib/modprobe.d; a file name
 * in an earlier directory hides the same name in later ones, and files are read in lexical
 * order of their names. Module names treat `-` and `_` alike.
 */
export const MODPROBE_DIRS = [
  '/etc/modprobe.d',
  '/run/modprobe.d',
  '/usr/local/lib/modprobe.d',
  '/usr/lib/modprobe.d',
  '/lib/modprobe.d',
] as const;

export interface ModprobeOption {
  readonly file: string;
  readonly line: number;
  readonly module: string;
  readonly name: string;
  readonly value: string;
}

export function parseModprobeConf(file: string, text: string): ModprobeOption[] {
  const out: ModprobeOption[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + (lines[++i] ?? '');
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words[0] !== 'options' || words.length < 3) continue;
    const module = (words[1] ?? '').replace(/-/g, '_');
    for (const w of words.slice(2)) {
      const eq = w.indexOf('=');
      out.push({
        file,
        line: start + 1,
        module,
        name: (eq < 0 ? w : w.slice(0, eq)).replace(/-/g, '_'),
        value: eq < 0 ? '' : w.slice(eq + 1).replace(/^"(.*)"$/, '$1'),
      });
    }
  }
  return out;
}

/** Order config files as modprobe does: unique basenames, earlier dirs win, lexical by name. */
export function effectiveConfFiles(listing: ReadonlyArray<{ dir: string; names: readonly string[] }>): string[] {
  const chosen = new Map<string, string>();
  for (const { dir, names } of listing) {
    for (const n of names) {
      if (!n.endsWith('.conf')) continue;
      if (!chosen.has(n)) chosen.set(n, `${dir}/${n}`);
    }
  }
  return [...chosen.keys()].sort().map((n) => chosen.get(n) as string);
}
