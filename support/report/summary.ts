/**
 * summary.md: a table to paste into a release ticket (the console is support/report/console.ts).
 */
import type { CheckResult, Results } from './results.js';
import { checksLine, findings, idOrder, totals, totalsLine, undecidedHeadline, verdictOf, type CheckFinding, type Findings } from './findings.js';
import type { Status } from '../verdict.js';
import { printable } from './printable.js';

const ORDER: Record<Status, number> = { failed: 0, undecided: 1, passed: 2, skipped: 3 };

/**
 * Text from a probed host or an ingested file (config lines, file names, command output, a
 * results.json's fields) as Markdown that shows it as written, on one line, with no structure of
 * its own (issue 19: newlines and markup in a field became headings and raw HTML blocks):
 * - every line break CommonMark knows (LF, CR, CRLF; §2.1), and U+2028/U+2029/U+0085 that other
 *   renderers break on, becomes a space, so a field can never start a line (no heading, list,
 *   block quote, fence, table row or HTML block);
 * - other control and bidi characters are shown as `\xNN` escapes (report/printable.ts);
 * - every character CommonMark could read as inline markup is backslash-escaped (CommonMark 0.31
 *   §2.4: any ASCII punctuation may be), so `<memoryBacking>` stays text instead of vanishing as
 *   an HTML tag, and `*`, `_`, `|` (a GFM table cell), a backtick, `[`/`]` (links), `!`, `#`, `&`
 *   (entities) in a value change nothing.
 */
export const md = (s: string): string => printable(flat(s)).replace(/[\\`*_[\]<>|~&!#]/g, '\\$&');

/**
 * Line breaks as spaces (see md); the noncharacters U+FFFE/U+FFFF and a lone UTF-16 surrogate
 * (which has no UTF-8 form at all) as `\u{…}` escapes.
 */
const flat = (s: string): string =>
  String(s)
    .replace(/\r\n|[\r\n\u0085\u2028\u2029]/g, ' ')
    .replace(/[\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);

/**
 * Text as an inline code span (a check id, a profile): one line, a backtick becomes `'`, `|` is
 * escaped for a GFM table cell (GFM §4.10: the pipe splits cells even inside a code span).
 */
export const mdCode = (s: string): string => `\`${printable(flat(s)).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;

/** A number for a report: finite, else "?" (a hand-edited results.json may hold anything). */
export const mdNumber = (n: unknown): string => (typeof n === 'number' && Number.isFinite(n) ? String(n) : '?');

/** What a table row says beside the status: the reason of an undecided or skipped check, else the message; a symptom names its cause first. */
function details(g: CheckFinding<CheckResult>, shared: ReadonlySet<string>): string {
  if (shared.has(g.id)) return 'the reason its group states under Undecided above';
  const c = g.lead;
  const text = (c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined ? c.reason : c.message;
  const why = g.sameFixAs !== undefined ? `same fix as ${g.sameFixAs}: ` : g.because.length ? `because ${g.because.join(', ')}: ` : '';
  return why + text;
}

/** "2 failed, 17 undecided, 13 passed, 42 skipped" by check id (report/findings.ts): the words every output uses. */
export function countLine(results: Pick<Results, 'checks'>): string {
  return totalsLine(totals(results.checks));
}

const code = mdCode;

/**
 * summary.md, for a release ticket: the verdict line with the totals (checks), then the causes of
 * the failures with what was found and one fix each (the checks failing because of them under
 * them), the undecided checks grouped by reason with one remedy, then the table of every check
 * (failed, undecided, passed, skipped; one row per check id), and where the full report is.
 */
/** `f`: the run's findings of these very checks (report/findings.ts), when the caller has them */
export function summaryMarkdown(r: Results, links: { page?: string | undefined; steps?: string | undefined } = {}, f: Findings<CheckResult> = findings(r.checks)): string {
  const rows = [...f.checks].sort((a, b) => ORDER[a.status] - ORDER[b.status] || idOrder(a.id, b.id));
  const v = verdictOf(f.totals);
  const verdict = v.words === 'COMPLIANT SO FAR' ? `**COMPLIANT SO FAR — ${f.totals.undecided} undecided**` : `**${v.words}**`;
  const see = [
    links.page ? `the full report is [${md(links.page)}](${links.page})` : undefined,
    links.steps ? `every step is in [${md(links.steps)}](${links.steps})` : undefined,
  ].filter((x) => x !== undefined);
  const out = [
    `# sevcheck: ${md(r.host)}`,
    '',
    `${verdict} for profile ${mdCode(r.profile)} — ${checksLine(f.totals)}.`,
    '',
    `Target ${md(r.target)}${r.config !== undefined ? `, site file ${md(r.config)}` : ''}, started ${md(r.startedAt)}, ${mdNumber(r.durationMs)} ms.${see.length ? ` Beside this file, ${see.join('; ')}.` : ''}`,
    '',
  ];
  if (f.causes.length) {
    const under = f.causes.reduce((n, c) => n + c.symptoms.filter((s) => s.status === 'failed').length, 0);
    out.push(`## Causes (${f.causes.length} of ${f.totals.failed} failed checks${under ? `; ${under} fail because of another` : ''})`, '');
    for (const c of f.causes) {
      out.push(`### ${code(c.check.id)} — ${md(c.check.lead.scenario)}`, '');
      const l = c.check.lead;
      if (l.found !== undefined && l.expected !== undefined && l.fix !== undefined) {
        out.push(`- **found:** ${md(l.found)}`, `- **expected:** ${md(l.expected)}`, `- **fix:** ${md(l.fix)}`);
      } else out.push(`- ${md(l.message)}`); // a harness-error entry has only its message
      for (const s of c.symptoms) {
        const why = s.sameFixAs !== undefined ? `same fix as ${code(s.sameFixAs)}` : `because ${s.because.map(code).join(', ')}`;
        out.push(`- ${s.status} because of it: ${code(s.id)} — ${md(s.lead.scenario)} (${why})`);
      }
      out.push('');
    }
  }
  // a reason several checks share is stated once, on its group's line; their table rows point there
  const shared = new Set<string>();
  if (f.undecided.length) {
    const grouped = f.undecided.reduce((n, g) => n + g.checks.length, 0);
    out.push(`## Undecided (${grouped} checks by reason${grouped < f.totals.undecided ? `; ${f.totals.undecided - grouped} more under a cause above` : ''})`, '');
    for (const g of f.undecided) {
      const reasons = new Set(g.checks.map((c) => c.lead.reason ?? c.lead.message));
      const one = g.checks.length > 1 && reasons.size === 1 ? [...reasons][0] : undefined;
      if (one !== undefined) for (const c of g.checks) shared.add(c.id);
      const why = one !== undefined && g.remedy !== undefined ? ` (${md(one)})` : '';
      out.push(`- **${md(undecidedHeadline(g))}:** ${g.checks.map((c) => code(c.id)).join(', ')}${why}${g.remedy !== undefined ? ` — ${md(g.remedy)}` : ''}`);
    }
    out.push('');
  }
  out.push(
    '## All checks',
    '',
    '| Check | Result | Scenario | Details |',
    '|---|---|---|---|',
    ...rows.map((g) => {
      const more = g.scenarios.length > 1 ? ` (worst of ${g.scenarios.length}: ${g.scenarios.map((c) => c.status).join(', ')})` : '';
      return `| ${code(g.id)} | ${g.status} | ${md(g.lead.scenario)}${more} | ${md(details(g, shared))} |`;
    }),
    '',
  );
  return out.join('\n');
}
