/**
 * What a person acts on, computed once from a run's verdicts (results.json `checks`) for every
 * output: the console, report.html, summary.md, junit.xml, results.json `totals`, and the fleet's
 * pages and metrics all read it, so that they state the same numbers in the same words.
 *
 * - The unit is the check: one entry per check id, with the worst status of its scenarios
 *   (failed > undecided > passed > skipped, verdict.ts `worst`) and its scenarios under it.
 * - Causes before symptoms: a failed check that another failed check explains (the cause graph,
 *   rules/causes.ts) is a symptom, shown under its root cause ("because host.modprobe.sev");
 *   the causes lead, one fix each. An undecided check a failure explains is listed under it too.
 *   Two root causes with the same fix text are one cause (the second "because" the first).
 * - Undecided checks not explained by a failure are grouped by reason (rules/causes.ts
 *   UNDECIDED_CLASSES), one remedy per group.
 *
 * Pure: checks in, values out. Nothing here reads a message to find a cause.
 */
import { worst, type Status } from '../verdict.js';
import { CAUSES, names, UNDECIDED_CLASSES, type CauseRule } from '../rules/causes.js';
import type { CheckResult } from './results.js';

/** Statuses worst first: the order of every list, table and totals line. */
export const STATUSES: readonly Status[] = ['failed', 'undecided', 'passed', 'skipped'];

const RANK: Record<Status, number> = { failed: 3, undecided: 2, passed: 1, skipped: 0 };

/** The fields of a scenario findings reads (results.ts CheckResult; the fleet's entries have these too). */
export type FindingScenario = Pick<CheckResult, 'id' | 'status' | 'scenario' | 'message'> &
  Partial<Pick<CheckResult, 'feature' | 'found' | 'expected' | 'fix' | 'reason'>> & {
    /**
     * the checks that own the defect this scenario sees (a linter's verdict, support/verdict.ts
     * failedBecause): an edge of the cause graph for this scenario only
     */
    readonly because?: readonly string[] | undefined;
  };

/** Checks per status, counted by check id. */
export type Totals = Record<Status, number>;

/** One check id. */
export interface CheckFinding<S extends FindingScenario = FindingScenario> {
  readonly id: string;
  /** the first segment of the id: host, device, caps, ... */
  readonly layer: string;
  /** the worst of its scenarios */
  readonly status: Status;
  /** its scenarios, worst first (stable: otherwise in the order they ran) */
  readonly scenarios: readonly S[];
  /** the first scenario with the check's status: the one whose found / fix / reason the check shows */
  readonly lead: S;
  /**
   * the failed checks that explain this one, nearest first: of the failed checks whose rule names it,
   * those that do not explain another of them (empty for a root cause or an unexplained check)
   */
  readonly because: readonly string[];
  /** a root cause whose fix is the same text as that earlier cause's: shown under it, "same fix" */
  readonly sameFixAs?: string | undefined;
  /** the root cause it is shown under, when it is a symptom */
  readonly root?: string | undefined;
}

/** A failed check no other failure explains, with its one fix and what it explains. */
export interface Cause<S extends FindingScenario = FindingScenario> {
  readonly check: CheckFinding<S>;
  /** the fix of its lead scenario (found / expected / fix fields), else its message */
  readonly fix: string;
  /** what it was found to be, with the source (file:line) where the rule gave one */
  readonly found?: string | undefined;
  /** the failed, then the undecided checks shown under it, in run order (transitively: a symptom's symptoms too) */
  readonly symptoms: readonly CheckFinding<S>[];
}

/** Undecided checks that share a reason. */
export interface UndecidedGroup<S extends FindingScenario = FindingScenario> {
  /** rules/causes.ts UNDECIDED_CLASSES key, or `reason:<text>` for a reason no class matches */
  readonly key: string;
  /** "need the kernel log", or the reason itself */
  readonly need: string;
  /** one thing to do, when known */
  readonly remedy?: string | undefined;
  readonly checks: readonly CheckFinding<S>[];
}

export interface LayerTotals {
  readonly layer: string;
  readonly totals: Totals;
}

export interface Findings<S extends FindingScenario = FindingScenario> {
  /** every check id, in the order it first ran */
  readonly checks: readonly CheckFinding<S>[];
  /** by check id */
  readonly totals: Totals;
  /** per layer, in the order the layers first ran */
  readonly layers: readonly LayerTotals[];
  /** root causes, in run order */
  readonly causes: readonly Cause<S>[];
  /** undecided checks no failure explains, grouped by reason, the largest group first */
  readonly undecided: readonly UndecidedGroup<S>[];
}

/** "9 checks need the kernel log", "1 check needs the MSRs", "2 undecided: <reason>": a group's headline in every output. */
export function undecidedHeadline(g: Pick<UndecidedGroup, 'need' | 'remedy' | 'checks'>): string {
  const n = g.checks.length;
  if (g.remedy === undefined) return `${n} undecided: ${g.need}`;
  return `${n} ${n === 1 ? 'check' : 'checks'} ${n === 1 ? g.need.replace(/^need /, 'needs ') : g.need}`;
}

export function emptyTotals(): Totals {
  return { failed: 0, undecided: 0, passed: 0, skipped: 0 };
}

/** One entry per check id, with the worst status of its scenarios. */
export function byCheck<S extends FindingScenario>(scenarios: readonly S[]): Array<Omit<CheckFinding<S>, 'because' | 'root'>> {
  const by = new Map<string, S[]>();
  for (const c of scenarios) {
    const list = by.get(c.id);
    if (list) list.push(c);
    else by.set(c.id, [c]);
  }
  return [...by].map(([id, list]) => {
    const status = worst(list.map((c) => c.status));
    const sorted = [...list].sort((a, b) => RANK[b.status] - RANK[a.status]);
    return { id, layer: id.split('.')[0] ?? id, status, scenarios: sorted, lead: sorted[0]! };
  });
}

/** Checks per status, by check id (worst of its scenarios): the one count every output states. */
export function totals(scenarios: readonly Pick<FindingScenario, 'id' | 'status'>[]): Totals {
  const by = new Map<string, Status[]>();
  for (const c of scenarios) by.set(c.id, [...(by.get(c.id) ?? []), c.status]);
  const n = emptyTotals();
  for (const s of by.values()) n[worst(s)]++;
  return n;
}

const PLAIN = /^[a-z0-9.-]*$/;

/**
 * `a.localeCompare(b)`'s order, without ICU where it cannot differ: for two strings of lower-case
 * letters, digits, "." and "-" (check ids, report file names) the root collation orders by the
 * characters' code points ("-" < "." < digits < letters, a prefix first), so a plain comparison
 * gives the same order; anything else goes to localeCompare. The first localeCompare of a process
 * sets up ICU's collator, ~6 ms of every `sevcheck run` (issue 23).
 */
export function idOrder(a: string, b: string): number {
  if (PLAIN.test(a) && PLAIN.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}

/** "2 failed, 17 undecided, 13 passed, 42 skipped": the same words in every output. */
export function totalsLine(t: Totals): string {
  return STATUSES.map((s) => `${t[s]} ${s}`).join(', ');
}

/** "88 checks: 2 failed, 17 undecided, 13 passed, 42 skipped" */
export function checksLine(t: Totals): string {
  const all = STATUSES.reduce((n, s) => n + t[s], 0);
  return `${all} check${all === 1 ? '' : 's'}: ${totalsLine(t)}`;
}

export type VerdictWord = 'NOT COMPLIANT' | 'COMPLIANT SO FAR' | 'COMPLIANT';

/** The run's verdict from its totals (--fail-on-undecided: an undecided check is not compliant). */
export function verdictOf(t: Totals, failOnUndecided = false): { status: Status; words: VerdictWord } {
  if (t.failed > 0 || (failOnUndecided && t.undecided > 0)) return { status: 'failed', words: 'NOT COMPLIANT' };
  if (t.undecided > 0) return { status: 'undecided', words: 'COMPLIANT SO FAR' };
  return { status: 'passed', words: 'COMPLIANT' };
}

const explains = (rule: CauseRule, id: string): boolean => rule.cause !== id && rule.explains.some((p) => names(p, id));

/** The fix a failed scenario states (its field, else its message). */
const fixOf = (s: FindingScenario): string => s.fix ?? s.message;

/** The cause graph over this run: for each failed or undecided check, the failed checks that directly explain it. */
function explainers(checks: readonly Omit<CheckFinding, 'because' | 'root'>[], rules: readonly CauseRule[]): Map<string, string[]> {
  const failed = checks.filter((c) => c.status === 'failed').map((c) => c.id);
  const byId = new Map(checks.map((c) => [c.id, c]));
  const out = new Map<string, string[]>();
  for (const c of checks) {
    if (c.status !== 'failed' && c.status !== 'undecided') continue;
    const by = failed.filter((f) => rules.some((r) => r.cause === f && explains(r, c.id)));
    for (const d of declared(c, byId)) if (!by.includes(d)) by.push(d);
    if (by.length) out.set(c.id, by);
  }
  return out;
}

/**
 * The owners a check's scenarios declare (`because`), when every scenario that makes it failed or
 * undecided declares one and that owner failed on the same scenario (a lint's file): one file's
 * defect never explains another file's failure. A run's checks have one scenario each, named
 * differently: there the owner must have failed in the run.
 */
function declared(c: Omit<CheckFinding, 'because' | 'root'>, byId: ReadonlyMap<string, Omit<CheckFinding, 'because' | 'root'>>): string[] {
  const open = c.scenarios.filter((s) => s.status === 'failed' || s.status === 'undecided');
  const out: string[] = [];
  for (const s of open) {
    // the owner failed on the same scenario (a lint: the same file); where the owner has no
    // scenario of that name (a run: one scenario per check, the host's guests folded into it,
    // domain/guests.ts foldGuests), it failed in the run
    const owners = (s.because ?? []).filter((o) => {
      const of = byId.get(o)?.scenarios;
      if (o === c.id || !of) return false;
      const same = of.filter((x) => x.scenario === s.scenario);
      return (same.length ? same : of).some((x) => x.status === 'failed');
    });
    if (!owners.length) return [];
    for (const o of owners) if (!out.includes(o)) out.push(o);
  }
  return out;
}

/**
 * Everything a report leads with, from one run's scenarios (results.json `checks`).
 * `rules` is the cause graph (default rules/causes.ts CAUSES; tests pass their own).
 * A run computes them once and hands them to every writer of its report set and to the console
 * (each writer takes them as an argument, computing them itself only when called alone).
 */
export function findings<S extends FindingScenario>(scenarios: readonly S[], rules: readonly CauseRule[] = CAUSES): Findings<S> {
  const base = byCheck(scenarios);
  const byId = new Map(base.map((c) => [c.id, c]));
  const direct = explainers(base, rules);

  // root causes: failed checks no failed check explains; then, so that a cycle (A explains B, B
  // explains A) still has a root, the first failed check not yet reached from one
  const failed = base.filter((c) => c.status === 'failed');
  const root = new Map<string, string>(); // symptom id -> root cause id
  const roots: string[] = [];
  const reach = (from: string): void => {
    const queue = [from];
    while (queue.length) {
      const cur = queue.shift()!;
      for (const [id, by] of direct) {
        if (by.includes(cur) && id !== from && !root.has(id) && !roots.includes(id)) {
          root.set(id, from);
          if (byId.get(id)?.status === 'failed') queue.push(id);
        }
      }
    }
  };
  for (const c of failed) if (!direct.has(c.id)) roots.push(c.id);
  for (const r of [...roots]) reach(r);
  for (const c of failed) {
    if (!roots.includes(c.id) && !root.has(c.id)) {
      roots.push(c.id);
      reach(c.id);
    }
  }
  // one fix each: a root with the same fix text as an earlier root is shown under it
  const sameFix = new Map<string, string>();
  for (const [i, r] of roots.entries()) {
    const fix = fixOf(byId.get(r)!.lead);
    const earlier = roots.slice(0, i).find((e) => !sameFix.has(e) && fixOf(byId.get(e)!.lead) === fix);
    if (earlier !== undefined) sameFix.set(r, earlier);
  }
  for (const [r, to] of sameFix) {
    root.set(r, to);
    for (const [id, rr] of root) if (rr === r) root.set(id, to);
  }

  const checks: CheckFinding<S>[] = base.map((c) => {
    const by = direct.get(c.id) ?? [];
    const nearest = by.filter((b) => !by.some((o) => o !== b && direct.get(o)?.includes(b)));
    const because = sameFix.has(c.id) ? [sameFix.get(c.id)!] : root.has(c.id) ? nearest : [];
    return { ...c, because, root: root.get(c.id), sameFixAs: sameFix.get(c.id) };
  });
  const finding = new Map(checks.map((c) => [c.id, c]));
  const causes: Cause<S>[] = roots
    .filter((r) => !sameFix.has(r))
    .map((r) => {
      const check = finding.get(r)!;
      return {
        check,
        fix: fixOf(check.lead),
        found: check.lead.found,
        symptoms: checks.filter((c) => c.root === r).sort((a, b) => RANK[b.status] - RANK[a.status]),
      };
    });

  // undecided checks under no cause, grouped by reason class
  const groups = new Map<string, { need: string; remedy?: string | undefined; checks: CheckFinding<S>[] }>();
  for (const c of checks) {
    if (c.status !== 'undecided' || c.root !== undefined) continue;
    const reason = c.lead.reason ?? c.lead.message.replace(/^undecided: /, '');
    const cls = UNDECIDED_CLASSES.find((k) => k.pattern.test(reason));
    const key = cls ? cls.key : `reason:${reason}`;
    const g = groups.get(key) ?? { need: cls ? cls.need : reason, remedy: cls?.remedy, checks: [] };
    g.checks.push(c);
    groups.set(key, g);
  }
  const undecided = [...groups]
    .map(([key, g]) => ({ key, need: g.need, remedy: g.remedy, checks: g.checks }))
    .sort((a, b) => b.checks.length - a.checks.length);

  const layers = new Map<string, Totals>();
  for (const c of checks) {
    const t = layers.get(c.layer) ?? emptyTotals();
    t[c.status]++;
    layers.set(c.layer, t);
  }
  const t = emptyTotals();
  for (const c of checks) t[c.status]++;
  return { checks, totals: t, layers: [...layers].map(([layer, totals]) => ({ layer, totals })), causes, undecided };
}
