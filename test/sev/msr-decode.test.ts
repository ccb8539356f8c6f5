import { describe, expect, it } from 'vitest';
import { decodeRmp, decodeSyscfg, formatBytes, hex64, msrName, MSR_RMP_BASE, MSR_RMP_END, MSR_SYSCFG, RMP_ADDR_MASK, SYSCFG_SEV_MASK } from '../../support/sev/msr.js';
import { describeGeneration, GENERATIONS, isEpycBrand, sevGeneration } from '../../support/sev/generation.js';

describe('SYSCFG (MSR C001_0010h), APM Vol. 2 / Linux msr-index.h', () => {
  it('indices are the ones msr-index.h names', () => {
    expect(MSR_SYSCFG).toBe(0xc0010010);
    expect(MSR_RMP_BASE).toBe(0xc0010132);
    expect(MSR_RMP_END).toBe(0xc0010133);
  });
  it('decodes bits 23 (MemEncryptionModEn), 24 (SNPEn), 25 (VMPLEn)', () => {
    // 0x0000000003f40000: bits 18, 20-25 set — a Milan host with SNP and VMPLs enabled
    expect(decodeSyscfg(0x0000000003f40000n)).toEqual({ raw: 0x3f40000n, memEncrypt: true, snp: true, vmpl: true });
    // SNP enabled in CPUID but not in SYSCFG: bit 24 and 25 clear, 23 set
    expect(decodeSyscfg(0x0000000000f40000n)).toMatchObject({ memEncrypt: true, snp: false, vmpl: false });
    expect(decodeSyscfg(0n)).toMatchObject({ memEncrypt: false, snp: false, vmpl: false });
    expect(decodeSyscfg(1n << 24n)).toMatchObject({ memEncrypt: false, snp: true, vmpl: false });
    expect(SYSCFG_SEV_MASK).toBe(0x3800000n);
  });
});

describe('RMP_BASE / RMP_END (Linux arch/x86/virt/svm/sev.c)', () => {
  it('a reserved contiguous table: base < end, size end - base + 1', () => {
    const r = decodeRmp(0x0000000001000000n, 0x00000000410fffffn);
    expect(r).toEqual({ kind: 'contiguous', base: 0x1000000n, end: 0x410fffffn, size: 0x41000000n - 0x1000000n + 0x100000n });
  });
  it('zero (or no address bits 51:13) means "not reserved by BIOS"', () => {
    expect(decodeRmp(0n, 0n).kind).toBe('not-reserved');
    expect(decodeRmp(0x1000000n, 0n).kind).toBe('not-reserved');
    expect(decodeRmp(0x1fffn, 0x1fffn).kind).toBe('not-reserved');
    expect(RMP_ADDR_MASK).toBe(0x000fffffffffe000n);
  });
  it('base above end is invalid; a segmented RMP needs only RMP_BASE', () => {
    expect(decodeRmp(0x2000000n, 0x1000000n).kind).toBe('invalid');
    expect(decodeRmp(0x1000000n, 0n, true)).toEqual({ kind: 'segmented', base: 0x1000000n });
    expect(decodeRmp(0n, 0n, true).kind).toBe('not-reserved');
  });
  it('formats values', () => {
    expect(hex64(0x3f40000n)).toBe('0x0000000003f40000');
    expect(msrName(MSR_SYSCFG)).toBe('SYSCFG (MSR 0xc0010010)');
    expect(formatBytes(16n * 1024n * 1024n * 1024n)).toBe('16 GiB');
    expect(formatBytes(0x40100000n)).toBe('1025 MiB');
  });
});

describe('EPYC generation from family/model', () => {
  it('maps the PPR / sevctl / virtee sev ranges', () => {
    expect(sevGeneration(0x17, 0x01)).toBe('naples');
    expect(sevGeneration(0x17, 0x31)).toBe('rome');
    expect(sevGeneration(0x17, 0x71)).toBeUndefined(); // Matisse (Ryzen 3000): not EPYC
    expect(sevGeneration(0x19, 0x01)).toBe('milan');
    expect(sevGeneration(0x19, 0x11)).toBe('genoa');
    expect(sevGeneration(0x19, 0xa0)).toBe('genoa'); // Bergamo/Siena
    expect(sevGeneration(0x19, 0x21)).toBeUndefined(); // Vermeer (Ryzen 5000)
    expect(sevGeneration(0x1a, 0x02)).toBe('turin');
    expect(sevGeneration(0x06, 0x8f)).toBeUndefined();
  });
  it('trusts family/model only for an EPYC brand string', () => {
    expect(isEpycBrand('AMD EPYC 7713P 64-Core Processor')).toBe(true);
    expect(isEpycBrand('AMD Ryzen Threadripper 3970X 32-Core Processor')).toBe(false);
    expect(isEpycBrand(undefined)).toBe(true);
  });
  it('knows what each generation offers', () => {
    expect(GENERATIONS.naples).toMatchObject({ sevEs: false, snp: false });
    expect(GENERATIONS.rome).toMatchObject({ sevEs: true, snp: false });
    expect(GENERATIONS.milan).toMatchObject({ snp: true, secureTsc: false });
    expect(GENERATIONS.genoa).toMatchObject({ snp: true, secureTsc: true });
    expect(describeGeneration('milan', 0x19, 0x01)).toBe('Milan (EPYC 7003, family 0x19 model 0x01)');
    expect(describeGeneration(undefined, 0x19, 0x21)).toBe('an unknown generation (family 0x19 model 0x21)');
  });
});
