/**
 * `sevcheck lint-domain FILE... --out DIR` (issue 14: report.html in every report set): writes
 * report.html and results.json of the linted files, replaced whole like run's report set; an
 * unreadable file (exit 2) leaves the previous set as it was.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintDomainMain } from '../../support/cli/lint.js';

const fx = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
const host = ['--host-cbitpos', '51', '--host-reduced-phys-bits', '1'];
async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await lintDomainMain(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('sevcheck lint-domain --out DIR', () => {
  it('writes report.html and results.json of the linted files; failed first, one element per check id, <...> as text', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-lint-out-')), 'reports');
    const files = [fx('domains/good-snp.xml'), fx('domains/bad-i440fx.xml')];
    const r = await run([...files, ...host, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^reports: .*reports$/m);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'results.json']);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.profile).toBe('');
    // the console's summary is the pages' count (by check, the worst over the files) in their words
    const t = results.totals;
    expect(r.stdout).toMatch(new RegExp(`^2 file\\(s\\), ${t.checks} checks: ${t.failed} failed, ${t.undecided} undecided, ${t.passed} passed, ${t.skipped} skipped(;|$)`, 'm'));
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(`<p class="counts">${t.checks} checks: ${t.failed} failed, ${t.undecided} undecided, ${t.passed} passed, ${t.skipped} skipped</p>`);
    expect(results.host).toBe('C-bit facts given on the command line');
    expect(results.checks.filter((c: { scenario: string }) => c.scenario === files[1])).toContainEqual(
      expect.objectContaining({ id: 'domain.machine.q35', status: 'failed', feature: files[1] }),
    );
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h1>NOT COMPLIANT</h1>');
    expect(html).not.toContain('cucumber.html');
    const ids = [...html.matchAll(/<article class="check ([^"]*)" id="([^"]*)"/g)];
    expect(ids[0]![1]).toBe('failed');
    expect(new Set(ids.map((m) => m[2])).size).toBe(ids.length);
    expect(ids.map((m) => m[2]).sort()).toEqual([...new Set(results.checks.map((c: { id: string }) => c.id))].sort());
    // the failing file's entry comes first inside its check, and its fix is shown as text
    expect(html).toMatch(/id="domain\.machine\.q35">.*2 files.*label failed.*bad-i440fx\.xml.*label passed/s);
    expect(html).toContain('&#60;memoryBacking&#62;&#60;locked/&#62;');
    expect(html).not.toMatch(/<memoryBacking|<script/);
  });

  it('an unreadable file is exit 2 and leaves the previous report set; a directory of other files is refused', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-lint-out-')), 'reports');
    expect((await run([fx('domains/good-snp.xml'), ...host, '--out', out])).code).toBe(0);
    const before = readFileSync(join(out, 'results.json'), 'utf8');
    const r = await run([fx('domains/good-sev-q35.xml'), '/nonexistent.xml', ...host, '--out', out]);
    expect(r.code).toBe(2);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(out, '..'))).toEqual(['reports']); // no staging directory left

    const foreign = mkdtempSync(join(tmpdir(), 'sevcheck-lint-foreign-'));
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const f = await run([fx('domains/good-snp.xml'), ...host, '--out', foreign]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/^sevcheck: --out .*sevcheck-lint-foreign-\w+: .*not sevcheck reports \(notes\.txt\)/);
    expect(existsSync(join(foreign, 'report.html'))).toBe(false);
  });

  it('results.json states the totals and one cause per defect: a check failing because of another file-local owner is listed under it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-lint-owner-'));
    const bad = join(dir, 'forty-seven.xml');
    writeFileSync(bad, readFileSync(fx('domains/good-sev-q35.xml'), 'utf8').replace(/<cbitpos>\d+<\/cbitpos>/, '<cbitpos>forty-seven</cbitpos>'));
    const out = join(dir, 'reports');
    const r = await run([bad, fx('domains/good-sev-es.xml'), ...host, '--no-schema', '--out', out]);
    expect(r.code).toBe(1);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.totals).toMatchObject({ unit: 'check', failed: 2 });
    expect(results.causes).toEqual([expect.objectContaining({ id: 'domain.schema-valid', explains: ['domain.launch-security'] })]);
    expect(results.checks).toContainEqual(expect.objectContaining({ id: 'domain.launch-security', status: 'failed', scenario: bad, because: ['domain.schema-valid'] }));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/because <a href="#domain\.schema-valid">domain\.schema-valid<\/a>/);
  });

  it('--format json still prints only the JSON on stdout', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-lint-out-')), 'reports');
    const r = await run([fx('domains/good-snp.xml'), ...host, '--format', 'json', '--out', out]);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});
