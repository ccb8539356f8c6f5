import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { parseSnpReport, type SnpReport } from '../../support/sev/snp-report.js';
import {
  PINNED_ARK_SPKI_SHA256,
  VEK_OID,
  checkReportAgainstVek,
  decodeVekExtensions,
  loadPemChain,
  loadSnpCert,
  pinnedGenerationOf,
  stepsVerdict,
  verifyCertChain,
  verifyReportSignature,
  verifySnpAttestation,
  type SnpCert,
  type Step,
  type StepsResult,
} from '../../support/sev/snp-verify.js';
import { builtin, cert, kdsChain, milanReportBytes, vectorBytes } from './snp-vectors.js';

const vcekMilan = (): SnpCert => cert('tests/certs_data/vcek_milan.der');
const vcekTurin = (): SnpCert => cert('tests/certs_data/vcek_turin.der');
const milanReport = (edit?: (b: Buffer) => void): SnpReport => {
  const b = Buffer.from(milanReportBytes());
  edit?.(b);
  return parseSnpReport(b, 'report_milan.hex');
};

function stepOf(result: StepsResult, check: string): Step {
  const s = result.steps.find((x) => x.check === check);
  if (!s) throw new Error(`no step ${check} in ${result.steps.map((x) => x.check).join(', ')}`);
  return s;
}

function failedChecks(result: StepsResult): string[] {
  return result.steps.filter((s) => s.status !== 'passed').map((s) => s.check);
}

/**
 * A synthetic v3 Turin report (unsigned) whose REPORTED_TCB and CHIP_ID match vcek_turin.der
 * (fmcSPL 0, blSPL 0, teeSPL 0, snpSPL 0, ucodeSPL 9, hwID 1e550a8ee5cf9f4d).
 */
function turinReport(edit?: (b: Buffer) => void): SnpReport {
  const b = Buffer.alloc(0x4a0);
  b.writeUInt32LE(3, 0x00);
  b.writeBigUInt64LE(0x30000n, 0x08);
  b.writeUInt32LE(1, 0x34);
  const tcb = Buffer.from([0, 0, 0, 0, 0, 0, 0, 9]);
  for (const off of [0x38, 0x180, 0x1e0, 0x1f0]) tcb.copy(b, off);
  b[0x188] = 0x1a;
  b[0x189] = 0x02;
  Buffer.from('1e550a8ee5cf9f4d', 'hex').copy(b, 0x1a0);
  b[0x2a0] = 1; // a non-zero (and wrong) signature
  b[0x2e8] = 1;
  edit?.(b);
  return parseSnpReport(b, 'turin-synthetic');
}

describe('pinned ARKs', () => {
  it('are the public keys of the real ARKs in virtee/sev builtin', () => {
    for (const gen of ['milan', 'genoa', 'turin'] as const) {
      const ark = builtin(gen, 'ark');
      expect(ark.spkiSha256).toBe(PINNED_ARK_SPKI_SHA256[gen]);
      expect(ark.subjectCN).toBe(`ARK-${gen[0]?.toUpperCase()}${gen.slice(1)}`);
      expect(pinnedGenerationOf(ark)).toBe(gen);
    }
  });
  it('the KDS cert_chain files carry the same ARKs', () => {
    expect(pinnedGenerationOf(kdsChain('milan').ark)).toBe('milan');
    expect(pinnedGenerationOf(kdsChain('turin').ark)).toBe('turin');
  });
  it('an ASK is not a pinned ARK', () => {
    expect(pinnedGenerationOf(builtin('milan', 'ask'))).toBeUndefined();
  });
});

describe('verifyCertChain', () => {
  it('Milan: builtin ARK -> ASK -> vcek_milan verifies, step by step', () => {
    const r = verifyCertChain({ ark: builtin('milan', 'ark'), ask: builtin('milan', 'ask'), vek: vcekMilan() });
    expect(r.ok).toBe(true);
    expect(r.generation).toBe('milan');
    expect(r.steps.map((s) => s.check)).toEqual([
      'chain.ark-pinned',
      'chain.ark-self-signed',
      'chain.ask-signed-by-ark',
      'chain.vek-signed-by-ask',
      'chain.vek-key',
      'chain.vek-product',
    ]);
    expect(r.steps.every((s) => s.status === 'passed')).toBe(true);
    expect(stepOf(r, 'chain.vek-product').message).toContain('"Milan-B0"');
  });

  it('Milan: the KDS cert_chain_milan file verifies', () => {
    const { ark, ask } = kdsChain('milan');
    expect(ask.subjectCN).toBe('SEV-Milan');
    expect(verifyCertChain({ ark, ask, vek: vcekMilan() }).ok).toBe(true);
  });

  it('Turin: vcek_turin verifies under cert_chain_turin and under the builtin Turin ARK/ASK', () => {
    const { ark, ask } = kdsChain('turin');
    const r = verifyCertChain({ ark, ask, vek: vcekTurin() });
    expect(r.ok).toBe(true);
    expect(r.generation).toBe('turin');
    expect(verifyCertChain({ ark: builtin('turin', 'ark'), ask: builtin('turin', 'ask'), vek: vcekTurin() }).ok).toBe(true);
  });

  it('Genoa: the builtin Genoa ASK is signed by the Genoa ARK', () => {
    const r = verifyCertChain({ ark: builtin('genoa', 'ark'), ask: builtin('genoa', 'ask'), vek: vcekMilan() });
    expect(stepOf(r, 'chain.ark-pinned').status).toBe('passed');
    expect(stepOf(r, 'chain.ark-self-signed').status).toBe('passed');
    expect(stepOf(r, 'chain.ask-signed-by-ark').status).toBe('passed');
  });

  it('Milan VCEK against the Genoa ASK fails at vek-signed-by-ask and at vek-product', () => {
    const r = verifyCertChain({ ark: builtin('genoa', 'ark'), ask: builtin('genoa', 'ask'), vek: vcekMilan() });
    expect(r.ok).toBe(false);
    expect(failedChecks(r)).toEqual(['chain.vek-signed-by-ask', 'chain.vek-product']);
    const m = stepOf(r, 'chain.vek-signed-by-ask').message;
    expect(m).toMatch(/^found VCEK .*vcek_milan\.der \(CN=SEV-VCEK\) issued by CN=SEV-Milan; expected issued by the ASK .*CN=SEV-Genoa/);
    expect(m).toContain('fix: ');
  });

  it('Turin VCEK with the Milan chain fails', () => {
    const r = verifyCertChain({ ark: builtin('milan', 'ark'), ask: builtin('milan', 'ask'), vek: vcekTurin() });
    expect(r.ok).toBe(false);
    expect(failedChecks(r)).toEqual(['chain.vek-signed-by-ask', 'chain.vek-product']);
    expect(stepOf(r, 'chain.vek-product').message).toContain('found VCEK productName "Turin"; expected a Milan product name');
  });

  it('vek-product accepts Bergamo/Siena names under the Genoa ARK (they use the Genoa KDS endpoint)', () => {
    const forged = (name: string): SnpCert => {
      const v = vcekMilan();
      const ext = new Map(v.extensions);
      ext.set(VEK_OID.productName, Buffer.concat([Buffer.from([0x16, name.length]), Buffer.from(name, 'latin1')]));
      return { ...v, extensions: ext };
    };
    const genoa = { ark: builtin('genoa', 'ark'), ask: builtin('genoa', 'ask') };
    expect(stepOf(verifyCertChain({ ...genoa, vek: forged('Bergamo-A0') }), 'chain.vek-product').status).toBe('passed');
    expect(stepOf(verifyCertChain({ ...genoa, vek: forged('Siena') }), 'chain.vek-product').status).toBe('passed');
    expect(stepOf(verifyCertChain({ ...genoa, vek: forged('Milan-B0') }), 'chain.vek-product').status).toBe('failed');
  });

  it('the Genoa ASK under the Milan ARK fails', () => {
    const r = verifyCertChain({ ark: builtin('milan', 'ark'), ask: builtin('genoa', 'ask'), vek: vcekMilan() });
    expect(failedChecks(r)).toEqual(['chain.ask-signed-by-ark', 'chain.vek-signed-by-ask']);
  });

  it('a chain whose ARK is not pinned fails (an ASK passed as the ARK)', () => {
    const ask = builtin('milan', 'ask');
    const r = verifyCertChain({ ark: ask, ask, vek: vcekMilan() });
    expect(r.ok).toBe(false);
    expect(r.generation).toBeUndefined();
    const pin = stepOf(r, 'chain.ark-pinned');
    expect(pin.status).toBe('failed');
    expect(pin.message).toContain(`public key SHA-256 ${ask.spkiSha256}`);
    expect(pin.message).toContain('CN=SEV-Milan');
    expect(pin.message).toContain('snpguest fetch ca pem');
    expect(stepOf(r, 'chain.ark-self-signed').status).toBe('failed');
  });

  it('an ARK with the pinned key but a damaged signature fails its self-signature', () => {
    const der = Buffer.from(builtin('milan', 'ark').der);
    der[der.length - 10] = (der[der.length - 10] ?? 0) ^ 0xff; // inside the signature BIT STRING
    const ark = loadSnpCert(der, 'ark-tampered.der');
    const r = verifyCertChain({ ark, ask: builtin('milan', 'ask'), vek: vcekMilan() });
    expect(stepOf(r, 'chain.ark-pinned').status).toBe('passed');
    expect(stepOf(r, 'chain.ark-self-signed').status).toBe('failed');
    expect(stepOf(r, 'chain.ask-signed-by-ark').status).toBe('passed');
  });

  it('checks validity periods when given a time', () => {
    const chain = { ark: builtin('turin', 'ark'), ask: builtin('turin', 'ask'), vek: vcekTurin() };
    const now = verifyCertChain(chain, { now: new Date('2026-01-01T00:00:00Z') });
    expect(now.ok).toBe(true);
    expect(stepOf(now, 'chain.vcek-validity').message).toContain('2031-11-06T21:14:00.000Z');
    const later = verifyCertChain(chain, { now: new Date('2032-01-01T00:00:00Z') });
    expect(failedChecks(later)).toEqual(['chain.vcek-validity']);
  });
});

describe('verifyReportSignature', () => {
  it('report_milan verifies with vcek_milan', () => {
    const s = verifyReportSignature(milanReport(), vcekMilan());
    expect(s.check).toBe('report.signature');
    expect(s.status).toBe('passed');
    expect(s.message).toContain('verifies with tests/certs_data/vcek_milan.der (CN=SEV-VCEK)');
  });

  it.each([
    ['measurement', 0x90],
    ['report_data', 0x50],
    ['report_data (last byte)', 0x8f],
    ['guest_svn', 0x04],
    ['reported_tcb', 0x187],
    ['signature R', 0x2a0],
    ['signature S', 0x2e8 + 47],
  ])('a flipped byte in %s fails', (_field, offset) => {
    const s = verifyReportSignature(milanReport((b) => (b[offset] = (b[offset] ?? 0) ^ 0x01)), vcekMilan());
    expect(s.status).toBe('failed');
    expect(s.message).toContain('does not verify with tests/certs_data/vcek_milan.der');
    expect(s.message).toContain('fix: ');
  });

  it('a signature R longer than 48 bytes fails, saying so', () => {
    const s = verifyReportSignature(milanReport((b) => (b[0x2a0 + 60] = 0x01)), vcekMilan());
    expect(s.status).toBe('failed');
    expect(s.message).toContain('found signature R with 61 significant bytes');
  });

  it('a signature S longer than 48 bytes fails', () => {
    const s = verifyReportSignature(milanReport((b) => (b[0x2e8 + 71] = 0x80)), vcekMilan());
    expect(s.message).toContain('found signature S with 72 significant bytes');
  });

  it('report_milan does not verify with the Turin VCEK', () => {
    expect(verifyReportSignature(milanReport(), vcekTurin()).status).toBe('failed');
  });

  it('an all-zero signature is an unsigned report', () => {
    const s = verifyReportSignature(milanReport((b) => b.fill(0, 0x2a0, 0x330)), vcekMilan());
    expect(s.status).toBe('failed');
    expect(s.message).toContain('unsigned report');
  });

  it('SIGNATURE_ALGO other than 1 fails', () => {
    const s = verifyReportSignature(milanReport((b) => b.writeUInt32LE(2, 0x34)), vcekMilan());
    expect(s.message).toContain('found SIGNATURE_ALGO 2');
  });

  it('a non-P-384 key (the ASK, RSA) cannot verify it', () => {
    const s = verifyReportSignature(milanReport(), builtin('milan', 'ask'));
    expect(s.status).toBe('failed');
    expect(s.message).toContain('without an ECDSA P-384 key');
  });
});

describe('decodeVekExtensions', () => {
  it('vcek_milan: SPLs, product name, 64-byte hwID equal to the report CHIP_ID', () => {
    const x = decodeVekExtensions(vcekMilan());
    expect(x).toMatchObject({ structVersion: 0, productName: 'Milan-B0', blSPL: 3, teeSPL: 0, snpSPL: 8, ucodeSPL: 0x73 });
    expect(x.fmcSPL).toBeUndefined();
    expect(x.hwID?.equals(milanReport().chipId)).toBe(true);
  });

  it('vcek_turin: fmcSPL and an 8-byte hwID', () => {
    const x = decodeVekExtensions(vcekTurin());
    expect(x).toMatchObject({ structVersion: 1, productName: 'Turin', fmcSPL: 0, blSPL: 0, teeSPL: 0, snpSPL: 0, ucodeSPL: 9 });
    expect(x.hwID?.toString('hex')).toBe('1e550a8ee5cf9f4d');
  });

  const withExt = (oid: string, hex: string): SnpCert => {
    const v = vcekMilan();
    const ext = new Map(v.extensions);
    ext.set(oid, Buffer.from(hex, 'hex'));
    return { ...v, source: 'forged.der', extensions: ext };
  };

  it.each([
    ['020180', 'a one-byte INTEGER with the sign bit set'],
    ['02020073', 'a non-minimal INTEGER'],
    ['0401ff', 'an OCTET STRING'],
    ['02', 'a truncated INTEGER'],
    ['', 'empty'],
  ])('rejects blSPL encoded as %s (%s)', (hex) => {
    let err: unknown;
    try {
      decodeVekExtensions(withExt(VEK_OID.blSPL, hex));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).source).toBe('forged.der');
    expect((err as InputError).problem).toContain('blSPL (1.3.6.1.4.1.3704.1.3.1) is not a DER INTEGER 0..255');
  });

  it('accepts 02 02 00 xx for SPLs of 128 and above', () => {
    expect(decodeVekExtensions(withExt(VEK_OID.ucodeSPL, '020200db')).ucodeSPL).toBe(0xdb);
  });

  it('rejects a productName that is not an IA5String', () => {
    expect(() => decodeVekExtensions(withExt(VEK_OID.productName, '0c054d696c616e'))).toThrow(InputError);
  });

  it('a malformed SPL turns into a failed step in checkReportAgainstVek', () => {
    const r = checkReportAgainstVek(milanReport(), withExt(VEK_OID.snpSPL, '0401ff'));
    expect(r.ok).toBe(false);
    expect(stepOf(r, 'vek.extensions').message).toContain('snpSPL');
  });
});

describe('checkReportAgainstVek', () => {
  it('report_milan matches vcek_milan: signing key, each SPL, the full CHIP_ID', () => {
    const r = checkReportAgainstVek(milanReport(), vcekMilan());
    expect(r.ok).toBe(true);
    expect(r.steps.map((s) => s.check)).toEqual([
      'report.signing-key',
      'tcb.bootloader',
      'tcb.tee',
      'tcb.snp',
      'tcb.microcode',
      'vek.chip-id',
    ]);
    expect(stepOf(r, 'tcb.microcode').message).toBe('REPORTED_TCB microcode 115 equals the VCEK\'s ucodeSPL 115');
  });

  it('a report whose REPORTED_TCB SNP SPL differs fails tcb.snp', () => {
    const r = checkReportAgainstVek(milanReport((b) => (b[0x186] = 9)), vcekMilan());
    expect(failedChecks(r)).toEqual(['tcb.snp']);
    expect(stepOf(r, 'tcb.snp').message).toMatch(/^found snpSPL 8 in .*vcek_milan\.der \(CN=SEV-VCEK\); expected snpSPL 9, the report's REPORTED_TCB snp SPL; fix: /);
    expect(stepOf(r, 'tcb.snp').message).toContain('snpguest fetch vcek pem');
  });

  it('a different CHIP_ID fails vek.chip-id', () => {
    const r = checkReportAgainstVek(milanReport((b) => (b[0x1df] = (b[0x1df] ?? 0) ^ 1)), vcekMilan());
    expect(failedChecks(r)).toEqual(['vek.chip-id']);
  });

  it('a masked CHIP_ID leaves the chip binding undecided', () => {
    const masked = Buffer.from(milanReportBytes());
    masked.fill(0, 0x1a0, 0x1e0);
    const r = checkReportAgainstVek(parseSnpReport(masked, 'masked', { generation: 'milan' }), vcekMilan());
    expect(stepOf(r, 'vek.chip-id').status).toBe('undecided');
    expect(r.ok).toBe(false);
    expect(stepsVerdict(r).status).toBe('undecided');
  });

  it('a report claiming VLEK signing does not match a VCEK', () => {
    const r = checkReportAgainstVek(milanReport((b) => b.writeUInt32LE(1 << 2, 0x48)), vcekMilan());
    expect(failedChecks(r)).toEqual(['report.signing-key']);
  });

  it('the Turin VCEK does not match report_milan', () => {
    const r = checkReportAgainstVek(milanReport(), vcekTurin());
    expect(failedChecks(r)).toEqual(['tcb.bootloader', 'tcb.snp', 'tcb.microcode', 'tcb.layout', 'vek.chip-id']);
    expect(stepOf(r, 'vek.chip-id').message).toContain('found hwID 1e550a8ee5cf9f4d in');
    expect(stepOf(r, 'vek.chip-id').message).toContain("expected the report's CHIP_ID (first 8 bytes, Turin rule) d49554ec717f4e5b");
  });

  it('Turin: fmcSPL is checked and CHIP_ID is compared on its first 8 bytes only', () => {
    const ok = checkReportAgainstVek(turinReport(), vcekTurin());
    expect(ok.ok).toBe(true);
    expect(ok.steps.map((s) => s.check)).toContain('tcb.fmc');
    expect(stepOf(ok, 'vek.chip-id').message).toContain('first 8 bytes, Turin rule');
    // bytes 8.. of CHIP_ID do not take part
    expect(checkReportAgainstVek(turinReport((b) => (b[0x1a0 + 8] = 0x55)), vcekTurin()).ok).toBe(true);
    // byte 7 does
    expect(failedChecks(checkReportAgainstVek(turinReport((b) => (b[0x1a0 + 7] = 0x00)), vcekTurin()))).toEqual(['vek.chip-id']);
    // FMC SPL 1 in the report, 0 in the VCEK
    expect(failedChecks(checkReportAgainstVek(turinReport((b) => (b[0x180] = 1)), vcekTurin()))).toEqual(['tcb.fmc']);
  });

  it('Turin: the synthetic report is not signed by the Turin VCEK', () => {
    expect(verifyReportSignature(turinReport(), vcekTurin()).status).toBe('failed');
  });
});

describe('verifySnpAttestation and stepsVerdict', () => {
  const chain = () => ({ ark: builtin('milan', 'ark'), ask: builtin('milan', 'ask'), vek: vcekMilan() });

  it('the real Milan evidence passes every step', () => {
    const r = verifySnpAttestation(milanReport(), chain());
    expect(r.ok).toBe(true);
    expect(r.generation).toBe('milan');
    expect(r.steps).toHaveLength(13);
    const v = stepsVerdict(r);
    expect(v.status).toBe('passed');
    expect(v.message).toContain("AMD's Milan ARK");
  });

  it('a tampered measurement fails only the signature, with a found/expected/fix message', () => {
    const r = verifySnpAttestation(milanReport((b) => (b[0xa0] = (b[0xa0] ?? 0) ^ 0x80)), chain());
    expect(failedChecks(r)).toEqual(['report.signature']);
    const v = stepsVerdict(r);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/^found report\.signature: a report signature that does not verify .*; expected .*; fix: /);
    expect(v).toMatchObject({ found: expect.stringMatching(/^report\.signature: a report signature/), expected: expect.any(String), fix: expect.any(String) });
  });

  it('the Milan report with the whole Turin chain fails', () => {
    const { ark, ask } = kdsChain('turin');
    const r = verifySnpAttestation(milanReport(), { ark, ask, vek: vcekTurin() });
    expect(r.ok).toBe(false);
    expect(failedChecks(r)).toContain('report.signature');
  });

  it('a Turin-generation report with the Milan chain fails report.generation', () => {
    const r = verifySnpAttestation(turinReport(), chain());
    expect(failedChecks(r)).toContain('report.generation');
  });

  it('stepsVerdict of no steps is undecided', () => {
    expect(stepsVerdict({ ok: false, steps: [] }).status).toBe('undecided');
  });
});

describe('loading certificates', () => {
  it('reads DER and PEM alike', () => {
    const pem = loadSnpCert(vectorBytes('src/certs/snp/builtin/milan/ark.pem').toString('utf8'), 'ark.pem');
    expect(pem.subjectCN).toBe('ARK-Milan');
    expect(pem.issuerCN).toBe('ARK-Milan');
    expect(pem.signatureAlgorithm).toBe('1.2.840.113549.1.1.10');
    expect(pem.pssHash).toBe('2.16.840.1.101.3.4.2.2');
    expect(loadSnpCert(pem.der, 'ark.der').spkiSha256).toBe(pem.spkiSha256);
  });

  it('rejects bytes that are not a certificate', () => {
    let err: unknown;
    try {
      loadSnpCert(Buffer.from('not a certificate'), 'junk.der');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problem).toContain('not an X.509 certificate');
  });

  it('rejects a truncated DER certificate', () => {
    expect(() => loadSnpCert(vectorBytes('tests/certs_data/vcek_milan.der').subarray(0, 600), 'cut.der')).toThrow(InputError);
  });

  it('a PEM bundle without certificates is an InputError', () => {
    expect(() => loadPemChain('hello', 'chain.pem')).toThrow(/no "-----BEGIN CERTIFICATE-----" block/);
  });

  it('a PEM bundle with a broken block names the block', () => {
    const text = vectorBytes('tests/certs_data/cert_chain_milan').toString('utf8').replace(/MIIG/, 'MIIx');
    let err: unknown;
    try {
      loadPemChain(text, 'cert_chain_milan');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).source).toBe('cert_chain_milan (certificate 1)');
  });
});
