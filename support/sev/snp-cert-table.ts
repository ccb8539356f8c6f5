/**
 * The certificate table an SNP extended guest request returns (SNP_GET_EXT_REPORT certs_address;
 * the host's SNP_SET_EXT_CONFIG / KVM certificate blob).
 *
 * Format: AMD "SEV-ES Guest-Hypervisor Communication Block Standardization" (GHCB spec, pub. 56421),
 * section "SNP Extended Guest Request" (NAE event 0x8000_0012), certificate table: an array of
 * 24-byte entries { GUID (16 bytes), offset (u32 LE), length (u32 LE) } terminated by an entry of
 * all zeros; offsets are from the start of the table. Kernel Documentation/virt/coco/sev-guest.rst
 * section 2.3 defers to the GHCB spec for parsing.
 *
 * GUID byte order: the 16 bytes are the GUID in RFC 4122 (big-endian, string) order, as written
 * by virtee/sev src/firmware/linux/host/types/snp.rs (`guid.as_bytes()`), read by
 * google/go-sev-guest abi/abi.go `CertTableHeaderEntry.Unmarshal` (uuid.UUID) and by AMD's
 * sev-guest tools (uuid_t from uuid_parse).
 */
import { InputError } from '../errors.js';

/** Entry size (GHCB spec certificate table). */
export const CERT_TABLE_ENTRY_SIZE = 24;

/**
 * Known GUIDs. ARK, ASK, VCEK, VLEK: GHCB spec certificate table GUIDs, the same strings in
 * virtee/sev src/firmware/host/types/snp.rs `CertType` and go-sev-guest abi/abi.go (the ASVK, which
 * signs VLEKs, travels under the ASK GUID there). CRL: virtee/sev `CertType::CRL`.
 */
export const SNP_CERT_GUIDS = {
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;
export type CertKind = keyof typeof SNP_CERT_GUIDS;

export interface CertTableEntry {
  readonly guid: string;
  /** undefined for a GUID not in SNP_CERT_GUIDS */
  readonly kind?: CertKind | undefined;
  readonly offset: number;
  readonly length: number;
  readonly data: Buffer;
}

export interface CertTable {
  readonly entries: readonly CertTableEntry[];
  /** bytes of the table itself, terminator included */
  readonly tableSize: number;
  /** things a guest may trip on but that do not break the table (unknown GUIDs, empty certificates) */
  readonly warnings: readonly string[];
}

/**
 * Parse a certificate table. An empty buffer is an empty table (the host supplied no certificates).
 * Throws InputError on truncation, a missing terminator, an offset into the table, a certificate
 * running past the buffer, overlapping certificates, or a GUID listed twice.
 */
export function parseCertTable(bytes: Uint8Array, source: string): CertTable {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length === 0) return { entries: [], tableSize: 0, warnings: [] };

  const headers: { guid: string; offset: number; length: number; index: number }[] = [];
  let tableSize = -1;
  for (let at = 0, index = 0; ; at += CERT_TABLE_ENTRY_SIZE, index++) {
    if (at + CERT_TABLE_ENTRY_SIZE > b.length) {
      throw new InputError(
        source,
        at === b.length
          ? `certificate table has no all-zero terminator entry after its ${index} entries`
          : `certificate table entry ${index} is truncated: ${b.length - at} of ${CERT_TABLE_ENTRY_SIZE} bytes at offset ${at}`,
      );
    }
    const guidBytes = b.subarray(at, at + 16);
    const offset = b.readUInt32LE(at + 16);
    const length = b.readUInt32LE(at + 20);
    if (guidBytes.every((x) => x === 0)) {
      if (offset !== 0 || length !== 0) {
        throw new InputError(
          source,
          `certificate table entry ${index} has a zero GUID but offset ${offset} and length ${length}; the terminator must be all zero`,
        );
      }
      tableSize = at + CERT_TABLE_ENTRY_SIZE;
      break;
    }
    headers.push({ guid: guidToString(guidBytes), offset, length, index });
  }

  const warnings: string[] = [];
  const seen = new Map<string, number>();
  const entries: CertTableEntry[] = [];
  for (const h of headers) {
    const prev = seen.get(h.guid);
    if (prev !== undefined) {
      throw new InputError(source, `certificate table entries ${prev} and ${h.index} both have GUID ${h.guid}`);
    }
    seen.set(h.guid, h.index);
    if (h.length > 0 && h.offset < tableSize) {
      throw new InputError(
        source,
        `certificate table entry ${h.index} (${h.guid}) has offset ${h.offset}, inside the ${tableSize}-byte table itself`,
      );
    }
    if (h.offset + h.length > b.length) {
      throw new InputError(
        source,
        `certificate table entry ${h.index} (${h.guid}) spans bytes ${h.offset}..${h.offset + h.length - 1}, past the end of the ${b.length}-byte buffer`,
      );
    }
    const kind = kindOf(h.guid);
    if (!kind) {
      const swapped = kindOf(guidToString(swapMixedEndian(guidFromString(h.guid))));
      warnings.push(
        swapped
          ? `entry ${h.index}: GUID ${h.guid} is the ${swapped.toUpperCase()} GUID with its first three fields byte-swapped (mixed-endian/EFI order); the host must write GUIDs in RFC 4122 byte order`
          : `entry ${h.index}: unknown GUID ${h.guid}`,
      );
    }
    if (h.length === 0) warnings.push(`entry ${h.index} (${kind ?? h.guid}) has length 0`);
    entries.push({ guid: h.guid, kind, offset: h.offset, length: h.length, data: Buffer.from(b.subarray(h.offset, h.offset + h.length)) });
  }

  const spans = entries.filter((e) => e.length > 0).sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1] as CertTableEntry;
    const c = spans[i] as CertTableEntry;
    if (c.offset < a.offset + a.length) {
      throw new InputError(
        source,
        `certificates ${a.kind ?? a.guid} (bytes ${a.offset}..${a.offset + a.length - 1}) and ${c.kind ?? c.guid} (from byte ${c.offset}) overlap`,
      );
    }
  }
  return { entries, tableSize, warnings };
}

/**
 * Build a certificate table: entries, the zero terminator, then the certificates back to back
 * (the layout virtee/sev `uapi_to_vec_bytes` and go-sev-guest `CertTable.Marshal` produce).
 * `pad` rounds the total up to a multiple (e.g. 4096: the kernel hands out whole pages).
 */
export function buildCertTable(
  certs: readonly { readonly guid: CertKind | string; readonly data: Uint8Array }[],
  options: { readonly pad?: number } = {},
): Buffer {
  const tableSize = (certs.length + 1) * CERT_TABLE_ENTRY_SIZE;
  const total = tableSize + certs.reduce((n, c) => n + c.data.length, 0);
  const pad = options.pad ?? 1;
  const out = Buffer.alloc(Math.ceil(total / pad) * pad);
  let cursor = tableSize;
  certs.forEach((c, i) => {
    const guid = c.guid in SNP_CERT_GUIDS ? SNP_CERT_GUIDS[c.guid as CertKind] : c.guid;
    const at = i * CERT_TABLE_ENTRY_SIZE;
    guidFromString(guid).copy(out, at);
    out.writeUInt32LE(cursor, at + 16);
    out.writeUInt32LE(c.data.length, at + 20);
    Buffer.from(c.data).copy(out, cursor);
    cursor += c.data.length;
  });
  return out;
}

/** The first entry of a kind, if present. */
export function certOf(table: CertTable, kind: CertKind): CertTableEntry | undefined {
  return table.entries.find((e) => e.kind === kind);
}

/** RFC 4122 text of 16 GUID bytes in network order. */
export function guidToString(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 16 bytes of a GUID string, network order. Throws RangeError on a malformed string (caller bug). */
export function guidFromString(guid: string): Buffer {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(guid)) {
    throw new RangeError(`not a GUID: ${guid}`);
  }
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}

function kindOf(guid: string): CertKind | undefined {
  const g = guid.toLowerCase();
  return (Object.keys(SNP_CERT_GUIDS) as CertKind[]).find((k) => SNP_CERT_GUIDS[k] === g);
}

/** Swap the first three fields (4, 2, 2 bytes): RFC 4122 order <-> EFI/Microsoft mixed-endian order. */
function swapMixedEndian(b: Buffer): Buffer {
  const o = Buffer.from(b);
  o.subarray(0, 4).reverse();
  o.subarray(4, 6).reverse();
  o.subarray(6, 8).reverse();
  return o;
}
