/**
 * One count everywhere (issue 20 item 1): the totals computed here, independently, from
 * results.json's scenarios (one per check id, the worst of its scenarios) must be what every
 * output of the same run states, in the same words: the console's verdict line, results.json
 * `totals`, summary.md, report.html (banner and section headings) and junit.xml (one testcase per
 * check, parsed as XML).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseStringPromise } from 'xml2js';

type Status = 'failed' | 'undecided' | 'passed' | 'skipped';
const WORST: Status[] = ['failed', 'undecided', 'passed', 'skipped'];

export interface Counted {
  readonly checks: number;
  readonly failed: number;
  readonly undecided: number;
  readonly passed: number;
  readonly skipped: number;
}

/** The totals by check id, from the scenarios alone. */
export function countFromResults(checks: ReadonlyArray<{ id: string; status: string }>): Counted {
  const by = new Map<string, Status>();
  for (const c of checks) {
    const s = c.status as Status;
    const was = by.get(c.id);
    if (was === undefined || WORST.indexOf(s) < WORST.indexOf(was)) by.set(c.id, s);
  }
  const n = { checks: by.size, failed: 0, undecided: 0, passed: 0, skipped: 0 };
  for (const s of by.values()) n[s]++;
  return n;
}

/** "74 checks: 2 failed, 17 undecided, 13 passed, 42 skipped" */
export const wordsOf = (t: Counted): string => `${t.checks} checks: ${t.failed} failed, ${t.undecided} undecided, ${t.passed} passed, ${t.skipped} skipped`;

/** Asserts that every report in `dir` (and the console's stdout, when given) states the totals of its results.json. */
export async function expectOneCount(dir: string, stdout?: string): Promise<Counted> {
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { checks: Array<{ id: string; status: string }>; totals?: Record<string, unknown> };
  const t = countFromResults(results.checks);
  const words = wordsOf(t);
  expect(results.totals, 'results.json totals').toEqual({ unit: 'check', ...t });
  if (stdout !== undefined) expect(stdout, 'console verdict line').toMatch(new RegExp(`^(NOT COMPLIANT|COMPLIANT SO FAR|COMPLIANT) for profile [a-z-]+( \\(--fail-on-undecided\\))?: ${words}$`, 'm'));
  expect(readFileSync(join(dir, 'summary.md'), 'utf8'), 'summary.md').toContain(` — ${words}.`);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  expect(html, 'report.html banner').toContain(`<p class="counts">${words}</p>`);
  for (const s of WORST) {
    const heading = new RegExp(`<h2>${s[0]!.toUpperCase()}${s.slice(1)} \\((\\d+)\\)`);
    const m = heading.exec(html);
    if (t[s] === 0) expect(m, `report.html: no ${s} section`).toBeNull();
    else expect(m?.[1], `report.html ${s} heading`).toBe(String(t[s]));
  }
  const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
  const doc = (await parseStringPromise(xml)) as { testsuites: { $: Record<string, string>; testsuite?: Array<{ testcase?: Array<{ failure?: unknown[]; skipped?: unknown[] }> }> } };
  const cases = (doc.testsuites.testsuite ?? []).flatMap((s) => s.testcase ?? []);
  expect(doc.testsuites.$, 'junit.xml <testsuites>').toMatchObject({ tests: String(t.checks), failures: String(t.failed), skipped: String(t.undecided + t.skipped) });
  expect(cases.length, 'junit.xml: one testcase per check').toBe(t.checks);
  expect(cases.filter((c) => c.failure).length, 'junit.xml failures').toBe(t.failed);
  expect(cases.filter((c) => c.skipped).length, 'junit.xml skipped').toBe(t.undecided + t.skipped);
  return t;
}
