/**
 * The model-specific registers an SEV/SNP host is configured through, decoded. Pure: values in,
 * typed facts out.
 *
 * Sources:
 * - AMD64 APM Vol. 2 (pub. 24593) §15.34.1 "Determining Support for SEV" / §15.36.2 "Enabling
 *   SEV-SNP" (SYSCFG[SNPEn], SYSCFG[VMPLEn]) and §15.36.3 "Reverse Map Table" (RMP_BASE,
 *   RMP_END); SYSCFG itself is MSR C001_0010h (APM Vol. 2, §7.9 "Memory-Typing MSRs" / the
 *   SYSCFG register figure; bit 23 MemEncryptionModEn, enabling SME/SEV).
 * - Linux arch/x86/include/asm/msr-index.h: MSR_AMD64_SYSCFG 0xc0010010,
 *   MSR_AMD64_SYSCFG_MEM_ENCRYPT_BIT 23, and from the SNP host series ("x86/sev: Add the host
 *   SEV-SNP initialization support") MSR_AMD64_SYSCFG_SNP_EN_BIT 24,
 *   MSR_AMD64_SYSCFG_SNP_VMPL_EN_BIT 25, MSR_AMD64_RMP_BASE 0xc0010132, MSR_AMD64_RMP_END
 *   0xc0010133; from the segmented-RMP series MSR_AMD64_RMP_CFG 0xc0010136 with
 *   MSR_AMD64_SEG_RMP_ENABLED_BIT 0. Read in those patches' msr-index.h hunks (the stored
 *   torvalds/linux blob @e84b7119 predates SNP), not pinned to a release.
 * - Linux arch/x86/virt/svm/sev.c probe_contiguous_rmptable_info(): RMP_ADDR_MASK =
 *   GENMASK_ULL(51, 13); either MSR without address bits → "Memory for the RMP table has not been
 *   reserved by BIOS"; base > end → "RMP configuration not valid"; the table spans
 *   end - base + 1 bytes ("RMP table physical range [base - end]"). With a segmented RMP
 *   (probe_segmented_rmptable_info(), CPUID 0x8000001F EAX bit 23 and RMP_CFG bit 0) only
 *   RMP_BASE holds an address and RMP_END is zero.
 * - virtee/snphost src/ok/mod.rs @56d5d7e (H1.3.4.3, H1.3.4.4.1) reads the same MSRs on CPU 0:
 *   SYSCFG bit 24 for SNP, RMP_BASE/RMP_END both non-zero.
 */
export const MSR_SYSCFG = 0xc0010010;
export const MSR_RMP_BASE = 0xc0010132;
export const MSR_RMP_END = 0xc0010133;
export const MSR_RMP_CFG = 0xc0010136;

export const SYSCFG_BITS = {
  /** MemEncryptionModEn: the BIOS enabled SME/SEV memory encryption */
  memEncrypt: 23,
  /** SecureNestedPagingEn: SNP is enabled (set by the kernel after the BIOS reserved the RMP) */
  snp: 24,
  /** VMPLEn: VM permission levels are enabled */
  vmpl: 25,
} as const;

export type SyscfgBit = keyof typeof SYSCFG_BITS;

export const SYSCFG_BIT_NAMES: Record<SyscfgBit, string> = {
  memEncrypt: 'MemEncryptionModEn',
  snp: 'SecureNestedPagingEn',
  vmpl: 'VMPLEn',
};

/** The memory-encryption bits of SYSCFG, the ones every CPU must agree on (23, 24, 25). */
export const SYSCFG_SEV_MASK = (1n << 23n) | (1n << 24n) | (1n << 25n);

export interface Syscfg {
  readonly raw: bigint;
  readonly memEncrypt: boolean;
  readonly snp: boolean;
  readonly vmpl: boolean;
}

export function decodeSyscfg(raw: bigint): Syscfg {
  const bit = (n: number): boolean => ((raw >> BigInt(n)) & 1n) === 1n;
  return { raw, memEncrypt: bit(SYSCFG_BITS.memEncrypt), snp: bit(SYSCFG_BITS.snp), vmpl: bit(SYSCFG_BITS.vmpl) };
}

/** Bits 51:13 of RMP_BASE / RMP_END are the address (Linux sev.c RMP_ADDR_MASK). */
export const RMP_ADDR_MASK = ((1n << 52n) - 1n) & ~((1n << 13n) - 1n);

export type RmpRange =
  | { readonly kind: 'contiguous'; readonly base: bigint; readonly end: bigint; readonly size: bigint }
  | { readonly kind: 'segmented'; readonly base: bigint }
  | { readonly kind: 'not-reserved'; readonly base: bigint; readonly end: bigint }
  | { readonly kind: 'invalid'; readonly base: bigint; readonly end: bigint };

/**
 * What RMP_BASE / RMP_END say, as the kernel's probe reads them. `segmented` is RMP_CFG bit 0
 * (only meaningful when CPUID says the CPU supports a segmented RMP).
 */
export function decodeRmp(base: bigint, end: bigint, segmented = false): RmpRange {
  const b = base & RMP_ADDR_MASK;
  const e = end & RMP_ADDR_MASK;
  if (segmented) return b === 0n ? { kind: 'not-reserved', base, end } : { kind: 'segmented', base: b };
  if (b === 0n || e === 0n) return { kind: 'not-reserved', base, end };
  if (base > end) return { kind: 'invalid', base, end };
  return { kind: 'contiguous', base, end, size: end - base + 1n };
}

export function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

export function msrName(index: number): string {
  const names: Record<number, string> = { [MSR_SYSCFG]: 'SYSCFG', [MSR_RMP_BASE]: 'RMP_BASE', [MSR_RMP_END]: 'RMP_END', [MSR_RMP_CFG]: 'RMP_CFG' };
  return `${names[index] ?? 'MSR'} (MSR 0x${(index >>> 0).toString(16).padStart(8, '0')})`;
}

/** A byte count in binary units, for the RMP table size ("16 GiB"). */
export function formatBytes(n: bigint): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (i < units.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    i++;
  }
  if (i === 0 && n >= 1024n) return `${(Number(n) / 1024 / 1024).toFixed(1)} MiB`;
  return `${v} ${units[i]}`;
}
