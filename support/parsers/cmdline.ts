/**
 * Kernel parameter strings: /proc/cmdline, and the option string modprobe hands to a module
 * (init_module's param_values, parsed by the same code).
 *
 * Grammar (the kernel's own tokenizer, lib/cmdline.c next_arg(), torvalds/linux 0ea09083116d, as
 * called by kernel/params.c parse_args()):
 * - arguments are separated by whitespace (isspace: space, \t, \n, \v, \f, \r); leading spaces
 *   are skipped;
 * - a double quote toggles "in quote" anywhere in an argument, and whitespace inside quotes does
 *   not split; there is no escape for `"`;
 * - the first `=` (not at the argument's first character) splits name and value; without `=` the
 *   value is NULL (a bare `foo`; a bool parameter given bare is *set*, see bool-param.ts);
 * - quotes are not part of the value when the value starts with `"` (that quote and a final `"`
 *   are dropped), or when the whole argument starts with `"` (that quote and the argument's final
 *   `"` are dropped: `"foo=a b"` is foo = `a b`); a quote in the middle stays;
 * - on the command line, `--` ends the kernel's parameters (the rest goes to init);
 * - dashes and underscores are equivalent in parameter names (parameq(), params.c).
 * A parameter given twice is set twice, in order: the last one wins.
 */
export interface KernelArg {
  readonly name: string;
  /** undefined when the argument had no `=` */
  readonly value: string | undefined;
  /** offset of the argument in the parsed string */
  readonly offset: number;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** Split a parameter string exactly as the kernel's next_arg() loop does. */
export function splitKernelArgs(text: string): KernelArg[] {
  const out: KernelArg[] = [];
  let pos = 0;
  while (pos < text.length && isSpace(text[pos])) pos++;
  while (pos < text.length) {
    const offset = pos;
    let start = pos;
    let inQuote = false;
    let quoted = false;
    if (text[start] === '"') {
      start++;
      inQuote = true;
      quoted = true;
    }
    let i = start;
    let equals = 0; // relative; 0 = none (next_arg cannot record an `=` at the first character)
    for (; i < text.length; i++) {
      const c = text[i];
      if (isSpace(c) && !inQuote) break;
      if (equals === 0 && c === '=') equals = i - start;
      if (c === '"') inQuote = !inQuote;
    }
    const tok = text.slice(start, i);
    const endsInQuote = tok.endsWith('"');
    let name: string;
    let value: string | undefined;
    if (equals === 0) {
      name = quoted && endsInQuote ? tok.slice(0, -1) : tok;
      value = undefined;
    } else {
      name = tok.slice(0, equals);
      value = tok.slice(equals + 1);
      if (value.startsWith('"')) {
        value = value.slice(1);
        if (endsInQuote && value.length > 0) value = value.slice(0, -1);
      } else if (quoted && endsInQuote) value = value.slice(0, -1);
    }
    out.push({ name, value, offset });
    pos = i < text.length ? i + 1 : i;
    while (pos < text.length && isSpace(text[pos])) pos++;
  }
  return out;
}

export interface KernelCmdline {
  readonly raw: string;
  /** every parameter before `--`, in order; the value is undefined for a bare `key` */
  readonly params: ReadonlyArray<readonly [string, string | undefined]>;
}

export function parseCmdline(text: string): KernelCmdline {
  const raw = text.replace(/\0/g, ' ').trim();
  const params: Array<[string, string | undefined]> = [];
  for (const a of splitKernelArgs(raw)) {
    if (a.value === undefined && a.name === '--') break; // parse_args(): "--" ends kernel params
    params.push([a.name, a.value]);
  }
  return { raw, params };
}

/** parameq(): `-` and `_` are the same character in parameter names. */
export const normParamName = (name: string): string => name.replace(/-/g, '_');

/** The effective value of a parameter (last one wins); '' when given bare; undefined when absent. */
export function cmdlineValue(cmd: KernelCmdline, name: string): string | undefined {
  const p = cmdlineParam(cmd, name);
  return p === undefined ? undefined : (p.value ?? '');
}

/** The last occurrence of a parameter, keeping "bare" (value undefined) apart from `name=`. */
export function cmdlineParam(cmd: KernelCmdline, name: string): { readonly value: string | undefined } | undefined {
  let found: { value: string | undefined } | undefined;
  for (const [k, value] of cmd.params) if (normParamName(k) === normParamName(name)) found = { value };
  return found;
}

/**
 * The value of OPTION=... as the x86 early boot code reads it: arch/x86/lib/cmdline.c
 * __cmdline_find_option(), used by sme_enable() for `mem_encrypt` (arch/x86/mm/
 * mem_encrypt_identity.c, torvalds/linux 0604aa87b098, with a 16-byte buffer). It is not
 * next_arg(): words are split on any byte <= ' ', there is no quoting (`"mem_encrypt=on"` is not
 * the option, `mem_encrypt="on"` has the value `"on"`), the option must start a word and be
 * followed by "=", the last occurrence wins, and the value is cut to bufsize-1 bytes. A bare
 * `mem_encrypt` is not found. Returns undefined when not found.
 */
export function x86CmdlineFindOption(raw: string, option: string, bufsize = 16): string | undefined {
  const isSp = (c: string): boolean => c.charCodeAt(0) <= 0x20;
  let state: 'start' | 'cmp' | 'skip' | 'copy' = 'start';
  let opt = 0;
  let found: string | undefined;
  let buf = '';
  for (const c of raw) {
    if (c === '\0') break;
    if (state === 'start') {
      if (isSp(c)) continue;
      state = 'cmp';
      opt = 0;
    }
    if (state === 'cmp') {
      if (c === '=' && opt === option.length) {
        state = 'copy';
        buf = '';
        found = '';
        continue;
      }
      if (opt < option.length && c === option[opt]) {
        opt++;
        continue;
      }
      state = 'skip';
    }
    if (state === 'skip') {
      if (isSp(c)) state = 'start';
      continue;
    }
    // copy
    if (isSp(c)) state = 'start';
    else if (buf.length < bufsize - 1) {
      buf += c;
      found = buf;
    }
  }
  return found;
}
