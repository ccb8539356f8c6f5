/**
 * results.json (docs/fixture-format.md, "Results") built from cucumber's message stream:
 * each scenario's verdict comes from the attachment the World wrote when it decided the check.
 * Works on a live run (onMessage) and on a saved messages.ndjson alike.
 */
import type { Envelope } from '@cucumber/messages';
import { worst, type Status } from '../verdict.js';

export const VERDICT_MEDIA_TYPE = 'application/vnd.sevcheck.verdict+json';

export interface CheckResult {
  readonly id: string;
  readonly status: Status;
  readonly scenario: string;
  readonly feature: string;
  readonly message: string;
  /** a failed check's parts of `message` (support/verdict.ts): what was found (with its source), what was expected, the fix */
  readonly found?: string;
  readonly expected?: string;
  readonly fix?: string;
  /** an undecided or skipped check's reason (`message` without its "undecided: " / "skipped: ") */
  readonly reason?: string;
  /**
   * the check that owns the defect this one also sees (support/verdict.ts failedBecause /
   * undecidedBecause: one finding per input defect), as the verdict named it; results.json gives
   * it for every scenario a failure explains (report/writers.ts withFindings)
   */
  readonly because?: readonly string[];
}

/** The fields of a verdict kept beside `message`, in the order results.json shows them. */
export const VERDICT_FIELDS = ['found', 'expected', 'fix', 'reason'] as const;
type VerdictFields = Partial<Record<(typeof VERDICT_FIELDS)[number], string>>;

/** What is known of the checked machine, for a report's host line; each field only where known. */
export interface HostInfo {
  /** host.json `distro` of a fixture */
  readonly distro?: string;
  /** host.json `kernel`, else the kernel release the run read (/proc/sys/kernel/osrelease) */
  readonly kernel?: string;
  /** /proc/cpuinfo `model name`, when the run read it */
  readonly cpuModel?: string;
  /** the AMD EPYC generation (naples, rome, milan, genoa, turin, venice) from /proc/cpuinfo family and model (sev/generation.ts) */
  readonly sevGeneration?: string;
}

export interface Results {
  readonly host: string;
  readonly target: string;
  readonly profile: string;
  readonly hostInfo?: HostInfo;
  /** the site file the run applied (--config, or /etc/sevcheck/sevcheck.yaml; docs/site-policy.md) */
  readonly config?: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly checks: CheckResult[];
}

export interface RunProblems {
  /** steps with no definition or several: the features and steps disagree (exit 2) */
  readonly undefinedSteps: string[];
  /** scenarios without an @check:<id> tag */
  readonly untagged: string[];
}

export function collectResults(
  envelopes: readonly Envelope[],
  meta: { host: string; target: string; profile: string; hostInfo?: HostInfo },
): { results: Results; problems: RunProblems } {
  const pickles = new Map<string, { name: string; uri: string; tags: string[] }>();
  const testCases = new Map<string, string>(); // testCase.id -> pickleId
  const started = new Map<string, string>(); // testCaseStarted.id -> testCase.id
  const verdicts = new Map<string, { status: Status; message: string; check?: string; because?: unknown } & VerdictFields>();
  const badSteps = new Map<string, string>(); // testCaseStarted.id -> status
  let startedAt = '';
  let t0 = 0;
  let t1 = 0;
  const ts = (t: { seconds: number; nanos: number }): number => t.seconds * 1000 + Math.round(t.nanos / 1e6);
  for (const e of envelopes) {
    if (e.pickle) pickles.set(e.pickle.id, { name: e.pickle.name, uri: e.pickle.uri, tags: e.pickle.tags.map((t) => t.name) });
    else if (e.testCase) testCases.set(e.testCase.id, e.testCase.pickleId);
    else if (e.testCaseStarted) started.set(e.testCaseStarted.id, e.testCaseStarted.testCaseId);
    else if (e.attachment?.mediaType === VERDICT_MEDIA_TYPE && e.attachment.testCaseStartedId) {
      verdicts.set(e.attachment.testCaseStartedId, JSON.parse(e.attachment.body));
    } else if (e.testStepFinished) {
      const s = e.testStepFinished.testStepResult.status;
      if (s === 'UNDEFINED' || s === 'AMBIGUOUS') badSteps.set(e.testStepFinished.testCaseStartedId, s.toLowerCase());
    } else if (e.testRunStarted) {
      t0 = ts(e.testRunStarted.timestamp);
      startedAt = new Date(t0).toISOString();
    } else if (e.testRunFinished) t1 = ts(e.testRunFinished.timestamp);
  }
  const checks: CheckResult[] = [];
  const undefinedSteps: string[] = [];
  const untagged: string[] = [];
  for (const [startedId, testCaseId] of started) {
    const pickle = pickles.get(testCases.get(testCaseId) ?? '');
    if (!pickle) continue;
    const id = pickle.tags.map((t) => /^@check:(.+)$/.exec(t)?.[1]).find((x) => x !== undefined);
    const bad = badSteps.get(startedId);
    if (bad) undefinedSteps.push(`${pickle.uri}: "${pickle.name}" has ${bad} steps`);
    if (!id) {
      untagged.push(`${pickle.uri}: "${pickle.name}"`);
      continue;
    }
    const v = verdicts.get(startedId);
    const fields: VerdictFields = {};
    for (const k of VERDICT_FIELDS) if (typeof v?.[k] === 'string') fields[k] = v[k];
    checks.push({
      id,
      status: v?.status ?? 'failed',
      scenario: pickle.name,
      feature: pickle.uri,
      message: v?.message ?? (bad ? `harness error: ${bad} step` : 'harness error: no verdict'),
      ...fields,
      ...(typeof v?.because === 'string' && (v.status === 'failed' || v.status === 'undecided') ? { because: [v.because] } : {}),
    });
  }
  return {
    results: { ...meta, startedAt, durationMs: Math.max(0, t1 - t0), checks },
    problems: { undefinedSteps, untagged },
  };
}

/** One verdict per check id: the worst of its scenarios (failed > undecided > passed > skipped). */
export function verdictsById(results: Pick<Results, 'checks'>): Map<string, Status> {
  const by = new Map<string, Status[]>();
  for (const c of results.checks) by.set(c.id, [...(by.get(c.id) ?? []), c.status]);
  return new Map([...by].map(([id, s]) => [id, worst(s)]));
}

export function counts(results: Pick<Results, 'checks'>): Record<Status, number> {
  const n: Record<Status, number> = { passed: 0, failed: 0, undecided: 0, skipped: 0 };
  for (const c of results.checks) n[c.status]++;
  return n;
}
