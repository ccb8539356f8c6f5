import { describe, expect, it } from 'vitest';
import { decodeEncryptedMemory, EAX_BITS, plausibleCbitpos, formatRegs } from '../../support/sev/cpuid.js';

// Published `cpuid -1 -r -l 0x8000001F` dumps (see fixtures/hosts/*/host.json for the hosts).
const MILAN_7713P = { eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x000001fd, edx: 0x00000080 };
const ROME = { eax: 0x0001000f, ebx: 0x0000016f, ecx: 0x000001fd, edx: 0x00000001 };
const MILAN_ALL_ES = { eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x000001fd, edx: 0x000001fe };
// the same Milan's leaf as seen from inside an SEV-SNP guest (cpuid(1) in the guest)
const SNP_GUEST_VIEW = { eax: 0x0000001a, ebx: 0x00000073, ecx: 0, edx: 0 };

describe('CPUID 0x8000001F decode', () => {
  it('decodes an EPYC 7713P (Milan) as cpuid(1) does', () => {
    const c = decodeEncryptedMemory(MILAN_7713P);
    expect([c.sme, c.sev, c.pageFlushMsr, c.sevEs, c.sevSnp, c.vmpl]).toEqual([true, true, true, true, true, true]);
    // cpuid(1): encryption bit position 0x33 (51), reduction 5, 4 VMPLs, 509 guests, min SEV ASID 128
    expect(c.cbitpos).toBe(51);
    expect(c.physAddrReduction).toBe(5);
    expect(c.numVmpl).toBe(4);
    expect(c.maxEncryptedGuests).toBe(509);
    expect(c.minSevAsid).toBe(128);
    expect(c.sevAsids).toBe(509 - 128 + 1);
    expect(c.sevEsAsids).toBe(127);
    expect(c.features).toEqual([
      'SME', 'SEV', 'PageFlushMsr', 'SevEs', 'SevSnp', 'VMPL', 'SecureTsc', 'HwEnfCacheCoh', '64BitHost',
      'RestrictedInjection', 'AlternateInjection', 'DebugSwap', 'PreventHostIbs', 'VTE', 'VmsaRegProt',
    ]);
  });

  it('decodes a Rome host: C-bit 47, no SNP, no SEV-ES ASIDs with EDX=1', () => {
    const c = decodeEncryptedMemory(ROME);
    expect([c.sev, c.sevEs, c.sevSnp]).toEqual([true, true, false]);
    expect(c.cbitpos).toBe(47);
    expect(c.physAddrReduction).toBe(5);
    expect(c.numVmpl).toBe(0);
    expect(c.sevAsids).toBe(509);
    expect(c.sevEsAsids).toBe(0);
  });

  it('leaves no plain SEV ASIDs when EDX > ECX (kvm_amd: "SEV unusable")', () => {
    const c = decodeEncryptedMemory(MILAN_ALL_ES);
    expect(c.sevAsids).toBe(0);
    expect(c.sevEsAsids).toBe(509);
  });

  it('decodes the guest view: SEV, SEV-ES, SNP bits without SME, reduction 1', () => {
    const c = decodeEncryptedMemory(SNP_GUEST_VIEW);
    expect([c.sme, c.sev, c.sevEs, c.sevSnp]).toEqual([false, true, true, true]);
    expect(c.cbitpos).toBe(51);
    expect(c.physAddrReduction).toBe(1);
  });

  it('decodes all-zero registers as nothing supported', () => {
    const c = decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    expect(c.features).toEqual([]);
    expect([c.sev, c.cbitpos, c.sevAsids, c.sevEsAsids]).toEqual([false, 0, 0, 0]);
  });

  it('names every documented EAX bit once and reports reserved bits by number', () => {
    for (const { bit, name } of EAX_BITS) {
      expect(decodeEncryptedMemory({ eax: 2 ** bit, ebx: 0, ecx: 0, edx: 0 }).features).toEqual([name]);
    }
    expect(new Set(EAX_BITS.map((b) => b.bit)).size).toBe(EAX_BITS.length);
    expect(decodeEncryptedMemory({ eax: 1 << 22, ebx: 0, ecx: 0, edx: 0 }).features).toEqual(['bit 22']);
    expect(decodeEncryptedMemory({ eax: 0x80000000, ebx: 0, ecx: 0, edx: 0 }).features).toEqual(['bit 31']);
  });

  it('extracts EBX fields independently of each other', () => {
    for (let v = 0; v < 64; v++) {
      const c = decodeEncryptedMemory({ eax: 0, ebx: v | (((63 - v) & 0x3f) << 6) | ((v & 0xf) << 12) | 0xffff0000, ecx: 0, edx: 0 });
      expect([c.cbitpos, c.physAddrReduction, c.numVmpl]).toEqual([v, 63 - v, v & 0xf]);
    }
  });

  it('bounds plausible C-bit positions to 32..63', () => {
    expect([31, 32, 47, 51, 63, 64].map(plausibleCbitpos)).toEqual([false, true, true, true, true, false]);
  });

  it('formats registers as 8-digit hex', () => {
    expect(formatRegs(ROME)).toBe('EAX=0x0001000f EBX=0x0000016f ECX=0x000001fd EDX=0x00000001');
  });
});
