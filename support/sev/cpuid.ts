/**
 * CPUID Fn8000_001F — "Encrypted Memory Capabilities".
 *
 * Sources:
 * - AMD64 Architecture Programmer's Manual, Vol. 3 (pub. 24594), Appendix E.4.17
 *   "Function 8000_001Fh—Encrypted Memory Capabilities" (bit names below).
 * - AMD64 APM Vol. 2 (pub. 24593) §15.34.1 "Determining Support for SEV".
 * - Linux arch/x86/include/asm/cpufeatures.h, word 19 (CPUID 0x8000001f EAX), which names the
 *   same bits (SME 0, SEV 1, VM_PAGE_FLUSH 2, SEV_ES 3, SEV_SNP 4, SNP_SECURE_TSC 8 (kvm-x86
 *   7b59c73fd611 "x86/cpufeatures: Add SNP Secure TSC", v6.18), V_TSC_AUX 9,
 *   SME_COHERENT 10, DEBUG_SWAP 14, RMPREAD 21, SEGMENTED_RMP 23, SVSM 28,
 *   HV_INUSE_WR_ALLOWED 30).
 * - Linux Documentation/virt/kvm/x86/amd-memory-encryption.rst: ECX = number of encrypted guests
 *   supported simultaneously, EDX = minimum SEV (non-ES) ASID; ASIDs below it are for SEV-ES/SNP.
 *
 * Pure: registers in, typed facts out.
 */
/** The four registers one CPUID leaf returns (APM Vol. 3 §1, "CPUID instruction": EAX, EBX, ECX, EDX). */
export interface CpuidRegs {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

export const LEAF_ENCRYPTED_MEMORY = 0x8000001f;
/** CPUID Fn8000_0000 EAX: the largest extended function number (APM Vol. 3, E.4.1). */
export const LEAF_MAX_EXTENDED = 0x80000000;

/** EAX feature bits of Fn8000_001F (APM Vol. 3, E.4.17). Unlisted bits are reserved. */
export const EAX_BITS: ReadonlyArray<{ readonly bit: number; readonly name: string; readonly what: string }> = [
  { bit: 0, name: 'SME', what: 'Secure Memory Encryption' },
  { bit: 1, name: 'SEV', what: 'Secure Encrypted Virtualization' },
  { bit: 2, name: 'PageFlushMsr', what: 'VM page flush MSR (0xC001_011E)' },
  { bit: 3, name: 'SevEs', what: 'SEV Encrypted State' },
  { bit: 4, name: 'SevSnp', what: 'SEV Secure Nested Paging' },
  { bit: 5, name: 'VMPL', what: 'VM Permission Levels' },
  { bit: 6, name: 'RMPQUERY', what: 'RMPQUERY instruction' },
  { bit: 7, name: 'VmplSSS', what: 'VMPL supervisor shadow stack' },
  { bit: 8, name: 'SecureTsc', what: 'Secure TSC' },
  { bit: 9, name: 'TscAuxVirtualization', what: 'virtual TSC_AUX' },
  { bit: 10, name: 'HwEnfCacheCoh', what: 'hardware cache coherency across encryption domains' },
  { bit: 11, name: '64BitHost', what: 'SEV guest execution only from a 64-bit host' },
  { bit: 12, name: 'RestrictedInjection', what: 'Restricted Injection' },
  { bit: 13, name: 'AlternateInjection', what: 'Alternate Injection' },
  { bit: 14, name: 'DebugSwap', what: 'full debug state swap for SEV-ES guests' },
  { bit: 15, name: 'PreventHostIbs', what: 'disallowing IBS use by the host' },
  { bit: 16, name: 'VTE', what: 'Virtual Transparent Encryption' },
  { bit: 17, name: 'VmgexitParameter', what: 'VMGEXIT parameter' },
  { bit: 18, name: 'VirtualTomMsr', what: 'virtual TOM MSR' },
  { bit: 19, name: 'IbsVirtGuestCtl', what: 'IBS virtualization for SEV-ES guests' },
  { bit: 21, name: 'RMPREAD', what: 'RMPREAD instruction' },
  { bit: 23, name: 'SegmentedRmp', what: 'segmented RMP table' },
  { bit: 24, name: 'VmsaRegProt', what: 'VMSA register protection' },
  { bit: 25, name: 'SmtProtection', what: 'SMT protection' },
  { bit: 28, name: 'SvsmCommPageMSR', what: 'SVSM communication page MSR' },
  { bit: 29, name: 'NestedVirtSnpMsr', what: 'nested virtualization SNP MSR' },
  { bit: 30, name: 'HvInUseWrAllowed', what: 'hypervisor writes to in-use pages allowed' },
];

export interface EncryptedMemoryCaps {
  readonly raw: CpuidRegs;
  readonly sme: boolean;
  readonly sev: boolean;
  readonly pageFlushMsr: boolean;
  readonly sevEs: boolean;
  readonly sevSnp: boolean;
  readonly vmpl: boolean;
  /** names of every set EAX bit, in bit order; reserved bits as "bit N" */
  readonly features: readonly string[];
  /** EBX[5:0]: page-table bit position of the C-bit */
  readonly cbitpos: number;
  /** EBX[11:6]: physical address bits lost when memory encryption is enabled */
  readonly physAddrReduction: number;
  /** EBX[15:12]: number of VM permission levels supported (SNP) */
  readonly numVmpl: number;
  /** ECX: number of encrypted guests supported simultaneously (highest usable ASID) */
  readonly maxEncryptedGuests: number;
  /** EDX: minimum ASID for SEV guests without ES; ASIDs 1..EDX-1 are for SEV-ES/SNP */
  readonly minSevAsid: number;
  /** ASIDs usable by plain SEV guests: ECX - EDX + 1 when EDX <= ECX, else 0 (kernel sev.c) */
  readonly sevAsids: number;
  /** ASIDs usable by SEV-ES/SNP guests: EDX - 1 when EDX >= 1 (kernel sev.c: min_sev_asid - 1) */
  readonly sevEsAsids: number;
  /** false when CPUID 0x80000000 says the leaf does not exist (registers then read as zero) */
  readonly implemented?: boolean;
  readonly maxExtendedLeaf?: number | undefined;
  /** the CPU vendor (CPUID 0 EBX-EDX-ECX, e.g. "AuthenticAMD"), when known */
  readonly vendor?: string | undefined;
  /** where the vendor was read, e.g. "CPUID 0x00000000" or "/proc/cpuinfo vendor_id" */
  readonly vendorSource?: string | undefined;
}

const bit = (v: number, n: number): boolean => ((v >>> n) & 1) === 1;

/** CPUID Fn0000_0000: the vendor string is EBX, EDX, ECX as little-endian ASCII (APM Vol. 3, E.3.1). */
export const LEAF_VENDOR = 0x00000000;

export function decodeVendor(regs: CpuidRegs): string {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(regs.ebx >>> 0, 0);
  b.writeUInt32LE(regs.edx >>> 0, 4);
  b.writeUInt32LE(regs.ecx >>> 0, 8);
  return b.toString('latin1').replace(/\0+$/, '');
}

export function decodeEncryptedMemory(regs: CpuidRegs): EncryptedMemoryCaps {
  const { eax, ebx, ecx, edx } = regs;
  const features: string[] = [];
  for (let n = 0; n < 32; n++) {
    if (!bit(eax, n)) continue;
    features.push(EAX_BITS.find((b) => b.bit === n)?.name ?? `bit ${n}`);
  }
  const maxEncryptedGuests = ecx >>> 0;
  const minSevAsid = edx >>> 0;
  return {
    raw: regs,
    sme: bit(eax, 0),
    sev: bit(eax, 1),
    pageFlushMsr: bit(eax, 2),
    sevEs: bit(eax, 3),
    sevSnp: bit(eax, 4),
    vmpl: bit(eax, 5),
    features,
    cbitpos: ebx & 0x3f,
    physAddrReduction: (ebx >>> 6) & 0x3f,
    numVmpl: (ebx >>> 12) & 0xf,
    maxEncryptedGuests,
    minSevAsid,
    sevAsids: minSevAsid >= 1 && minSevAsid <= maxEncryptedGuests ? maxEncryptedGuests - minSevAsid + 1 : 0,
    sevEsAsids: minSevAsid >= 1 ? Math.min(minSevAsid - 1, maxEncryptedGuests) : 0,
  };
}

/**
 * Is `cbitpos` a plausible C-bit position? It lies above every usable physical address bit and
 * inside a 64-bit PTE; every EPYC generation so far uses 47 (Naples, Rome) or 51 (Milan, Genoa,
 * Turin) (QEMU docs/system/i386/amd-memory-encryption.rst; libvirt domcapabilities samples).
 * The catalog bound is 32..63.
 */
export function plausibleCbitpos(cbitpos: number): boolean {
  return Number.isInteger(cbitpos) && cbitpos >= 32 && cbitpos <= 63;
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

export function formatRegs(r: CpuidRegs): string {
  return `EAX=${hex32(r.eax)} EBX=${hex32(r.ebx)} ECX=${hex32(r.ecx)} EDX=${hex32(r.edx)}`;
}
