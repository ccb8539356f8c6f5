/**
 * summary.md: a table to paste into a release ticket (the console is support/report/console.ts).
 */
import { counts, type Results } from './results.js';
import type { Status } from '../verdict.js';

const ICON: Record<Status, string> = { passed: 'PASS', failed: 'FAIL', undecided: 'UNDECIDED', skipped: 'SKIP' };
const ORDER: Record<Status, number> = { failed: 0, undecided: 1, passed: 2, skipped: 3 };

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function countLine(results: Pick<Results, 'checks'>): string {
  const n = counts(results);
  return `${n.passed} passed, ${n.failed} failed, ${n.undecided} undecided, ${n.skipped} skipped`;
}

export function summaryMarkdown(r: Results): string {
  const rows = [...r.checks].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.id.localeCompare(b.id));
  const verdict = r.checks.some((c) => c.status === 'failed')
    ? '**NOT COMPLIANT**'
    : r.checks.some((c) => c.status === 'undecided')
      ? '**compliant so far — some checks undecided**'
      : '**COMPLIANT**';
  return [
    `# sevcheck: ${r.host}`,
    '',
    `${verdict} for profile \`${r.profile}\` — ${countLine(r)}.`,
    '',
    `Target \`${r.target}\`, started ${r.startedAt}, ${r.durationMs} ms.`,
    '',
    '| Check | Result | Scenario | Details |',
    '|---|---|---|---|',
    ...rows.map((c) => `| \`${c.id}\` | ${ICON[c.status]} | ${mdCell(c.scenario)} | ${mdCell(c.message)} |`),
    '',
  ].join('\n');
}
