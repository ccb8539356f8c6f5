/**
 * Launch flows end to end: every bundle under fixtures/launch/<case>/ gives exactly the verdicts of
 * its expected.json when checked against the reference host (docs/launch.md). The bundles name the
 * real vectors as `vectors:...`, resolved against ../shared/vectors through SEVCHECK_VECTORS.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, SHARED, sevcheck, byId, type JsonResults } from '../helpers.js';

const CASES = join(ROOT, 'fixtures/launch');
const cases = readdirSync(CASES).filter((c) => existsSync(join(CASES, c, 'expected.json')));
const env = { SEVCHECK_VECTORS: join(SHARED, 'vectors') };
const run = (args: string[], e: Record<string, string> = env) =>
  sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@layer:launch', '--format', 'json', ...args], e);

describe('launch meta-test: each launch bundle gives exactly its expected verdicts', () => {
  it('covers the good and rejected flows of issue 7', () => {
    for (const c of ['sev-good', 'sev-other-ovmf', 'sev-wrong-policy', 'snp-digest-good', 'snp-report-good', 'snp-tampered-report', 'snp-vcek-other-chip']) {
      expect(cases).toContain(c);
    }
  });

  it.each(cases)('%s', async (c) => {
    const expected = JSON.parse(readFileSync(join(CASES, c, 'expected.json'), 'utf8')) as Record<string, string>;
    const r = await run(['--launch', `fixtures/launch/${c}`, '--out', join('/tmp', `sevcheck-launch-${c}`)]);
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as JsonResults;
    expect(byId(results)).toEqual(expected);
    expect(r.code).toBe(Object.values(expected).includes('failed') ? 1 : 0);
    for (const x of results.checks) {
      if (x.status === 'failed') expect(x.message).toMatch(/^found .+; expected .+; fix: .+/s);
      if (x.status === 'skipped') expect(x.message).toMatch(/^skipped: /);
      if (x.status === 'passed') expect(x.message).not.toMatch(/^(found|skipped|undecided)/);
    }
  });

  it('without a bundle every launch check is skipped, saying how to give one', async () => {
    const r = await run(['--out', '/tmp/sevcheck-launch-none']);
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as JsonResults;
    expect(results.checks.length).toBe(5);
    for (const x of results.checks) expect(x.message).toBe('skipped: no launch bundle: run with --launch DIR (a directory with launch.json, see docs/launch.md)');
  });

  it('bad input around the bundle is exit 2 with one line naming the file and the key', async () => {
    const noDir = await run(['--launch', 'fixtures/launch/does-not-exist', '--out', '/tmp/sevcheck-launch-bad']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/^sevcheck: --launch fixtures\/launch\/does-not-exist: no launch\.json there/);
    const noVectors = await run(['--launch', 'fixtures/launch/snp-report-good', '--out', '/tmp/sevcheck-launch-bad'], { SEVCHECK_VECTORS: '' });
    expect(noVectors.code).toBe(2);
    expect(noVectors.stderr.trim().split('\n')).toHaveLength(1);
    expect(noVectors.stderr).toMatch(/launch\.json: snp\.firmware|launch\.json: snp\.report: "vectors:.*needs the reference vectors: set SEVCHECK_VECTORS/);
  });

  it('a broken launch bundle is an input error: exit 2, one line, and no report claims a failed check', async () => {
    const bundle = mkdtempSync(join(tmpdir(), 'sevcheck-broken-bundle-'));
    writeFileSync(join(bundle, 'launch.json'), '{"sev": {"policy": "0x1",');
    for (const [args, e, why] of [
      [['--launch', 'fixtures/launch/sev-good'], { SEVCHECK_VECTORS: '' }, /launch\.json: sev\.firmware\.ovmf: "vectors:.*needs the reference vectors/],
      [['--launch', bundle], env, /launch\.json: not JSON/],
    ] as const) {
      const out = mkdtempSync(join(tmpdir(), 'sevcheck-broken-out-'));
      const r = await run([...args, '--out', out], e);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).not.toMatch(/"failed"/);
      for (const f of ['results.json', 'junit.xml', 'summary.md']) {
        const path = join(out, f);
        if (existsSync(path)) expect(readFileSync(path, 'utf8')).not.toMatch(/"status": "failed"|<failure|FAIL/);
      }
    }
  });

  it('the secret-packet flow names the firmware, policy and API it verified, and the platform\'s wrong policy when rejecting', async () => {
    const bad = JSON.parse((await run(['--launch', 'fixtures/launch/sev-wrong-policy', '--out', '/tmp/sevcheck-launch-wp'])).stdout) as JsonResults;
    const m = bad.checks.find((x) => x.id === 'launch.sev.measurement')?.message ?? '';
    expect(m).toContain('the platform reports guest policy 0x1 while the guest owner sent 0x3');
    const tik = JSON.parse((await run(['--launch', 'fixtures/launch/sev-tik-wrong-length', '--out', '/tmp/sevcheck-launch-tik'])).stdout) as JsonResults;
    expect(tik.checks.find((x) => x.id === 'launch.sev.measurement')?.message).toMatch(/^found tik\.bin: TIK must be 16 bytes .*got 15/);
  });
});
