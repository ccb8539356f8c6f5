/**
 * sevcheck's own console output for `run` and `record` (`--format text`, the default): one line
 * per check as cucumber finishes it, then the failures once more with what was found, what was
 * expected and the fix, the undecided checks with their reason (briefly), the totals and the
 * report paths. Pure: envelopes and checks in, lines out; support/cli/run.ts writes them.
 *
 * Colour only on a terminal, and never when NO_COLOR is set to a non-empty value
 * (https://no-color.org: "when present and not an empty string, prevents the addition of ANSI
 * color"); files and pipes get plain text.
 */
import { READING_ORDER } from './writers.js';
import type { Envelope } from '@cucumber/messages';
import type { Status } from '../verdict.js';
import { VERDICT_MEDIA_TYPE, type CheckResult, type Results } from './results.js';
import { printable } from './printable.js';

/** What the console reads of a check: results.ts CheckResult, the structured fields when present. */
export type ConsoleCheck = Pick<CheckResult, 'id' | 'status' | 'scenario' | 'message' | 'found' | 'expected' | 'fix' | 'reason'>;

export type ConsoleRun = Pick<Results, 'host' | 'target' | 'profile'>;

/** The one vocabulary: passed / failed / undecided / skipped. */
const WIDTH = Math.max(...(['passed', 'failed', 'undecided', 'skipped'] as const).map((s) => s.length));
const ID_WIDTH = 36;
/** an undecided check's reason in the closing block is cut here: the reports have it whole */
const REASON_MAX = 150;

/** SGR colours (ECMA-48 §8.3.117): 31 red, 32 green, 33 yellow, 2 faint; 1 bold; 0 reset. */
const SGR: Record<Status | 'bold', string> = { passed: '32', failed: '31', undecided: '33', skipped: '2', bold: '1' };

export type Paint = (style: Status | 'bold', text: string) => string;

export function painter(colour: boolean): Paint {
  return colour ? (style, text) => `\x1b[${SGR[style]}m${text}\x1b[0m` : (_style, text) => text;
}

/** Colour only on a terminal, and not when NO_COLOR is set and non-empty (no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

export function headerLine(run: ConsoleRun): string {
  return `sevcheck: ${printable(run.host)} (${printable(run.target)}), profile ${printable(run.profile)}`;
}

/** The line a check gets as it completes: label, id, title (the scenario's name). */
export function checkLine(c: ConsoleCheck, paint: Paint): string {
  return `  ${paint(c.status, c.status.padEnd(WIDTH))}  ${printable(c.id).padEnd(ID_WIDTH)} ${printable(c.scenario)}`;
}

/**
 * Follows cucumber's message stream (runCucumber's onMessage) and returns each check as its test
 * case finishes, with the verdict the World attached (support/world.ts). Mirrors
 * results.ts collectResults, which stays the source of results.json: a scenario without a
 * verdict is failed ("harness error"), one without an @check tag is no check (the run reports
 * it as a harness error at the end).
 */
export function checkStream(): (e: Envelope) => ConsoleCheck | undefined {
  const pickles = new Map<string, { name: string; id: string | undefined }>();
  const testCases = new Map<string, string>(); // testCase.id -> pickle.id
  const started = new Map<string, string>(); // testCaseStarted.id -> testCase.id
  const verdicts = new Map<string, Partial<ConsoleCheck>>();
  return (e) => {
    if (e.pickle) {
      const id = e.pickle.tags.map((t) => /^@check:(.+)$/.exec(t.name)?.[1]).find((x) => x !== undefined);
      pickles.set(e.pickle.id, { name: e.pickle.name, id });
    } else if (e.testCase) testCases.set(e.testCase.id, e.testCase.pickleId);
    else if (e.testCaseStarted) started.set(e.testCaseStarted.id, e.testCaseStarted.testCaseId);
    else if (e.attachment?.mediaType === VERDICT_MEDIA_TYPE && e.attachment.testCaseStartedId) {
      try {
        verdicts.set(e.attachment.testCaseStartedId, JSON.parse(e.attachment.body) as Partial<ConsoleCheck>);
      } catch {
        // collectResults reads the same attachment and reports what is wrong with it
      }
    } else if (e.testCaseFinished && !e.testCaseFinished.willBeRetried) {
      const startedId = e.testCaseFinished.testCaseStartedId;
      const pickle = pickles.get(testCases.get(started.get(startedId) ?? '') ?? '');
      if (!pickle?.id) return undefined;
      const v = verdicts.get(startedId);
      return {
        id: pickle.id,
        status: v?.status ?? 'failed',
        scenario: pickle.name,
        message: v?.message ?? 'harness error: no verdict',
      };
    }
    return undefined;
  };
}

const ORDER: Record<Status, number> = { failed: 0, undecided: 1, passed: 2, skipped: 3 };

/** the verdict's reason field; a check without one (results written before the field existed) shows its message less the "undecided: " support/verdict.ts puts first */
const reasonOf = (c: ConsoleCheck): string => c.reason ?? c.message.replace(/^undecided: /, '');
const brief = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`);

export interface Closing {
  readonly paint: Paint;
  /** the failures and undecided checks again, with their fix or reason (the default console) */
  readonly details: boolean;
  /** --fail-on-undecided: an undecided check makes the run not compliant */
  readonly failOnUndecided?: boolean | undefined;
  /** the run ended in a harness or input error: no verdict for the profile */
  readonly harnessError?: boolean | undefined;
  /** where the report set went (as the user named it) and its files; absent when none was written */
  readonly reports?: { readonly dir: string; readonly files: readonly string[] } | undefined;
}

/** Report files in the order a person would open them; others follow alphabetically. */
const REPORT_ORDER = READING_ORDER;

/** The closing block: failures with their fix, undecided with their reason, totals, report paths. */
export function closingLines(r: ConsoleRun & { readonly checks: readonly ConsoleCheck[] }, o: Closing): string[] {
  const lines: string[] = [];
  const sorted = [...r.checks].sort((a, b) => ORDER[a.status] - ORDER[b.status]);
  const failures = sorted.filter((c) => c.status === 'failed');
  const undecided = sorted.filter((c) => c.status === 'undecided');
  if (o.details && failures.length) {
    lines.push('', o.paint('failed', `failed (${failures.length}):`));
    for (const c of failures) {
      lines.push(`  ${o.paint('bold', printable(c.id))}  ${printable(c.scenario)}`);
      if (c.found !== undefined && c.expected !== undefined && c.fix !== undefined) {
        lines.push(`    found     ${printable(c.found)}`, `    expected  ${printable(c.expected)}`, `    fix       ${printable(c.fix)}`);
      } else lines.push(`    ${printable(c.message)}`);
    }
  }
  if (o.details && undecided.length) {
    lines.push('', o.paint('undecided', `undecided (${undecided.length}), full reasons in the reports:`));
    // checks with the very same reason (a fixture's "not recorded in this fixture") say it once
    const byReason = new Map<string, string[]>();
    for (const c of undecided) byReason.set(reasonOf(c), [...(byReason.get(reasonOf(c)) ?? []), c.id]);
    for (const [reason, ids] of byReason) {
      const who = ids.length === 1 ? printable(ids[0] as string) : `${ids.length} checks (${brief(ids.map(printable).join(', '), REASON_MAX)})`;
      lines.push(`  ${who}: ${printable(brief(reason, REASON_MAX))}`);
    }
  }
  const n: Record<Status, number> = { passed: 0, failed: 0, undecided: 0, skipped: 0 };
  for (const c of r.checks) n[c.status]++;
  const totals = `${n.passed} passed, ${n.failed} failed, ${n.undecided} undecided, ${n.skipped} skipped`;
  const profile = `for profile ${printable(r.profile)}`;
  lines.push(
    '',
    o.harnessError
      ? `no verdict (harness error): ${totals}`
      : n.failed
        ? `${o.paint('failed', 'NOT COMPLIANT')} ${profile}: ${totals}`
        : n.undecided && o.failOnUndecided
          ? `${o.paint('failed', 'NOT COMPLIANT')} ${profile} (--fail-on-undecided): ${totals}`
          : n.undecided
            ? `${o.paint('undecided', 'COMPLIANT SO FAR')} ${profile}: ${totals}`
            : `${o.paint('passed', 'COMPLIANT')} ${profile}: ${totals}`,
  );
  if (o.reports) {
    const rank = (f: string): number => (REPORT_ORDER.includes(f) ? REPORT_ORDER.indexOf(f) : REPORT_ORDER.length);
    const files = [...o.reports.files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const dir = printable(o.reports.dir).replace(/\/*$/, '/');
    lines.push(files.length ? `reports: ${dir} (${files.map(printable).join(', ')})` : `reports: ${dir}`);
  }
  return lines;
}
