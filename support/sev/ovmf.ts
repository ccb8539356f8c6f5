/**
 * OVMF firmware image parsing for SEV launches: the GUIDed footer table at the end of the image,
 * the SEV metadata ("ASEV") section list, the SEV-ES AP reset block, the SEV hashes table and
 * secret block locations.
 *
 * Sources:
 * - QEMU docs/specs/sev-guest-firmware.rst, "Table memory layout" (the footer table) and
 *   QEMU hw/i386/pc_sysfw_ovmf.c (how QEMU scans it).
 * - edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm (table entries and their GUIDs) and
 *   OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm (the ASEV metadata header and section types).
 * - virtee/sev-snp-measure sevsnpmeasure/ovmf.py (the behaviour `sevcheck measure` matches).
 *
 * Pure: bytes in, structures out. Every malformation is an InputError naming the image and field.
 */
import { InputError } from '../errors.js';
import { guidFromBytesLe } from './guid.js';

/** The firmware is mapped so that it ends at 4 GiB (QEMU hw/i386/pc_sysfw.c, x86 reset vector at 0xfffffff0). */
export const FOUR_GIB = 0x1_0000_0000;

/** Footer GUID at image end - 0x30 (GPA 0xffffffd0), QEMU docs/specs/sev-guest-firmware.rst. */
export const OVMF_TABLE_FOOTER_GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';
/** SEV-ES reset block: u32 AP reset address (CS base [31:16] | IP [15:0]); sev-guest-firmware.rst "SEV-ES reset block". */
export const SEV_ES_RESET_BLOCK_GUID = '00f771de-1a7e-4fcb-890e-68c77e2fb44e';
/** SEV hashes table: u32 base GPA, u32 size; sev-guest-firmware.rst "SEV hashes table". */
export const SEV_HASH_TABLE_RV_GUID = '7255371f-3a3b-4b04-927b-1da6efa8d454';
/** SEV secret block: u32 base GPA, u32 size; sev-guest-firmware.rst "SEV secret block". */
export const SEV_SECRET_BLOCK_GUID = '4c2eb361-7d9b-4cc3-8081-127c90d3d294';
/** SEV metadata: u32 offset from the image end to the ASEV header; edk2 ResetVectorVtf0.asm "SevMetadataOffset". */
export const OVMF_SEV_METADATA_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';
/** Coconut-SVSM info entry: u32 offset of the SVSM entry point within the SVSM image (sev-snp-measure ovmf.py `SVSM`). */
export const SVSM_INFO_GUID = 'a789a612-0597-4c4b-a49f-cbb1fe9d1ddd';

/** Bytes between the footer entry and the image end: 32 (AP entry code, "\0\0\0\0VTF\0", reset vector), sev-guest-firmware.rst. */
const FOOTER_TAIL = 32;
/** Each table entry ends with u16 length + 16-byte GUID; the length covers the entry's data and these 18 bytes. */
const ENTRY_HEADER = 18;

/**
 * OVMF SEV metadata section types, edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm
 * (OVMF_SECTION_TYPE_*); SVSM_CAA from Coconut-SVSM's edk2 fork as used by sev-snp-measure ovmf.py.
 */
export const SectionType = {
  SNP_SEC_MEM: 1,
  SNP_SECRETS: 2,
  CPUID: 3,
  SVSM_CAA: 4,
  SNP_KERNEL_HASHES: 0x10,
} as const;
export type SectionTypeValue = (typeof SectionType)[keyof typeof SectionType];

export function sectionTypeName(type: number): string {
  for (const [name, value] of Object.entries(SectionType)) if (value === type) return name;
  return `unknown(${type})`;
}

/** One OvmfSevMetadata section descriptor: u32 gpa, u32 size, u32 type (OvmfSevMetadata.asm). */
export interface SevMetadataSection {
  gpa: number;
  size: number;
  type: number;
}

export interface OvmfImage {
  /** Name used in error messages (usually the file path). */
  source: string;
  data: Uint8Array;
  /** False when the footer GUID is absent (plain, non-SEV OVMF or not OVMF at all). */
  hasFooterTable: boolean;
  /** Footer table entries by lower-case GUID text; each value is the entry's data. */
  table: ReadonlyMap<string, Uint8Array>;
  /** SEV metadata sections in image order; empty when the image has no metadata entry. */
  metadata: readonly SevMetadataSection[];
}

function u16(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}
function u32(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16) | ((b[off + 3] ?? 0) << 24)) >>> 0;
}

/**
 * Parse the OVMF GUIDed footer table. Returns null when the footer GUID is not at end-0x30
 * (sev-snp-measure treats that as "no table", so does this). Entries are scanned backwards from
 * the footer, each `data || u16 length || GUID` (QEMU hw/i386/pc_sysfw_ovmf.c).
 */
export function parseFooterTable(data: Uint8Array, source: string): Map<string, Uint8Array> | null {
  if (data.length < FOOTER_TAIL + ENTRY_HEADER) {
    throw new InputError(source, `image is ${data.length} bytes, too small to hold the OVMF footer table (needs ${FOOTER_TAIL + ENTRY_HEADER})`);
  }
  const footerStart = data.length - FOOTER_TAIL - ENTRY_HEADER;
  const footerGuid = guidFromBytesLe(data.subarray(footerStart + 2, footerStart + ENTRY_HEADER));
  if (footerGuid !== OVMF_TABLE_FOOTER_GUID) return null;
  const totalLength = u16(data, footerStart);
  if (totalLength < ENTRY_HEADER) {
    throw new InputError(source, `OVMF footer table length ${totalLength} at end-0x32 is smaller than its own ${ENTRY_HEADER}-byte header`);
  }
  const tableLength = totalLength - ENTRY_HEADER;
  if (tableLength > footerStart) {
    throw new InputError(source, `OVMF footer table length ${totalLength} runs past the start of the image (truncated image?)`);
  }
  const table = new Map<string, Uint8Array>();
  let end = footerStart; // exclusive end of the remaining table bytes
  const start = footerStart - tableLength;
  // Trailing bytes shorter than an entry header are ignored, as sev-snp-measure and QEMU do.
  while (end - start >= ENTRY_HEADER) {
    const entryLength = u16(data, end - ENTRY_HEADER);
    const guid = guidFromBytesLe(data.subarray(end - 16, end));
    if (entryLength < ENTRY_HEADER) {
      throw new InputError(source, `OVMF footer table entry ${guid} has length ${entryLength}, less than its ${ENTRY_HEADER}-byte header`);
    }
    if (entryLength > end - start) {
      throw new InputError(source, `OVMF footer table entry ${guid} has length ${entryLength} but only ${end - start} table bytes remain (truncated table)`);
    }
    if (table.has(guid)) {
      throw new InputError(source, `OVMF footer table has two entries with GUID ${guid}`);
    }
    table.set(guid, data.subarray(end - entryLength, end - ENTRY_HEADER));
    end -= entryLength;
  }
  return table;
}

/** SEV metadata header: "ASEV", u32 size, u32 version (=1), u32 item count (OvmfSevMetadata.asm). */
const METADATA_HEADER = 16;
const METADATA_SIGNATURE = 'ASEV';
const METADATA_VERSION = 1;
const METADATA_DESC = 12;
const PAGE = 4096;

/** Parse the ASEV metadata the table's OVMF_SEV_METADATA_GUID entry points at; [] when there is none. */
export function parseSevMetadata(data: Uint8Array, table: ReadonlyMap<string, Uint8Array>, source: string): SevMetadataSection[] {
  const entry = table.get(OVMF_SEV_METADATA_GUID);
  if (entry === undefined) return [];
  if (entry.length < 4) {
    throw new InputError(source, `SEV metadata entry (${OVMF_SEV_METADATA_GUID}) has ${entry.length} data bytes, needs a u32 offset`);
  }
  const offsetFromEnd = u32(entry, 0);
  if (offsetFromEnd > data.length || offsetFromEnd < METADATA_HEADER) {
    throw new InputError(source, `SEV metadata offset ${offsetFromEnd} from the image end lies outside the ${data.length}-byte image`);
  }
  const start = data.length - offsetFromEnd;
  const sig = Buffer.from(data.subarray(start, start + 4)).toString('latin1');
  if (sig !== METADATA_SIGNATURE) {
    const shown = /^[\x20-\x7e]{4}$/.test(sig) ? JSON.stringify(sig) : `0x${Buffer.from(sig, 'latin1').toString('hex')}`;
    throw new InputError(source, `SEV metadata at end-0x${offsetFromEnd.toString(16)}: signature ${shown}, expected "ASEV"`);
  }
  const size = u32(data, start + 4);
  const version = u32(data, start + 8);
  const count = u32(data, start + 12);
  if (version !== METADATA_VERSION) {
    throw new InputError(source, `SEV metadata version ${version}, only version 1 is known`);
  }
  if (start + size > data.length || size < METADATA_HEADER) {
    throw new InputError(source, `SEV metadata size ${size} runs past the image end (truncated metadata)`);
  }
  if (METADATA_HEADER + count * METADATA_DESC > size) {
    throw new InputError(source, `SEV metadata declares ${count} sections but its size ${size} holds only ${Math.floor((size - METADATA_HEADER) / METADATA_DESC)} (truncated metadata)`);
  }
  const sections: SevMetadataSection[] = [];
  for (let i = 0; i < count; i++) {
    const off = start + METADATA_HEADER + i * METADATA_DESC;
    const s = { gpa: u32(data, off), size: u32(data, off + 4), type: u32(data, off + 8) };
    const what = `SEV metadata section ${i} (${sectionTypeName(s.type)} at 0x${s.gpa.toString(16)})`;
    // Pages are measured one 4 KiB page at a time (SNP ABI spec, SNP_LAUNCH_UPDATE); QEMU rejects unaligned ranges.
    if (s.gpa % PAGE !== 0 || s.size % PAGE !== 0) {
      throw new InputError(source, `${what}: gpa/size 0x${s.gpa.toString(16)}/0x${s.size.toString(16)} not 4 KiB aligned`);
    }
    if (s.gpa + s.size > FOUR_GIB) {
      throw new InputError(source, `${what}: size 0x${s.size.toString(16)} runs past 4 GiB`);
    }
    sections.push(s);
  }
  const sorted = [...sections].sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a && b && a.size > 0 && b.size > 0 && a.gpa + a.size > b.gpa) {
      throw new InputError(
        source,
        `SEV metadata sections overlap: ${sectionTypeName(a.type)} 0x${a.gpa.toString(16)}+0x${a.size.toString(16)} and ${sectionTypeName(b.type)} 0x${b.gpa.toString(16)}+0x${b.size.toString(16)}`,
      );
    }
  }
  return sections;
}

/** Parse an OVMF (or Coconut-SVSM) image: footer table and SEV metadata. */
export function parseOvmf(data: Uint8Array, source: string): OvmfImage {
  const table = parseFooterTable(data, source);
  return {
    source,
    data,
    hasFooterTable: table !== null,
    table: table ?? new Map(),
    metadata: table ? parseSevMetadata(data, table, source) : [],
  };
}

/** GPA of the image's first byte when it is mapped to end at `endAt` (default 4 GiB, sev-snp-measure ovmf.py). */
export function ovmfGpa(image: OvmfImage, endAt: number = FOUR_GIB): number {
  return endAt - image.data.length;
}

function requireTable(image: OvmfImage, guid: string, what: string): Uint8Array {
  if (!image.hasFooterTable) {
    throw new InputError(image.source, `no OVMF footer GUID table (${OVMF_TABLE_FOOTER_GUID} at end-0x30): not an SEV-capable OVMF build, ${what} is unknown`);
  }
  const entry = image.table.get(guid);
  if (entry === undefined) {
    throw new InputError(image.source, `OVMF footer table has no ${what} entry (${guid})`);
  }
  if (entry.length < 4) {
    throw new InputError(image.source, `${what} entry (${guid}) has ${entry.length} data bytes, needs a u32`);
  }
  return entry;
}

/** SEV-ES AP reset address (CS base | IP) from the reset block; InputError when absent. */
export function sevEsResetEip(image: OvmfImage): number {
  return u32(requireTable(image, SEV_ES_RESET_BLOCK_GUID, 'SEV-ES reset block'), 0);
}

/** SEV hashes table base GPA, or undefined when the image has no (or a zero) entry. */
export function sevHashesTableGpa(image: OvmfImage): number | undefined {
  const entry = image.table.get(SEV_HASH_TABLE_RV_GUID);
  if (entry === undefined || entry.length < 4) return undefined;
  const gpa = u32(entry, 0);
  return gpa === 0 ? undefined : gpa;
}

/**
 * True when the firmware can verify kernel/initrd/cmdline hashes: hashes-table entry present with
 * a non-zero base (sev-snp-measure ovmf.py `is_sev_hashes_table_supported`).
 */
export function hasSevHashesTable(image: OvmfImage): boolean {
  return sevHashesTableGpa(image) !== undefined;
}

/** Guest area for LAUNCH_SECRET injection (u32 base, u32 size), or undefined if absent/zero. */
export function sevSecretBlock(image: OvmfImage): { base: number; size: number } | undefined {
  const entry = image.table.get(SEV_SECRET_BLOCK_GUID);
  if (entry === undefined || entry.length < 8) return undefined;
  const base = u32(entry, 0);
  const size = u32(entry, 4);
  return base === 0 && size === 0 ? undefined : { base, size };
}

/**
 * Coconut-SVSM entry point: the SVSM_INFO entry's u32 offset plus the SVSM image's GPA
 * (sev-snp-measure ovmf.py `SVSM.sev_es_reset_eip`, after coconut-svsm QEMU target/i386/sev.c).
 */
export function svsmResetEip(image: OvmfImage, imageGpa: number): number {
  return u32(requireTable(image, SVSM_INFO_GUID, 'SVSM info'), 0) + imageGpa;
}

export function hasMetadataSection(image: OvmfImage, type: number): boolean {
  return image.metadata.some((s) => s.type === type);
}
