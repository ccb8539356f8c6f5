/**
 * sevcheck's own console output for `run` and `record` (`--format text`, the default), at most
 * CONSOLE_MAX_LINES: the header, then the causes of the failures with what was found and one fix
 * each (the checks failing because of them named under them), the undecided checks grouped by
 * reason with one remedy, one line per layer with its totals, the verdict with the totals (checks,
 * by id: report/findings.ts) and the report paths. `--verbose` adds one line per check as
 * cucumber finishes it and cuts nothing. Pure: envelopes and checks in, lines out;
 * support/cli/run.ts writes them.
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
import { checksLine, findings, idOrder, STATUSES, undecidedHeadline, verdictOf, type Cause, type Findings, type UndecidedGroup } from './findings.js';

/** What the console reads of a check: results.ts CheckResult, the structured fields when present. */
export type ConsoleCheck = Pick<CheckResult, 'id' | 'status' | 'scenario' | 'message' | 'found' | 'expected' | 'fix' | 'reason'>;

export type ConsoleRun = Pick<Results, 'host' | 'target' | 'profile'>;

/** The one vocabulary: passed / failed / undecided / skipped. */
const WIDTH = Math.max(...(['passed', 'failed', 'undecided', 'skipped'] as const).map((s) => s.length));
const ID_WIDTH = 36;

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

/** The default console fits one screen: header, closing block and all (issue 20). */
export const CONSOLE_MAX_LINES = 40;
/** ids listed on one line before "… +N" */
const IDS_MAX = 5;
/** an undecided group's own reason (no class matched) is cut here: the reports have it whole */
const REASON_MAX = 150;

const brief = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`);

/** "a, b, c, … +4" */
function idList(ids: readonly string[], all: boolean): string {
  const shown = all ? ids : ids.slice(0, IDS_MAX);
  return shown.map(printable).join(', ') + (ids.length > shown.length ? `, … +${ids.length - shown.length}` : '');
}

export interface Closing {
  readonly paint: Paint;
  /** the causes with their fix, the undecided reasons and the layers (the default console); false: the verdict and report paths only */
  readonly details: boolean;
  /** --verbose: nothing cut (every symptom, every undecided group, every id) */
  readonly verbose?: boolean | undefined;
  /** --fail-on-undecided: an undecided check makes the run not compliant */
  readonly failOnUndecided?: boolean | undefined;
  /** the run ended in a harness or input error: no verdict for the profile */
  readonly harnessError?: boolean | undefined;
  /** where the report set went (as the user named it) and its files; absent when none was written */
  readonly reports?: { readonly dir: string; readonly files: readonly string[] } | undefined;
  /** lines already printed above the block (the header): the default console stays within CONSOLE_MAX_LINES */
  readonly above?: number | undefined;
}

/** Report files in the order a person would open them; others follow alphabetically. */
const REPORT_ORDER = READING_ORDER;

/** A cause: the check, what was found, its one fix, what fails (or is undecided) because of it. */
function causeBlock(c: Cause<ConsoleCheck>, o: Closing): string[] {
  const lines = [`  ${o.paint('bold', printable(c.check.id))}  ${printable(c.check.lead.scenario)}`];
  if (c.found !== undefined) lines.push(`    found     ${printable(c.found)}`);
  lines.push(`    fix       ${printable(c.fix)}`);
  if (o.verbose) {
    for (const s of c.symptoms) {
      const why = s.sameFixAs !== undefined ? `same fix as ${s.sameFixAs}` : `because ${s.because.join(', ')}`;
      lines.push(`    ${o.paint(s.status, s.status.padEnd(WIDTH))}  ${printable(s.id)} (${printable(why)})`);
    }
  } else {
    for (const status of ['failed', 'undecided'] as const) {
      const ids = c.symptoms.filter((s) => s.status === status).map((s) => s.id);
      if (ids.length) lines.push(`    ${o.paint(status, `${status} because of it`)} (${ids.length}): ${idList(ids, false)}`);
    }
  }
  return lines;
}

function undecidedBlock(g: UndecidedGroup<ConsoleCheck>, o: Closing): string[] {
  const ids = idList(g.checks.map((c) => c.id), Boolean(o.verbose));
  if (g.remedy === undefined) return [`  ${printable(o.verbose ? undecidedHeadline(g) : brief(undecidedHeadline(g), REASON_MAX))}`, `    ${ids}`];
  return [`  ${printable(undecidedHeadline(g))}: ${ids}`, `    → ${printable(g.remedy)}`];
}

/**
 * The closing block: the causes (one fix each, the checks failing because of them under them),
 * the undecided checks grouped by reason with one remedy, one line per layer with its totals,
 * the verdict with the totals (by check id: report/findings.ts), the report paths. Without
 * --verbose it is cut to fit CONSOLE_MAX_LINES with the header: what is left out is counted and
 * is in the reports.
 */
export function closingLines(r: ConsoleRun & { readonly checks: readonly ConsoleCheck[] }, o: Closing, f: Findings<ConsoleCheck> = findings(r.checks)): string[] {
  const t = f.totals;
  const profile = `for profile ${printable(r.profile)}`;
  const counts = checksLine(t);
  const v = verdictOf(t, o.failOnUndecided);
  const verdict = o.harnessError
    ? `no verdict (harness error): ${counts}`
    : `${o.paint(v.status, v.words)} ${profile}${v.words === 'NOT COMPLIANT' && t.failed === 0 ? ' (--fail-on-undecided)' : ''}: ${counts}`;
  const tail: string[] = [];
  if (o.reports) {
    const rank = (x: string): number => (REPORT_ORDER.includes(x) ? REPORT_ORDER.indexOf(x) : REPORT_ORDER.length);
    const files = [...o.reports.files].sort((a, b) => rank(a) - rank(b) || idOrder(a, b));
    const dir = printable(o.reports.dir).replace(/\/*$/, '/');
    tail.push(files.length ? `reports: ${dir} (${files.map(printable).join(', ')})` : `reports: ${dir}`);
  }
  if (!o.details) return ['', verdict, ...tail];

  const width = Math.max(...f.layers.map((l) => l.layer.length));
  const digits = Math.max(...f.layers.map((l) => String(STATUSES.reduce((n, st) => n + l.totals[st], 0)).length));
  const layers = f.layers.map((l) => `  ${printable(l.layer).padEnd(width)}  ${checksLine(l.totals).padStart(checksLine(l.totals).length + digits - String(STATUSES.reduce((n, st) => n + l.totals[st], 0)).length)}`);
  const end = ['', ...layers, '', verdict, ...tail];
  let room = o.verbose ? Infinity : CONSOLE_MAX_LINES - (o.above ?? 1) - end.length;
  const body: string[] = [];
  /** a section: its heading and blocks, as many blocks as fit; a last line counts the rest */
  const section = (heading: string, blocks: string[][], rest: (left: number) => string): void => {
    if (blocks.length === 0 || room < 3) {
      if (blocks.length && room >= 1) {
        body.push(rest(blocks.length));
        room -= 1;
      }
      return;
    }
    const out = ['', heading];
    let i = 0;
    for (; i < blocks.length; i++) {
      const b = blocks[i]!;
      const needMore = i < blocks.length - 1 ? 1 : 0; // keep a line for "… N more"
      if (out.length + b.length + needMore > room) break;
      out.push(...b);
    }
    if (i < blocks.length) out.push(rest(blocks.length - i));
    body.push(...out);
    room -= out.length;
  };
  const failedUnder = f.causes.reduce((n, c) => n + c.symptoms.filter((s) => s.status === 'failed').length, 0);
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  section(
    o.paint('failed', `${plural(f.causes.length, 'cause')} of ${plural(t.failed, 'failed check')}${failedUnder ? ` (${failedUnder} failing because of another)` : ''}, one fix each:`),
    f.causes.map((c) => causeBlock(c, o)),
    (left) => `  … ${plural(left, 'more cause')}: ${idList(f.causes.slice(-left).map((c) => c.check.id), false)} (the reports have them all, and --verbose)`,
  );
  const grouped = f.undecided.reduce((n, g) => n + g.checks.length, 0);
  section(
    o.paint('undecided', `${plural(grouped, 'undecided check')}${grouped < t.undecided ? ` (and ${t.undecided - grouped} under a cause)` : ''}, by reason:`),
    f.undecided.map((g) => undecidedBlock(g, o)),
    (left) => `  … ${plural(left, 'more reason')} (the reports have them all, and --verbose)`,
  );
  return [...body, ...end];
}
