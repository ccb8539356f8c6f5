/**
 * The kernel command line an image's boot loader defaults give its default boot entry:
 * GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT from /etc/default/grub and
 * /etc/default/grub.d/*.cfg.
 *
 * Source: GNU GRUB util/grub-mkconfig.in sources `${sysconfdir}/default/grub` and then, on
 * Debian (debian/patches "Read /etc/default/grub.d/*.cfg"), every `/etc/default/grub.d/*.cfg` in
 * glob order, as POSIX sh; util/grub.d/10_linux.in gives the default entry
 * "${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}" (recovery entries only the first).
 * Debian's selinux-activate(8) (selinux-basics) and Fedora's grubby put `security=selinux` /
 * `selinux=0` there.
 *
 * What is read is the shell subset these files use: `[export] NAME=WORD` where WORD joins
 * 'single-quoted' (literal), "double-quoted" (\" \\ \$ \` escapes, $NAME and ${NAME} expanded)
 * and unquoted parts ($NAME expanded), `#` comments, `;` and backslash-newline. A command
 * substitution ($(...) or `...`) or an assignment under `if`/`case` cannot be evaluated without a
 * shell: the variable is then reported as uncertain, never guessed.
 */
import { numberedLines } from './parse-result.js';

export const GRUB_VARS = ['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT'] as const;

export interface GrubDefaults {
  /** the variables' values after every file, unset ones absent */
  readonly vars: ReadonlyMap<string, string>;
  /** where each of GRUB_VARS was last set ("FILE:LINE") */
  readonly setAt: ReadonlyMap<string, string>;
  /** assignments to GRUB_VARS that cannot be evaluated without running a shell ("FILE:LINE: why") */
  readonly uncertain: readonly string[];
}

export interface ShellFile {
  readonly path: string;
  readonly content: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Expand $NAME / ${NAME} in `s` from `vars`; undefined when `s` has a command substitution. */
function expand(s: string, vars: ReadonlyMap<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => vars.get((a ?? b) as string) ?? '');
}

/** Read one shell WORD at `i`; returns the value and the index after it, or a reason it cannot be evaluated. */
function readWord(t: string, i: number, vars: ReadonlyMap<string, string>): { value?: string; why?: string; end: number } {
  let out = '';
  let why: string | undefined;
  while (i < t.length) {
    const c = t[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '&' || c === '|') break;
    if (c === '\\' && t[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === "'") {
      const close = t.indexOf("'", i + 1);
      if (close < 0) return { why: 'unterminated single quote', end: t.length };
      out += t.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (j < t.length && t[j] !== '"') {
        if (t[j] === '\\' && j + 1 < t.length && '"\\$`\n'.includes(t[j + 1] as string)) {
          if (t[j + 1] !== '\n') raw += t[j + 1] === '$' ? '\u0000' : t[j + 1];
          j += 2;
          continue;
        }
        if (t[j] === '`' || (t[j] === '$' && t[j + 1] === '(')) why = 'a command substitution';
        raw += t[j];
        j++;
      }
      if (j >= t.length) return { why: 'unterminated double quote', end: t.length };
      out += expand(raw, vars).replace(/\u0000/g, '$');
      i = j + 1;
    } else if (c === '`' || (c === '$' && t[i + 1] === '(')) {
      return { why: 'a command substitution', end: t.indexOf('\n', i) < 0 ? t.length : t.indexOf('\n', i) };
    } else if (c === '\\') {
      out += t[i + 1] ?? '';
      i += 2;
    } else if (c === '$') {
      const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}|^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(t.slice(i));
      if (m) {
        out += vars.get((m[1] ?? m[2]) as string) ?? '';
        i += m[0].length;
      } else {
        out += '$';
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return why ? { why, end: i } : { value: out, end: i };
}

/** Evaluate the GRUB defaults files in the order grub-mkconfig sources them. */
export function parseGrubDefaults(files: readonly ShellFile[]): GrubDefaults {
  const vars = new Map<string, string>();
  const setAt = new Map<string, string>();
  const uncertain: string[] = [];
  for (const f of files) {
    const t = f.content;
    const lineAt = (pos: number): number => t.slice(0, pos).split('\n').length;
    let depth = 0; // inside if/case/for/while: an assignment there may or may not run
    let i = 0;
    while (i < t.length) {
      const c = t[i] as string;
      if (c === ' ' || c === '\t' || c === '\n' || c === ';') {
        i++;
        continue;
      }
      if (c === '#') {
        while (i < t.length && t[i] !== '\n') i++;
        continue;
      }
      const rest = t.slice(i);
      const kw = /^(if|case|for|while|until|fi|esac|done|then|else|elif|do)(?=[\s;]|$)/.exec(rest)?.[1];
      if (kw) {
        if (['if', 'case', 'for', 'while', 'until'].includes(kw)) depth++;
        else if (['fi', 'esac', 'done'].includes(kw)) depth = Math.max(0, depth - 1);
        i += kw.length;
        continue;
      }
      const ex = /^export[ \t]+/.exec(rest);
      const at = i + (ex ? ex[0].length : 0);
      const name = NAME.exec(t.slice(at))?.[0];
      if (name && t[at + name.length] === '=') {
        const w = readWord(t, at + name.length + 1, vars);
        if ((GRUB_VARS as readonly string[]).includes(name)) {
          const where = `${f.path}:${lineAt(i)}`;
          if (w.why) uncertain.push(`${where}: ${name} is set with ${w.why}`);
          else if (depth > 0) uncertain.push(`${where}: ${name} is set inside a shell conditional or loop`);
          else {
            vars.set(name, w.value as string);
            setAt.set(name, where);
          }
        } else if (w.value !== undefined && depth === 0) vars.set(name, w.value);
        i = Math.max(w.end, i + 1);
        continue;
      }
      // any other command: skip to the end of its line
      while (i < t.length && t[i] !== '\n') i++;
    }
  }
  for (const v of [...vars.keys()]) if (!(GRUB_VARS as readonly string[]).includes(v)) vars.delete(v);
  return { vars, setAt, uncertain };
}

/** /etc/kernel/cmdline (kernel-install(8), systemd-boot, UKIs): the whole file is the command line; `#` lines are comments. */
export function parseKernelCmdlineFile(content: string): string {
  return numberedLines(content)
    .map((l) => l.text)
    .filter((l) => !/^\s*#/.test(l))
    .join(' ')
    .trim();
}
