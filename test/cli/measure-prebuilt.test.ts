/**
 * The prebuilt `sevcheck measure` (scripts/build-measure.mjs → dist/measure.mjs, used by
 * bin/sevcheck.js) prints exactly what the tsx path prints, for good input and bad input.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, VECTORS, sevcheck } from '../helpers.js';

const FIX = join(VECTORS, 'sev-snp-measure/tests/fixtures');

describe('prebuilt measure bundle', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-measure.mjs')], { cwd: ROOT });
  }, 60_000);

  it('records the SHA-256 of its sources so a stale bundle is never used', () => {
    expect(existsSync(join(ROOT, 'dist/measure.mjs'))).toBe(true);
    const inputs = JSON.parse(readFileSync(join(ROOT, 'dist/measure.inputs.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['support/cli/measure.ts', 'support/sev/snp-digest.ts', 'support/sev/ovmf.ts']));
    for (const sha of Object.values(inputs)) expect(sha).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [['--mode', 'snp', '--vcpus', '3', '--vmm-type', 'gce', '--ovmf', `${FIX}/ovmf_AmdSev_suffix.bin`]],
    [['--mode', 'seves', '--vcpus', '2', '--vcpu-type', 'EPYC-Milan', '--ovmf', `${FIX}/ovmf_AmdSev_suffix.bin`, '--output-format', 'base64']],
    [['--mode', 'snp', '--vcpus', '1', '--ovmf', `${FIX}/ovmf_AmdSev_suffix.bin`]],
    [['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', '/nonexistent.fd']],
    [['--help']],
  ])('same stdout, stderr and exit code as through tsx: %j', async (args) => {
    const fast = await sevcheck(['measure', ...args]);
    const slow = await sevcheck(['measure', ...args], { SEVCHECK_NO_PREBUILT: '1' });
    expect(fast).toEqual(slow);
  });

  it('is used while its sources are unchanged, and not once one differs from the recorded hash', async () => {
    const file = join(ROOT, 'dist/measure.inputs.json');
    const args = ['measure', '--mode', 'sev', '--ovmf', `${FIX}/ovmf_AmdSev_suffix.bin`];
    expect((await sevcheck(args, { SEVCHECK_LAUNCHER_TRACE: '1' })).stderr).toBe('sevcheck: launcher: prebuilt dist/measure.mjs\n');
    const original = readFileSync(file, 'utf8');
    const inputs = JSON.parse(original) as Record<string, string>;
    inputs['support/sev/snp-digest.ts'] = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(inputs));
    try {
      expect((await sevcheck(args, { SEVCHECK_LAUNCHER_TRACE: '1' })).stderr).toBe('sevcheck: launcher: tsx\n');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('gives sev-snp-measure\'s digest (test/sev/measure-vectors.ts "amdsev snp gce 3 vcpus no vcpu sig")', async () => {
    const r = await sevcheck(['measure', '--mode', 'snp', '--vcpus', '3', '--vmm-type', 'gce', '--ovmf', `${FIX}/ovmf_AmdSev_suffix.bin`]);
    expect(r).toEqual({ code: 0, stdout: 'a0bb6392c0c3117804319613cba886884883ffd71cc1dbc9245aaafc18c27c4ca766185ded06cd688c49809140371d7e\n', stderr: '' });
  });
});
