/**
 * Synthetic OVMF / SVSM images for tests: a deterministic body, an ASEV metadata block and the
 * GUIDed footer table laid out as QEMU docs/specs/sev-guest-firmware.rst describes. Knobs let
 * tests corrupt each field. Test-only; the expected digests of the images built by
 * `synthImages()` were computed by running sev-snp-measure on files written by
 * `node --import tsx test/sev/measure-fixtures.ts <dir>` (see measure-vectors.ts).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guidToBytesLe } from '../../support/sev/guid.js';
import {
  OVMF_SEV_METADATA_GUID,
  OVMF_TABLE_FOOTER_GUID,
  SEV_ES_RESET_BLOCK_GUID,
  SEV_HASH_TABLE_RV_GUID,
  SVSM_INFO_GUID,
} from '../../support/sev/ovmf.js';

export interface SynthEntry {
  guid: string;
  data: Uint8Array;
  /** Override the entry's u16 length (default data + 18). */
  length?: number;
}

export interface SynthMetadata {
  sections: { gpa: number; size: number; type: number }[];
  /** Where the ASEV header starts, counted back from the image end (default 0x800). */
  offsetFromEnd?: number;
  signature?: string;
  version?: number;
  /** Override the header's size field (default 16 + 12 * sections). */
  size?: number;
  /** Override the header's item count. */
  count?: number;
}

export interface SynthImage {
  size: number;
  entries?: SynthEntry[];
  metadata?: SynthMetadata;
  /** Override the footer's total-length field. */
  footerLength?: number;
  /** Leave the footer GUID out (plain firmware). */
  noFooter?: boolean;
  /** Seed for the body pattern. */
  seed?: number;
}

export const u32le = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

export function synthImage(spec: SynthImage): Uint8Array {
  const img = Buffer.alloc(spec.size);
  const seed = spec.seed ?? 1;
  for (let i = 0; i < img.length; i++) img[i] = (i * 7 + (i >>> 12) * 13 + seed) & 0xff;
  const entries = [...(spec.entries ?? [])];
  if (spec.metadata) {
    const md = spec.metadata;
    const off = md.offsetFromEnd ?? 0x800;
    entries.push({ guid: OVMF_SEV_METADATA_GUID, data: u32le(off) });
    const start = img.length - off;
    img.write(md.signature ?? 'ASEV', start, 'latin1');
    img.writeUInt32LE(md.size ?? 16 + 12 * md.sections.length, start + 4);
    img.writeUInt32LE(md.version ?? 1, start + 8);
    img.writeUInt32LE(md.count ?? md.sections.length, start + 12);
    md.sections.forEach((s, i) => {
      const o = start + 16 + 12 * i;
      if (o + 12 > img.length) return;
      img.writeUInt32LE(s.gpa, o);
      img.writeUInt32LE(s.size, o + 4);
      img.writeUInt32LE(s.type, o + 8);
    });
  }
  if (spec.noFooter) return img;
  // Entries are laid out backwards from the footer: the first entry sits right below it.
  let end = img.length - 32 - 18;
  let total = 18;
  for (const e of entries) {
    const len = e.length ?? e.data.length + 18;
    const start = end - (e.data.length + 18);
    img.set(e.data, start);
    img.writeUInt16LE(len, end - 18);
    img.set(guidToBytesLe(e.guid), end - 16);
    end = start;
    total += e.data.length + 18;
  }
  img.writeUInt16LE(spec.footerLength ?? total, img.length - 32 - 18);
  img.set(guidToBytesLe(OVMF_TABLE_FOOTER_GUID), img.length - 32 - 16);
  return img;
}

/** Deterministic stand-ins for a kernel, an initrd and a command line. */
export function synthKernel(): Uint8Array {
  return Uint8Array.from({ length: 65536 + 123 }, (_, i) => (i * 31 + 7) & 0xff);
}
export function synthInitrd(): Uint8Array {
  return new Uint8Array(Buffer.from('sevcheck initrd\n'.repeat(1000)));
}
export const SYNTH_CMDLINE = 'console=ttyS0 root=/dev/vda1 quiet é';

/** The images whose expected digests measure-vectors.ts records. */
export function synthImages(): Record<string, Uint8Array> {
  const ovmf = synthImage({
    size: 0x10000,
    seed: 3,
    entries: [
      { guid: SEV_ES_RESET_BLOCK_GUID, data: u32le(0xffffb004) },
      { guid: SEV_HASH_TABLE_RV_GUID, data: Buffer.concat([u32le(0x80f400), u32le(0x400)]) },
    ],
    metadata: {
      sections: [
        { gpa: 0x800000, size: 0x9000, type: 1 },
        { gpa: 0x80d000, size: 0x1000, type: 2 },
        { gpa: 0x80e000, size: 0x1000, type: 3 },
        { gpa: 0x80f000, size: 0x1000, type: 0x10 },
        { gpa: 0x810000, size: 0x2000, type: 1 },
      ],
    },
  });
  const svsm = synthImage({
    size: 0x20000,
    seed: 5,
    entries: [{ guid: SVSM_INFO_GUID, data: u32le(0x1230) }],
    metadata: {
      sections: [
        { gpa: 0x100000, size: 0x3000, type: 1 },
        { gpa: 0x104000, size: 0x1000, type: 2 },
        { gpa: 0x105000, size: 0x1000, type: 3 },
        { gpa: 0x106000, size: 0x1000, type: 4 },
      ],
    },
  });
  return { 'synth-ovmf.bin': ovmf, 'synth-svsm.bin': svsm, 'synth-kernel.bin': synthKernel(), 'synth-initrd.bin': synthInitrd() };
}

export function writeSynthImages(dir: string): void {
  for (const [name, bytes] of Object.entries(synthImages())) writeFileSync(join(dir, name), bytes);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeSynthImages(process.argv[2] ?? '.');
}
