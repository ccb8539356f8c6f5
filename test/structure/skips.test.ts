/**
 * `npm test` ends with one summary of what it skipped and what to install (test/skipped-summary.ts):
 * every test file that can skip (skipIf, runIf, ctx.skip, it.skip) has an entry in NEEDS, and the
 * summary names each file, its count, the reasons and the packages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { NEEDS, summaryLines } from '../skipped-summary.js';

function tests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tests(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [relative(ROOT, join(dir, e.name))] : [],
  );
}

describe('the skipped-tests summary', () => {
  it('knows what every test file that can skip needs', () => {
    const skipping = tests(join(ROOT, 'test')).filter((f) => /\.(skipIf|runIf)\(|ctx\.skip\(|\bit\.skip\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(skipping.length).toBeGreaterThan(10);
    expect(skipping.filter((f) => !NEEDS[f])).toEqual([]);
    // and names no file that is gone
    expect(Object.keys(NEEDS).filter((f) => !skipping.includes(f))).toEqual([]);
  });

  it('one block: each file with its count and reasons, then what to install, each once', () => {
    const lines = summaryLines([
      { file: 'test/report/html-chromium.test.ts', count: 7, notes: new Set() },
      { file: 'test/fleet/report-html.test.ts', count: 3, notes: new Set(['no chromium']) },
      { file: 'test/x.test.ts', count: 1, notes: new Set() },
    ]);
    expect(lines).toEqual([
      '',
      'Skipped: 11 tests in 3 files (they need what this machine lacks):',
      '  test/fleet/report-html.test.ts: 3 — needs headless Chromium (no chromium)',
      '  test/report/html-chromium.test.ts: 7 — needs headless Chromium',
      '  test/x.test.ts: 1 — needs see the test',
      'To run them:',
      '  apt-get install chromium fonts-dejavu-core',
    ]);
    expect(summaryLines([])).toEqual([]);
  });
});
