/**
 * The SEV hashes table QEMU places in guest memory for measured direct kernel boot
 * (`-kernel/-initrd/-append` with `kernel-hashes=on`), which OVMF checks the loaded files against.
 *
 * Layout: QEMU target/i386/sev.c `SevHashTable` / `SevHashTableEntry` / `PaddedSevHashTable`
 * (all packed, little-endian): table GUID, u16 length, then entries cmdline, initrd, kernel, each
 * GUID || u16 length (=50) || SHA-256; padded with zeros to a multiple of 16 bytes. Identical to
 * virtee/sev-snp-measure sev_hashes.py and libvirt tools/virt-qemu-sev-validate `KernelTable`.
 */
import { createHash } from 'node:crypto';
import { guidToBytesLe } from './guid.js';

/** QEMU target/i386/sev.c `sev_hash_table_header_guid`. */
export const SEV_HASH_TABLE_HEADER_GUID = '9438d606-4f22-4cc9-b479-a793d411fd21';
/** QEMU target/i386/sev.c `sev_kernel_entry_guid`. */
export const SEV_KERNEL_ENTRY_GUID = '4de79437-abd2-427f-b835-d5b172d2045b';
/** QEMU target/i386/sev.c `sev_initrd_entry_guid`. */
export const SEV_INITRD_ENTRY_GUID = '44baf731-3a2f-4bd7-9af1-41e29169781d';
/** QEMU target/i386/sev.c `sev_cmdline_entry_guid`. */
export const SEV_CMDLINE_ENTRY_GUID = '97d02dd8-bd20-4c94-aa78-e7714d36ab2a';

const ENTRY_SIZE = 16 + 2 + 32; // SevHashTableEntry
const TABLE_SIZE = 16 + 2 + 3 * ENTRY_SIZE; // SevHashTable = 168
/** PaddedSevHashTable: SevHashTable rounded up to 16 bytes (QEMU_ALIGN_UP(sizeof(SevHashTable), 16)). */
export const SEV_HASH_TABLE_PADDED_SIZE = (TABLE_SIZE + 15) & ~15; // 176

export interface SevKernelHashes {
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: Uint8Array;
}

function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/**
 * Hashes of what QEMU hands the guest: the kernel file, the initrd (empty when none), and the
 * command line as UTF-8 with its terminating NUL ("" → a single NUL), as QEMU
 * target/i386/sev.c `sev_add_kernel_loader_hashes` and sev-snp-measure sev_hashes.py compute them.
 */
export function sevKernelHashes(kernel: Uint8Array, initrd: Uint8Array | undefined, cmdline: string | undefined): SevKernelHashes {
  const cmd = Buffer.concat([Buffer.from(cmdline ?? '', 'utf8'), Buffer.from([0])]);
  return { kernel: sha256(kernel), initrd: sha256(initrd ?? new Uint8Array(0)), cmdline: sha256(cmd) };
}

/** The 176-byte padded SEV hashes table (QEMU `PaddedSevHashTable`). */
export function buildSevHashesTable(h: SevKernelHashes): Uint8Array {
  for (const [name, v] of Object.entries(h)) {
    if ((v as Uint8Array).length !== 32) throw new RangeError(`${name} hash must be 32 bytes (SHA-256)`);
  }
  const out = Buffer.alloc(SEV_HASH_TABLE_PADDED_SIZE);
  out.set(guidToBytesLe(SEV_HASH_TABLE_HEADER_GUID), 0);
  out.writeUInt16LE(TABLE_SIZE, 16);
  let off = 18;
  // Entry order is cmdline, initrd, kernel (QEMU SevHashTable member order).
  for (const [guid, hash] of [
    [SEV_CMDLINE_ENTRY_GUID, h.cmdline],
    [SEV_INITRD_ENTRY_GUID, h.initrd],
    [SEV_KERNEL_ENTRY_GUID, h.kernel],
  ] as const) {
    out.set(guidToBytesLe(guid), off);
    out.writeUInt16LE(ENTRY_SIZE, off + 16);
    out.set(hash, off + 18);
    off += ENTRY_SIZE;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * The 4 KiB page SNP measures for the SNP_KERNEL_HASHES section: zeros with the padded table at
 * `offsetInPage` (the hashes-table GPA & 0xfff), sev-snp-measure guest.py `snp_update_kernel_hashes`.
 */
export function sevHashesPage(table: Uint8Array, offsetInPage: number): Uint8Array {
  if (offsetInPage < 0 || offsetInPage + table.length > 4096) {
    throw new RangeError(`hashes table at page offset 0x${offsetInPage.toString(16)} does not fit in a 4 KiB page`);
  }
  const page = new Uint8Array(4096);
  page.set(table, offsetInPage);
  return page;
}
