/**
 * EFI GUIDs in their on-disk ("mixed-endian", Python's `uuid.UUID.bytes_le`) form.
 *
 * UEFI spec 2.10, Appendix A "GUID and Time Formats": the first three fields (32-, 16-, 16-bit)
 * are stored little-endian, the last 8 bytes in order. OVMF's footer table, the SEV hashes table
 * and the SEV secret table all store GUIDs this way (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm,
 * QEMU target/i386/sev.c `PaddedSevHashTable`, libvirt tools/virt-qemu-sev-validate `GUIDTable`).
 */

const GUID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** True for the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function isGuid(text: string): boolean {
  return GUID_RE.test(text);
}

/** Canonical GUID text → 16 bytes, little-endian first three fields (UEFI Appendix A). */
export function guidToBytesLe(text: string): Uint8Array {
  const m = GUID_RE.exec(text);
  if (!m) throw new RangeError(`not a GUID: ${JSON.stringify(text)}`);
  const hex = (m[1] ?? '') + (m[2] ?? '') + (m[3] ?? '') + (m[4] ?? '') + (m[5] ?? '');
  const be = Buffer.from(hex, 'hex');
  const out = new Uint8Array(16);
  // Data1 (u32), Data2 (u16), Data3 (u16) little-endian; Data4[8] as is.
  out.set([be[3] ?? 0, be[2] ?? 0, be[1] ?? 0, be[0] ?? 0, be[5] ?? 0, be[4] ?? 0, be[7] ?? 0, be[6] ?? 0], 0);
  out.set(be.subarray(8, 16), 8);
  return out;
}

/** 16 on-disk bytes → lower-case canonical GUID text. */
export function guidFromBytesLe(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a GUID is 16 bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const h = (i: number): string => (b[i] ?? 0).toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}
