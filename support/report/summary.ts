/**
 * summary.md: a table to paste into a release ticket (the console is support/report/console.ts).
 */
import { counts, type CheckResult, type Results } from './results.js';
import type { Status } from '../verdict.js';

const ICON: Record<Status, string> = { passed: 'PASS', failed: 'FAIL', undecided: 'UNDECIDED', skipped: 'SKIP' };
const ORDER: Record<Status, number> = { failed: 0, undecided: 1, passed: 2, skipped: 3 };

/**
 * Text from a probed host (config lines, file names, command output) as Markdown that shows it
 * as written: every character CommonMark could read as markup is backslash-escaped (CommonMark
 * 0.31 §2.4: any ASCII punctuation may be), so `<memoryBacking>` stays text instead of vanishing
 * as an HTML tag, and `*`, `_`, `|` or a backtick in a value change nothing. `[` stays as it is
 * (`\x1b[2J` reads unchanged): a link or image needs a `]` as well, and that one is escaped. One line.
 */
export const md = (s: string): string => s.replace(/[\\`*_\]<>|~&]/g, '\\$&').replace(/\r?\n/g, ' ');

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
    `${verdict} for profile \`${r.profile}\` — ${countLine(r)}.`,
    '',
    `Target ${md(r.target)}, started ${r.startedAt}, ${r.durationMs} ms.${see.length ? ` Beside this file, ${see.join('; ')}.` : ''}`,
    '',
  ];
  if (failures.length) {
    out.push(`## Failed (${failures.length})`, '');
    for (const c of failures) {
      out.push(`### \`${c.id}\` — ${md(c.scenario)}`, '');
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
    ...rows.map((c) => `| \`${c.id}\` | ${statusWord(c.status)} | ${md(c.scenario)} | ${md(details(c))} |`),
    '',
  );
  return out.join('\n');
}
