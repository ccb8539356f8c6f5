/**
 * launch.sev.measurement with the two SEV-ES VMSA models (issue 13 §6): the rule tries each
 * model the platform can launch, says which matched and why, never fails a launch that verifies
 * because of the model, and names both launch digests when none verifies; the probe reads the
 * platform's kernel release and QEMU version from the bundle's QMP replies or from the host.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { HostError, type Host, type HostDescription, type QmpReply } from '../../support/host/types.js';
import { LaunchProbe } from '../../support/probes/launch.js';
import type { ExpectedDigest, SevPlatform } from '../../support/launch/evidence.js';
import * as rules from '../../support/rules/launch.js';
import { parseOvmf } from '../../support/sev/ovmf.js';
import { launchMeasureMac, sevEsLaunchDigest } from '../../support/sev/sev-measurement.js';
import { CPU_SIGS, type VmsaModel } from '../../support/sev/vmsa.js';
import { vmsaModelsFor } from '../../support/sev/vmsa-model.js';
import { VECTORS } from '../helpers.js';

const AMDSEV = join(VECTORS, 'sev-snp-measure/tests/fixtures/ovmf_AmdSev_suffix.bin');
const ovmf = parseOvmf(readFileSync(AMDSEV), 'ovmf_AmdSev_suffix.bin');
const TIK = Buffer.alloc(16, 0x11);
const TEK = Buffer.alloc(16, 0x22);
const MNONCE = Buffer.alloc(16, 0x33);
const API = { major: 1, minor: 55, build: 21 };
const POLICY = 0x7;
const MILAN = CPU_SIGS['EPYC-Milan'] ?? 0;
const digestOf = (vmsaModel: VmsaModel) => sevEsLaunchDigest({ ovmf, vcpus: 2, vcpuSig: MILAN, vmsaModel });
const expected: ExpectedDigest = {
  digest: digestOf('init2'),
  byModel: [
    { model: 'init2', digest: digestOf('init2') },
    { model: 'legacy', digest: digestOf('legacy') },
  ],
  describe: 'ovmf_AmdSev_suffix.bin, 2 vCPUs EPYC-Milan',
};
const measurement = (digest: Uint8Array) =>
  Buffer.concat([launchMeasureMac(TIK, { apiMajor: API.major, apiMinor: API.minor, build: API.build, policy: POLICY, digest, mnonce: MNONCE }), MNONCE]).toString('base64');
const platform = (digest: Uint8Array): SevPlatform => ({ measurement: measurement(digest), api: API, policy: POLICY, source: 'qmp.json' });
const keys = { tik: TIK, tek: TEK };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('launch.sev.measurement: each SEV-ES VMSA model', () => {
  it('a KVM_SEV_ES_INIT launch passes, saying it matched that VMSA and why it was the one expected', () => {
    const v = rules.sevMeasurement(keys, expected, POLICY, platform(digestOf('legacy')), vmsaModelsFor({ kernel: '6.1.0-28-amd64', kernelSource: 'qmp.json osrelease' }));
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/; the launch digest matches the VMSA of KVM_SEV_ES_INIT \(no x87\/SSE state: .*\); kernel 6\.1\.0-28-amd64 \(qmp\.json osrelease\) is older than Linux 6\.10, which has no KVM_SEV_INIT2$/);
  });
  it('a KVM_SEV_INIT2 launch passes on software that can launch either, and without any model choice', () => {
    const either = rules.sevMeasurement(keys, expected, POLICY, platform(digestOf('init2')), vmsaModelsFor({ kernel: '6.12.9', qemu: '9.2.0' }));
    expect(either.status).toBe('passed');
    expect(either.message).toContain('matches the VMSA of KVM_SEV_INIT2 (MXCSR 0x1f80, x87 FCW 0x37f');
    expect(rules.sevMeasurement(keys, expected, POLICY, platform(digestOf('init2'))).status).toBe('passed');
    expect(rules.sevMeasurement(keys, expected, POLICY, platform(digestOf('legacy'))).status).toBe('passed');
  });
  it('a launch that verifies with a VMSA the recorded software cannot launch still passes, saying so', () => {
    const v = rules.sevMeasurement(keys, expected, POLICY, platform(digestOf('init2')), vmsaModelsFor({ qemu: '7.2.15', qemuSource: 'qmp.json query-version' }));
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/KVM_SEV_INIT2 .*, although QEMU 7\.2\.15 \(qmp\.json query-version\) is older than 9\.1, which never issues KVM_SEV_INIT2: the recorded platform software is not what launched this guest$/);
  });
  it('a launch matching neither fails with both launch digests; the secret gate stays closed', () => {
    const other = Buffer.alloc(32, 0x55);
    const v = rules.sevMeasurement(keys, expected, POLICY, platform(other), vmsaModelsFor({}));
    expect(v.status).toBe('failed');
    expect(v.message).toContain(`computed with the KVM_SEV_ES_INIT VMSA (launch digest ${hex(digestOf('legacy'))})`);
    expect(v.message).toContain(`computed with the KVM_SEV_INIT2 VMSA (launch digest ${hex(digestOf('init2'))})`);
    // the platform's likely model (QEMU's default, legacy) is tried and named first
    expect(v.message.indexOf('KVM_SEV_ES_INIT VMSA')).toBeLessThan(v.message.indexOf('KVM_SEV_INIT2 VMSA'));
    expect(rules.measuredGate(keys, expected, POLICY, platform(other), vmsaModelsFor({}))?.status).toBe('failed');
    expect(rules.measuredGate(keys, expected, POLICY, platform(digestOf('legacy')), vmsaModelsFor({}))).toBeUndefined();
  });
  it('SEV (no VMSA) and reference digests keep one digest and say nothing of VMSAs', () => {
    const one: ExpectedDigest = { digest: digestOf('legacy'), describe: 'reference digest' };
    const ok = rules.sevMeasurement(keys, one, POLICY, platform(digestOf('legacy')), vmsaModelsFor({}));
    expect(ok.status).toBe('passed');
    expect(ok.message).not.toContain('VMSA');
    const bad = rules.sevMeasurement(keys, one, POLICY, platform(digestOf('init2')), vmsaModelsFor({}));
    expect(bad.status).toBe('failed');
    expect(bad.message).not.toContain('VMSA');
  });
});

// ------------------------------------------------------------------------------------------------
// where the platform's kernel release and QEMU version come from

function bundle(platformFile?: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-vmsa-bundle-'));
  writeFileSync(join(dir, 'tik.bin'), TIK);
  writeFileSync(join(dir, 'tek.bin'), TEK);
  const sev: Record<string, unknown> = { mode: 'seves', firmware: { ovmf: AMDSEV, vcpus: 2, vcpuType: 'EPYC-Milan' }, policy: '0x7', tik: 'tik.bin', tek: 'tek.bin' };
  if (platformFile) {
    writeFileSync(join(dir, 'qmp.json'), JSON.stringify(platformFile));
    sev.platform = 'qmp.json';
  }
  writeFileSync(join(dir, 'launch.json'), JSON.stringify({ sev }));
  return dir;
}

const replies = (digest: Uint8Array) => ({
  'query-sev': { return: { 'api-major': API.major, 'api-minor': API.minor, 'build-id': API.build, policy: POLICY } },
  'query-sev-launch-measure': { return: { data: measurement(digest) } },
});

/** A live-looking host whose QEMU answers the given QMP commands and whose uname says `kernel`. */
function host(kernel: string | undefined, qmp: Record<string, unknown>): Host {
  return {
    kind: 'local',
    target: 'local',
    describe: async (): Promise<HostDescription> => ({ name: 'test', kernel }),
    qmp: async (command: string): Promise<QmpReply> => {
      const r = qmp[command];
      if (r === undefined) throw new HostError('UNSUPPORTED', `qmp ${command}`, `${command}: no QEMU answers it here`);
      return r as QmpReply;
    },
  } as unknown as Host;
}

describe('the platform software the model choice uses', () => {
  it("the bundle's QMP replies: query-version and osrelease", async () => {
    const p = new LaunchProbe(host('6.12.9', {}), { bundle: bundle({ ...replies(digestOf('legacy')), 'query-version': { return: { qemu: { major: 8, minor: 2, micro: 2 }, package: '' } }, osrelease: '6.11.0-19-generic' }) });
    expect((await p.sevPlatform()).software).toEqual({ kernel: '6.11.0-19-generic', kernelSource: 'qmp.json osrelease', qemu: '8.2.2', qemuSource: 'qmp.json query-version' });
    expect((await p.sevVmsaModels()).models).toEqual(['legacy']);
  });
  it('a bundle without them: unknown (the probed host is not asked: it need not be the platform)', async () => {
    const p = new LaunchProbe(host('6.1.0', {}), { bundle: bundle(replies(digestOf('legacy'))) });
    expect((await p.sevPlatform()).software).toEqual({ kernel: undefined, kernelSource: undefined, qemu: undefined, qemuSource: undefined });
    expect((await p.sevVmsaModels()).models).toEqual(['legacy', 'init2']);
  });
  it('QMP on the host: its kernel release and QEMU query-version; a QEMU without query-version leaves it unknown', async () => {
    const withVersion = new LaunchProbe(host('6.1.0-28-amd64', { ...replies(digestOf('legacy')), 'query-version': { return: { qemu: { major: 7, minor: 2, micro: 15 }, package: 'Debian' } } }), { bundle: bundle() });
    expect((await withVersion.sevPlatform()).software).toEqual({ kernel: '6.1.0-28-amd64', kernelSource: 'local', qemu: '7.2.15', qemuSource: 'QMP query-version on local' });
    expect((await withVersion.sevVmsaModels()).reason).toBe('kernel 6.1.0-28-amd64 (local) is older than Linux 6.10, which has no KVM_SEV_INIT2');
    const noVersion = new LaunchProbe(host('6.12.9', replies(digestOf('legacy'))), { bundle: bundle() });
    expect((await noVersion.sevPlatform()).software?.qemu).toBeUndefined();
    expect((await noVersion.sevVmsaModels()).models).toEqual(['legacy', 'init2']);
  });
  it('a malformed query-version or osrelease is bad evidence naming the file and the key', async () => {
    const bad = async (extra: Record<string, unknown>) => new LaunchProbe(host(undefined, {}), { bundle: bundle({ ...replies(digestOf('legacy')), ...extra }) }).sevPlatform();
    await expect(bad({ 'query-version': { return: { qemu: { major: '8' } } } })).rejects.toThrow(InputError);
    await expect(bad({ 'query-version': { return: {} } })).rejects.toThrow(/^qmp\.json: query-version: no "return": \{"qemu"/);
    await expect(bad({ 'query-version': 'x' })).rejects.toThrow(/^qmp\.json: query-version: no "return"/);
    await expect(bad({ osrelease: 6 })).rejects.toThrow(/osrelease: must be the kernel release string/);
  });
  it('a QMP error reply to query-version leaves the version unknown', async () => {
    const p = new LaunchProbe(host(undefined, {}), { bundle: bundle({ ...replies(digestOf('legacy')), 'query-version': { error: { class: 'CommandNotFound', desc: 'x' } } }) });
    expect((await p.sevPlatform()).software?.qemu).toBeUndefined();
  });
  it('the expected SEV-ES digest is computed with each model (under QEMU only)', async () => {
    const p = new LaunchProbe(host(undefined, {}), { bundle: bundle(replies(digestOf('legacy'))) });
    const e = await p.sevExpectedDigest();
    expect(e.byModel?.map((m) => [m.model, hex(m.digest)])).toEqual([
      ['init2', hex(digestOf('init2'))],
      ['legacy', hex(digestOf('legacy'))],
    ]);
    expect(hex(e.digest)).toBe(hex(digestOf('init2')));
  });
});
