import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VECTORS } from '../helpers.js';
import { InputError } from '../../support/errors.js';
import { guidFromBytesLe, guidToBytesLe } from '../../support/sev/guid.js';
import {
  OVMF_SEV_METADATA_GUID,
  SEV_ES_RESET_BLOCK_GUID,
  SEV_HASH_TABLE_RV_GUID,
  SectionType,
  hasSevHashesTable,
  ovmfGpa,
  parseOvmf,
  sevEsResetEip,
  sevHashesTableGpa,
  sevSecretBlock,
} from '../../support/sev/ovmf.js';
import { synthImage, u32le } from './measure-fixtures.js';

const FIXTURES = `${VECTORS}/sev-snp-measure/tests/fixtures`;
const load = (p: string) => parseOvmf(readFileSync(p), p);

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const ie = e as InputError;
    expect(ie.message).not.toContain('\n');
    return ie;
  }
  throw new Error('expected an InputError');
}

describe('GUIDs (UEFI Appendix A mixed-endian)', () => {
  it('round-trips and matches the footer GUID bytes in OVMF', () => {
    const b = guidToBytesLe('96b582de-1fb2-45f7-baea-a366c55a082d');
    expect(Buffer.from(b).toString('hex')).toBe('de82b596b21ff745baeaa366c55a082d');
    expect(guidFromBytesLe(b)).toBe('96b582de-1fb2-45f7-baea-a366c55a082d');
    expect(() => guidToBytesLe('not-a-guid')).toThrow(RangeError);
  });
});

describe('OVMF footer table and SEV metadata: upstream fixtures', () => {
  it('AmdSev build: reset block, hashes table, metadata with SNP_KERNEL_HASHES', () => {
    const img = load(`${FIXTURES}/ovmf_AmdSev_suffix.bin`);
    expect(img.hasFooterTable).toBe(true);
    expect(img.table.has(OVMF_SEV_METADATA_GUID)).toBe(true);
    expect(sevEsResetEip(img)).toBeGreaterThan(0);
    expect(hasSevHashesTable(img)).toBe(true);
    expect(img.metadata.map((s) => s.type)).toContain(SectionType.SNP_KERNEL_HASHES);
    expect(img.metadata.map((s) => s.type)).toContain(SectionType.CPUID);
    expect(ovmfGpa(img)).toBe(0x1_0000_0000 - 4096);
  });
  it('OvmfX64 build: metadata without kernel hashes, no usable hashes table', () => {
    const img = load(`${FIXTURES}/ovmf_OvmfX64_suffix.bin`);
    expect(img.metadata.length).toBeGreaterThan(0);
    expect(img.metadata.map((s) => s.type)).not.toContain(SectionType.SNP_KERNEL_HASHES);
    expect(hasSevHashesTable(img)).toBe(false);
  });
});

describe("Debian's OVMF images (package ovmf)", () => {
  it('OVMF.fd and OVMF_CODE.fd carry SEV metadata; OVMF_CODE_4M.fd only the reset block', () => {
    for (const p of ['/usr/share/ovmf/OVMF.fd', '/usr/share/OVMF/OVMF_CODE.fd']) {
      const img = load(p);
      expect(img.metadata.map((s) => s.type), p).toEqual([1, 1, 2, 3, 1]);
      expect(sevEsResetEip(img), p).toBe(0x80b004);
      expect(hasSevHashesTable(img), p).toBe(false);
      expect(sevSecretBlock(img), p).toBeUndefined();
    }
    const code4m = load('/usr/share/OVMF/OVMF_CODE_4M.fd');
    expect(code4m.hasFooterTable).toBe(true);
    expect(code4m.metadata).toEqual([]);
    expect(sevEsResetEip(code4m)).toBe(0x808004);
  });
});

describe('malformed firmware → InputError naming the image and field', () => {
  const reset = { guid: SEV_ES_RESET_BLOCK_GUID, data: u32le(0xffffb004) };
  const good = { size: 0x4000, entries: [reset], metadata: { sections: [{ gpa: 0x800000, size: 0x1000, type: 1 }] } };

  it('a well-formed synthetic image parses', () => {
    const img = parseOvmf(synthImage(good), 'good.fd');
    expect(img.metadata).toEqual([{ gpa: 0x800000, size: 0x1000, type: 1 }]);
    expect(sevEsResetEip(img)).toBe(0xffffb004);
  });
  it('firmware without GUID table: parse ok, but the reset block is reported missing', () => {
    const img = parseOvmf(synthImage({ size: 0x4000, noFooter: true }), 'plain.fd');
    expect(img.hasFooterTable).toBe(false);
    const e = inputError(() => sevEsResetEip(img));
    expect(e.source).toBe('plain.fd');
    expect(e.problem).toMatch(/no OVMF footer GUID table \(96b582de-.*end-0x30/);
  });
  it('image too small for the footer', () => {
    expect(inputError(() => parseOvmf(new Uint8Array(20), 'tiny.fd')).problem).toMatch(/too small/);
  });
  it('reset block entry absent', () => {
    const img = parseOvmf(synthImage({ size: 0x4000, entries: [] }), 'noreset.fd');
    expect(inputError(() => sevEsResetEip(img)).problem).toMatch(/no SEV-ES reset block entry \(00f771de-/);
  });
  it('footer length smaller than its header', () => {
    expect(inputError(() => parseOvmf(synthImage({ ...good, footerLength: 4 }), 'f.fd')).problem).toMatch(/footer table length 4/);
  });
  it('footer length past the start of the image', () => {
    expect(inputError(() => parseOvmf(synthImage({ ...good, footerLength: 0xffff }), 'f.fd')).problem).toMatch(/runs past the start/);
  });
  it('entry length below 18', () => {
    const e = inputError(() => parseOvmf(synthImage({ size: 0x4000, entries: [{ ...reset, length: 3 }] }), 'e.fd'));
    expect(e.problem).toMatch(/entry 00f771de-.* has length 3/);
  });
  it('entry longer than the remaining table (truncated table)', () => {
    const e = inputError(() => parseOvmf(synthImage({ size: 0x4000, entries: [{ ...reset, length: 200 }] }), 'e.fd'));
    expect(e.problem).toMatch(/truncated table/);
  });
  it('duplicate entry GUIDs', () => {
    expect(inputError(() => parseOvmf(synthImage({ size: 0x4000, entries: [reset, reset] }), 'd.fd')).problem).toMatch(/two entries/);
  });
  it('metadata entry too short', () => {
    const img = synthImage({ size: 0x4000, entries: [{ guid: OVMF_SEV_METADATA_GUID, data: new Uint8Array(2) }] });
    expect(inputError(() => parseOvmf(img, 'm.fd')).problem).toMatch(/needs a u32 offset/);
  });
  it('metadata offset outside the image', () => {
    const img = synthImage({ size: 0x4000, entries: [{ guid: OVMF_SEV_METADATA_GUID, data: u32le(0x10000) }] });
    expect(inputError(() => parseOvmf(img, 'm.fd')).problem).toMatch(/outside the 16384-byte image/);
  });
  it('metadata signature not ASEV', () => {
    const e = inputError(() => parseOvmf(synthImage({ ...good, metadata: { ...good.metadata, signature: 'XSEV' } }), 'm.fd'));
    expect(e.problem).toMatch(/signature "XSEV", expected "ASEV"/);
    const bin = inputError(() => parseOvmf(synthImage({ ...good, metadata: { ...good.metadata, signature: '\x00\x01AB' } }), 'm.fd'));
    expect(bin.problem).toMatch(/signature 0x00014142/);
  });
  it('metadata version not 1', () => {
    expect(inputError(() => parseOvmf(synthImage({ ...good, metadata: { ...good.metadata, version: 2 } }), 'm.fd')).problem).toMatch(/version 2/);
  });
  it('truncated metadata: size past the end of the image', () => {
    const md = { ...good.metadata, offsetFromEnd: 0x400, size: 0x1000 };
    expect(inputError(() => parseOvmf(synthImage({ ...good, metadata: md }), 'm.fd')).problem).toMatch(/truncated metadata/);
  });
  it('truncated metadata: more sections than the size holds', () => {
    const md = { ...good.metadata, count: 5 };
    expect(inputError(() => parseOvmf(synthImage({ ...good, metadata: md }), 'm.fd')).problem).toMatch(/declares 5 sections.*truncated/);
  });
  it('overlapping sections', () => {
    const md = { sections: [{ gpa: 0x800000, size: 0x3000, type: 1 }, { gpa: 0x802000, size: 0x1000, type: 2 }] };
    const e = inputError(() => parseOvmf(synthImage({ ...good, metadata: md }), 'o.fd'));
    expect(e.source).toBe('o.fd');
    expect(e.problem).toMatch(/overlap: SNP_SEC_MEM 0x800000\+0x3000 and SNP_SECRETS 0x802000/);
  });
  it('unaligned section', () => {
    const md = { sections: [{ gpa: 0x800010, size: 0x1000, type: 1 }] };
    expect(inputError(() => parseOvmf(synthImage({ ...good, metadata: md }), 'u.fd')).problem).toMatch(/not 4 KiB aligned/);
  });
  it('section past 4 GiB', () => {
    const md = { sections: [{ gpa: 0xfffff000, size: 0x2000, type: 1 }] };
    expect(inputError(() => parseOvmf(synthImage({ ...good, metadata: md }), 'g.fd')).problem).toMatch(/past 4 GiB/);
  });
  it('hashes table GPA 0 counts as unsupported', () => {
    const img = parseOvmf(synthImage({ size: 0x4000, entries: [{ guid: SEV_HASH_TABLE_RV_GUID, data: new Uint8Array(8) }] }), 'h.fd');
    expect(sevHashesTableGpa(img)).toBeUndefined();
  });
});
