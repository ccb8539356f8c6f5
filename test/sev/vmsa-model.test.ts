/**
 * SEV-ES VMSA models (issue 13 §6): the 'legacy' VMSA is checked against libvirt's own
 * virt-qemu-sev-validate, run for real (Debian 12 package libvirt-clients-qemu); the 'init2' VMSA
 * stays what virtee/sev-snp-measure computes (measure-vectors.ts, test/cli/measure.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOvmf } from '../../support/sev/ovmf.js';
import { launchMeasureMac, sevEsLaunchDigest } from '../../support/sev/sev-measurement.js';
import { BSP_EIP, CPU_SIGS, buildVmsa } from '../../support/sev/vmsa.js';
import { describeVmsaModel, majorMinor, vmsaModelsFor } from '../../support/sev/vmsa-model.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MILAN = CPU_SIGS['EPYC-Milan'] ?? -1;

describe('VMSA model: FPU state is the only difference (Linux sev_es_sync_vmsa, eb4441864e03)', () => {
  it("'legacy' has MXCSR and x87 FCW 0; 'init2' has QEMU's reset values; every other byte is equal", () => {
    for (const eip of [BSP_EIP, 0xffffb004]) {
      const init2 = Buffer.from(buildVmsa({ eip, sevFeatures: 0n, vcpuSig: MILAN, vmmType: 'QEMU', vmsaModel: 'init2' }));
      const legacy = Buffer.from(buildVmsa({ eip, sevFeatures: 0n, vcpuSig: MILAN, vmmType: 'QEMU', vmsaModel: 'legacy' }));
      expect(init2.readUInt32LE(0x408)).toBe(0x1f80);
      expect(init2.readUInt16LE(0x410)).toBe(0x37f);
      expect(legacy.readUInt32LE(0x408)).toBe(0);
      expect(legacy.readUInt16LE(0x410)).toBe(0);
      const differ = [...init2.keys()].filter((i) => init2[i] !== legacy[i]);
      expect(differ).toEqual([0x408, 0x409, 0x410, 0x411]);
      expect(legacy.readBigUInt64LE(0x3e8)).toBe(1n); // XCR0 synced by both ioctls
    }
  });
  it('the default stays sev-snp-measure\'s (init2)', () => {
    const p = { eip: BSP_EIP, sevFeatures: 0n, vcpuSig: MILAN, vmmType: 'QEMU' as const };
    expect(hex(buildVmsa(p))).toBe(hex(buildVmsa({ ...p, vmsaModel: 'init2' })));
  });
});

describe('which VMSA a platform launches (kernel 6.10 / QEMU 9.1)', () => {
  it('a kernel before 6.10 or a QEMU before 9.1 can only launch the legacy VMSA', () => {
    expect(vmsaModelsFor({ kernel: '6.1.0-18-amd64', kernelSource: 'host.json' })).toEqual({
      models: ['legacy'],
      reason: 'kernel 6.1.0-18-amd64 (host.json) is older than Linux 6.10, which has no KVM_SEV_INIT2',
    });
    expect(vmsaModelsFor({ kernel: '6.9.12', qemu: '9.2.0' }).models).toEqual(['legacy']);
    expect(vmsaModelsFor({ kernel: '6.11.0-19-generic', qemu: '8.2.2' }).models).toEqual(['legacy']);
    expect(vmsaModelsFor({ kernel: '6.11.0-19-generic', qemu: '8.2.2', qemuSource: 'QMP query-version' }).reason).toBe(
      'QEMU 8.2.2 (QMP query-version) is older than 9.1, which never issues KVM_SEV_INIT2',
    );
    expect(vmsaModelsFor({ kernel: '5.15.0', qemu: '9.1.0' }).models).toEqual(['legacy']);
  });
  it('new enough or unknown software can launch either; QEMU\'s default (legacy) first', () => {
    expect(vmsaModelsFor({ kernel: '6.10.0', qemu: '9.1.0' }).models).toEqual(['legacy', 'init2']);
    expect(vmsaModelsFor({ kernel: '6.11.0-19-generic' })).toEqual({
      models: ['legacy', 'init2'],
      reason: 'kernel 6.11.0-19-generic (QEMU version not recorded) can launch either VMSA (QEMU ≥ 9.1 uses KVM_SEV_INIT2 only with legacy-vm-type=off)',
    });
    expect(vmsaModelsFor({}).reason).toBe(
      "the platform's kernel release and QEMU version (not recorded) can launch either VMSA (QEMU ≥ 9.1 uses KVM_SEV_INIT2 only with legacy-vm-type=off)",
    );
    expect(vmsaModelsFor({ kernel: 'linux-next' }).models).toEqual(['legacy', 'init2']);
    expect(vmsaModelsFor({ kernel: 'linux-next' }).reason).toContain('kernel linux-next (not a release number)');
  });
  it('reads major.minor from kernel releases and QEMU versions', () => {
    expect(majorMinor('6.1.0-18-amd64')).toEqual([6, 1]);
    expect(majorMinor('10.0.2')).toEqual([10, 0]);
    expect(majorMinor('v6.10-rc1')).toEqual([6, 10]);
    expect(majorMinor('6')).toBeUndefined();
    expect(majorMinor(undefined)).toBeUndefined();
  });
  it('names each model the way messages use it', () => {
    expect(describeVmsaModel('legacy')).toMatch(/^KVM_SEV_ES_INIT \(no x87\/SSE state: kernels before 6\.10/);
    expect(describeVmsaModel('init2')).toMatch(/^KVM_SEV_INIT2 \(MXCSR 0x1f80, x87 FCW 0x37f/);
  });
});

// ------------------------------------------------------------------------------------------------
// Oracle: libvirt tools/virt-qemu-sev-validate (Debian 12 libvirt-clients-qemu 9.0.0)

const VALIDATE = '/usr/bin/virt-qemu-sev-validate';
const OVMF_4M = '/usr/share/OVMF/OVMF_CODE_4M.fd';
/**
 * The script needs Debian's python3 (python3-libvirt, python3-cryptography); `#!/usr/bin/env
 * python3` may find another one first. It imports lxml at the top but uses it only with --domain
 * (libvirt XML), and Debian 12's package does not depend on python3-lxml, so a missing lxml is
 * replaced by an empty module for this offline use; .ci/run installs python3-lxml anyway.
 */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const BOOT = `
import runpy, sys, types
try:
    import lxml.etree
except ImportError:
    lxml = types.ModuleType('lxml'); lxml.etree = types.ModuleType('lxml.etree')
    sys.modules['lxml'] = lxml; sys.modules['lxml.etree'] = lxml.etree
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
`;

function validate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(PYTHON, ['-c', BOOT, VALIDATE, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!existsSync(VALIDATE))(
  `oracle: ${VALIDATE} (skipped only when absent: Debian package libvirt-clients-qemu, installed by .ci/run)`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-vqsv-'));
    const tik = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
    const tek = Uint8Array.from({ length: 16 }, (_, i) => 0x20 + i);
    const mnonce = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    writeFileSync(join(dir, 'tik.bin'), tik);
    writeFileSync(join(dir, 'tek.bin'), tek);
    const api = { apiMajor: 1, apiMinor: 55, build: 21 };
    const policy = 0x7; // NODBG | NOKS | ES
    const ovmf = parseOvmf(readFileSync(OVMF_4M), OVMF_4M);

    /** virt-qemu-sev-validate --debug logs "Measured-data(sha256): <launch digest>" before it compares. */
    const theirDigest = (r: { stderr: string }) => /Measured-data\(sha256\): ([0-9a-f]{64})/.exec(r.stderr)?.[1];
    const args = (vcpus: number, measurement: string) => [
      '--debug', '--firmware', OVMF_4M, '--num-cpus', String(vcpus),
      // EPYC-Milan: family 25, model 1, stepping 1 (CPU_SIGS['EPYC-Milan'] = 0xa00f11)
      '--cpu-family', '25', '--cpu-model', '1', '--cpu-stepping', '1',
      '--tik', join(dir, 'tik.bin'), '--tek', join(dir, 'tek.bin'),
      '--measurement', measurement, '--api-major', String(api.apiMajor), '--api-minor', String(api.apiMinor),
      '--build-id', String(api.build), '--policy', String(policy),
    ];
    const measurementFor = (digest: Uint8Array) =>
      Buffer.concat([launchMeasureMac(tik, { ...api, policy, digest, mnonce }), mnonce]).toString('base64');

    it.each([1, 2, 4])("Debian OVMF_CODE_4M.fd, %i vCPU(s), EPYC-Milan: the 'legacy' digest is the one it computes, and its MEASURE attests", async (vcpus) => {
      const legacy = sevEsLaunchDigest({ ovmf, vcpus, vcpuSig: MILAN, vmsaModel: 'legacy' });
      const r = await validate(args(vcpus, measurementFor(legacy)));
      expect(theirDigest(r)).toBe(hex(legacy));
      expect(r.stdout).toBe('OK: Looks good to me\n');
      expect(r.code).toBe(0);
    });

    it("the 'init2' digest (sev-snp-measure's) is not what it computes: the MEASURE does not attest", async () => {
      const init2 = sevEsLaunchDigest({ ovmf, vcpus: 2, vcpuSig: MILAN, vmsaModel: 'init2' });
      const legacy = sevEsLaunchDigest({ ovmf, vcpus: 2, vcpuSig: MILAN, vmsaModel: 'legacy' });
      // issue 13 §6: 39ffae5e… (sevcheck measure --mode seves = sev-snp-measure) vs 08c7efe5… (virt-qemu-sev-validate)
      expect(hex(init2).slice(0, 8)).toBe('39ffae5e');
      expect(hex(legacy).slice(0, 8)).toBe('08c7efe5');
      const r = await validate(args(2, measurementFor(init2)));
      expect(theirDigest(r)).toBe(hex(legacy));
      expect(r.stderr).toContain('ERROR: Measurement does not match, VM is not trustworthy');
      expect(r.code).toBe(1);
    });
  },
);
