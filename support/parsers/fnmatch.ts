/**
 * fnmatch(3) patterns without FNM_PATHNAME and FNM_PERIOD, as a RegExp over the whole string
 * (POSIX XCU 2.13 "Pattern Matching Notation"; glibc posix/fnmatch_loop.c): `*` any string and
 * `?` any character, "/" and a leading "." included; `[abc]`, `[a-z]`, `[!a-z]` (and `[^a-z]`,
 * as glibc reads it), where a "]" right after the "[" or "[!" is a member of the set (a
 * backslash inside a set is an ordinary character); `\x` is a literal x unless `noescape`
 * (FNM_NOESCAPE). A "[" without its "]" is a literal "[" (glibc), or an error when `strict`
 * (a pattern the user wrote, checked as input). As before this module, `*` and `?` do not
 * match a newline (no name matched here has one).
 *
 * One translation for the project's three users: GNU tar's --exclude matching (host/image-host.ts
 * excluded), udev's token_match_string() (parsers/udev-rules.ts) and the waiver files' host globs
 * (fleet/waivers.ts).
 */
export interface FnmatchOptions {
  /** FNM_NOESCAPE: a backslash is an ordinary character */
  readonly noescape?: boolean | undefined;
  /** a pattern the user wrote, checked as input: an unclosed "[" or a reversed range is an Error naming the pattern (else read as glibc reads them) */
  readonly strict?: boolean | undefined;
}

const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const member = (c: string): string => c.replace(/[\\\]^[-]/g, '\\$&');

/**
 * A bracket expression's members as a RegExp class body. A range whose end sorts before its start
 * ("z-a") matches nothing in glibc (fnmatch_loop.c compares the character with both ends), where
 * a RegExp would not compile: it is left out, or is an error when `strict`. Undefined: no member
 * is left.
 */
function setBody(set: string, glob: string, opts: FnmatchOptions): string | undefined {
  let body = '';
  for (let k = 0; k < set.length; k++) {
    const lo = set[k] as string;
    const hi = set[k + 2];
    if (set[k + 1] === '-' && hi !== undefined) {
      k += 2;
      if (hi < lo) {
        if (opts.strict) throw new Error(`"${glob}": range ${lo}-${hi} is reversed`);
        continue;
      }
      body += `${member(lo)}-${member(hi)}`;
    } else body += member(lo);
  }
  return body === '' ? undefined : body;
}

export function fnmatchRegExp(glob: string, opts: FnmatchOptions = {}): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && !opts.noescape && i + 1 < glob.length) re += literal(glob[++i] as string);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      // the set's "]" is the first one after its first member (which may itself be "]")
      const negated = glob[i + 1] === '!' || glob[i + 1] === '^';
      const end = glob.indexOf(']', negated ? i + 3 : i + 2);
      if (end < 0) {
        if (opts.strict) throw new Error(`"${glob}": unclosed [`);
        re += '\\[';
        continue;
      }
      const body = setBody(glob.slice(negated ? i + 2 : i + 1, end), glob, opts);
      // a set that reversed ranges left empty matches no character (negated: any one, as `?`)
      re += body !== undefined ? `[${negated ? '^' : ''}${body}]` : negated ? '.' : '(?!)';
      i = end;
    } else re += literal(c);
  }
  return new RegExp(`^${re}$`);
}
