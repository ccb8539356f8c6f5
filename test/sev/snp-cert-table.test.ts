import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import {
  CERT_TABLE_ENTRY_SIZE,
  SNP_CERT_GUIDS,
  buildCertTable,
  certOf,
  guidFromString,
  guidToString,
  parseCertTable,
} from '../../support/sev/snp-cert-table.js';
import { parseSnpReport } from '../../support/sev/snp-report.js';
import { loadSnpCert, verifySnpAttestation } from '../../support/sev/snp-verify.js';
import { builtin, milanReportBytes, vectorBytes } from './snp-vectors.js';

const arkDer = () => builtin('milan', 'ark').der;
const askDer = () => builtin('milan', 'ask').der;
const vcekDer = () => vectorBytes('tests/certs_data/vcek_milan.der');

/** the real Milan certificates in the order a host usually writes them */
function realTable(pad?: number): Buffer {
  return buildCertTable(
    [
      { guid: 'vcek', data: vcekDer() },
      { guid: 'ask', data: askDer() },
      { guid: 'ark', data: arkDer() },
    ],
    pad ? { pad } : {},
  );
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).source).toBe('certs.bin');
    return (e as InputError).problem;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** a table header of raw entries [guid bytes, offset, length] (no terminator unless given) */
function header(entries: [Buffer, number, number][], extra = 0): Buffer {
  const b = Buffer.alloc(entries.length * CERT_TABLE_ENTRY_SIZE + extra);
  entries.forEach(([g, off, len], i) => {
    g.copy(b, i * 24);
    b.writeUInt32LE(off, i * 24 + 16);
    b.writeUInt32LE(len, i * 24 + 20);
  });
  return b;
}
const zero = Buffer.alloc(16);
const g = (kind: keyof typeof SNP_CERT_GUIDS): Buffer => guidFromString(SNP_CERT_GUIDS[kind]);

describe('GUIDs', () => {
  it('are stored in RFC 4122 byte order', () => {
    expect(guidFromString(SNP_CERT_GUIDS.ark).toString('hex')).toBe('c0b406a4a803495297433fb6014cd0ae');
    expect(guidToString(Buffer.from('63da758de6644564adc5f4b93be8accd', 'hex'))).toBe(SNP_CERT_GUIDS.vcek);
  });
  it('refuse a malformed string', () => {
    expect(() => guidFromString('c0b406a4-a803')).toThrow(RangeError);
  });
});

describe('buildCertTable / parseCertTable with the real Milan certificates', () => {
  it('builds entries, a zero terminator, then the certificates', () => {
    const t = realTable();
    expect(t.length).toBe(4 * 24 + vcekDer().length + askDer().length + arkDer().length);
    expect(t.subarray(0, 16).toString('hex')).toBe('63da758de6644564adc5f4b93be8accd');
    expect(t.readUInt32LE(16)).toBe(96);
    expect(t.readUInt32LE(20)).toBe(vcekDer().length);
    expect(t.subarray(24, 40).toString('hex')).toBe('4ab7b379bbac4fe4a02f05aef327c782');
    expect(t.readUInt32LE(24 + 16)).toBe(96 + vcekDer().length);
    expect(t.subarray(48, 64).toString('hex')).toBe('c0b406a4a803495297433fb6014cd0ae');
    expect(t.subarray(72, 96).every((x) => x === 0)).toBe(true);
    expect(t.subarray(96, 96 + vcekDer().length).equals(vcekDer())).toBe(true);
  });

  it('parses back to the same certificates', () => {
    const table = parseCertTable(realTable(), 'certs.bin');
    expect(table.tableSize).toBe(96);
    expect(table.warnings).toEqual([]);
    expect(table.entries.map((e) => e.kind)).toEqual(['vcek', 'ask', 'ark']);
    expect(certOf(table, 'vcek')?.data.equals(vcekDer())).toBe(true);
    expect(certOf(table, 'ask')?.data.equals(askDer())).toBe(true);
    expect(certOf(table, 'ark')?.data.equals(arkDer())).toBe(true);
    expect(certOf(table, 'vlek')).toBeUndefined();
  });

  it('a page-padded table (as the kernel returns it) parses the same', () => {
    const t = realTable(4096);
    const used = 96 + vcekDer().length + askDer().length + arkDer().length; // 4772 bytes: two pages
    expect(used).toBeGreaterThan(4096);
    expect(t.length).toBe(8192);
    expect(t.subarray(used).every((x) => x === 0)).toBe(true);
    expect(parseCertTable(t, 'certs.bin').entries).toHaveLength(3);
  });

  it('the certificates from the table verify the real report end to end', () => {
    const table = parseCertTable(realTable(4096), 'certs.bin');
    const load = (k: 'ark' | 'ask' | 'vcek') => loadSnpCert(certOf(table, k)?.data ?? Buffer.alloc(0), `certs.bin:${k}`);
    const r = verifySnpAttestation(parseSnpReport(milanReportBytes(), 'report_milan.hex'), {
      ark: load('ark'),
      ask: load('ask'),
      vek: load('vcek'),
    });
    expect(r.ok).toBe(true);
  });

  it('an empty buffer is an empty table', () => {
    expect(parseCertTable(Buffer.alloc(0), 'certs.bin')).toEqual({ entries: [], tableSize: 0, warnings: [] });
  });

  it('a lone terminator is an empty table', () => {
    expect(parseCertTable(Buffer.alloc(24), 'certs.bin')).toEqual({ entries: [], tableSize: 24, warnings: [] });
  });

  it('takes a VLEK entry and a raw GUID string', () => {
    const t = buildCertTable([
      { guid: 'vlek', data: Buffer.from([1, 2, 3]) },
      { guid: '11111111-2222-3333-4444-555555555555', data: Buffer.from([4]) },
    ]);
    const table = parseCertTable(t, 'certs.bin');
    expect(table.entries.map((e) => e.kind)).toEqual(['vlek', undefined]);
    expect(table.entries[1]?.guid).toBe('11111111-2222-3333-4444-555555555555');
    expect(table.warnings).toEqual(['entry 1: unknown GUID 11111111-2222-3333-4444-555555555555']);
  });
});

describe('parseCertTable rejects malformed tables', () => {
  it('missing terminator', () => {
    const t = header([[g('vcek'), 48, 0], [g('ark'), 48, 0]]);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toBe('certificate table has no all-zero terminator entry after its 2 entries');
  });

  it('truncated entry', () => {
    const t = realTable().subarray(0, 30);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toContain('entry 1 is truncated: 6 of 24 bytes at offset 24');
  });

  it('truncated certificate data', () => {
    const full = realTable();
    const t = full.subarray(0, full.length - 1);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toMatch(/entry 2 \(c0b406a4-.*\) spans bytes .* past the end of the \d+-byte buffer/);
  });

  it('offset inside the table', () => {
    const t = header([[g('vcek'), 10, 20], [zero, 0, 0]], 100);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toContain('has offset 10, inside the 48-byte table itself');
  });

  it('overlapping certificates', () => {
    const t = header([[g('vcek'), 72, 20], [g('ask'), 80, 20], [zero, 0, 0]], 100);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toBe('certificates vcek (bytes 72..91) and ask (from byte 80) overlap');
  });

  it('the same GUID twice', () => {
    const t = header([[g('vcek'), 72, 4], [g('vcek'), 76, 4], [zero, 0, 0]], 8);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toContain('entries 0 and 1 both have GUID 63da758d');
  });

  it('a zero GUID with an offset is not a terminator', () => {
    const t = header([[g('vcek'), 48, 4], [zero, 52, 4]], 8);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toContain('entry 1 has a zero GUID but offset 52 and length 4');
  });

  it('a u32 offset far past the buffer', () => {
    const t = header([[g('ark'), 0xfffffff0, 0x20], [zero, 0, 0]]);
    expect(problemOf(() => parseCertTable(t, 'certs.bin'))).toContain('past the end of the 48-byte buffer');
  });
});

describe('parseCertTable warnings', () => {
  it('a GUID written mixed-endian is named', () => {
    const swapped = Buffer.from('a406b4c003a852499743' + '3fb6014cd0ae', 'hex');
    const t = header([[swapped, 48, 4], [zero, 0, 0]], 4);
    const table = parseCertTable(t, 'certs.bin');
    expect(table.entries[0]?.kind).toBeUndefined();
    expect(table.warnings).toEqual([
      'entry 0: GUID a406b4c0-03a8-5249-9743-3fb6014cd0ae is the ARK GUID with its first three fields byte-swapped (mixed-endian/EFI order); the host must write GUIDs in RFC 4122 byte order',
    ]);
  });

  it('an empty certificate is a warning', () => {
    const t = header([[g('vcek'), 0, 0], [zero, 0, 0]]);
    expect(parseCertTable(t, 'certs.bin').warnings).toEqual(['entry 0 (vcek) has length 0']);
  });
});
