import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import {
  SNP_REPORT_SIZE,
  decodeTcbVersion,
  generationFromCpuid,
  hexToBytes,
  parseSnpReport,
  tcbLayoutOfGeneration,
} from '../../support/sev/snp-report.js';
import { milanReportBytes } from './snp-vectors.js';

const SRC = 'report_milan.hex';

/** A copy of the real Milan report with some bytes changed. */
function patched(edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(milanReportBytes());
  edit(b);
  return b;
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('parseSnpReport on virtee report_milan.hex', () => {
  const r = parseSnpReport(milanReportBytes(), SRC);

  it('reads the header fields', () => {
    expect(r.version).toBe(2);
    expect(r.guestSvn).toBe(0);
    expect(r.policy).toBe(0x30000n);
    expect(r.familyId.toString('hex')).toBe('00'.repeat(16));
    expect(r.imageId.toString('hex')).toBe('00'.repeat(16));
    expect(r.vmpl).toBe(0);
    expect(r.signatureAlgo).toBe(1);
    expect(r.platformInfo).toBe(1n);
    expect(r.flags).toEqual({ raw: 0, authorKeyEn: false, maskChipKey: false, signingKey: 'vcek', signingKeyRaw: 0 });
  });

  it('reads the digests byte for byte', () => {
    expect(r.reportData.toString('hex')).toBe(
      'd447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd',
    );
    expect(r.measurement.toString('hex')).toBe(
      '7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f',
    );
    expect(r.hostData.toString('hex')).toBe('00'.repeat(32));
    expect(r.idKeyDigest.toString('hex')).toBe('00'.repeat(48));
    expect(r.authorKeyDigest.toString('hex')).toBe('00'.repeat(48));
    expect(r.reportId.toString('hex')).toBe('92b3b47d59f0a2a10a74c5678868a80238cf593c01a82f3cffb878e904c28d5b');
    expect(r.reportIdMa.toString('hex')).toBe('ff'.repeat(32));
    expect(r.chipId.toString('hex')).toBe(
      'd49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6',
    );
  });

  it('decodes every TCB in the Milan/Genoa layout', () => {
    const want = { layout: 'milan-genoa', raw: 0x7308000000000003n, bootloader: 3, tee: 0, snp: 8, microcode: 0x73 };
    expect(r.tcbLayout).toBe('milan-genoa');
    expect(r.currentTcb).toEqual(want);
    expect(r.reportedTcb).toEqual(want);
    expect(r.committedTcb).toEqual(want);
    expect(r.launchTcb).toEqual(want);
    expect(r.reportedTcb.fmc).toBeUndefined();
  });

  it('reads firmware versions, and no v3/v5 fields in a v2 report', () => {
    expect(r.currentVersion).toEqual({ major: 1, minor: 52, build: 4 });
    expect(r.committedVersion).toEqual({ major: 1, minor: 52, build: 4 });
    expect(r.cpuid).toBeUndefined();
    expect(r.launchMitVector).toBeUndefined();
    expect(r.currentMitVector).toBeUndefined();
    // a 64-byte CHIP_ID says Milan-or-Genoa: the layout is known, the generation is not
    expect(r.generation).toBeUndefined();
  });

  it('keeps the signature fields and the signed bytes', () => {
    expect(r.signature.r.length).toBe(72);
    expect(r.signature.s.length).toBe(72);
    expect(r.signature.r.subarray(0, 8).toString('hex')).toBe('61ab4f11aa661997');
    expect(r.signature.s.subarray(0, 8).toString('hex')).toBe('209d7eb9be919a1d');
    expect(r.signature.r.subarray(48).toString('hex')).toBe('00'.repeat(24));
    expect(r.signedBytes.length).toBe(0x2a0);
    expect(r.signedBytes.equals(milanReportBytes().subarray(0, 0x2a0))).toBe(true);
    expect(r.raw.length).toBe(SNP_REPORT_SIZE);
  });

  it('honours a generation hint for a 64-byte CHIP_ID only when it is Milan or Genoa', () => {
    expect(parseSnpReport(milanReportBytes(), SRC, { generation: 'milan' }).generation).toBe('milan');
    expect(parseSnpReport(milanReportBytes(), SRC, { generation: 'turin' }).tcbLayout).toBe('milan-genoa');
  });
});

describe('parseSnpReport versions 3, 4, 5', () => {
  it('v3 on Milan: CPUID fields name the generation', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(3, 0);
        b[0x188] = 0x19;
        b[0x189] = 0x01;
        b[0x18a] = 0x01;
      }),
      SRC,
    );
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x01, stepping: 0x01 });
    expect(r.generation).toBe('milan');
    expect(r.reportedTcb.microcode).toBe(0x73);
  });

  it('v3 on Turin (family 1Ah) decodes TCBs in the Turin layout', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(3, 0);
        b[0x188] = 0x1a;
        b[0x189] = 0x02;
        b[0x18a] = 0x00;
        Buffer.from([0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0x09]).copy(b, 0x180);
      }),
      SRC,
    );
    expect(r.generation).toBe('turin');
    expect(r.tcbLayout).toBe('turin');
    expect(r.reportedTcb).toEqual({ layout: 'turin', raw: 0x0900000004030201n, fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 9 });
  });

  it('v3 with a family that has no SNP is rejected, naming CPUID_FAM_ID', () => {
    const e = inputError(() =>
      parseSnpReport(
        patched((b) => {
          b.writeUInt32LE(3, 0);
          b[0x188] = 0x17;
        }),
        SRC,
      ),
    );
    expect(e.source).toBe(SRC);
    expect(e.problem).toContain('CPUID_FAM_ID');
    expect(e.problem).toContain('0x17');
  });

  it('v3 with an unknown model of a known family keeps the layout, leaves the generation open', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(3, 0);
        b[0x188] = 0x19;
        b[0x189] = 0x30;
      }),
      SRC,
    );
    expect(r.tcbLayout).toBe('milan-genoa');
    expect(r.generation).toBeUndefined();
  });

  it('v5 reads LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(5, 0);
        b[0x188] = 0x19;
        b[0x189] = 0x11;
        b.writeBigUInt64LE(0x5n, 0x1f8);
        b.writeBigUInt64LE(0x7n, 0x200);
      }),
      SRC,
    );
    expect(r.generation).toBe('genoa');
    expect(r.launchMitVector).toBe(5n);
    expect(r.currentMitVector).toBe(7n);
  });

  it('v4 leaves the embargoed 0x1F8..0x207 alone and does not invent mitigation vectors', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(4, 0);
        b[0x188] = 0x19;
        b[0x1f8] = 0xaa;
      }),
      SRC,
    );
    expect(r.version).toBe(4);
    expect(r.launchMitVector).toBeUndefined();
  });

  it('v2 with a Turin-style CHIP_ID (only 8 bytes set) is read as Turin', () => {
    const r = parseSnpReport(patched((b) => b.fill(0, 0x1a0 + 8, 0x1e0)), SRC);
    expect(r.generation).toBe('turin');
    expect(r.tcbLayout).toBe('turin');
    // bytes 03 00 00 00 00 00 08 73 in the Turin layout: fmc 3, bl 0, tee 0, snp 0, ucode 0x73
    expect(r.reportedTcb).toMatchObject({ fmc: 3, bootloader: 0, tee: 0, snp: 0, microcode: 0x73 });
  });

  it('v2 with a masked (zero) CHIP_ID needs the generation from the caller', () => {
    const masked = patched((b) => b.fill(0, 0x1a0, 0x1e0));
    const e = inputError(() => parseSnpReport(masked, SRC));
    expect(e.problem).toContain('CHIP_ID');
    expect(e.problem).toContain('pass the processor generation');
    const r = parseSnpReport(masked, SRC, { generation: 'genoa' });
    expect(r.generation).toBe('genoa');
    expect(r.reportedTcb.snp).toBe(8);
  });
});

describe('parseSnpReport rejects malformed reports', () => {
  it.each([0, 1183, 1185, 4096])('size %i', (n) => {
    const e = inputError(() => parseSnpReport(Buffer.alloc(n), 'r.bin'));
    expect(e.source).toBe('r.bin');
    expect(e.problem).toContain(`${n} bytes`);
    expect(e.problem).toContain('1184');
  });

  it.each([0, 1, 6, 0xffffffff])('unknown version %i', (v) => {
    const e = inputError(() => parseSnpReport(patched((b) => b.writeUInt32LE(v, 0)), SRC));
    expect(e.problem).toContain(`VERSION (offset 0x00) is ${v}`);
  });

  it.each([
    [0x4c, '0x4C'],
    [0x188, '0x188..0x19F'],
    [0x19f, '0x188..0x19F'],
    [0x1eb, '0x1EB'],
    [0x1ef, '0x1EF'],
    [0x1f8, '0x1F8..0x29F'],
    [0x29f, '0x1F8..0x29F'],
    [0x330, '0x330..0x49F'],
    [0x49f, '0x330..0x49F'],
  ])('nonzero reserved byte at offset %i (%s) in a v2 report', (offset, field) => {
    const e = inputError(() => parseSnpReport(patched((b) => (b[offset] = 0x01)), SRC));
    expect(e.problem).toContain(field);
    expect(e.problem).toContain(`byte 0x${offset.toString(16).toUpperCase()} is 0x01`);
  });

  it('a v3 report still checks 0x18B..0x19F', () => {
    const e = inputError(() =>
      parseSnpReport(
        patched((b) => {
          b.writeUInt32LE(3, 0);
          b[0x188] = 0x19;
          b[0x18b] = 0xff;
        }),
        SRC,
      ),
    );
    expect(e.problem).toContain('0x18B..0x19F');
  });

  it('a v5 report checks 0x208..0x29F', () => {
    const e = inputError(() =>
      parseSnpReport(
        patched((b) => {
          b.writeUInt32LE(5, 0);
          b[0x188] = 0x19;
          b[0x208] = 1;
        }),
        SRC,
      ),
    );
    expect(e.problem).toContain('0x208..0x29F');
  });

  it('the signature tail is only reserved for SIGNATURE_ALGO 1', () => {
    const r = parseSnpReport(
      patched((b) => {
        b.writeUInt32LE(0, 0x34);
        b[0x400] = 1;
      }),
      SRC,
    );
    expect(r.signatureAlgo).toBe(0);
  });
});

describe('TCB_VERSION and generation helpers', () => {
  const bytes = Buffer.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
  it('decodes the Milan/Genoa layout: bl, tee, 4 reserved, snp, ucode', () => {
    expect(decodeTcbVersion(bytes, 'milan-genoa')).toEqual({
      layout: 'milan-genoa',
      raw: 0x8877665544332211n,
      bootloader: 0x11,
      tee: 0x22,
      snp: 0x77,
      microcode: 0x88,
    });
  });
  it('decodes the Turin layout: fmc, bl, tee, snp, 3 reserved, ucode', () => {
    expect(decodeTcbVersion(bytes, 'turin')).toEqual({
      layout: 'turin',
      raw: 0x8877665544332211n,
      fmc: 0x11,
      bootloader: 0x22,
      tee: 0x33,
      snp: 0x44,
      microcode: 0x88,
    });
  });
  it('refuses a TCB that is not 8 bytes', () => {
    expect(() => decodeTcbVersion(Buffer.alloc(7), 'turin')).toThrow(RangeError);
  });
  it.each([
    [0x19, 0x01, 'milan'],
    [0x19, 0x0f, 'milan'],
    [0x19, 0x11, 'genoa'],
    [0x19, 0xa0, 'genoa'],
    [0x19, 0x30, undefined],
    [0x1a, 0x02, 'turin'],
    [0x1a, 0x11, 'turin'],
    [0x1a, 0x50, 'venice'],
    [0x1a, 0x20, undefined],
    [0x17, 0x31, undefined],
  ])('family 0x%s model 0x%s -> %s', (fam, model, gen) => {
    expect(generationFromCpuid(fam, model)).toBe(gen);
  });
  it('maps generations to layouts', () => {
    expect(tcbLayoutOfGeneration('milan')).toBe('milan-genoa');
    expect(tcbLayoutOfGeneration('genoa')).toBe('milan-genoa');
    expect(tcbLayoutOfGeneration('turin')).toBe('turin');
    expect(tcbLayoutOfGeneration('venice')).toBe('turin');
  });
});

describe('hexToBytes', () => {
  it('ignores whitespace and a 0x prefix', () => {
    expect(hexToBytes(' 0xAB cd\n0e ', 'x').toString('hex')).toBe('abcd0e');
  });
  it('rejects an odd digit count', () => {
    expect(inputError(() => hexToBytes('abc', 'r.hex')).problem).toContain('odd number of digits (3)');
  });
  it('rejects a non-hex character, saying where', () => {
    expect(inputError(() => hexToBytes('00zz', 'r.hex')).problem).toContain("'z' at digit 2");
  });
});
