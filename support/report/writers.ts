/**
 * Every report sevcheck writes from its own verdicts, in one name → writer table. It serves both
 * the report set (support/cli/run.ts writes every entry into the staged --out directory) and
 * `--format NAME` (the same text on stdout), so a new reporter (TAP, SARIF, …) is one entry here.
 * Writers read the fields of each check (found / expected / fix, reason: docs/results.md), never
 * split `message`.
 *
 * This is the one place the report files are named (test/report/writers.test.ts greps for it).
 */
import { printableJson } from './printable.js';
import type { CheckResult, Results } from './results.js';
import { summaryMarkdown } from './summary.js';
import { junitXml } from './junit.js';
import { reportHtml } from './html.js';
import { findings, type Findings } from './findings.js';

/**
 * results.json: the run's verdicts, with what every other report states beside them
 * (report/findings.ts, docs/results.md): `totals` by check id, `causes` (each failed check no
 * other explains, its fix and the checks failing or undecided because of it), `undecided` (the
 * rest grouped by reason with one remedy), and on each scenario of a check a cause explains, its
 * `because`. A reader that knows only `checks` reads it as before.
 */
export function withFindings(r: Omit<Results, 'checks'> & { readonly checks: readonly CheckResult[] }, f: Findings<CheckResult> = findings(r.checks)): Record<string, unknown> {
  const { checks, ...head } = r;
  const byId = new Map(f.checks.map((c) => [c.id, c]));
  return {
    ...head,
    totals: { unit: 'check', checks: f.checks.length, ...f.totals },
    causes: f.causes.map((c) => ({ id: c.check.id, fix: c.fix, explains: c.symptoms.map((s) => s.id) })),
    undecided: f.undecided.map((g) => ({ need: g.need, ...(g.remedy !== undefined ? { remedy: g.remedy } : {}), checks: g.checks.map((c) => c.id) })),
    checks: checks.map((c) => {
      const g = byId.get(c.id);
      return g?.root !== undefined && c.status !== 'passed' && c.status !== 'skipped' ? { ...c, because: g.because } : c;
    }),
  };
}

export interface Writer {
  /** the file's name in the report set */
  readonly file: string;
  /** `f`: the run's findings of results.checks (report/findings.ts), computed once for the whole set */
  write(results: Results, f?: Findings<CheckResult>): string;
}

export const WRITERS: Record<string, Writer> = {
  // sevcheck's own page first: the console names the report set's files in this order
  html: { file: 'report.html', write: (r, f) => reportHtml(r, { links: { steps: CUCUMBER_REPORTS['html'], results: WRITERS['json']?.file } }, f) },
  json: { file: 'results.json', write: (r, f) => `${printableJson(withFindings(r, f))}\n` },
  summary: { file: 'summary.md', write: (r, f) => summaryMarkdown(r, reportLinks(), f) },
  junit: { file: 'junit.xml', write: (r, f) => junitXml(r, f) },
};

/**
 * Reports cucumber writes itself, by cucumber formatter name: the Gherkin view with every step
 * (cucumber.html) and the raw message stream the results are built from (messages.ndjson).
 */
export const CUCUMBER_REPORTS: Readonly<Record<string, string>> = {
  html: 'cucumber.html',
  message: 'messages.ndjson',
};

/** Report files in the order a person would open them (the console lists them so). */
export const READING_ORDER: readonly string[] = [WRITERS['html'], WRITERS['summary']].map((w) => w?.file ?? '')
  .concat(CUCUMBER_REPORTS['html'] ?? '', WRITERS['json']?.file ?? '', WRITERS['junit']?.file ?? '', CUCUMBER_REPORTS['message'] ?? '')
  .filter((f) => f !== '');

/** Every file of a report set: what `--out` may already hold (cli/options.ts) and what a run writes. */
export const REPORT_FILES: readonly string[] = [...Object.values(WRITERS).map((w) => w.file), ...Object.values(CUCUMBER_REPORTS)];

/** The pages a summary points a reader to, as written in the same report set. */
export interface ReportLinks {
  /** sevcheck's own page, when the table has one (the entry named `html`) */
  readonly page?: string | undefined;
  /** cucumber's step-level page */
  readonly steps?: string | undefined;
}

function reportLinks(): ReportLinks {
  return { page: WRITERS['html']?.file, steps: CUCUMBER_REPORTS['html'] };
}
