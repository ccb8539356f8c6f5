import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VECTORS } from '../helpers.js';
import { InputError } from '../../support/errors.js';
import { parseOvmf } from '../../support/sev/ovmf.js';
import { sevKernelHashes } from '../../support/sev/sev-hashes.js';
import {
  launchMeasureMac,
  launchMeasureMessage,
  parseLaunchMeasurement,
  sevEsLaunchDigest,
  sevLaunchDigest,
  verifyLaunchMeasurement,
} from '../../support/sev/sev-measurement.js';
import { CPU_SIGS } from '../../support/sev/vmsa.js';
import { LIBVIRT, PUBLISHED } from './measure-vectors.js';

const FIXTURES = `${VECTORS}/sev-snp-measure/tests/fixtures`;
const amdSev = parseOvmf(readFileSync(`${FIXTURES}/ovmf_AmdSev_suffix.bin`), 'ovmf_AmdSev_suffix.bin');
const ovmfX64 = parseOvmf(readFileSync(`${FIXTURES}/ovmf_OvmfX64_suffix.bin`), 'ovmf_OvmfX64_suffix.bin');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const empty = new Uint8Array(0);
const EPYC_V4 = CPU_SIGS['EPYC-v4'] ?? -1;

describe('SEV / SEV-ES launch digest: sev-snp-measure tests/test_guest.py expectations', () => {
  it('sev with kernel + cmdline, kernel only, OvmfX64 without kernel', () => {
    expect(hex(sevLaunchDigest(amdSev, sevKernelHashes(empty, empty, 'console=ttyS0 loglevel=7')))).toBe(PUBLISHED.sevKernelAppend);
    expect(hex(sevLaunchDigest(amdSev, sevKernelHashes(empty, undefined, undefined)))).toBe(PUBLISHED.sevKernelOnly);
    expect(hex(sevLaunchDigest(ovmfX64))).toBe(PUBLISHED.sevOvmfX64);
  });
  it('seves 1 and 4 vCPUs with empty kernel hashes', () => {
    const kernelHashes = sevKernelHashes(empty, empty, '');
    expect(hex(sevEsLaunchDigest({ ovmf: amdSev, vcpus: 1, vcpuSig: EPYC_V4, kernelHashes }))).toBe(PUBLISHED.seves1);
    expect(hex(sevEsLaunchDigest({ ovmf: amdSev, vcpus: 4, vcpuSig: EPYC_V4, kernelHashes }))).toBe(PUBLISHED.seves4);
  });
  it('kernel on firmware without a hashes table → InputError naming the firmware', () => {
    const h = sevKernelHashes(empty, empty, '');
    expect(() => sevLaunchDigest(ovmfX64, h)).toThrow(/ovmf_OvmfX64_suffix\.bin: .*no SEV hashes table/);
    expect(() => sevEsLaunchDigest({ ovmf: ovmfX64, vcpus: 1, vcpuSig: 0, kernelHashes: h })).toThrow(InputError);
  });
});

describe('LAUNCH_MEASURE (SEV API spec §6.5), vectors from virt-qemu-sev-validate', () => {
  for (const name of ['sev', 'seves'] as const) {
    const v = LIBVIRT[name];
    const params = { apiMajor: v.apiMajor, apiMinor: v.apiMinor, build: v.build, policy: v.policy, digest: Buffer.from(v.digest, 'hex') };
    it(`${name}: HMAC matches and the blob verifies`, () => {
      const mac = launchMeasureMac(LIBVIRT.tik, { ...params, mnonce: LIBVIRT.mnonce });
      expect(Buffer.concat([mac, LIBVIRT.mnonce]).toString('base64')).toBe(v.measurementB64);
      const r = verifyLaunchMeasurement(LIBVIRT.tik, v.measurementB64, params);
      expect(r.ok).toBe(true);
      expect(hex(r.mnonce)).toBe(hex(LIBVIRT.mnonce));
    });
    it(`${name}: wrong digest, policy, API version or TIK does not verify`, () => {
      const otherTik = Uint8Array.from(LIBVIRT.tik, (b, i) => (i === 0 ? b ^ 1 : b));
      expect(verifyLaunchMeasurement(otherTik, v.measurementB64, params).ok).toBe(false);
      expect(verifyLaunchMeasurement(LIBVIRT.tik, v.measurementB64, { ...params, policy: params.policy | 1 << 16 }).ok).toBe(false);
      expect(verifyLaunchMeasurement(LIBVIRT.tik, v.measurementB64, { ...params, apiMinor: params.apiMinor + 1 }).ok).toBe(false);
      const d = Buffer.from(params.digest);
      d[31] = (d[31] ?? 0) ^ 0x80;
      expect(verifyLaunchMeasurement(LIBVIRT.tik, v.measurementB64, { ...params, digest: d }).ok).toBe(false);
    });
  }
  it('message layout: 0x04 || major || minor || build || policy LE32 || digest || mnonce', () => {
    const m = Buffer.from(
      launchMeasureMessage({ apiMajor: 1, apiMinor: 2, build: 3, policy: 0x01020304, digest: new Uint8Array(32).fill(9), mnonce: new Uint8Array(16).fill(7) }),
    );
    expect(m.length).toBe(56);
    expect(m.subarray(0, 8).toString('hex')).toBe('0401020304030201');
    expect(m[8]).toBe(9);
    expect(m[40]).toBe(7);
  });
  it('TIK of the wrong length → InputError that does not show the key', () => {
    const longTik = new Uint8Array(32).fill(0x5a);
    const p = { apiMajor: 0, apiMinor: 24, build: 15, policy: 3, digest: new Uint8Array(32), mnonce: new Uint8Array(16) };
    let err: unknown;
    try {
      launchMeasureMac(longTik, p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe('TIK: must be 16 bytes, got 32');
    expect((err as InputError).message).not.toMatch(/5a5a|ZZ/i);
    expect(() => launchMeasureMac(new Uint8Array(15), p)).toThrow(/TIK: must be 16 bytes, got 15/);
  });
  it('malformed measurement blobs', () => {
    expect(() => parseLaunchMeasurement('not base64!', 'query-sev-launch-measure')).toThrow(/query-sev-launch-measure: not base64/);
    expect(() => parseLaunchMeasurement(Buffer.alloc(32).toString('base64'))).toThrow(/decodes to 32 bytes, expected 48/);
    expect(() =>
      launchMeasureMessage({ apiMajor: 256, apiMinor: 0, build: 0, policy: 0, digest: new Uint8Array(32), mnonce: new Uint8Array(16) }),
    ).toThrow(/api-major: 256 is not a byte/);
    expect(() =>
      launchMeasureMessage({ apiMajor: 0, apiMinor: 0, build: 0, policy: 0, digest: new Uint8Array(48), mnonce: new Uint8Array(16) }),
    ).toThrow(/launch digest: must be 32 bytes/);
  });
});
