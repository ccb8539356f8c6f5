/**
 * SEV LAUNCH_SECRET: the guest owner's secret table, encrypted for one measured launch and
 * injected with QEMU's `sev-inject-launch-secret` (packet-header + secret, both base64).
 *
 * - Packet header (SEV API spec #55766 §6.6 LAUNCH_SECRET, Table 55 "LAUNCH_SECRET Packet Header
 *   Buffer"): FLAGS u32 LE || IV (16) || MAC (32).
 * - MAC = HMAC-SHA256(0x01 || FLAGS || IV || GUEST_LENGTH u32 || TRANS_LENGTH u32 || DATA ||
 *   MEASURE; key = TIK), DATA the ciphertext, MEASURE the 32-byte LAUNCH_MEASURE value (§6.6).
 * - DATA = AES-128-CTR(TEK, IV) over the plaintext secret table (§6.6; FLAGS.COMPRESSED = 0).
 * - Secret table (the format OVMF's SecretDxe/grub's efisecret expect; built as
 *   libvirt tools/virt-qemu-sev-validate `SecretsTable`/`GUIDTable.build` does): table GUID ||
 *   u32 total length || entries (GUID || u32 entry length || value), then 1..16 zero bytes so the
 *   length is a multiple of 16 (virt-qemu-sev-validate always adds `16 - len % 16`).
 *
 * Keys and secret values are inputs only: nothing here formats them into a message.
 */
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';
import { guidFromBytesLe, guidToBytesLe, isGuid } from './guid.js';
import { requireSevKey } from './sev-measurement.js';

/** Secret table GUID (virt-qemu-sev-validate `SecretsTable.TABLE_GUID`, edk2 OvmfPkg SEV launch secret). */
export const SEV_SECRET_TABLE_GUID = '1e74f542-71dd-4d66-963e-ef4287ff173b';
/** Well-known secret entry aliases (virt-qemu-sev-validate `SecretsTable.GUID_ALIASES`). */
export const SECRET_GUID_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'luks-key': '736869e5-84f0-4973-92ec-06879ce3da0b',
});

/** Context byte of the LAUNCH_SECRET header MAC (SEV API spec §6.6). */
const SECRET_CONTEXT = 0x01;
const IV_SIZE = 16;
const MAC_SIZE = 32;
/** FLAGS u32 || IV || MAC (Table 55). */
export const SECRET_HEADER_SIZE = 4 + IV_SIZE + MAC_SIZE;
/** GUID (16) + u32 length: secret table and entry header (virt-qemu-sev-validate GUIDTable, lenlen=4). */
const TABLE_HDR = 20;

export interface SecretEntry {
  /** A GUID, or an alias from SECRET_GUID_ALIASES. */
  guid: string;
  value: Uint8Array;
}

function resolveGuid(aliasOrGuid: string): string {
  if (isGuid(aliasOrGuid)) return aliasOrGuid.toLowerCase();
  const g = SECRET_GUID_ALIASES[aliasOrGuid];
  if (g === undefined) {
    throw new InputError('secret', `"${aliasOrGuid}" is neither a GUID nor a known alias (${Object.keys(SECRET_GUID_ALIASES).join(', ')})`);
  }
  return g;
}

/** Build the plaintext secret table (virt-qemu-sev-validate `SecretsTable.build`). */
export function buildSecretTable(entries: readonly SecretEntry[]): Uint8Array {
  if (entries.length === 0) throw new InputError('secret', 'no secret entries: nothing to inject');
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (const e of entries) {
    const guid = resolveGuid(e.guid);
    if (seen.has(guid)) throw new InputError('secret', `two secrets for GUID ${guid}`);
    seen.add(guid);
    const hdr = Buffer.alloc(TABLE_HDR);
    hdr.set(guidToBytesLe(guid), 0);
    hdr.writeUInt32LE(TABLE_HDR + e.value.length, 16);
    parts.push(hdr, Buffer.from(e.value));
  }
  const body = Buffer.concat(parts);
  const total = TABLE_HDR + body.length;
  const pad = 16 - (total % 16); // always 1..16, as virt-qemu-sev-validate GUIDTable.build
  const out = Buffer.alloc(total + pad);
  out.set(guidToBytesLe(SEV_SECRET_TABLE_GUID), 0);
  out.writeUInt32LE(total, 16);
  out.set(body, TABLE_HDR);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Parse a plaintext secret table (inverse of buildSecretTable; for round trips and guest-side checks). */
export function parseSecretTable(table: Uint8Array, source = 'secret table'): SecretEntry[] {
  const b = Buffer.from(table.buffer, table.byteOffset, table.length);
  if (b.length < TABLE_HDR) throw new InputError(source, `${b.length} bytes, shorter than the 20-byte table header`);
  const guid = guidFromBytesLe(b.subarray(0, 16));
  if (guid !== SEV_SECRET_TABLE_GUID) throw new InputError(source, `table GUID ${guid}, expected ${SEV_SECRET_TABLE_GUID}`);
  const total = b.readUInt32LE(16);
  if (total < TABLE_HDR || total > b.length) throw new InputError(source, `table length ${total} outside 20..${b.length}`);
  const entries: SecretEntry[] = [];
  let off = TABLE_HDR;
  while (off < total) {
    if (off + TABLE_HDR > total) throw new InputError(source, `entry at offset ${off} truncated`);
    const len = b.readUInt32LE(off + 16);
    if (len < TABLE_HDR || off + len > total) throw new InputError(source, `entry at offset ${off} has length ${len} outside the table`);
    entries.push({ guid: guidFromBytesLe(b.subarray(off, off + 16)), value: new Uint8Array(b.subarray(off + TABLE_HDR, off + len)) });
    off += len;
  }
  return entries;
}

export interface LaunchSecretInput {
  tik: Uint8Array;
  tek: Uint8Array;
  /** The 32-byte MEASURE from LAUNCH_MEASURE (parseLaunchMeasurement(...).measure). */
  measure: Uint8Array;
  /** Plaintext to wrap, usually buildSecretTable(...). */
  secret: Uint8Array;
  /** 16-byte IV; random when omitted (virt-qemu-sev-validate uses os.urandom(16)). */
  iv?: Uint8Array;
  /** Packet header FLAGS (Table 55); 0 = not compressed. */
  flags?: number;
}

export interface LaunchSecretPacket {
  header: Uint8Array;
  data: Uint8Array;
  /** base64 of `header` for sev-inject-launch-secret's packet-header. */
  headerB64: string;
  /** base64 of `data` for sev-inject-launch-secret's secret. */
  secretB64: string;
}

function headerMac(tik: Uint8Array, flags: number, iv: Uint8Array, guestLength: number, data: Uint8Array, measure: Uint8Array): Buffer {
  const fixed = Buffer.alloc(1 + 4 + IV_SIZE + 4 + 4);
  fixed[0] = SECRET_CONTEXT;
  fixed.writeUInt32LE(flags >>> 0, 1);
  fixed.set(iv, 5);
  fixed.writeUInt32LE(guestLength, 21); // GUEST_LENGTH
  fixed.writeUInt32LE(data.length, 25); // TRANS_LENGTH
  return createHmac('sha256', tik).update(fixed).update(data).update(measure).digest();
}

function checkCommon(tik: Uint8Array, tek: Uint8Array, measure: Uint8Array): void {
  requireSevKey('TIK', tik);
  requireSevKey('TEK', tek);
  if (measure.length !== MAC_SIZE) throw new InputError('launch measurement', `MEASURE must be 32 bytes, got ${measure.length}`);
}

/** Encrypt and MAC a secret for LAUNCH_SECRET (virt-qemu-sev-validate `build_secrets`). */
export function buildLaunchSecret(input: LaunchSecretInput): LaunchSecretPacket {
  checkCommon(input.tik, input.tek, input.measure);
  const iv = input.iv ?? randomBytes(IV_SIZE);
  if (iv.length !== IV_SIZE) throw new InputError('IV', `must be ${IV_SIZE} bytes, got ${iv.length}`);
  const flags = input.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new InputError('FLAGS', `${flags} is not a u32`);
  const cipher = createCipheriv('aes-128-ctr', input.tek, iv);
  const data = Buffer.concat([cipher.update(input.secret), cipher.final()]);
  const mac = headerMac(input.tik, flags, iv, input.secret.length, data, input.measure);
  const header = Buffer.alloc(SECRET_HEADER_SIZE);
  header.writeUInt32LE(flags >>> 0, 0);
  header.set(iv, 4);
  header.set(mac, 4 + IV_SIZE);
  return { header, data, headerB64: header.toString('base64'), secretB64: data.toString('base64') };
}

/**
 * Verify a LAUNCH_SECRET packet's MAC and decrypt it, as the SEV firmware does (SEV API spec §6.6).
 * GUEST_LENGTH equals TRANS_LENGTH for uncompressed packets. Throws InputError when the MAC
 * does not verify (wrong TIK, measurement, or tampered header/data).
 */
export function openLaunchSecret(tik: Uint8Array, tek: Uint8Array, measure: Uint8Array, header: Uint8Array, data: Uint8Array): Uint8Array {
  checkCommon(tik, tek, measure);
  if (header.length !== SECRET_HEADER_SIZE) throw new InputError('packet header', `must be ${SECRET_HEADER_SIZE} bytes, got ${header.length}`);
  const h = Buffer.from(header.buffer, header.byteOffset, header.length);
  const flags = h.readUInt32LE(0);
  const iv = h.subarray(4, 4 + IV_SIZE);
  const mac = h.subarray(4 + IV_SIZE);
  const expected = headerMac(tik, flags, iv, data.length, data, measure);
  if (!timingSafeEqual(mac, expected)) throw new InputError('packet header', 'MAC does not verify with this TIK and measurement');
  const decipher = createCipheriv('aes-128-ctr', tek, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}
