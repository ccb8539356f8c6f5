/**
 * SEV-SNP ATTESTATION_REPORT parser (pure: bytes in, typed fields out).
 *
 * Layout: AMD "SEV Secure Nested Paging Firmware ABI Specification" (pub. 56860), section
 * "ATTESTATION_REPORT Structure" (Table 23 in rev 1.57/1.58), cross-checked against
 * virtee/sev src/firmware/guest/types/snp.rs (commit 9cf2adb) and google/go-sev-guest
 * abi/abi.go `ReportToProto` (commit af1c107). All integers are little-endian.
 *
 * Versions: 2 (original layout), 3 (adds CPUID_FAM_ID/MOD_ID/STEP at 0x188..0x18A), 4 (content
 * under AMD embargo; virtee treats it like 3, virtee/sev PR #312 and #307), 5 (ABI 1.58: adds
 * LAUNCH_MIT_VECTOR at 0x1F8 and CURRENT_MIT_VECTOR at 0x200). Anything else is rejected.
 */
import { InputError } from '../errors.js';

/** Whole report: 1184 bytes (ABI spec, ATTESTATION_REPORT table, last offset 49Fh). */
export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0h..29Fh inclusive (ABI spec, SIGNATURE field description). */
export const SNP_SIGNED_LENGTH = 0x2a0;
/** SIGNATURE_ALGO 1 = ECDSA P-384 with SHA-384 (ABI spec, "Signature Algorithm Encodings"). */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;
/** Report versions this parser knows the layout of (see file header). */
export const SNP_REPORT_VERSIONS: readonly number[] = [2, 3, 4, 5];

/** EPYC generations with SEV-SNP (virtee/sev src/lib.rs `Generation`). */
export type SnpGeneration = 'milan' | 'genoa' | 'turin' | 'venice';

/**
 * TCB_VERSION byte layouts (ABI spec, "TCB_VERSION Structure"; virtee/sev
 * src/firmware/host/types/snp.rs `from_legacy_bytes` / `from_turin_bytes`):
 * - milan-genoa: [0] BOOT_LOADER, [1] TEE, [2..5] reserved, [6] SNP, [7] MICROCODE
 * - turin (Turin and Venice, CPUID family 1Ah): [0] FMC, [1] BOOT_LOADER, [2] TEE, [3] SNP,
 *   [4..6] reserved, [7] MICROCODE
 */
export type TcbLayout = 'milan-genoa' | 'turin';

export interface TcbVersion {
  readonly layout: TcbLayout;
  /** the 8 raw bytes as a little-endian u64 */
  readonly raw: bigint;
  /** FMC SPL: Turin layout only */
  readonly fmc?: number | undefined;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
}

/** SIGNING_KEY encodings (ABI spec, ATTESTATION_REPORT bits 4:2 at 48h): 0 VCEK, 1 VLEK, 7 none. */
export type SigningKey = 'vcek' | 'vlek' | 'none' | 'reserved';

export interface ReportFlags {
  /** raw u32 at 48h */
  readonly raw: number;
  /** bit 0 AUTHOR_KEY_EN */
  readonly authorKeyEn: boolean;
  /** bit 1 MASK_CHIP_KEY */
  readonly maskChipKey: boolean;
  /** bits 4:2 SIGNING_KEY, decoded */
  readonly signingKey: SigningKey;
  readonly signingKeyRaw: number;
}

export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface SnpReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: TcbVersion;
  readonly platformInfo: bigint;
  readonly flags: ReportFlags;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcb: TcbVersion;
  /** version >= 3 only */
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number } | undefined;
  readonly chipId: Buffer;
  readonly committedTcb: TcbVersion;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: TcbVersion;
  /** version >= 5 only */
  readonly launchMitVector?: bigint | undefined;
  readonly currentMitVector?: bigint | undefined;
  /** R and S, 72 bytes each, little-endian, zero-extended (ABI spec, "ECDSA Signature Format") */
  readonly signature: { readonly r: Buffer; readonly s: Buffer };
  /** processor generation when the report tells it (CPUID fields, Turin-style CHIP_ID) or the caller did */
  readonly generation?: SnpGeneration | undefined;
  readonly tcbLayout: TcbLayout;
  /** bytes 0h..29Fh, exactly as received: what the signature covers */
  readonly signedBytes: Buffer;
  /** the whole report, exactly as received */
  readonly raw: Buffer;
}

export interface ParseSnpReportOptions {
  /**
   * Processor generation, used only when the report cannot tell its TCB layout itself
   * (version 2 with CHIP_ID masked to zero).
   */
  readonly generation?: SnpGeneration;
}

/**
 * Parse a raw 1184-byte ATTESTATION_REPORT. `source` names the input in error messages
 * (a file path, "SNP_GET_REPORT response", ...). Throws InputError naming the field.
 */
export function parseSnpReport(
  bytes: Uint8Array,
  source: string,
  options: ParseSnpReportOptions = {},
): SnpReport {
  if (bytes.length !== SNP_REPORT_SIZE) {
    throw new InputError(
      source,
      `report size is ${bytes.length} bytes; an SEV-SNP ATTESTATION_REPORT is exactly ${SNP_REPORT_SIZE} (0x4A0) bytes`,
    );
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = b.readUInt32LE(0x00);
  if (!SNP_REPORT_VERSIONS.includes(version)) {
    throw new InputError(
      source,
      `VERSION (offset 0x00) is ${version}; this parser knows report versions ${SNP_REPORT_VERSIONS.join(', ')}`,
    );
  }

  // Reserved ranges (ABI spec ATTESTATION_REPORT table; the same ranges go-sev-guest checks).
  mbz(b, 0x4c, 0x50, source, 'reserved bytes 0x4C..0x4F after FLAGS');
  const cpuidEnd = version >= 3 ? 0x18b : 0x188;
  mbz(b, cpuidEnd, 0x1a0, source, `reserved bytes 0x${hex2(cpuidEnd)}..0x19F before CHIP_ID`);
  mbz(b, 0x1eb, 0x1ec, source, 'reserved byte 0x1EB after CURRENT_MAJOR');
  mbz(b, 0x1ef, 0x1f0, source, 'reserved byte 0x1EF after COMMITTED_MAJOR');
  // v2/v3: 0x1F8..0x29F reserved. v4: 0x1F8..0x207 embargoed (left unchecked). v5: mit vectors.
  const tailStart = version <= 3 ? 0x1f8 : 0x208;
  mbz(b, tailStart, SNP_SIGNED_LENGTH, source, `reserved bytes 0x${hex2(tailStart)}..0x29F before SIGNATURE`);

  const signatureAlgo = b.readUInt32LE(0x34);
  if (signatureAlgo === SIG_ALGO_ECDSA_P384_SHA384) {
    // ECDSA signature format: R (72 bytes), S (72 bytes), reserved to the end of the 512-byte field.
    mbz(b, 0x2a0 + 144, SNP_REPORT_SIZE, source, 'reserved bytes 0x330..0x49F after SIGNATURE R and S');
  }

  const chipId = copy(b, 0x1a0, 0x1e0);
  const cpuid =
    version >= 3 ? { family: b[0x188] ?? 0, model: b[0x189] ?? 0, stepping: b[0x18a] ?? 0 } : undefined;
  const { generation, layout } = tcbLayoutOf(cpuid, chipId, source, options.generation);
  const tcb = (off: number): TcbVersion => decodeTcbVersion(b.subarray(off, off + 8), layout);

  const flagsRaw = b.readUInt32LE(0x48);
  const signingKeyRaw = (flagsRaw >>> 2) & 0x7;

  return {
    version,
    guestSvn: b.readUInt32LE(0x04),
    policy: b.readBigUInt64LE(0x08),
    familyId: copy(b, 0x10, 0x20),
    imageId: copy(b, 0x20, 0x30),
    vmpl: b.readUInt32LE(0x30),
    signatureAlgo,
    currentTcb: tcb(0x38),
    platformInfo: b.readBigUInt64LE(0x40),
    flags: {
      raw: flagsRaw,
      authorKeyEn: (flagsRaw & 0x1) !== 0,
      maskChipKey: (flagsRaw & 0x2) !== 0,
      signingKey: signingKeyRaw === 0 ? 'vcek' : signingKeyRaw === 1 ? 'vlek' : signingKeyRaw === 7 ? 'none' : 'reserved',
      signingKeyRaw,
    },
    reportData: copy(b, 0x50, 0x90),
    measurement: copy(b, 0x90, 0xc0),
    hostData: copy(b, 0xc0, 0xe0),
    idKeyDigest: copy(b, 0xe0, 0x110),
    authorKeyDigest: copy(b, 0x110, 0x140),
    reportId: copy(b, 0x140, 0x160),
    reportIdMa: copy(b, 0x160, 0x180),
    reportedTcb: tcb(0x180),
    cpuid,
    chipId,
    committedTcb: tcb(0x1e0),
    // CURRENT_BUILD 1E8h, CURRENT_MINOR 1E9h, CURRENT_MAJOR 1EAh; COMMITTED_* at 1ECh..1EEh
    currentVersion: { build: b[0x1e8] ?? 0, minor: b[0x1e9] ?? 0, major: b[0x1ea] ?? 0 },
    committedVersion: { build: b[0x1ec] ?? 0, minor: b[0x1ed] ?? 0, major: b[0x1ee] ?? 0 },
    launchTcb: tcb(0x1f0),
    launchMitVector: version >= 5 ? b.readBigUInt64LE(0x1f8) : undefined,
    currentMitVector: version >= 5 ? b.readBigUInt64LE(0x200) : undefined,
    signature: { r: copy(b, 0x2a0, 0x2e8), s: copy(b, 0x2e8, 0x330) },
    generation,
    tcbLayout: layout,
    signedBytes: copy(b, 0, SNP_SIGNED_LENGTH),
    raw: copy(b, 0, SNP_REPORT_SIZE),
  };
}

/** Decode 8 TCB_VERSION bytes in the given layout (see TcbLayout). */
export function decodeTcbVersion(bytes: Uint8Array, layout: TcbLayout): TcbVersion {
  if (bytes.length !== 8) throw new RangeError(`TCB_VERSION is 8 bytes, got ${bytes.length}`);
  const at = (i: number): number => bytes[i] ?? 0;
  const raw = Buffer.from(bytes).readBigUInt64LE(0);
  if (layout === 'turin') {
    return { layout, raw, fmc: at(0), bootloader: at(1), tee: at(2), snp: at(3), microcode: at(7) };
  }
  return { layout, raw, bootloader: at(0), tee: at(1), snp: at(6), microcode: at(7) };
}

/**
 * Generation from the report's CPUID_FAM_ID / CPUID_MOD_ID (combined extended+base values).
 * Ranges from virtee/sev src/lib.rs `Generation::identify_cpu`: family 19h models 0h-Fh Milan,
 * 10h-1Fh and A0h-AFh Genoa; family 1Ah models 0h-11h Turin, 50h-57h/90h-AFh/C0h-C7h Venice.
 */
export function generationFromCpuid(family: number, model: number): SnpGeneration | undefined {
  if (family === 0x19) {
    if (model <= 0x0f) return 'milan';
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return 'genoa';
    return undefined;
  }
  if (family === 0x1a) {
    if (model <= 0x11) return 'turin';
    if (
      (model >= 0x50 && model <= 0x57) ||
      (model >= 0x90 && model <= 0xaf) ||
      (model >= 0xc0 && model <= 0xc7)
    ) {
      return 'venice';
    }
    return undefined;
  }
  return undefined;
}

/** TCB layout of a generation: Turin and later use the FMC layout (virtee/sev TcbVersion Decoder). */
export function tcbLayoutOfGeneration(generation: SnpGeneration): TcbLayout {
  return generation === 'turin' || generation === 'venice' ? 'turin' : 'milan-genoa';
}

/**
 * Hex text (as in virtee's tests/certs_data/report_milan.hex) to bytes. Whitespace and an
 * optional 0x prefix are ignored. Throws InputError on anything else.
 */
export function hexToBytes(text: string, source: string): Buffer {
  const clean = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (clean.length % 2 !== 0) throw new InputError(source, `hex text has an odd number of digits (${clean.length})`);
  const bad = /[^0-9a-fA-F]/.exec(clean);
  if (bad) throw new InputError(source, `hex text has a non-hex character '${bad[0]}' at digit ${bad.index}`);
  return Buffer.from(clean, 'hex');
}

function tcbLayoutOf(
  cpuid: { family: number; model: number } | undefined,
  chipId: Buffer,
  source: string,
  hint: SnpGeneration | undefined,
): { generation: SnpGeneration | undefined; layout: TcbLayout } {
  if (cpuid) {
    // Version 3+: the report names its processor (CPUID_FAM_ID at 188h, CPUID_MOD_ID at 189h).
    const generation = generationFromCpuid(cpuid.family, cpuid.model) ?? hint;
    if (cpuid.family === 0x19) return { generation, layout: 'milan-genoa' };
    if (cpuid.family === 0x1a) return { generation, layout: 'turin' };
    throw new InputError(
      source,
      `CPUID_FAM_ID (offset 0x188) is 0x${hex2(cpuid.family)}; SEV-SNP processors are family 0x19 (Milan, Genoa) or 0x1A (Turin, Venice)`,
    );
  }
  // Version 2 has no CPUID fields. A Turin CHIP_ID uses only its first 8 bytes
  // (virtee/sev `chip_id_is_turin_like`, snpguest src/fetch.rs `get_processor_model`).
  const allZero = chipId.every((x) => x === 0);
  if (!allZero) {
    const turinLike = chipId.subarray(8).every((x) => x === 0);
    // Milan and Genoa share the TCB layout, so a 64-byte CHIP_ID settles the layout but not the generation.
    if (turinLike) return { generation: 'turin', layout: 'turin' };
    return { generation: hint === 'milan' || hint === 'genoa' ? hint : undefined, layout: 'milan-genoa' };
  }
  if (hint) return { generation: hint, layout: tcbLayoutOfGeneration(hint) };
  throw new InputError(
    source,
    'CHIP_ID (offset 0x1A0) is all zero (MASK_CHIP_ID) in a version 2 report, so the TCB_VERSION layout (Milan/Genoa or Turin) cannot be told; pass the processor generation',
  );
}

function mbz(b: Buffer, lo: number, hi: number, source: string, what: string): void {
  for (let i = lo; i < hi; i++) {
    if (b[i] !== 0) {
      throw new InputError(source, `${what} must be zero; byte 0x${i.toString(16).toUpperCase()} is 0x${hex2(b[i] ?? 0)}`);
    }
  }
}

function copy(b: Buffer, lo: number, hi: number): Buffer {
  return Buffer.from(b.subarray(lo, hi));
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
