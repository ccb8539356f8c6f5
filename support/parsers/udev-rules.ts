/**
 * udev rules, enough to tell which rule sets /dev/sev's OWNER, GROUP and MODE, and whether the
 * live node shows it.
 *
 * Facts (udev(7), systemd; src/udev/udev-node.c):
 * - Rules files live in /etc/udev/rules.d, /run/udev/rules.d, /usr/local/lib/udev/rules.d,
 *   /usr/lib/udev/rules.d (and /lib/udev/rules.d on systems without merged /usr). Only names
 *   ending in ".rules" and not starting with "." count. All files are sorted together by file
 *   name, in lexical order, whatever their directory; a file in a higher-priority directory replaces any file of the same
 *   name (/etc over /run over /usr/local/lib over /usr/lib over /lib); a file in /etc that is
 *   a symlink to /dev/null (or empty) masks the same-named file.
 * - Lines (systemd 0052418bf8a2 src/udev/udev-rules.c udev_rules_parse_file()): leading whitespace
 *   is dropped; a line then starting with "#" is ignored, even inside a continuation; a trailing
 *   "\" joins the next line; a continuation open at end of file drops the line.
 * - Each rule is comma/space-separated `KEY[{attr}]OP[e|i]"value"`; OP is == != (match) or
 *   = += -= := (assign); each key takes only some operators, and a key or operator udev refuses
 *   drops the whole line (parse_token(); see KEYS). ":=" assigns a final value that later rules
 *   cannot change; a later "=" otherwise overrides an earlier one.
 * - Match values are shell globs (* ? [...]) and "|" separates alternatives.
 * - GOTO="label" jumps forward to LABEL="label" in the same file.
 * - After all rules: if GROUP was set and MODE was not, the mode becomes 0660
 *   (udev-node.c "If group is set, but mode is not set, upgrade mode for the group");
 *   if nothing was set, the node keeps the mode devtmpfs gave it (the kernel default for
 *   /dev/sev, a misc device registered without a mode: 0600 root:root).
 * - systemd's own 50-udev-default.rules has no rule for /dev/sev (it has kvm, vhost-*, sgx).
 */
import { ok, type ParseResult } from './parse-result.js';
import type { AccountDb, GroupEntry, PasswdEntry } from './passwd.js';
import { fnmatchRegExp } from './fnmatch.js';

/** Highest priority first. */
export const UDEV_RULE_DIRS: readonly string[] = [
  '/etc/udev/rules.d',
  '/run/udev/rules.d',
  '/usr/local/lib/udev/rules.d',
  '/usr/lib/udev/rules.d',
  '/lib/udev/rules.d',
];

export type UdevOp = '==' | '!=' | '=' | '+=' | '-=' | ':=';

export interface UdevKey {
  readonly key: string;
  readonly attr?: string | undefined;
  readonly op: UdevOp;
  readonly value: string;
  /** the value had the i"" prefix: matched case-insensitively */
  readonly caseInsensitive?: boolean | undefined;
}

export interface UdevRule {
  readonly path: string;
  readonly line: number;
  readonly text: string;
  readonly keys: readonly UdevKey[];
}

export interface UdevRulesFile {
  readonly dir: string;
  readonly name: string;
  readonly content: string;
  /** a symlink to /dev/null: masks the same name in lower-priority directories */
  readonly masked?: boolean | undefined;
}

export interface RuleRef {
  readonly path: string;
  readonly line: number;
  readonly text: string;
}

/**
 * Which keys systemd-udevd accepts and with which operators (parse_token(), systemd/systemd
 * 0052418bf8a2 src/udev/udev-rules.c): `match` keys take only == and !=, `assign` keys only
 * = += := (OWNER/GROUP/MODE read += as =), `attr` says whether {attr} is required, allowed or
 * refused. A key or operator udev refuses makes it drop the whole line ("Invalid key/value pair,
 * ignoring"; rule_add_line() returns the error and frees the line).
 */
const KEYS: Record<string, { ops: 'match' | 'assign' | 'any' | 'eq'; attr: 'no' | 'yes' | 'opt'; noRemove?: boolean }> = {
  ACTION: { ops: 'match', attr: 'no' },
  DEVPATH: { ops: 'match', attr: 'no' },
  KERNEL: { ops: 'match', attr: 'no' },
  SUBSYSTEM: { ops: 'match', attr: 'no' },
  DRIVER: { ops: 'match', attr: 'no' },
  KERNELS: { ops: 'match', attr: 'no' },
  SUBSYSTEMS: { ops: 'match', attr: 'no' },
  DRIVERS: { ops: 'match', attr: 'no' },
  TAGS: { ops: 'match', attr: 'no' },
  RESULT: { ops: 'match', attr: 'no' },
  ATTRS: { ops: 'match', attr: 'yes' },
  CONST: { ops: 'match', attr: 'yes' },
  TEST: { ops: 'match', attr: 'opt' },
  SYMLINK: { ops: 'any', attr: 'no' },
  TAG: { ops: 'any', attr: 'no' },
  NAME: { ops: 'any', attr: 'no', noRemove: true },
  ENV: { ops: 'any', attr: 'yes', noRemove: true },
  ATTR: { ops: 'any', attr: 'yes', noRemove: true },
  SYSCTL: { ops: 'any', attr: 'yes', noRemove: true },
  PROGRAM: { ops: 'any', attr: 'no', noRemove: true },
  IMPORT: { ops: 'any', attr: 'yes', noRemove: true },
  OPTIONS: { ops: 'assign', attr: 'no', noRemove: true },
  OWNER: { ops: 'assign', attr: 'no', noRemove: true },
  GROUP: { ops: 'assign', attr: 'no', noRemove: true },
  MODE: { ops: 'assign', attr: 'no', noRemove: true },
  SECLABEL: { ops: 'assign', attr: 'yes', noRemove: true },
  RUN: { ops: 'assign', attr: 'opt', noRemove: true },
  GOTO: { ops: 'eq', attr: 'no' },
  LABEL: { ops: 'eq', attr: 'no' },
};

const WS = ' \t\n\r';

/** udev_rule_parse_value(): [e][i]"value" (lowercase prefixes, each at most once); undefined when invalid. */
function parseValue(s: string, pos: number): { value: string; end: number; caseInsensitive: boolean } | undefined {
  let escaped = false;
  let ci = false;
  let i = pos;
  for (; i < pos + 2 && s[i] !== '"'; i++) {
    if (s[i] === 'e' && !escaped) escaped = true;
    else if (s[i] === 'i' && !ci) ci = true;
    else return undefined;
  }
  if (s[i] !== '"') return undefined;
  let value = '';
  let j = i + 1;
  for (; j < s.length && s[j] !== '"'; j++) {
    if (s[j] === '\\' && (escaped || s[j + 1] === '"')) {
      // plain strings only unescape \" ; e"" strings keep the escape for the C unescape below
      if (escaped) value += s[j];
      j++;
      if (j >= s.length) return undefined;
    }
    value += s[j];
  }
  if (j >= s.length) return undefined;
  // e"": C escapes (cunescape_length(): \a \b \f \n \r \t \v \\ \" \xNN \NNN)
  if (escaped)
    value = value.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{3}|["\\abfnrtv'])/g, (_m, c: string) =>
      c.startsWith('x') ? String.fromCharCode(parseInt(c.slice(1), 16)) : /^[0-7]{3}$/.test(c) ? String.fromCharCode(parseInt(c, 8)) : (({ a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }) as Record<string, string>)[c] ?? c,
    );
  return { value, end: j + 1, caseInsensitive: ci };
}

/** parse_line() + parse_token() for one logical line: its keys, or why udev drops the line. */
function parseRuleLine(line: string): UdevKey[] | string {
  const keys: UdevKey[] = [];
  let p = 0;
  for (;;) {
    while (p < line.length && (WS.includes(line[p] as string) || line[p] === ',')) p++;
    if (p >= line.length) break;
    const keyStart = p;
    while (p < line.length && !WS.includes(line[p] as string) && line[p] !== '=' && line[p] !== '{' && !('+-!:'.includes(line[p] as string) && line[p + 1] === '=')) p++;
    if (p >= line.length) return 'a key without an operator';
    const key = line.slice(keyStart, p);
    let attr: string | undefined;
    if (line[p] === '{') {
      const close = line.indexOf('}', p);
      if (close < 0) return `${key}{ without }`;
      attr = line.slice(p + 1, close);
      p = close + 1;
    }
    while (p < line.length && WS.includes(line[p] as string)) p++;
    const two = line.slice(p, p + 2);
    const op: UdevOp | undefined = (['==', '!=', '+=', '-=', ':='] as const).find((o) => o === two) ?? (line[p] === '=' ? '=' : undefined);
    if (!op) return `no operator after ${key}`;
    p += op.length;
    while (p < line.length && WS.includes(line[p] as string)) p++;
    const v = parseValue(line, p);
    if (!v) return `${key}: the value must be double-quoted (optionally prefixed e/i)`;
    p = v.end;
    const spec = KEYS[key];
    if (!spec) return `invalid key '${key}'`;
    const isMatch = op === '==' || op === '!=';
    if (v.caseInsensitive && !isMatch) return `the i prefix is only for == and != (${key})`;
    if (spec.attr === 'no' && attr !== undefined) return `${key} takes no {attribute}`;
    if (spec.attr === 'yes' && !attr) return `${key} needs an {attribute}`;
    if (spec.ops === 'match' && !isMatch) return `${key} takes only == or != (found ${op})`;
    if (spec.ops === 'assign' && isMatch) return `${key} cannot be matched (found ${op})`;
    if (spec.ops === 'eq' && op !== '=') return `${key} takes only = (found ${op})`;
    if (spec.noRemove && op === '-=') return `${key} takes no -=`;
    // OWNER/GROUP/MODE: "+=" means "=" ("takes '=' or ':=' operator, assuming '='")
    const effOp: UdevOp = op === '+=' && (key === 'OWNER' || key === 'GROUP' || key === 'MODE') ? '=' : op;
    keys.push({ key, ...(attr !== undefined ? { attr } : {}), op: effOp, value: v.value, ...(v.caseInsensitive ? { caseInsensitive: true } : {}) });
  }
  return keys.length > 0 ? keys : 'no keys';
}

/**
 * Parse one rules file as systemd-udevd does (udev_rules_parse_file(), systemd 0052418bf8a2):
 * each physical line loses its leading whitespace; a line then starting with "#" is ignored even
 * inside a continuation (and does not end it); a trailing "\" joins the next line; a continuation
 * still open at end of file is dropped ("Unexpected EOF after line continuation, line ignored").
 * Lines udev would reject are skipped with a note, as udev logs and skips them.
 */
export function parseUdevRules(path: string, content: string): ParseResult<UdevRule[]> {
  const rules: UdevRule[] = [];
  const notes: string[] = [];
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let cont: { text: string; line: number } | undefined;
  lines.forEach((raw, i) => {
    const physical = i + 1;
    const l = raw.replace(/^[ \t\n\r]+/, '');
    if (l.startsWith('#')) return;
    const text = (cont?.text ?? '') + l;
    const start = cont?.line ?? physical;
    if (text.endsWith('\\')) {
      cont = { text: text.slice(0, -1), line: start };
      return;
    }
    cont = undefined;
    const t = text.trim();
    if (t === '') return;
    const r = parseRuleLine(text);
    if (typeof r === 'string') notes.push(`${path}:${start}: invalid rule, ignored (${r}): ${t.slice(0, 80)}`);
    else rules.push({ path, line: start, text: t, keys: r });
  });
  if (cont) notes.push(`${path}:${cont.line}: line continuation open at end of file; udev ignores that line: ${cont.text.trim().slice(0, 80)}`);
  return ok(rules, notes);
}

/** Apply the directory precedence and lexical ordering; returns files in processing order. */
export function effectiveRuleFiles(files: readonly UdevRulesFile[]): { files: UdevRulesFile[]; notes: string[] } {
  const notes: string[] = [];
  const prio = (dir: string): number => {
    const i = UDEV_RULE_DIRS.indexOf(dir.replace(/\/+$/, ''));
    return i < 0 ? UDEV_RULE_DIRS.length : i;
  };
  const byName = new Map<string, UdevRulesFile>();
  for (const f of files) {
    // conf_files_list() keeps names ending in ".rules" that do not start with "."
    // (systemd 4b12ca06f3e5 src/basic/dirent-util.c dirent_is_file_with_suffix())
    if (!f.name.endsWith('.rules') || f.name.startsWith('.')) continue;
    const prev = byName.get(f.name);
    if (!prev || prio(f.dir) < prio(prev.dir)) {
      if (prev) notes.push(`${f.dir}/${f.name} overrides ${prev.dir}/${prev.name}`);
      byName.set(f.name, f);
    } else notes.push(`${prev.dir}/${prev.name} overrides ${f.dir}/${f.name}`);
  }
  const out: UdevRulesFile[] = [];
  for (const name of [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const f = byName.get(name);
    if (!f) continue;
    if (f.masked || f.content.trim() === '') {
      notes.push(`${f.dir}/${f.name} is masked (empty or a link to /dev/null)`);
      continue;
    }
    out.push(f);
  }
  return { files: out, notes };
}

/** What udev knows about the device when it processes its "add" event. */
export interface UdevDevice {
  readonly kernel: string;
  readonly subsystem: string;
  readonly action: string;
  readonly devname: string;
}

export const SEV_DEVICE: UdevDevice = { kernel: 'sev', subsystem: 'misc', action: 'add', devname: '/dev/sev' };
export const KVM_DEVICE: UdevDevice = { kernel: 'kvm', subsystem: 'misc', action: 'add', devname: '/dev/kvm' };

/**
 * udev pattern match (systemd 0052418bf8a2 udev-rules.c token_match_string()): "|" separates
 * alternatives (an empty one matches an empty value); an alternative with one of `*?[` is a glob
 * matched with fnmatch(pattern, value, 0) — `*` also matches "/", `\x` is a literal x — anything
 * else is compared as a plain string.
 */
export function udevPatternMatches(pattern: string, value: string): boolean {
  return pattern.split('|').some((alt) => (/[*?[]/.test(alt) ? fnmatchRegExp(alt).test(value) : alt === value));
}

type Tri = true | false | 'unknown';

function matchKey(k: UdevKey, dev: UdevDevice): Tri {
  let actual: string | undefined;
  switch (k.key) {
    case 'ACTION':
      actual = dev.action;
      break;
    case 'KERNEL':
      actual = dev.kernel;
      break;
    case 'SUBSYSTEM':
      actual = dev.subsystem;
      break;
    case 'DEVNAME':
      actual = dev.devname;
      break;
    case 'KERNELS':
    case 'SUBSYSTEMS': {
      // matches the device or any parent: a match on the device itself is certain, a miss is not
      const own = k.key === 'KERNELS' ? dev.kernel : dev.subsystem;
      const hit = k.caseInsensitive ? udevPatternMatches(k.value.toLowerCase(), own.toLowerCase()) : udevPatternMatches(k.value, own);
      if (k.op === '==') return hit ? true : 'unknown';
      return hit ? false : 'unknown';
    }
    default:
      return 'unknown'; // ATTR, ENV, DRIVER(S), TAG, TEST, PROGRAM, RESULT, ...: not known offline
  }
  const hit = k.caseInsensitive ? udevPatternMatches(k.value.toLowerCase(), actual.toLowerCase()) : udevPatternMatches(k.value, actual);
  return k.op === '==' ? hit : !hit;
}

function ruleMatches(rule: UdevRule, dev: UdevDevice): Tri {
  let result: Tri = true;
  for (const k of rule.keys) {
    if (k.op !== '==' && k.op !== '!=') continue;
    const r = matchKey(k, dev);
    if (r === false) return false;
    if (r === 'unknown') result = 'unknown';
  }
  return result;
}

export interface PermAssignment<T> {
  readonly value: T;
  readonly rule: RuleRef;
  readonly final: boolean;
}

export interface UdevPermOutcome {
  readonly device: UdevDevice;
  readonly mode?: PermAssignment<number> | undefined;
  readonly owner?: PermAssignment<string> | undefined;
  readonly group?: PermAssignment<string> | undefined;
  /** rules that would set OWNER/GROUP/MODE if conditions sevcheck cannot evaluate hold */
  readonly uncertain: readonly RuleRef[];
  readonly notes: readonly string[];
}

/** Walk the rules in udev order for one device and record who sets OWNER, GROUP and MODE. */
export function evaluateDeviceRules(files: readonly UdevRulesFile[], dev: UdevDevice = SEV_DEVICE): UdevPermOutcome {
  const { files: ordered, notes } = effectiveRuleFiles(files);
  const uncertain: RuleRef[] = [];
  const state: { mode?: PermAssignment<number>; owner?: PermAssignment<string>; group?: PermAssignment<string> } = {};
  for (const f of ordered) {
    const path = `${f.dir}/${f.name}`;
    const parsed = parseUdevRules(path, f.content);
    if (!parsed.ok) continue;
    notes.push(...parsed.notes);
    const rules = parsed.value;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!rule) continue;
      const ref: RuleRef = { path, line: rule.line, text: rule.text };
      const m = ruleMatches(rule, dev);
      if (m === false) continue;
      const perms = rule.keys.filter((k) => ['MODE', 'OWNER', 'GROUP'].includes(k.key) && k.op !== '==' && k.op !== '!=');
      if (m === 'unknown') {
        if (perms.length > 0) uncertain.push(ref);
        if (rule.keys.some((k) => k.key === 'GOTO')) notes.push(`${path}:${rule.line}: GOTO with conditions sevcheck cannot evaluate; not followed`);
        continue;
      }
      for (const k of perms) {
        if (k.op === '-=') {
          notes.push(`${path}:${rule.line}: ${k.key}-= is not valid for ${k.key}; ignored`);
          continue;
        }
        if (k.value.includes('$') || k.value.includes('%')) {
          uncertain.push(ref);
          notes.push(`${path}:${rule.line}: ${k.key} uses a substitution sevcheck cannot expand`);
          continue;
        }
        const final = k.op === ':=';
        const slot = k.key === 'MODE' ? 'mode' : k.key === 'OWNER' ? 'owner' : 'group';
        const prev = state[slot];
        if (prev?.final) {
          notes.push(`${path}:${rule.line}: ${k.key} ignored, made final by ${prev.rule.path}:${prev.rule.line}`);
          continue;
        }
        if (slot === 'mode') {
          if (!/^[0-7]{1,4}$/.test(k.value)) {
            notes.push(`${path}:${rule.line}: MODE="${k.value}" is not octal; udev ignores it`);
            continue;
          }
          state.mode = { value: parseInt(k.value, 8), rule: ref, final };
        } else state[slot] = { value: k.value, rule: ref, final };
      }
      const gotoKey = rule.keys.find((k) => k.key === 'GOTO');
      if (gotoKey) {
        const target = rules.findIndex((r, j) => j > i && r.keys.some((k) => k.key === 'LABEL' && k.value === gotoKey.value));
        if (target < 0) notes.push(`${path}:${rule.line}: GOTO="${gotoKey.value}" has no LABEL after it; udev ignores the GOTO`);
        else i = target - 1;
      }
    }
  }
  return { device: dev, ...state, uncertain, notes };
}

export interface ExpectedNode {
  readonly mode: number;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

function resolveId(spec: string, db: AccountDb<PasswdEntry> | AccountDb<GroupEntry> | undefined): number | undefined {
  if (/^\d+$/.test(spec)) return Number(spec);
  if (!db) return undefined;
  for (const e of db.entries) if (e.name === spec) return 'uid' in e ? e.uid : e.gid;
  return undefined;
}

/** What the node should look like after udev ran, or undefined when no rule touches it. */
export function expectedNode(
  outcome: UdevPermOutcome,
  passwd?: AccountDb<PasswdEntry>,
  group?: AccountDb<GroupEntry>,
): ExpectedNode | undefined {
  if (!outcome.mode && !outcome.owner && !outcome.group) return undefined;
  const uid = outcome.owner ? resolveId(outcome.owner.value, passwd) : undefined;
  const gid = outcome.group ? resolveId(outcome.group.value, group) : undefined;
  // udev-node.c: group set without mode -> 0660
  const mode = outcome.mode?.value ?? (gid !== undefined && gid > 0 ? 0o660 : undefined);
  return { mode: mode ?? -1, uid, gid };
}

/**
 * /dev/sev as the kernel creates it when no udev rule applies: the ccp driver registers a misc
 * device without a mode (torvalds/linux drivers/crypto/ccp/sev-dev.c sev_misc_init(): minor, name,
 * fops only), and devtmpfs then uses 0600 root:root (torvalds/linux 009269964370
 * drivers/base/devtmpfs.c devtmpfs_create_node(): "if (mode == 0) mode = 0600;", created with
 * init_cred, so uid/gid 0).
 */
export const KERNEL_DEFAULT_NODE = { mode: 0o600, uid: 0, gid: 0 } as const;

