/**
 * udev rules, enough to tell which rule sets /dev/sev's OWNER, GROUP and MODE, and whether the
 * live node shows it.
 *
 * Facts (udev(7), systemd; src/udev/udev-node.c):
 * - Rules files live in /etc/udev/rules.d, /run/udev/rules.d, /usr/local/lib/udev/rules.d,
 *   /usr/lib/udev/rules.d (and /lib/udev/rules.d on systems without merged /usr). Only names
 *   ending in ".rules" count. All files are sorted together by file name, in lexical order,
 *   whatever their directory; a file in a higher-priority directory replaces any file of the same
 *   name (/etc over /run over /usr/local/lib over /usr/lib over /lib); a file in /etc that is
 *   a symlink to /dev/null (or empty) masks the same-named file.
 * - Empty lines and lines starting with "#" are ignored; a line ending in "\" continues on the next.
 * - Each rule is comma/space-separated `KEY[{attr}]OP"value"`; OP is == != (match) or = += -= :=
 *   (assign). ":=" assigns a final value that later rules cannot change; a later "=" otherwise
 *   overrides an earlier one.
 * - Match values are shell globs (* ? [...]) and "|" separates alternatives.
 * - GOTO="label" jumps forward to LABEL="label" in the same file.
 * - After all rules: if GROUP was set and MODE was not, the mode becomes 0660
 *   (udev-node.c "If group is set, but mode is not set, upgrade mode for the group");
 *   if nothing was set, the node keeps the mode devtmpfs gave it (the kernel default for
 *   /dev/sev, a misc device registered without a mode: 0600 root:root).
 * - systemd's own 50-udev-default.rules has no rule for /dev/sev (it has kvm, vhost-*, sgx).
 */
import type { StatInfo } from '../host/types.js';
import { failed, passed, undecided, type Verdict } from '../verdict.js';
import { numberedLines, ok, type ParseResult } from './parse-result.js';
import type { AccountDb, GroupEntry, PasswdEntry } from './passwd.js';

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

const TOKEN = /\s*([A-Za-z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*[eEiI]?"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Parse one rules file. Lines udev would reject are skipped with a note (udev logs and skips them too). */
export function parseUdevRules(path: string, content: string): ParseResult<UdevRule[]> {
  const rules: UdevRule[] = [];
  const notes: string[] = [];
  const lines = numberedLines(content);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i];
    if (!first) continue;
    let text = first.text;
    const startLine = first.line;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i++;
      text = text.slice(0, -1) + (lines[i]?.text ?? '');
    }
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const keys: UdevKey[] = [];
    TOKEN.lastIndex = 0;
    let pos = 0;
    const body = t.replace(/\\$/, '');
    while (pos < body.length) {
      TOKEN.lastIndex = pos;
      const m = TOKEN.exec(body);
      if (!m) break;
      keys.push({ key: m[1] ?? '', ...(m[2] !== undefined ? { attr: m[2] } : {}), op: (m[3] ?? '==') as UdevOp, value: m[4] ?? '' });
      pos = TOKEN.lastIndex;
    }
    if (pos < body.trimEnd().length || keys.length === 0) {
      notes.push(`${path}:${startLine}: invalid rule, ignored: ${t.slice(0, 80)}`);
      continue;
    }
    rules.push({ path, line: startLine, text: t, keys });
  }
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
    if (!f.name.endsWith('.rules')) continue;
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

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** udev pattern match: glob with "|" alternatives. */
export function udevPatternMatches(pattern: string, value: string): boolean {
  return pattern.split('|').some((alt) => globToRegExp(alt).test(value));
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
      const hit = udevPatternMatches(k.value, own);
      if (k.op === '==') return hit ? true : 'unknown';
      return hit ? false : 'unknown';
    }
    default:
      return 'unknown'; // ATTR, ENV, DRIVER(S), TAG, TEST, PROGRAM, RESULT, ...: not known offline
  }
  const hit = udevPatternMatches(k.value, actual);
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

const oct = (m: number): string => `0${m.toString(8).padStart(3, '0')}`;
const where = (r: RuleRef): string => `${r.path}:${r.line}`;

export interface UdevVerdictInput {
  readonly outcome: UdevPermOutcome;
  readonly stat: StatInfo;
  readonly passwd?: AccountDb<PasswdEntry> | undefined;
  readonly group?: AccountDb<GroupEntry> | undefined;
  /** whether the QEMU identity can open the node as it is now (access.ts canOpen) */
  readonly qemuCanOpen?: boolean | undefined;
}

/** device.udev.sev-rule */
export function udevRuleVerdict(input: UdevVerdictInput): Verdict {
  const { outcome, stat } = input;
  const path = outcome.device.devname;
  const trigger = `udevadm control --reload-rules && udevadm trigger --action=add --sysname-match=${outcome.device.kernel}`;
  const exp = expectedNode(outcome, input.passwd, input.group);
  if (!exp) {
    if (outcome.uncertain.length > 0)
      return undecided(
        `rules that may set ${path}'s permissions depend on conditions sevcheck cannot evaluate: ${outcome.uncertain.map(where).join(', ')}`,
      );
    const live = `${oct(stat.mode)} uid ${stat.uid} gid ${stat.gid}`;
    if (input.qemuCanOpen === true) return passed(`no udev rule sets ${path}'s permissions; the kernel default (${live}) lets QEMU open it`);
    return failed(
      `no udev rule for ${path}; it keeps the kernel default ${live}`,
      `a rule giving the QEMU user's group access${input.qemuCanOpen === false ? ' (QEMU cannot open it now)' : ''}`,
      `echo 'KERNEL=="${outcome.device.kernel}", GROUP="kvm", MODE="0660"' > /etc/udev/rules.d/65-${outcome.device.kernel}.rules && ${trigger}`,
    );
  }
  const src = [outcome.mode && `MODE from ${where(outcome.mode.rule)}`, outcome.group && `GROUP from ${where(outcome.group.rule)}`, outcome.owner && `OWNER from ${where(outcome.owner.rule)}`]
    .filter(Boolean)
    .join(', ');
  if (outcome.group && exp.gid === undefined)
    return undecided(`GROUP="${outcome.group.value}" (${where(outcome.group.rule)}) does not resolve to a gid in /etc/group`);
  if (outcome.owner && exp.uid === undefined)
    return undecided(`OWNER="${outcome.owner.value}" (${where(outcome.owner.rule)}) does not resolve to a uid in /etc/passwd`);
  const diffs: string[] = [];
  if (exp.mode >= 0 && (stat.mode & 0o777) !== (exp.mode & 0o777)) diffs.push(`mode ${oct(stat.mode)} instead of ${oct(exp.mode)}`);
  if (exp.gid !== undefined && stat.gid !== exp.gid) diffs.push(`gid ${stat.gid} instead of ${exp.gid}`);
  if (exp.uid !== undefined && stat.uid !== exp.uid) diffs.push(`uid ${stat.uid} instead of ${exp.uid}`);
  if (diffs.length > 0)
    return failed(
      `${path} has ${diffs.join(', ')}: the rule was not applied (${src})`,
      `${path} as the winning udev rules set it`,
      trigger,
    );
  const extra = outcome.uncertain.length > 0 ? `; conditional rules not evaluated: ${outcome.uncertain.map(where).join(', ')}` : '';
  return passed(`${path} matches its udev rules (${src})${extra}`);
}
