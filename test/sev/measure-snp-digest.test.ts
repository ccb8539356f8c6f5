import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VECTORS as VECTOR_DIR } from '../helpers.js';
import { InputError } from '../../support/errors.js';
import { parseOvmf, SEV_ES_RESET_BLOCK_GUID } from '../../support/sev/ovmf.js';
import { buildSevHashesTable, sevHashesPage, sevKernelHashes } from '../../support/sev/sev-hashes.js';
import { PageType, SnpGctx, VMSA_GPA, snpLaunchDigest, snpOvmfHash, svsmLaunchDigest } from '../../support/sev/snp-digest.js';
import { BSP_EIP, CPU_SIGS, buildSvsmVmsa, buildVmsa, cpuSig } from '../../support/sev/vmsa.js';
import { synthImage, synthImages, synthInitrd, synthKernel, SYNTH_CMDLINE, u32le } from './measure-fixtures.js';
import { PUBLISHED, VECTORS } from './measure-vectors.js';

/** Upstream sev-snp-measure tests/fixtures, from test/vectors (COMMIT names the upstream commit). */
const FIXTURES = join(VECTOR_DIR, 'sev-snp-measure/tests/fixtures');
const amdSev = parseOvmf(readFileSync(`${FIXTURES}/ovmf_AmdSev_suffix.bin`), 'ovmf_AmdSev_suffix.bin');
const ovmfX64 = parseOvmf(readFileSync(`${FIXTURES}/ovmf_OvmfX64_suffix.bin`), 'ovmf_OvmfX64_suffix.bin');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const EPYC_V4 = CPU_SIGS['EPYC-v4'] ?? -1;
/** "/dev/null" kernel and initrd as in upstream tests/test_guest.py. */
const empty = new Uint8Array(0);
const stdoutOf = (name: string) => (VECTORS.find((v) => v.name === name)?.stdout ?? 'missing').trim();

describe('SNP launch digest: sev-snp-measure tests/test_guest.py expectations', () => {
  const snp = (features: bigint, cmdline: string | undefined, extra: Partial<Parameters<typeof snpLaunchDigest>[0]> = {}) =>
    hex(
      snpLaunchDigest({
        ovmf: amdSev,
        vcpus: 1,
        vcpuSig: EPYC_V4,
        guestFeatures: features,
        kernelHashes: cmdline === undefined ? undefined : sevKernelHashes(empty, empty, cmdline),
        ...extra,
      }),
    );

  it('snp:ovmf-hash of the AmdSev suffix (both vector copies: sev-snp-measure and virtee/sev tests/measurement)', () => {
    expect(hex(snpOvmfHash(amdSev))).toBe(PUBLISHED.ovmfHashAmdSev);
    const virtee = join(VECTOR_DIR, 'virtee-sev/tests/measurement/ovmf_AmdSev_suffix.bin');
    expect(hex(snpOvmfHash(parseOvmf(readFileSync(virtee), virtee)))).toBe(PUBLISHED.ovmfHashAmdSev);
    const x64 = join(VECTOR_DIR, 'virtee-sev/tests/measurement/ovmf_OvmfX64_suffix.bin');
    const ld = snpLaunchDigest({ ovmf: parseOvmf(readFileSync(x64), x64), vcpus: 1, vcpuSig: EPYC_V4, guestFeatures: 0x1n });
    expect(hex(ld)).toBe(PUBLISHED.snpOvmfX64NoKernel0x1);
  });
  it('default (0x21) and SNP-only (0x1) features, kernel hashes', () => {
    expect(snp(0x21n, 'console=ttyS0 loglevel=7')).toBe(PUBLISHED.snpDefault);
    expect(snp(0x1n, 'console=ttyS0 loglevel=7')).toBe(PUBLISHED.snpFeatureSnpOnly);
  });
  it('precomputed OVMF hash seeds the context', () => {
    const ovmfHash = Buffer.from(PUBLISHED.ovmfHashAmdSev, 'hex');
    expect(snp(0x21n, '', { ovmfHash })).toBe(PUBLISHED.snpOvmfHashEmptyCmdline0x21);
    expect(snp(0x1n, '', { ovmfHash })).toBe(PUBLISHED.snpOvmfHashEmptyCmdline0x1);
    expect(snp(0x21n, 'console=ttyS0 loglevel=7', { ovmfHash })).toBe(PUBLISHED.snpDefault);
  });
  it('EC2 (CPUID pages last, EC2 register state)', () => {
    expect(snp(0x21n, '', { vmmType: 'ec2' })).toBe(PUBLISHED.snpEc2Default);
    expect(snp(0x1n, '', { vmmType: 'ec2' })).toBe(PUBLISHED.snpEc2SnpOnly);
  });
  it('GCE (unmeasured SEC memory), 1 and 4 vCPUs, no vCPU signature', () => {
    expect(snp(0x1n, '', { vmmType: 'gce', vcpuSig: 0 })).toBe(PUBLISHED.snpGce1);
    expect(snp(0x1n, '', { vmmType: 'gce', vcpuSig: 0, vcpus: 4 })).toBe(PUBLISHED.snpGce4);
  });
  it('without kernel', () => {
    expect(snp(0x21n, undefined)).toBe(PUBLISHED.snpNoKernel0x21);
    expect(snp(0x1n, undefined)).toBe(PUBLISHED.snpNoKernel0x1);
  });
  it('4 vCPUs (BSP + 3 APs at the SEV-ES reset address)', () => {
    expect(snp(0x21n, '', { vcpus: 4 })).toBe(PUBLISHED.snp4Vcpus0x21);
    expect(snp(0x1n, '', { vcpus: 4 })).toBe(PUBLISHED.snp4Vcpus0x1);
  });
  it('OvmfX64 build without kernel', () => {
    expect(snp(0x21n, undefined, { ovmf: ovmfX64 })).toBe(PUBLISHED.snpOvmfX64NoKernel0x21);
    expect(snp(0x1n, undefined, { ovmf: ovmfX64 })).toBe(PUBLISHED.snpOvmfX64NoKernel0x1);
  });
  it('OvmfX64 with a kernel → InputError naming the missing SNP_KERNEL_HASHES section', () => {
    expect(() => snp(0x21n, '', { ovmf: ovmfX64 })).toThrow(InputError);
    expect(() => snp(0x21n, '', { ovmf: ovmfX64 })).toThrow(/ovmf_OvmfX64_suffix\.bin: .*no SNP_KERNEL_HASHES section/);
  });
});

describe('SNP launch digest: vectors computed with sev-snp-measure (measure-vectors.ts)', () => {
  const synth = synthImages();
  const so = parseOvmf(synth['synth-ovmf.bin'] ?? empty, 'synth-ovmf.bin');
  const svsm = parseOvmf(synth['synth-svsm.bin'] ?? empty, 'synth-svsm.bin');
  const kia = sevKernelHashes(synthKernel(), synthInitrd(), SYNTH_CMDLINE);
  it('synthetic image: kernel hashes table at page offset 0x400, 3 vCPUs', () => {
    const ld = snpLaunchDigest({ ovmf: so, vcpus: 3, vcpuSig: CPU_SIGS['EPYC-Milan-v2'] ?? -1, guestFeatures: 1n, kernelHashes: kia });
    expect(hex(ld)).toBe(stdoutOf('synth snp kernel hashes at page offset 0x400'));
  });
  it('AmdSev fixture with real-looking kernel/initrd/UTF-8 cmdline', () => {
    const ld = snpLaunchDigest({ ovmf: amdSev, vcpus: 1, vcpuSig: EPYC_V4, guestFeatures: 0x21n, kernelHashes: kia });
    expect(hex(ld)).toBe(stdoutOf('amdsev snp EPYC-v4 1 vcpu kernel+initrd+append 0x21'));
  });
  it('snp:svsm on synthetic OVMF + SVSM images', () => {
    const ld = svsmLaunchDigest({ ovmf: so, svsm, varsSize: 540672, vcpus: 2, vcpuSig: CPU_SIGS['EPYC-Milan'] ?? -1 });
    expect(hex(ld)).toBe(stdoutOf('synth svsm 2 vcpus'));
  });
  it('snp:svsm on upstream svsm fixtures (svsm_ovmf.fd + svsm.bin, tests/test_guest.py test_snp_svsm_*)', () => {
    const ovmf = parseOvmf(readFileSync(join(FIXTURES, 'svsm_ovmf.fd')), 'svsm_ovmf.fd');
    const sv = parseOvmf(readFileSync(join(FIXTURES, 'svsm.bin')), 'svsm.bin');
    expect(hex(svsmLaunchDigest({ ovmf, svsm: sv, varsSize: 540672, vcpus: 4, vcpuSig: EPYC_V4 }))).toBe(PUBLISHED.svsm4);
    expect(hex(svsmLaunchDigest({ ovmf, svsm: sv, varsSize: 540672, vcpus: 2, vcpuSig: EPYC_V4 }))).toBe(PUBLISHED.svsm2);
  });
});

describe('SNP guest context (SNP ABI spec PAGE_INFO)', () => {
  it('one NORMAL page = SHA-384 over LD || SHA-384(page) || 0x70 || type || 0s || GPA', () => {
    const page = new Uint8Array(4096).fill(0xab);
    const g = new SnpGctx();
    g.updateNormalPages(0xfffff000, page);
    const info = Buffer.alloc(0x70);
    info.set(createHash('sha384').update(page).digest(), 48);
    info.writeUInt16LE(0x70, 96);
    info[98] = PageType.NORMAL;
    info.writeBigUInt64LE(0xfffff000n, 104);
    expect(hex(g.ld)).toBe(createHash('sha384').update(info).digest('hex'));
  });
  it('VMSA pages are measured at GPA 0xFFFFFFFFF000, special pages with zero contents', () => {
    const g = new SnpGctx();
    const vmsa = new Uint8Array(4096);
    g.updateVmsaPage(vmsa);
    const info = Buffer.alloc(0x70);
    info.set(createHash('sha384').update(vmsa).digest(), 48);
    info.writeUInt16LE(0x70, 96);
    info[98] = PageType.VMSA;
    info.writeBigUInt64LE(BigInt(VMSA_GPA), 104);
    const ld1 = createHash('sha384').update(info).digest();
    expect(hex(g.ld)).toBe(hex(ld1));
    g.updateCpuidPage(0x80e000);
    const info2 = Buffer.alloc(0x70);
    info2.set(ld1, 0);
    info2.writeUInt16LE(0x70, 96);
    info2[98] = PageType.CPUID;
    info2.writeBigUInt64LE(0x80e000n, 104);
    expect(hex(g.ld)).toBe(createHash('sha384').update(info2).digest('hex'));
  });
});

describe('VMSA contents (APM Vol. 2 Table B-4)', () => {
  it('places RIP, CS base, RDX, SEV_FEATURES, XCR0, MXCSR, FCW at their offsets', () => {
    const p = Buffer.from(buildVmsa({ eip: 0x80b004, sevFeatures: 0x21n, vcpuSig: 0xa00f11, vmmType: 'QEMU' }));
    expect(p.length).toBe(4096);
    expect(p.readUInt16LE(0x10)).toBe(0xf000); // CS selector
    expect(p.readUInt16LE(0x12)).toBe(0x9b); // CS attrib
    expect(p.readBigUInt64LE(0x18)).toBe(0x800000n); // CS base = eip & 0xffff0000
    expect(p.readBigUInt64LE(0x178)).toBe(0xb004n); // RIP = eip & 0xffff
    expect(p.readBigUInt64LE(0x310)).toBe(0xa00f11n); // RDX = CPUID signature
    expect(p.readBigUInt64LE(0x3b0)).toBe(0x21n); // SEV_FEATURES
    expect(p.readBigUInt64LE(0x3e8)).toBe(1n); // XCR0
    expect(p.readUInt32LE(0x408)).toBe(0x1f80);
    expect(p.readUInt16LE(0x410)).toBe(0x37f);
  });
  it('EC2 BSP uses CS attrib 0x9a and RDX 0x600; SVSM VMSA has x87 FCW 0 (upstream quirk)', () => {
    const ec2 = Buffer.from(buildVmsa({ eip: BSP_EIP, sevFeatures: 1n, vcpuSig: 0xa00f11, vmmType: 'ec2' }));
    expect(ec2.readUInt16LE(0x12)).toBe(0x9a);
    expect(ec2.readBigUInt64LE(0x310)).toBe(0x600n);
    const sv = Buffer.from(buildSvsmVmsa(0x1234, 0x800f12));
    expect(sv.readUInt16LE(0x410)).toBe(0);
    expect(sv.readUInt32LE(0x408)).toBe(0x1f80);
    expect(sv.readBigUInt64LE(0x158)).toBe(0x11n);
  });
  it('CPU signatures of the QEMU EPYC models (AMD CPUID spec #25481 Fn0000_0001_EAX)', () => {
    expect(CPU_SIGS['EPYC']).toBe(0x800f12);
    expect(CPU_SIGS['EPYC-v4']).toBe(0x800f12);
    expect(CPU_SIGS['EPYC-Rome']).toBe(0x830f10);
    expect(CPU_SIGS['EPYC-Milan']).toBe(0xa00f11);
    expect(CPU_SIGS['EPYC-Genoa']).toBe(0xa10f10);
    expect(CPU_SIGS['EPYC-Turin']).toBe(0xb00f00);
    expect(cpuSig(6, 0x3a, 9)).toBe(0x306a9);
  });
});

describe('SEV hashes table (QEMU PaddedSevHashTable)', () => {
  it('is 176 bytes: header GUID, length 168, cmdline/initrd/kernel entries of 50 bytes, zero padding', () => {
    const t = Buffer.from(buildSevHashesTable(sevKernelHashes(empty, undefined, undefined)));
    expect(t.length).toBe(176);
    expect(t.subarray(0, 16).toString('hex')).toBe('06d63894224fc94cb479a793d411fd21');
    expect(t.readUInt16LE(16)).toBe(168);
    expect(t.readUInt16LE(18 + 16)).toBe(50);
    // cmdline "" hashes as a single NUL byte
    expect(t.subarray(18 + 18, 18 + 50).toString('hex')).toBe(createHash('sha256').update(Buffer.from([0])).digest('hex'));
    expect(t.subarray(168).every((b) => b === 0)).toBe(true);
    expect(() => sevHashesPage(t, 4000)).toThrow(RangeError);
  });
});

describe('SNP digest input errors', () => {
  const reset = { guid: SEV_ES_RESET_BLOCK_GUID, data: u32le(0) };
  it('more than one vCPU with AP reset address 0', () => {
    const img = parseOvmf(synthImage({ size: 0x4000, entries: [reset] }), 'zero-ap.fd');
    expect(() => snpLaunchDigest({ ovmf: img, vcpus: 2, vcpuSig: 0, guestFeatures: 1n })).toThrow(/zero-ap\.fd: .*AP reset address 0/);
    expect(snpLaunchDigest({ ovmf: img, vcpus: 1, vcpuSig: 0, guestFeatures: 1n })).toHaveLength(48);
  });
  it('unknown metadata section type', () => {
    const img = parseOvmf(
      synthImage({ size: 0x4000, entries: [{ ...reset, data: u32le(0xffffb004) }], metadata: { sections: [{ gpa: 0x1000, size: 0x1000, type: 9 }] } }),
      'u.fd',
    );
    expect(() => snpLaunchDigest({ ovmf: img, vcpus: 1, vcpuSig: 0, guestFeatures: 1n })).toThrow(/unknown type unknown\(9\)/);
  });
  it('image not a multiple of 4 KiB, bad vCPU count, features beyond 64 bits, short OVMF hash', () => {
    const odd = parseOvmf(new Uint8Array(5000), 'odd.fd');
    expect(() => snpOvmfHash(odd)).toThrow(/odd\.fd: image is 5000 bytes, not a multiple of 4096/);
    expect(() => snpLaunchDigest({ ovmf: amdSev, vcpus: 0, vcpuSig: 0, guestFeatures: 1n })).toThrow(InputError);
    expect(() => snpLaunchDigest({ ovmf: amdSev, vcpus: 1, vcpuSig: 0, guestFeatures: 1n << 64n })).toThrow(/64-bit/);
    expect(() => snpLaunchDigest({ ovmf: amdSev, vcpus: 1, vcpuSig: 0, guestFeatures: 1n, ovmfHash: new Uint8Array(32) })).toThrow(/48 bytes/);
  });
});
