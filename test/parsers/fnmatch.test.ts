/**
 * support/parsers/fnmatch.ts: fnmatch(3) without FNM_PATHNAME / FNM_PERIOD as a RegExp, the one
 * translation behind tar's --exclude (host/image-host.ts), udev's token match
 * (parsers/udev-rules.ts) and the waiver files' host globs (fleet/waivers.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnmatchRegExp } from '../../support/parsers/fnmatch.js';

const m = (p: string, s: string, opts = {}): boolean => fnmatchRegExp(p, opts).test(s);

describe('fnmatchRegExp', () => {
  it('reads *, ? and sets as fnmatch(3) does with no flags: "/" and a leading "." are ordinary', () => {
    expect(m('a*', 'a/b/c')).toBe(true);
    expect(m('?b', '/b')).toBe(true);
    expect(m('*', '.hidden')).toBe(true);
    expect(m('[ab]x', 'bx')).toBe(true);
    expect(m('[!ab]x', 'bx')).toBe(false);
    expect(m('[^ab]x', 'cx')).toBe(true); // glibc reads [^ as [!
    expect(m('[a-c]', 'b')).toBe(true);
    expect(m('[-a]', '-')).toBe(true);
    expect(m('[a-]', '-')).toBe(true);
    expect(m('a.b', 'axb')).toBe(false);
    expect(m('a+(b)$', 'a+(b)$')).toBe(true);
  });

  it('takes a "]" right after "[" or "[!" as a member, not as the end of the set', () => {
    expect(m('[]a]', ']')).toBe(true);
    expect(m('[]a]', 'a')).toBe(true);
    expect(m('[]a]', 'b')).toBe(false);
    expect(m('[!]a]', ']')).toBe(false);
    expect(m('[!]a]', 'b')).toBe(true);
  });

  it('reads \\x as x, unless FNM_NOESCAPE; a backslash inside a set is a member', () => {
    expect(m('\\*', '*')).toBe(true);
    expect(m('\\*', 'a')).toBe(false);
    expect(m('\\*', '\\*', { noescape: true })).toBe(true);
    expect(m('[\\]', '\\')).toBe(true);
  });

  it('reads an unclosed "[" as a literal one, or refuses it when strict (input)', () => {
    expect(m('a[b', 'a[b')).toBe(true);
    expect(m('[!]', '[!]')).toBe(true);
    expect(() => fnmatchRegExp('a[b', { strict: true })).toThrow('"a[b": unclosed [');
  });

  it('lets a reversed range match nothing, as glibc does (a RegExp would not compile), or refuses it when strict', () => {
    expect(m('[z-a]', 'm')).toBe(false);
    expect(m('[z-a]', 'z')).toBe(false);
    expect(m('[z-ab]', 'b')).toBe(true);
    expect(m('x[!z-a]', 'xq')).toBe(true);
    expect(() => fnmatchRegExp('[z-a]*', { strict: true })).toThrow('"[z-a]*": range z-a is reversed');
  });

  it('never throws on any pattern unless strict, and a pattern without *?[\\ matches exactly itself (property)', () => {
    const chars = fc.constantFrom('a', 'b', 'z', '/', '.', '*', '?', '[', ']', '!', '^', '-', '\\', '$', '(', '|', '{');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 10 }).map((a) => a.join('')), fc.string({ maxLength: 6 }), (p, s) => {
        const re = fnmatchRegExp(p);
        expect(typeof re.test(s)).toBe('boolean');
        if (!/[*?[\\]/.test(p)) {
          expect(re.test(p)).toBe(true);
          expect(re.test(s)).toBe(s === p);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
