/**
 * /etc/libvirt/qemu.conf, parsed the way libvirt parses it.
 *
 * Grammar (libvirt/libvirt 04e90f72a73d src/util/virconf.c, virConfParse* functions; carried over,
 * not copied; tests from tests/virconftest.c 0d94f0245507 and tests/confdata/):
 * - a statement is `name = value`, optionally followed by `# comment`, then end of line or `;`
 *   (virConfParseStatement / virConfParseSeparator)
 * - a name starts with an ASCII letter, then letters, digits, `_` (virConfParseName)
 * - a value is a string, a number or a list (virConfParseValue)
 *   - strings: '...' or "..." on one line, or """...""" across lines. There are NO escape
 *     sequences: a backslash is an ordinary character and a string cannot contain its own quote
 *     (virConfParseString). "Quoted strings with escapes" do not exist in this format.
 *   - numbers: optional + or -, then decimal digits; a leading `-` makes it signed (VIR_CONF_LLONG),
 *     otherwise unsigned (VIR_CONF_ULLONG). `0x..` is a syntax error. Digits accumulate in a
 *     long long without an overflow check, so a huge number wraps instead of failing.
 *   - a file of only blanks and newlines fails ("expecting a name"); an empty file does not.
 *   - lists: `[` values separated by `,` `]`, may span lines, trailing comma allowed; a `#` comment
 *     inside a list is a syntax error ("expecting a value" or "expecting a separator in list")
 *     because the list parser skips only blanks and newlines.
 * - `#` at the start of a statement makes the rest of the line a comment.
 * - when a name appears twice, virConfGetValue returns the FIRST entry (it walks the list from
 *   the head), so the first assignment wins; we report later duplicates in `notes`.
 *
 * Typed lookup (src/qemu/qemu_conf.c virQEMUDriverConfigLoadSecurityEntry and virconf.c
 * virConfGetValue{String,StringList,Bool}):
 * - user, group: string (a number is a type error and libvirtd refuses to start)
 * - dynamic_ownership, remember_owner, clear_emulator_capabilities: unsigned number 0 or 1
 * - cgroup_device_acl, namespaces: list of strings (a plain string is an error)
 * - security_driver: string or list of strings (compatString = true)
 */
import { ok, parseError, type ParseResult } from './parse-result.js';

export type ConfValue =
  | { readonly type: 'string'; readonly value: string; readonly line: number }
  | { readonly type: 'number'; readonly value: number; readonly signed: boolean; readonly line: number }
  | { readonly type: 'list'; readonly items: readonly ConfValue[]; readonly line: number };

export interface ConfEntry {
  readonly name: string;
  readonly value: ConfValue;
  readonly line: number;
}

/** How libvirt reads `user`/`group` (src/util/virutil.c virGetUserID / virGetGroupID). */
export type IdSpec =
  /** "+107": always a numeric id */
  | { readonly kind: 'id'; readonly id: number; readonly text: string }
  /** "qemu": a name; "100": a name if such a user exists, else the id 100 */
  | { readonly kind: 'name'; readonly name: string; readonly numericFallback?: number; readonly text: string };

export interface QemuConf {
  readonly source: string;
  readonly entries: readonly ConfEntry[];
  readonly user?: IdSpec;
  readonly group?: IdSpec;
  readonly cgroupDeviceAcl?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly dynamicOwnership?: boolean;
  readonly rememberOwner?: boolean;
  readonly securityDriver?: readonly string[];
  /** older libvirt (qemu.conf documents it up to ~8.x); default 1 (qemu_conf.c virQEMUDriverConfigNew) */
  readonly clearEmulatorCapabilities?: boolean;
  /** 1-based line of each key we expose, for messages ("qemu.conf:519: user = ...") */
  readonly lines: Readonly<Record<string, number>>;
}

class VirConfSyntax extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isEol = (c: string | undefined): boolean => c === '\n' || c === '\r';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isAlnum = (c: string | undefined): boolean => isAlpha(c) || isDigit(c);

/** Parse any virConf file into its ordered entries (comments dropped). */
export function parseVirConf(text: string, source = 'qemu.conf'): ParseResult<ConfEntry[]> {
  let pos = 0;
  let line = 1;
  const end = text.length;
  const entries: ConfEntry[] = [];
  const cur = (): string | undefined => (pos < end ? text[pos] : undefined);
  const skipBlanks = (): void => {
    while (pos < end && isBlank(text[pos])) pos++;
  };
  const skipBlanksAndEol = (): void => {
    while (pos < end && (isBlank(text[pos]) || isEol(text[pos]))) {
      if (text[pos] === '\n') line++;
      pos++;
    }
  };
  const fail = (problem: string): never => {
    throw new VirConfSyntax(line, problem);
  };

  const parseString = (): string => {
    const startLine = line;
    // virConfParseString(): '...' first; """ only with at least 7 characters left (cur + 6 < end)
    if (cur() === '"' && pos + 6 < end && text.startsWith('"""', pos)) {
      pos += 3;
      const close = text.indexOf('"""', pos);
      if (close < 0) {
        line = startLine;
        return fail('unterminated string');
      }
      const s = text.slice(pos, close);
      for (const ch of s) if (ch === '\n') line++;
      pos = close + 3;
      return s;
    }
    const q = cur();
    pos++;
    const base = pos;
    while (pos < end && text[pos] !== q && !isEol(text[pos])) pos++;
    if (cur() !== q) fail('unterminated string');
    const s = text.slice(base, pos);
    pos++;
    return s;
  };

  const parseValue = (): ConfValue => {
    skipBlanks();
    const valueLine = line;
    const c = cur();
    if (c === undefined) return fail('expecting a value');
    if (c === '"' || c === "'") return { type: 'string', value: parseString(), line: valueLine };
    if (c === '[') {
      pos++;
      skipBlanksAndEol();
      const items: ConfValue[] = [];
      if (pos < end && cur() !== ']') {
        items.push(parseValue());
        skipBlanksAndEol();
      }
      while (pos < end && cur() !== ']') {
        if (cur() !== ',') fail('expecting a separator in list');
        pos++;
        skipBlanksAndEol();
        if (cur() === ']') break;
        items.push(parseValue());
        skipBlanksAndEol();
      }
      if (cur() !== ']') fail('list is not closed with ]');
      pos++;
      return { type: 'list', items, line: valueLine };
    }
    if (isDigit(c) || c === '-' || c === '+') {
      const signed = c === '-';
      if (c === '-' || c === '+') pos++;
      if (!isDigit(cur())) fail('unterminated number');
      const base = pos;
      while (isDigit(cur())) pos++;
      // virConfParseLong(): `l = l * 10 + digit` in a long long, no overflow check: it wraps
      const big = BigInt(text.slice(base, pos));
      const wrapped = signed ? BigInt.asIntN(64, -big) : BigInt.asUintN(64, BigInt.asIntN(64, big));
      return { type: 'number', value: Number(wrapped), signed, line: valueLine };
    }
    return fail('expecting a value');
  };

  try {
    while (pos < end) {
      // statement (virConfParseStatement)
      skipBlanksAndEol();
      // only reachable at the start of the file (separators eat trailing blanks): a file of
      // nothing but blanks and newlines is "expecting a name" for virConfParseName()
      if (pos >= end) fail('expecting a name');
      if (cur() === '#') {
        while (pos < end && !isEol(text[pos])) pos++;
      } else {
        skipBlanks();
        if (!isAlpha(cur())) fail('expecting a name');
        const base = pos;
        while (pos < end && (isAlnum(text[pos]) || text[pos] === '_')) pos++;
        const name = text.slice(base, pos);
        const nameLine = line;
        skipBlanks();
        if (cur() !== '=') fail('expecting an assignment');
        pos++;
        skipBlanks();
        const value = parseValue();
        skipBlanks();
        if (cur() === '#') while (pos < end && !isEol(text[pos])) pos++;
        entries.push({ name, value, line: nameLine });
      }
      // separator (virConfParseSeparator)
      skipBlanks();
      if (pos >= end) break;
      if (isEol(cur())) skipBlanksAndEol();
      else if (cur() === ';') {
        pos++;
        skipBlanksAndEol();
      } else fail('expecting a separator');
    }
  } catch (e) {
    if (e instanceof VirConfSyntax) return parseError(source, e.line, e.problem);
    throw e;
  }
  return ok(entries);
}

/**
 * libvirt's reading of a user/group spec (virGetUserID): a leading '+' forces a numeric id;
 * otherwise the text is a name, and only if no such name exists is it parsed as a number.
 */
export function parseIdSpec(text: string): IdSpec | undefined {
  if (text.startsWith('+')) {
    const rest = text.slice(1);
    if (!/^\d+$/.test(rest)) return undefined;
    const id = Number(rest);
    return id <= 0xffffffff ? { kind: 'id', id, text } : undefined;
  }
  if (text === '') return undefined;
  if (/^\d+$/.test(text) && Number(text) <= 0xffffffff) return { kind: 'name', name: text, numericFallback: Number(text), text };
  return { kind: 'name', name: text, text };
}

/** Parse qemu.conf and pull out the keys sevcheck's device layer needs, typed as libvirt types them. */
export function parseQemuConf(text: string, source = '/etc/libvirt/qemu.conf'): ParseResult<QemuConf> {
  const parsed = parseVirConf(text, source);
  if (!parsed.ok) return parsed;
  const entries = parsed.value;
  const notes: string[] = [];
  const first = new Map<string, ConfEntry>();
  for (const e of entries) {
    const prev = first.get(e.name);
    if (prev) notes.push(`${source}:${e.line}: '${e.name}' set again; libvirt uses the first setting (line ${prev.line})`);
    else first.set(e.name, e);
  }
  const lines: Record<string, number> = {};
  const typeError = (e: ConfEntry, expected: string): ParseResult<never> =>
    parseError(source, e.line, `expected ${expected} for '${e.name}' parameter`);

  const getString = (name: string): string | undefined | ParseResult<never> => {
    const e = first.get(name);
    if (!e) return undefined;
    lines[name] = e.line;
    return e.value.type === 'string' ? e.value.value : typeError(e, 'a string');
  };
  const getBool = (name: string): boolean | undefined | ParseResult<never> => {
    const e = first.get(name);
    if (!e) return undefined;
    lines[name] = e.line;
    if (e.value.type !== 'number' || e.value.signed) return typeError(e, 'a bool');
    if (e.value.value > 1) return parseError(source, e.line, `value for '${name}' parameter must be 0 or 1`);
    return e.value.value === 1;
  };
  const getList = (name: string, compatString: boolean): readonly string[] | undefined | ParseResult<never> => {
    const e = first.get(name);
    if (!e) return undefined;
    lines[name] = e.line;
    if (e.value.type === 'string' && compatString) return [e.value.value];
    if (e.value.type !== 'list') return typeError(e, compatString ? 'a string or string list' : 'a string list');
    const out: string[] = [];
    for (const item of e.value.items) {
      if (item.type !== 'string') return typeError(e, 'a string list');
      out.push(item.value);
    }
    return out;
  };
  const isErr = (v: unknown): v is ParseResult<never> => typeof v === 'object' && v !== null && 'ok' in v;

  const user = getString('user');
  if (isErr(user)) return user;
  const group = getString('group');
  if (isErr(group)) return group;
  const acl = getList('cgroup_device_acl', false);
  if (isErr(acl)) return acl;
  const namespaces = getList('namespaces', false);
  if (isErr(namespaces)) return namespaces;
  const securityDriver = getList('security_driver', true);
  if (isErr(securityDriver)) return securityDriver;
  const dynamicOwnership = getBool('dynamic_ownership');
  if (isErr(dynamicOwnership)) return dynamicOwnership;
  const rememberOwner = getBool('remember_owner');
  if (isErr(rememberOwner)) return rememberOwner;
  const clearCaps = getBool('clear_emulator_capabilities');
  if (isErr(clearCaps)) return clearCaps;

  let userSpec: IdSpec | undefined;
  if (user !== undefined) {
    userSpec = parseIdSpec(user);
    if (!userSpec) return parseError(source, lines.user ?? 0, `Failed to parse user '${user}'`);
  }
  let groupSpec: IdSpec | undefined;
  if (group !== undefined) {
    groupSpec = parseIdSpec(group);
    if (!groupSpec) return parseError(source, lines.group ?? 0, `Failed to parse group '${group}'`);
  }
  const conf: QemuConf = {
    source,
    entries,
    lines,
    ...(userSpec ? { user: userSpec } : {}),
    ...(groupSpec ? { group: groupSpec } : {}),
    ...(acl ? { cgroupDeviceAcl: acl } : {}),
    ...(namespaces ? { namespaces } : {}),
    ...(securityDriver ? { securityDriver } : {}),
    ...(dynamicOwnership !== undefined ? { dynamicOwnership } : {}),
    ...(rememberOwner !== undefined ? { rememberOwner } : {}),
    ...(clearCaps !== undefined ? { clearEmulatorCapabilities: clearCaps } : {}),
  };
  return ok(conf, notes);
}
