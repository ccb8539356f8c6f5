import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import {
  SECRET_HEADER_SIZE,
  buildLaunchSecret,
  buildSecretTable,
  openLaunchSecret,
  parseSecretTable,
} from '../../support/sev/launch-secret.js';
import { parseLaunchMeasurement } from '../../support/sev/sev-measurement.js';
import { LIBVIRT } from './measure-vectors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const entries = [
  { guid: 'luks-key', value: new Uint8Array(Buffer.from('correct horse battery staple')) },
  { guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9', value: Uint8Array.from({ length: 40 }, (_, i) => i) },
];
const measure = parseLaunchMeasurement(LIBVIRT.seves.measurementB64).measure;

describe('secret table (virt-qemu-sev-validate SecretsTable)', () => {
  it('matches the libvirt-built table byte for byte', () => {
    expect(hex(buildSecretTable(entries))).toBe(LIBVIRT.secret.tableHex);
  });
  it('pads an already 16-aligned table with a full 16 bytes, as libvirt does', () => {
    expect(hex(buildSecretTable([{ guid: 'luks-key', value: new Uint8Array(Buffer.from('xxxxxxxx')) }]))).toBe(LIBVIRT.alignedTableHex);
  });
  it('parses back', () => {
    const back = parseSecretTable(buildSecretTable(entries));
    expect(back.map((e) => e.guid)).toEqual(['736869e5-84f0-4973-92ec-06879ce3da0b', '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9']);
    expect(hex(back[1]?.value ?? new Uint8Array())).toBe(hex(entries[1]?.value ?? new Uint8Array()));
  });
  it('rejects unknown aliases, duplicates, empty tables and corrupt tables', () => {
    expect(() => buildSecretTable([{ guid: 'root-password', value: new Uint8Array(1) }])).toThrow(/neither a GUID nor a known alias/);
    expect(() => buildSecretTable([entries[0]!, { guid: '736869E5-84F0-4973-92EC-06879CE3DA0B', value: new Uint8Array(1) }])).toThrow(/two secrets/);
    expect(() => buildSecretTable([])).toThrow(InputError);
    const t = Buffer.from(buildSecretTable(entries));
    t.writeUInt32LE(0x1000, 16);
    expect(() => parseSecretTable(t, 'secret.bin')).toThrow(/secret.bin: table length 4096/);
  });
});

describe('LAUNCH_SECRET packet (SEV API spec §6.6, Table 55)', () => {
  it('header and data match virt-qemu-sev-validate build_secrets with a fixed IV', () => {
    const p = buildLaunchSecret({ tik: LIBVIRT.tik, tek: LIBVIRT.tek, measure, secret: buildSecretTable(entries), iv: LIBVIRT.iv });
    expect(p.header.length).toBe(SECRET_HEADER_SIZE);
    expect(p.headerB64).toBe(LIBVIRT.secret.headerB64);
    expect(p.secretB64).toBe(LIBVIRT.secret.secretB64);
  });
  it('round trip with a random IV: verify the MAC and decrypt', () => {
    const table = buildSecretTable(entries);
    const p = buildLaunchSecret({ tik: LIBVIRT.tik, tek: LIBVIRT.tek, measure, secret: table });
    const plain = openLaunchSecret(LIBVIRT.tik, LIBVIRT.tek, measure, Buffer.from(p.headerB64, 'base64'), Buffer.from(p.secretB64, 'base64'));
    expect(hex(plain)).toBe(hex(table));
    expect(parseSecretTable(plain)[0]?.guid).toBe('736869e5-84f0-4973-92ec-06879ce3da0b');
    const p2 = buildLaunchSecret({ tik: LIBVIRT.tik, tek: LIBVIRT.tek, measure, secret: table });
    expect(p2.headerB64).not.toBe(p.headerB64); // fresh IV each time
  });
  it('tampered data, other measurement or other TIK → InputError', () => {
    const p = buildLaunchSecret({ tik: LIBVIRT.tik, tek: LIBVIRT.tek, measure, secret: buildSecretTable(entries), iv: LIBVIRT.iv });
    const data = Buffer.from(p.data);
    data[0] = (data[0] ?? 0) ^ 1;
    expect(() => openLaunchSecret(LIBVIRT.tik, LIBVIRT.tek, measure, p.header, data)).toThrow(/MAC does not verify/);
    const m2 = Buffer.from(measure);
    m2[0] = (m2[0] ?? 0) ^ 1;
    expect(() => openLaunchSecret(LIBVIRT.tik, LIBVIRT.tek, m2, p.header, p.data)).toThrow(InputError);
    expect(() => openLaunchSecret(LIBVIRT.tek, LIBVIRT.tek, measure, p.header, p.data)).toThrow(InputError);
  });
  it('TIK/TEK/IV of the wrong length → InputError without key material', () => {
    const secret = buildSecretTable(entries);
    const bigKey = new Uint8Array(24).fill(0x42);
    const msgs: string[] = [];
    for (const args of [
      { tik: bigKey, tek: LIBVIRT.tek },
      { tik: LIBVIRT.tik, tek: bigKey },
      { tik: LIBVIRT.tik, tek: LIBVIRT.tek, iv: new Uint8Array(12) },
    ]) {
      try {
        buildLaunchSecret({ ...args, measure, secret });
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        msgs.push((e as Error).message);
      }
    }
    expect(msgs).toEqual(['TIK: must be 16 bytes, got 24', 'TEK: must be 16 bytes, got 24', 'IV: must be 16 bytes, got 12']);
    expect(() => buildLaunchSecret({ tik: LIBVIRT.tik, tek: LIBVIRT.tek, measure: new Uint8Array(48), secret })).toThrow(/MEASURE must be 32 bytes/);
  });
});
