/**
 * One name → writer table (support/report/writers.ts) serves the report set and --format: it is
 * the only place a report file is named, every entry lands in a run's report set, and
 * `--format NAME` prints exactly what that entry writes.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck } from '../helpers.js';
import { CUCUMBER_REPORTS, REPORT_FILES, WRITERS } from '../../support/report/writers.js';

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mjs|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The code of a source file without its comments (a comment may mention a report by name). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

describe('report writers', () => {
  it('writers.ts is the only place a report file is named', () => {
    const names = [...new Set([...REPORT_FILES, 'report.html'])];
    const named = [...sources('support'), ...sources('steps'), ...sources('bin')]
      // the fleet's report set has its own one place (support/fleet/writers.ts: junit.xml, summary.md of a fleet run)
      .filter((f) => f !== join('support', 'report', 'writers.ts') && f !== join('support', 'fleet', 'writers.ts'))
      .flatMap((f) => {
        const text = code(readFileSync(join(ROOT, f), 'utf8'));
        return names.filter((n) => text.includes(n)).map((n) => `${f}: ${n}`);
      });
    expect(named).toEqual([]);
    // and the table names every file of a report set, each once
    expect(REPORT_FILES).toEqual(expect.arrayContaining(['results.json', 'summary.md', 'junit.xml', 'cucumber.html', 'messages.ndjson']));
    expect(new Set(REPORT_FILES).size).toBe(REPORT_FILES.length);
  });

  it('a run writes every entry of the table into its report set, and --format NAME prints that entry on stdout', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-writers-')), 'reports');
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/modprobe-conflict', '--format', 'junit', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(readdirSync(out).sort()).toEqual([...REPORT_FILES].sort());
    for (const w of Object.values(WRITERS)) expect(readFileSync(join(out, w.file), 'utf8').length, w.file).toBeGreaterThan(0);
    for (const f of Object.values(CUCUMBER_REPORTS)) expect(readFileSync(join(out, f), 'utf8').length, f).toBeGreaterThan(0);
    // stdout is the junit entry: the same text as the report set's junit.xml
    expect(r.stdout).toBe(readFileSync(join(out, WRITERS['junit']!.file), 'utf8'));
    expect(r.stdout).toMatch(/^<\?xml [^\n]*\n<testsuites /);
  });
});
