/**
 * summary.md: a table to paste into a release ticket (the console is support/report/console.ts).
 */
import { counts, type CheckResult, type Results } from './results.js';
import type { Status } from '../verdict.js';
import { printable } from './printable.js';

const ICON: Record<Status, string> = { passed: 'PASS', failed: 'FAIL', undecided: 'UNDECIDED', skipped: 'SKIP' };
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

const statusWord = (s: Status): string => s; // one vocabulary: passed / failed / undecided / skipped

/** What a table row says beside the status: the reason of an undecided or skipped check, else the message. */
function details(c: CheckResult): string {
  if ((c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined) return c.reason;
  return c.message;
}

export function countLine(results: Pick<Results, 'checks'>): string {
  const n = counts(results);
  return `${n.passed} passed, ${n.failed} failed, ${n.undecided} undecided, ${n.skipped} skipped`;
}

/**
 * summary.md, for a release ticket: the verdict line, then every failure with what was found,
 * what was expected and the fix, then the table of every check (failed, undecided, passed,
 * skipped), and where the full report is.
 */
export function summaryMarkdown(r: Results, links: { page?: string | undefined; steps?: string | undefined } = {}): string {
  const rows = [...r.checks].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.id.localeCompare(b.id));
  const n = counts(r);
  const verdict = n.failed > 0 ? '**NOT COMPLIANT**' : n.undecided > 0 ? `**COMPLIANT SO FAR — ${n.undecided} undecided**` : '**COMPLIANT**';
  const see = [
    links.page ? `the full report is [${md(links.page)}](${links.page})` : undefined,
    links.steps ? `every step is in [${md(links.steps)}](${links.steps})` : undefined,
  ].filter((x) => x !== undefined);
  const failures = rows.filter((c) => c.status === 'failed');
  const out = [
    `# sevcheck: ${md(r.host)}`,
    '',
    `${verdict} for profile ${mdCode(r.profile)} — ${countLine(r)}.`,
    '',
    `Target ${md(r.target)}, started ${md(r.startedAt)}, ${mdNumber(r.durationMs)} ms.${see.length ? ` Beside this file, ${see.join('; ')}.` : ''}`,
    '',
  ];
  if (failures.length) {
    out.push(`## Failed (${failures.length})`, '');
    for (const c of failures) {
      out.push(`### ${mdCode(c.id)} — ${md(c.scenario)}`, '');
      if (c.found !== undefined && c.expected !== undefined && c.fix !== undefined) {
        out.push(`- **found:** ${md(c.found)}`, `- **expected:** ${md(c.expected)}`, `- **fix:** ${md(c.fix)}`, '');
      } else out.push(`- ${md(c.message)}`, ''); // a harness-error entry has only its message
    }
  }
  out.push(
    '## All checks',
    '',
    '| Check | Result | Scenario | Details |',
    '|---|---|---|---|',
    ...rows.map((c) => `| ${mdCode(c.id)} | ${md(statusWord(c.status))} | ${md(c.scenario)} | ${md(details(c))} |`),
    '',
  );
  return out.join('\n');
}
