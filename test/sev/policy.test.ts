import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import {
  decodeSevPolicy,
  decodeSnpPolicy,
  explainSevPolicy,
  explainSnpPolicy,
  parseCIntPolicy,
  parseHexPolicy,
  sevPolicyProblems,
  snpPolicyProblems,
} from '../../support/sev/policy.js';

describe('SEV policy bits (SEV API spec §3 Guest Policy)', () => {
  const flags = [
    ['noDebug', 0],
    ['noKeySharing', 1],
    ['es', 2],
    ['noSend', 3],
    ['domain', 4],
    ['sev', 5],
  ] as const;
  it.each(flags)('%s is bit %i and only that bit', (field, b) => {
    const p = decodeSevPolicy(1 << b);
    for (const [f] of flags) expect(p[f], f).toBe(f === field);
    expect(p.reservedBits).toBe(0);
    expect(sevPolicyProblems(p).filter((x) => x.severity === 'error')).toEqual([]);
  });
  it.each([6, 7, 8, 9, 10, 11, 12, 13, 14, 15])('bit %i is reserved and an error', (b) => {
    const p = decodeSevPolicy(1 << b);
    expect(p.reservedBits).toBe(1 << b);
    const errs = sevPolicyProblems(p).filter((x) => x.severity === 'error');
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toContain(`reserved bits ${b} are set`);
  });
  it('API_MAJOR is bits 23:16 and API_MINOR bits 31:24', () => {
    const p = decodeSevPolicy(0x1722_0000);
    expect(p.apiMajor).toBe(0x22);
    expect(p.apiMinor).toBe(0x17);
    expect(decodeSevPolicy(0xff00_0000).apiMinor).toBe(0xff);
    expect(decodeSevPolicy(0x00ff_0000).apiMajor).toBe(0xff);
  });
  it('flags API version newer than the host firmware', () => {
    const p = decodeSevPolicy(0x1800_0000 | 0x0001_0000); // needs 1.24
    expect(sevPolicyProblems(p, { apiMajor: 1, apiMinor: 23 }).map((x) => x.field)).toContain('API_MAJOR/API_MINOR');
    expect(sevPolicyProblems(p, { apiMajor: 1, apiMinor: 24 }).map((x) => x.field)).not.toContain('API_MAJOR/API_MINOR');
  });
  it('ES on a host without SEV-ES is an error; unknown host is not judged', () => {
    expect(sevPolicyProblems(decodeSevPolicy(0x7), { es: false }).some((x) => x.field === 'ES' && x.severity === 'error')).toBe(true);
    expect(sevPolicyProblems(decodeSevPolicy(0x7)).some((x) => x.field === 'ES')).toBe(false);
    expect(sevPolicyProblems(decodeSevPolicy(0x7), { es: true }).some((x) => x.field === 'ES')).toBe(false);
  });
  it('NODBG clear is a warning, not an error', () => {
    const probs = sevPolicyProblems(decodeSevPolicy(0x2));
    expect(probs).toEqual([expect.objectContaining({ severity: 'warning', field: 'NODBG' })]);
  });
  it('explains 0x0003 the way libvirt docs use it', () => {
    expect(explainSevPolicy(decodeSevPolicy(3))).toBe(
      '0x0003 = no debugging, no key sharing, sending to another platform allowed',
    );
    expect(explainSevPolicy(decodeSevPolicy(0x0f))).toBe(
      '0x000f = no debugging, no key sharing, SEV-ES required, no sending to another platform',
    );
    expect(explainSevPolicy(decodeSevPolicy(0x40))).toContain('RESERVED bits 6 set');
  });
  it('rejects values outside 32 bits and non-integers', () => {
    expect(() => decodeSevPolicy(0x1_0000_0000n)).toThrow(InputError);
    expect(() => decodeSevPolicy(-1)).toThrow(InputError);
    expect(() => decodeSevPolicy(1.5)).toThrow(InputError);
  });
});

describe('SNP policy bits (SNP ABI spec §4.3; Linux psp-sev.h SNP_POLICY_MASK_*)', () => {
  const flags = [
    ['smt', 16],
    ['reservedMustBeOne', 17],
    ['migrateMa', 18],
    ['debug', 19],
    ['singleSocket', 20],
    ['cxlAllow', 21],
    ['memAes256Xts', 22],
    ['raplDis', 23],
    ['ciphertextHiding', 24],
    ['pageSwapDisable', 25],
  ] as const;
  it.each(flags)('%s is bit %i and only that bit', (field, b) => {
    const p = decodeSnpPolicy(1n << BigInt(b));
    for (const [f] of flags) expect(p[f], f).toBe(f === field);
    expect(p.reservedBits).toBe(0n);
  });
  it('ABI_MINOR is bits 7:0 and ABI_MAJOR 15:8', () => {
    const p = decodeSnpPolicy(0x3_1f05n);
    expect(p.abiMinor).toBe(0x05);
    expect(p.abiMajor).toBe(0x1f);
  });
  it('bit 17 clear is an error', () => {
    const errs = snpPolicyProblems(decodeSnpPolicy(0x10000n)).filter((x) => x.severity === 'error');
    expect(errs.map((e) => e.field)).toEqual(['reserved bit 17']);
  });
  it.each([26, 27, 31, 32, 47, 63])('bit %i is reserved and an error', (b) => {
    const p = decodeSnpPolicy(0x30000n | (1n << BigInt(b)));
    expect(p.reservedBits).toBe(1n << BigInt(b));
    expect(snpPolicyProblems(p).map((x) => x.field)).toContain('reserved 63:26');
  });
  it('MIGRATE_MA is rejected (KVM_SNP_POLICY_MASK_VALID omits it); DEBUG is a warning', () => {
    expect(snpPolicyProblems(decodeSnpPolicy(0x70000n))).toEqual([expect.objectContaining({ severity: 'error', field: 'MIGRATE_MA' })]);
    expect(snpPolicyProblems(decodeSnpPolicy(0xb0000n))).toEqual([expect.objectContaining({ severity: 'warning', field: 'DEBUG' })]);
  });
  it('bits 20..25 alone are clean', () => {
    for (let b = 20; b <= 25; b++) expect(snpPolicyProblems(decodeSnpPolicy(0x30000n | (1n << BigInt(b))))).toEqual([]);
  });
  it("explains QEMU's default 0x30000", () => {
    expect(explainSnpPolicy(decodeSnpPolicy(0x30000n))).toBe('0x30000 = ABI >= 0.0, SMT allowed, no migration agent, no debugging');
    expect(explainSnpPolicy(decodeSnpPolicy(0x10000n))).toContain('bit 17 CLEAR');
  });
  it('rejects values outside 64 bits and unsafe numbers', () => {
    expect(() => decodeSnpPolicy(1n << 64n)).toThrow(InputError);
    expect(() => decodeSnpPolicy(-1n)).toThrow(InputError);
    expect(() => decodeSnpPolicy(2 ** 60)).toThrow(InputError);
  });
});

describe('policy text', () => {
  it('libvirt <policy> is hex with or without 0x', () => {
    expect(parseHexPolicy('0x0003')).toBe(3n);
    expect(parseHexPolicy('10')).toBe(16n);
    expect(parseHexPolicy(' 0X000B ')).toBe(11n);
  });
  it.each(['', '0x', 'xyz', '0x-1', '3 4', '1g3'])('hex policy %j is an InputError', (t) => {
    expect(() => parseHexPolicy(t)).toThrow(InputError);
  });
  it('QEMU policy= is a C integer', () => {
    expect(parseCIntPolicy('0xc')).toBe(12n);
    expect(parseCIntPolicy('11')).toBe(11n);
    expect(parseCIntPolicy('010')).toBe(8n);
    expect(parseCIntPolicy('0')).toBe(0n);
  });
  it.each(['', 'on', '0x', '09', '-1'])('C-int policy %j is an InputError', (t) => {
    expect(() => parseCIntPolicy(t)).toThrow(InputError);
  });
});
