/**
 * SEV / SEV-ES and SEV-SNP guest policy: decode, find problems, explain.
 *
 * Pure: numbers in, typed fields and text out. No I/O.
 *
 * Sources
 * - SEV/SEV-ES policy (32 bits): AMD "Secure Encrypted Virtualization API" spec (pub. 55766),
 *   section 3 "Guest Policy", table "Guest Policy Field": NODBG bit 0, NOKS bit 1, ES bit 2,
 *   NOSEND bit 3, DOMAIN bit 4, SEV bit 5, bits 15:6 reserved (must be zero), API_MAJOR bits 23:16,
 *   API_MINOR bits 31:24. libvirt docs/formatdomain.rst "Launch Security" repeats the table.
 * - SNP policy (64 bits): AMD "SEV Secure Nested Paging Firmware ABI" spec (pub. 56860),
 *   section 4.3 "Guest Policy", table "Guest Policy Structure" (newest revision seen: 1.58, which
 *   added PAGE_SWAP_DISABLE). Cross-checked against Linux include/linux/psp-sev.h
 *   SNP_POLICY_MASK_* (2025, "KVM: SEV: Add support for more SNP policy bits"): ABI_MINOR 7:0,
 *   ABI_MAJOR 15:8, SMT 16, RSVD_MBO 17, MIGRATE_MA 18, DEBUG 19, SINGLE_SOCKET 20, CXL_ALLOW 21,
 *   MEM_AES_256_XTS 22, RAPL_DIS 23, CIPHERTEXT_HIDING_DRAM 24, PAGE_SWAP_DISABLE 25,
 *   bits 63:26 reserved (must be zero).
 */
import { InputError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// SEV / SEV-ES (SEV API spec 55766, §3 Guest Policy)

/** Bit positions, SEV API spec §3 "Guest Policy" table. */
export const SEV_POLICY_BITS = {
  NODBG: 0, // debugging of the guest is disallowed
  NOKS: 1, // sharing keys with other guests is disallowed
  ES: 2, // SEV-ES is required
  NOSEND: 3, // sending the guest to another platform is disallowed
  DOMAIN: 4, // the guest must not be transmitted to another platform outside the domain
  SEV: 5, // the guest must not be transmitted to another platform that is not SEV-capable
} as const;

/** Bits 15:6 are reserved and must be zero (SEV API spec §3). */
export const SEV_POLICY_RESERVED_MASK = 0x0000ffc0;
/** API_MAJOR bits 23:16, API_MINOR bits 31:24 (SEV API spec §3): minimum firmware API version. */
export const SEV_POLICY_API_MAJOR_SHIFT = 16;
export const SEV_POLICY_API_MINOR_SHIFT = 24;

export interface SevPolicy {
  readonly kind: 'sev';
  readonly raw: number;
  readonly noDebug: boolean;
  readonly noKeySharing: boolean;
  readonly es: boolean;
  readonly noSend: boolean;
  readonly domain: boolean;
  readonly sev: boolean;
  /** value of the reserved field (bits 15:6 in place), 0 when clean */
  readonly reservedBits: number;
  readonly apiMajor: number;
  readonly apiMinor: number;
}

// ---------------------------------------------------------------------------------------------
// SNP (SNP ABI spec 56860, §4.3 Guest Policy; Linux include/linux/psp-sev.h SNP_POLICY_MASK_*)

export const SNP_POLICY_BITS = {
  SMT: 16, // SMT is allowed
  RESERVED_MBO: 17, // reserved, must be one
  MIGRATE_MA: 18, // association with a migration agent is allowed
  DEBUG: 19, // debugging is allowed
  SINGLE_SOCKET: 20, // guest can be activated only on one socket
  CXL_ALLOW: 21, // CXL can be populated with guest memory
  MEM_AES_256_XTS: 22, // AES-256-XTS required for memory encryption
  RAPL_DIS: 23, // Running Average Power Limit must be disabled
  CIPHERTEXT_HIDING: 24, // ciphertext hiding for DRAM must be enabled
  PAGE_SWAP_DISABLE: 25, // SNP_PAGE_MOVE/SWAP_OUT/SWAP_IN disabled (ABI 1.58)
} as const;

/** Bits 63:26 reserved, must be zero (SNP ABI §4.3; psp-sev.h defines nothing above bit 25). */
export const SNP_POLICY_RESERVED_MASK = 0xffff_ffff_fc00_0000n;
export const SNP_POLICY_MAX = 0xffff_ffff_ffff_ffffn;

export interface SnpPolicy {
  readonly kind: 'snp';
  readonly raw: bigint;
  readonly abiMinor: number;
  readonly abiMajor: number;
  readonly smt: boolean;
  readonly reservedMustBeOne: boolean;
  readonly migrateMa: boolean;
  readonly debug: boolean;
  readonly singleSocket: boolean;
  readonly cxlAllow: boolean;
  readonly memAes256Xts: boolean;
  readonly raplDis: boolean;
  readonly ciphertextHiding: boolean;
  readonly pageSwapDisable: boolean;
  /** reserved bits 63:26 in place, 0n when clean */
  readonly reservedBits: bigint;
}

/** What the host can do, when known. Anything undefined is not judged. */
export interface PolicyHostFacts {
  /** host supports SEV-ES (CPUID 0x8000001F EAX bit 3 and kvm_amd sev_es) */
  readonly es?: boolean | undefined;
  /** host SEV firmware API version, to compare with API_MAJOR/API_MINOR */
  readonly apiMajor?: number | undefined;
  readonly apiMinor?: number | undefined;
}

export interface PolicyProblem {
  /** 'error': the firmware or KVM refuses, or the value is nonsense; 'warning': works, but weak */
  readonly severity: 'error' | 'warning';
  /** field name as in the spec table, e.g. "reserved 15:6", "NODBG", "MIGRATE_MA" */
  readonly field: string;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Parsing the text form

/**
 * A policy as libvirt stores it: `<policy>` is hexadecimal with or without `0x` (libvirt parses it
 * with base 16; schema basictypes.rng "hexuint" = `(0x)?[0-9a-f]+`). "10" therefore means 0x10.
 */
export function parseHexPolicy(text: string, source = 'policy'): bigint {
  const t = text.trim();
  if (!/^(0[xX])?[0-9a-fA-F]+$/.test(t)) {
    throw new InputError(source, `policy '${text}' is not a hexadecimal number`);
  }
  return BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : `0x${t}`);
}

/**
 * A policy as QEMU reads `-object sev-guest,policy=...`: QEMU's option parser takes a C-style
 * integer (qemu_strtou64 base 0): `0x` hex, leading `0` octal, else decimal.
 */
export function parseCIntPolicy(text: string, source = 'policy'): bigint {
  const t = text.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]+$/.test(t)) return BigInt(`0o${t.slice(1)}`);
  if (/^(0|[1-9][0-9]*)$/.test(t)) return BigInt(t);
  throw new InputError(source, `policy '${text}' is not an integer (0x.. hex, 0.. octal or decimal)`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

const bit = (v: number, b: number): boolean => ((v >>> b) & 1) === 1;
const bitN = (v: bigint, b: number): boolean => ((v >> BigInt(b)) & 1n) === 1n;

/** Decode a 32-bit SEV/SEV-ES policy. Throws InputError if the value does not fit 32 bits. */
export function decodeSevPolicy(value: number | bigint, source = 'policy'): SevPolicy {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new InputError(source, `policy ${value} is not an exact integer`);
  }
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < 0n || big > 0xffff_ffffn) {
    throw new InputError(source, `policy 0x${big.toString(16)} does not fit the 32-bit SEV policy field`);
  }
  const raw = Number(big);
  return {
    kind: 'sev',
    raw,
    noDebug: bit(raw, SEV_POLICY_BITS.NODBG),
    noKeySharing: bit(raw, SEV_POLICY_BITS.NOKS),
    es: bit(raw, SEV_POLICY_BITS.ES),
    noSend: bit(raw, SEV_POLICY_BITS.NOSEND),
    domain: bit(raw, SEV_POLICY_BITS.DOMAIN),
    sev: bit(raw, SEV_POLICY_BITS.SEV),
    reservedBits: (raw & SEV_POLICY_RESERVED_MASK) >>> 0,
    apiMajor: (raw >>> SEV_POLICY_API_MAJOR_SHIFT) & 0xff,
    apiMinor: (raw >>> SEV_POLICY_API_MINOR_SHIFT) & 0xff,
  };
}

/** Decode a 64-bit SNP policy. Throws InputError if the value does not fit 64 bits. */
export function decodeSnpPolicy(value: number | bigint, source = 'policy'): SnpPolicy {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new InputError(source, `policy ${value} is not an exact integer (pass a bigint)`);
  }
  const raw = typeof value === 'bigint' ? value : BigInt(value);
  if (raw < 0n || raw > SNP_POLICY_MAX) {
    throw new InputError(source, `policy 0x${raw.toString(16)} does not fit the 64-bit SNP policy field`);
  }
  const B = SNP_POLICY_BITS;
  return {
    kind: 'snp',
    raw,
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bitN(raw, B.SMT),
    reservedMustBeOne: bitN(raw, B.RESERVED_MBO),
    migrateMa: bitN(raw, B.MIGRATE_MA),
    debug: bitN(raw, B.DEBUG),
    singleSocket: bitN(raw, B.SINGLE_SOCKET),
    cxlAllow: bitN(raw, B.CXL_ALLOW),
    memAes256Xts: bitN(raw, B.MEM_AES_256_XTS),
    raplDis: bitN(raw, B.RAPL_DIS),
    ciphertextHiding: bitN(raw, B.CIPHERTEXT_HIDING),
    pageSwapDisable: bitN(raw, B.PAGE_SWAP_DISABLE),
    reservedBits: raw & SNP_POLICY_RESERVED_MASK,
  };
}

// ---------------------------------------------------------------------------------------------
// Problems

export function sevPolicyProblems(p: SevPolicy, host: PolicyHostFacts = {}): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (p.reservedBits !== 0) {
    out.push({
      severity: 'error',
      field: 'reserved 15:6',
      message: `reserved bits ${bitList(p.reservedBits)} are set (SEV API spec §3: bits 15:6 must be zero)`,
    });
  }
  if (p.es && host.es === false) {
    out.push({
      severity: 'error',
      field: 'ES',
      message: 'ES (bit 2) requires SEV-ES, which this host does not offer',
    });
  }
  if (host.apiMajor !== undefined && host.apiMinor !== undefined) {
    const want = p.apiMajor * 256 + p.apiMinor;
    const have = host.apiMajor * 256 + host.apiMinor;
    if (want > have) {
      out.push({
        severity: 'error',
        field: 'API_MAJOR/API_MINOR',
        message: `policy requires firmware API >= ${p.apiMajor}.${p.apiMinor}, host firmware is ${host.apiMajor}.${host.apiMinor}`,
      });
    }
  }
  if (!p.noDebug) {
    out.push({
      severity: 'warning',
      field: 'NODBG',
      message: 'NODBG (bit 0) is clear: the hypervisor may use the firmware debug commands to decrypt guest memory',
    });
  }
  return out;
}

export function snpPolicyProblems(p: SnpPolicy): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (!p.reservedMustBeOne) {
    out.push({
      severity: 'error',
      field: 'reserved bit 17',
      message: 'bit 17 is clear; SNP ABI §4.3 says it is reserved and must be one (SNP_LAUNCH_START fails)',
    });
  }
  if (p.reservedBits !== 0n) {
    out.push({
      severity: 'error',
      field: 'reserved 63:26',
      message: `reserved bits ${bitListBig(p.reservedBits)} are set (SNP ABI §4.3: bits 63:26 must be zero)`,
    });
  }
  if (p.migrateMa) {
    // Linux arch/x86/kvm/svm/sev.c KVM_SNP_POLICY_MASK_VALID omits SNP_POLICY_MASK_MIGRATE_MA:
    // KVM_SEV_SNP_LAUNCH_START rejects a policy with this bit.
    out.push({
      severity: 'error',
      field: 'MIGRATE_MA',
      message: 'MIGRATE_MA (bit 18) is set; KVM does not support migration agents and rejects this policy (arch/x86/kvm/svm/sev.c KVM_SNP_POLICY_MASK_VALID)',
    });
  }
  if (p.debug) {
    out.push({
      severity: 'warning',
      field: 'DEBUG',
      message: 'DEBUG (bit 19) is set: the hypervisor may debug (decrypt) the guest',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Explanations

/** e.g. "0x0003 = no debugging, no key sharing" */
export function explainSevPolicy(p: SevPolicy): string {
  const parts: string[] = [];
  parts.push(p.noDebug ? 'no debugging' : 'debugging allowed');
  parts.push(p.noKeySharing ? 'no key sharing' : 'key sharing allowed');
  if (p.es) parts.push('SEV-ES required');
  parts.push(p.noSend ? 'no sending to another platform' : 'sending to another platform allowed');
  if (p.domain) parts.push('send only within the domain');
  if (p.sev) parts.push('send only to SEV-capable platforms');
  if (p.reservedBits !== 0) parts.push(`RESERVED bits ${bitList(p.reservedBits)} set`);
  if (p.apiMajor !== 0 || p.apiMinor !== 0) parts.push(`firmware API >= ${p.apiMajor}.${p.apiMinor}`);
  return `${hex(p.raw, 4)} = ${parts.join(', ')}`;
}

/** e.g. "0x30000 = SNP, ABI >= 0.0, SMT allowed, debugging not allowed, ..." */
export function explainSnpPolicy(p: SnpPolicy): string {
  const parts: string[] = [`ABI >= ${p.abiMajor}.${p.abiMinor}`];
  parts.push(p.smt ? 'SMT allowed' : 'SMT not allowed');
  if (!p.reservedMustBeOne) parts.push('bit 17 CLEAR (must be one)');
  parts.push(p.migrateMa ? 'migration agent allowed' : 'no migration agent');
  parts.push(p.debug ? 'debugging allowed' : 'no debugging');
  if (p.singleSocket) parts.push('single socket only');
  if (p.cxlAllow) parts.push('CXL memory allowed');
  if (p.memAes256Xts) parts.push('AES-256-XTS required');
  if (p.raplDis) parts.push('RAPL disabled');
  if (p.ciphertextHiding) parts.push('ciphertext hiding required');
  if (p.pageSwapDisable) parts.push('page swap disabled');
  if (p.reservedBits !== 0n) parts.push(`RESERVED bits ${bitListBig(p.reservedBits)} set`);
  return `0x${p.raw.toString(16)} = ${parts.join(', ')}`;
}

/** The smallest valid SEV policy with NODBG, NOKS and NOSEND; ES added when asked. */
export function recommendedSevPolicy(es: boolean): number {
  return (
    (1 << SEV_POLICY_BITS.NODBG) |
    (1 << SEV_POLICY_BITS.NOKS) |
    (es ? 1 << SEV_POLICY_BITS.ES : 0) |
    (1 << SEV_POLICY_BITS.NOSEND)
  );
}

/** QEMU's default sev-snp-guest policy 0x30000 (SMT allowed + bit 17), with the given fixes. */
export const SNP_DEFAULT_POLICY = 0x30000n;

export function hex(n: number, width = 1): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

function bitList(v: number): string {
  const bits: number[] = [];
  for (let i = 0; i < 32; i++) if (bit(v, i)) bits.push(i);
  return bits.join(',');
}

function bitListBig(v: bigint): string {
  const bits: number[] = [];
  for (let i = 0; i < 64; i++) if (bitN(v, i)) bits.push(i);
  return bits.join(',');
}
