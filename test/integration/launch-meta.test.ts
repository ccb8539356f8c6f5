/**
 * Launch flows end to end: every bundle under fixtures/launch/<case>/ gives exactly the verdicts of
 * its expected.json when checked against the reference host (docs/launch.md). The bundles name the
 * real vectors as `vectors:...`, resolved against test/vectors through SEVCHECK_VECTORS.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, VECTORS, sevcheck, byId, type JsonResults } from '../helpers.js';

const CASES = join(ROOT, 'fixtures/launch');
const cases = readdirSync(CASES).filter((c) => existsSync(join(CASES, c, 'expected.json')));
const env = { SEVCHECK_VECTORS: VECTORS };
/** Reports go to a directory of this run's own (parallel runs never share one). */
const OUT = mkdtempSync(join(tmpdir(), 'sevcheck-launch-meta-'));
const out = (name: string) => join(OUT, name);
const run = (args: string[], e: Record<string, string> = env) =>
  sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@layer:launch', '--format', 'json', ...args], e);

describe('launch meta-test: each launch bundle gives exactly its expected verdicts', () => {
  it('covers the good and rejected flows of issue 7', () => {
    for (const c of ['sev-good', 'sev-other-ovmf', 'sev-wrong-policy', 'snp-digest-good', 'snp-report-good', 'snp-tampered-report', 'snp-vcek-other-chip']) {
      expect(cases).toContain(c);
    }
  });

  it('covers both SEV-ES VMSA models of issue 13 §6, and a VMSA neither has', () => {
    for (const c of ['sev-es-good', 'sev-es-legacy-vmsa', 'sev-es-legacy-vmsa-qemu-8', 'sev-es-legacy-vmsa-unrecorded', 'sev-es-init2-vmsa', 'sev-es-init2-vmsa-recorded-old-kernel', 'sev-es-neither-vmsa']) {
      expect(cases).toContain(c);
    }
  });

  it('an SEV-ES measurement says which VMSA it matched and why that one; one matching neither names both launch digests', async () => {
    const message = async (c: string) =>
      (JSON.parse((await run(['--launch', `fixtures/launch/${c}`, '--tags', '@check:launch.sev.measurement', '--out', out(`msg-${c}`)])).stdout) as JsonResults).checks[0]?.message ?? '';
    expect(await message('sev-es-legacy-vmsa')).toMatch(
      /; the launch digest matches the VMSA of KVM_SEV_ES_INIT \(no x87\/SSE state: .*\); kernel 6\.1\.0-28-amd64 \(qmp\.json osrelease\) is older than Linux 6\.10, which has no KVM_SEV_INIT2$/,
    );
    expect(await message('sev-es-legacy-vmsa-qemu-8')).toMatch(/KVM_SEV_ES_INIT .*; QEMU 8\.2\.2 \(qmp\.json query-version\) is older than 9\.1, which never issues KVM_SEV_INIT2$/);
    expect(await message('sev-es-init2-vmsa')).toMatch(/matches the VMSA of KVM_SEV_INIT2 \(MXCSR 0x1f80, x87 FCW 0x37f: .*\); kernel 6\.12\.9 \(qmp\.json osrelease\) and QEMU 9\.2\.0 \(qmp\.json query-version\) can launch either VMSA/);
    expect(await message('sev-es-init2-vmsa-recorded-old-kernel')).toMatch(/matches the VMSA of KVM_SEV_INIT2 .*, although kernel 6\.1\.0-28-amd64 .*: the recorded platform software is not what launched this guest$/);
    const neither = await message('sev-es-neither-vmsa');
    expect(neither).toMatch(/^found a launch measurement from qmp\.json that does not verify with either SEV-ES VMSA: MEASURE [0-9a-f]{16}… reported, [0-9a-f]{16}… computed with the KVM_SEV_ES_INIT VMSA \(launch digest [0-9a-f]{64}\), [0-9a-f]{16}… computed with the KVM_SEV_INIT2 VMSA \(launch digest [0-9a-f]{64}\), for /);
    expect(neither).toContain('; fix: do not release secrets to this guest;');
    expect(neither).toContain('`sevcheck measure --mode seves --vmsa-model legacy|init2` prints the digest of each VMSA');
  });

  it.each(cases)('%s', async (c) => {
    const expected = JSON.parse(readFileSync(join(CASES, c, 'expected.json'), 'utf8')) as Record<string, string>;
    const r = await run(['--launch', `fixtures/launch/${c}`, '--out', out(c)]);
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
    const r = await run(['--out', out('none')]);
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as JsonResults;
    expect(results.checks.length).toBe(5);
    for (const x of results.checks) expect(x.message).toBe('skipped: no launch bundle: run with --launch DIR (a directory with launch.json, see docs/launch.md)');
  });

  it('bad input around the bundle is exit 2 with one line naming the file and the key', async () => {
    const noDir = await run(['--launch', 'fixtures/launch/does-not-exist', '--out', out('bad')]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/^sevcheck: --launch fixtures\/launch\/does-not-exist: no launch\.json there/);
    const noVectors = await run(['--launch', 'fixtures/launch/snp-report-good', '--out', out('bad')], { SEVCHECK_VECTORS: '' });
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
    const bad = JSON.parse((await run(['--launch', 'fixtures/launch/sev-wrong-policy', '--out', out('wp')])).stdout) as JsonResults;
    const m = bad.checks.find((x) => x.id === 'launch.sev.measurement')?.message ?? '';
    expect(m).toContain('the platform reports guest policy 0x1 while the guest owner sent 0x3');
    const tik = JSON.parse((await run(['--launch', 'fixtures/launch/sev-tik-wrong-length', '--out', out('tik')])).stdout) as JsonResults;
    expect(tik.checks.find((x) => x.id === 'launch.sev.measurement')?.message).toMatch(/^found tik\.bin: TIK must be 16 bytes .*got 15/);
  });
});
