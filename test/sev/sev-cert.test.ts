import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import {
  ARK_SPKI_SHA256,
  SEV_CERT_SIZE,
  arkGeneration,
  decodeBase64Strict,
  parseAmdCert,
  parseAskArk,
  parseQemuCertChain,
  parseQemuPdh,
  parseSevCert,
  spkiSha256,
  verifySevChain,
  verifySignedBy,
  type Generation,
} from '../../support/sev/sev-cert.js';

const V = join(import.meta.dirname, '../vectors/virtee-sev');
const read = (p: string): Buffer => readFileSync(join(V, p));
const GENS: Generation[] = ['naples', 'rome', 'milan', 'genoa', 'turin'];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function platform(gen: 'naples' | 'rome') {
  const c = (n: string) => parseSevCert(read(`tests/${gen}/${n}.cert`), `${gen}/${n}.cert`);
  return {
    ark: parseAmdCert(read(`src/certs/sev/builtin/${gen}/ark.cert`)),
    ask: parseAmdCert(read(`src/certs/sev/builtin/${gen}/ask.cert`)),
    cek: c('cek'),
    oca: c('oca'),
    pek: c('pek'),
    pdh: c('pdh'),
  };
}

function expectInputError(fn: () => unknown, problem: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).problem).toMatch(problem);
    return;
  }
  throw new Error('expected an InputError');
}

describe('AMD ARK/ASK (AMD public key format)', () => {
  it.each(GENS)('%s: ARK and ASK parse, self/cross signatures verify, bytes round-trip', (gen) => {
    const arkBytes = read(`src/certs/sev/builtin/${gen}/ark.cert`);
    const askBytes = read(`src/certs/sev/builtin/${gen}/ask.cert`);
    const ark = parseAmdCert(arkBytes);
    const ask = parseAmdCert(askBytes);
    expect(ark.usageName).toBe('ARK');
    expect(ask.usageName).toBe('ASK');
    expect(ark.keyId.equals(ark.certifyingId)).toBe(true);
    expect(ask.certifyingId.equals(ark.keyId)).toBe(true);
    expect(ark.raw.equals(arkBytes)).toBe(true);
    expect(Buffer.concat([ark.body, ark.signature]).equals(arkBytes)).toBe(true);
    expect(ark.key.exponent.toString('hex')).toBe('010001');
    expect(ark.modulusBits).toBe(gen === 'naples' ? 2048 : 4096);
    expect(arkBytes.length).toBe(gen === 'naples' ? 832 : 1600);
    expect(verifySignedBy(ark, ark)).toMatchObject({ ok: true, detail: `RSA-PSS ${gen === 'naples' ? 'SHA256' : 'SHA384'} signature verifies` });
    expect(verifySignedBy(ask, ark).ok).toBe(true);
    // the reverse direction must fail (virtee sev tests/naples/ask.rs)
    expect(verifySignedBy(ark, ask).ok).toBe(false);
  });

  it.each(GENS)('%s: the pinned fingerprint is the vector ARK key and identifies the generation', (gen) => {
    const ark = parseAmdCert(read(`src/certs/sev/builtin/${gen}/ark.cert`));
    expect(spkiSha256(ark)).toBe(ARK_SPKI_SHA256[gen]);
    expect(arkGeneration(ark)).toBe(gen);
  });

  it('the five pinned ARKs are distinct', () => {
    expect(new Set(Object.values(ARK_SPKI_SHA256)).size).toBe(5);
  });

  it('rejects the truncated Naples ARK (ark.cert.bad), naming AMDSEV#17', () => {
    expectInputError(() => parseAmdCert(read('tests/naples/ark.cert.bad'), 'ark.cert.bad'), /truncated ARK: 576 bytes, needs 832; the signature is missing.*AMDSEV\/issues\/17/);
  });

  it('ark.cert.bad + ark.cert.sig is byte-for-byte the complete Naples ARK', () => {
    const joined = Buffer.concat([read('tests/naples/ark.cert.bad'), read('tests/naples/ark.cert.sig')]);
    expect(joined.equals(read('src/certs/sev/builtin/naples/ark.cert'))).toBe(true);
    expect(verifySignedBy(parseAmdCert(joined), parseAmdCert(joined)).ok).toBe(true);
  });

  it('parses an ask_ark file (ASK || ARK) and rejects the wrong order', () => {
    const ask = read('src/certs/sev/builtin/milan/ask.cert');
    const ark = read('src/certs/sev/builtin/milan/ark.cert');
    const both = parseAskArk(Buffer.concat([ask, ark]));
    expect(both.ark.usageName).toBe('ARK');
    expectInputError(() => parseAskArk(Buffer.concat([ark, ask])), /expected ASK then ARK, found ARK then ASK/);
    expectInputError(() => parseAskArk(Buffer.concat([ask, ark, Buffer.from([0])])), /1 unexpected trailing bytes/);
  });

  describe('malformed AMD certificates', () => {
    const good = (): Buffer => Buffer.from(read('src/certs/sev/builtin/rome/ark.cert'));
    it('too short for a header', () => expectInputError(() => parseAmdCert(good().subarray(0, 10)), /truncated: 10 bytes/));
    it('wrong version', () => {
      const b = good();
      b.writeUInt32LE(2, 0);
      expectInputError(() => parseAmdCert(b), /VERSION is 2/);
    });
    it('unknown usage', () => {
      const b = good();
      b.writeUInt32LE(0x1002, 0x24);
      expectInputError(() => parseAmdCert(b), /KEY_USAGE 0x1002 is not ARK/);
    });
    it('odd key size', () => {
      const b = good();
      b.writeUInt32LE(3072, 0x3c);
      expectInputError(() => parseAmdCert(b), /MODULUS_SIZE 3072/);
    });
    it('key cut short', () => expectInputError(() => parseAmdCert(good().subarray(0, 200)), /the key is cut short/));
    it('trailing bytes', () => expectInputError(() => parseAmdCert(Buffer.concat([good(), Buffer.alloc(4)])), /4 unexpected trailing bytes/));
    it('zero modulus', () => {
      const b = good();
      b.fill(0, 0x40 + 512, 0x40 + 1024);
      expectInputError(() => parseAmdCert(b), /degenerate/);
    });
    it('a flipped signature byte fails verification with a reason', () => {
      const b = good();
      b[b.length - 10]! ^= 0x01;
      expect(verifySignedBy(parseAmdCert(b), parseAmdCert(b))).toMatchObject({ ok: false, detail: 'RSA-PSS SHA384 signature does not verify' });
    });
    it('a flipped key id fails the issuer check', () => {
      const askB = Buffer.from(read('src/certs/sev/builtin/rome/ask.cert'));
      askB[0x14]! ^= 0xff;
      const r = verifySignedBy(parseAmdCert(askB), parseAmdCert(good()));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/CERTIFYING_ID .* is not the ARK KEY_ID/);
    });
  });
});

describe('SEV platform certificates (SEV API Appendix C)', () => {
  it.each(['naples', 'rome'] as const)('%s: cek/oca/pek/pdh parse byte-exact with the documented fields', (gen) => {
    for (const n of ['cek', 'oca', 'pek', 'pdh']) {
      const bytes = read(`tests/${gen}/${n}.cert`);
      const c = parseSevCert(bytes);
      expect(c.raw.equals(bytes)).toBe(true);
      expect(c.body.equals(bytes.subarray(0, 0x414))).toBe(true);
      expect(c.usageName).toBe(n.toUpperCase());
      expect(c.key.kind).toBe('ec');
      if (c.key.kind === 'ec') {
        expect(c.key.curve).toBe('P-384');
        // coordinates are stored little-endian: our big-endian x is the reversed stored bytes
        expect(c.key.x.equals(Buffer.from(bytes.subarray(0x14, 0x14 + 48)).reverse())).toBe(true);
      }
    }
    const p = platform(gen);
    expect(p.pdh.algoName).toBe('ECDH_SHA256');
    expect(p.pek.signatures.map((s) => s.usageName)).toEqual(['OCA', 'CEK']);
    expect(p.oca.signatures[1].empty).toBe(true);
  });

  it('naples platform certs carry the firmware API version they were made with', () => {
    const p = platform('naples');
    expect([p.cek.apiMajor, p.cek.apiMinor]).toEqual([0, 14]);
    expect([p.pek.apiMajor, p.pek.apiMinor]).toEqual([0, 16]);
  });

  it.each(['naples', 'rome'] as const)('%s: the whole chain ARK -> ASK -> CEK -> PEK <- OCA, PEK -> PDH verifies', (gen) => {
    const r = verifySevChain(platform(gen), { expectGeneration: gen });
    expect(r.links.filter((l) => !l.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.generation).toBe(gen);
    expect(r.links.map((l) => `${l.subject}<-${l.issuer}`)).toEqual([
      'ARK<-pinned AMD root',
      'ARK<-ARK',
      'ASK<-ARK',
      'CEK<-ASK',
      'OCA<-OCA',
      'PEK<-OCA',
      'PEK<-CEK',
      'PDH<-PEK',
    ]);
    expect(r.links.find((l) => l.subject === 'CEK')?.detail).toBe(gen === 'naples' ? 'slot 1 RSA_SHA256 signature verifies' : 'slot 1 RSA_SHA384 signature verifies');
  });

  it('a Naples CEK does not verify under the Rome ASK (virtee sev enarx#520 false-positive test)', () => {
    const r = verifySignedBy(platform('naples').cek, platform('rome').ask);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/slot 1 algorithm RSA_SHA256 does not match the ASK key/);
  });

  it('reverse directions fail: PDH does not sign PEK, PEK does not sign CEK', () => {
    const p = platform('naples');
    expect(verifySignedBy(p.pek, p.pdh)).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot sign/) });
    expect(verifySignedBy(p.cek, p.pek)).toMatchObject({ ok: false, detail: expect.stringMatching(/slot 1 is by ASK/) });
  });

  it('expecting the wrong generation fails the pin link only, naming both', () => {
    const r = verifySevChain(platform('rome'), { expectGeneration: 'milan' });
    expect(r.ok).toBe(false);
    const bad = r.links.filter((l) => !l.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]?.detail).toMatch(/is not the pinned milan ARK .*; it is the rome ARK/);
  });

  it('a Rome platform chain over the Naples ARK/ASK fails at CEK <- ASK', () => {
    const n = platform('naples');
    const r = verifySevChain({ ...platform('rome'), ark: n.ark, ask: n.ask });
    expect(r.ok).toBe(false);
    expect(r.links.filter((l) => !l.ok).map((l) => `${l.subject}<-${l.issuer}`)).toEqual(['CEK<-ASK']);
  });

  it('a tampered PEK body breaks PEK<-OCA, PEK<-CEK (and nothing else)', () => {
    const bytes = Buffer.from(read('tests/rome/pek.cert'));
    bytes[0x20]! ^= 0x01; // inside the public key X coordinate
    let pek;
    try {
      pek = parseSevCert(bytes);
    } catch {
      // a flipped coordinate may leave the curve; then flip a reserved key byte the body still covers
      bytes[0x20]! ^= 0x01;
      bytes[0x04]! ^= 0x01; // API_MAJOR
      pek = parseSevCert(bytes);
    }
    const r = verifySevChain({ ...platform('rome'), pek });
    expect(r.links.filter((l) => !l.ok).map((l) => `${l.subject}<-${l.issuer}`)).toEqual(['PEK<-OCA', 'PEK<-CEK', 'PDH<-PEK']);
  });

  it('a chain with certificates in the wrong slots names the slot', () => {
    const p = platform('rome');
    const r = verifySevChain({ ...p, oca: p.pek });
    expect(r.links[0]).toMatchObject({ ok: false, detail: 'OCA slot holds a PEK certificate' });
  });

  describe('malformed SEV certificates', () => {
    const good = (): Buffer => Buffer.from(read('tests/rome/pek.cert'));
    it('wrong size', () => expectInputError(() => parseSevCert(good().subarray(0, 2000)), /is 2000 bytes; .* exactly 2084/));
    it('empty', () => expectInputError(() => parseSevCert(Buffer.alloc(0)), /is 0 bytes/));
    it('wrong version', () => {
      const b = good();
      b.writeUInt32LE(0, 0);
      expectInputError(() => parseSevCert(b), /VERSION is 0/);
    });
    it('ARK usage in a SEV cert', () => {
      const b = good();
      b.writeUInt32LE(0x13, 8);
      expectInputError(() => parseSevCert(b), /PUBKEY_USAGE 0x0013 is not a SEV platform key usage/);
    });
    it('unknown algorithm', () => {
      const b = good();
      b.writeUInt32LE(0x7, 0xc);
      expectInputError(() => parseSevCert(b), /PUBKEY_ALGO 0x0007/);
    });
    it('unknown curve', () => {
      const b = good();
      b.writeUInt32LE(3, 0x10);
      expectInputError(() => parseSevCert(b), /curve id 3/);
    });
    it('coordinate bytes beyond the curve size', () => {
      const b = good();
      b[0x14 + 60] = 1;
      expectInputError(() => parseSevCert(b), /beyond the P-384 coordinate size/);
    });
    it('RSA key with a bad size', () => {
      const b = good();
      b.writeUInt32LE(0x1, 0xc); // RSA_SHA256
      b.writeUInt32LE(1024, 0x10);
      expectInputError(() => parseSevCert(b), /MODULUS_SIZE is 1024 bits/);
    });
    it('an off-curve point is reported by verification, not thrown', () => {
      const b = Buffer.from(read('tests/rome/oca.cert'));
      b.fill(0x11, 0x14, 0x14 + 48);
      const oca = parseSevCert(b);
      const r = verifySignedBy(oca, oca);
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/OCA key unusable/);
    });
  });
});

describe('public keys as DER SubjectPublicKeyInfo', () => {
  // spkiSha256 builds the key's SPKI from its parsed fields; node:crypto's own export of the same
  // key is the reference. Random keys of each kind and size a SEV or AMD certificate carries.
  const cases: Array<['rsa', number] | ['ec', 'P-256' | 'P-384']> = [
    ['rsa', 2048],
    ['rsa', 4096],
    ['ec', 'P-256'],
    ['ec', 'P-384'],
  ];
  it.each(cases)('%s %s: the SPKI built from the fields is the one node:crypto exports', (kind, size) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 30 }), () => {
        const pair =
          kind === 'rsa'
            ? generateKeyPairSync('rsa', { modulusLength: size as number, publicExponent: 65537 })
            : generateKeyPairSync('ec', { namedCurve: size as string });
        const jwk = pair.publicKey.export({ format: 'jwk' });
        const b = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');
        const key =
          kind === 'rsa'
            ? { kind, bits: size as number, modulus: b(jwk.n), exponent: b(jwk.e) }
            : { kind, curve: size as 'P-256' | 'P-384', x: b(jwk.x), y: b(jwk.y) };
        const want = sha(pair.publicKey.export({ type: 'spki', format: 'der' }));
        expect(spkiSha256({ key } as unknown as Parameters<typeof spkiSha256>[0])).toBe(want);
      }),
      { numRuns: kind === 'ec' ? 20 : size === 2048 ? 5 : 2 },
    );
  });
});

describe('QEMU / libvirt base64 forms', () => {
  const pek = read('tests/rome/pek.cert');
  const oca = read('tests/rome/oca.cert');
  const cek = read('tests/rome/cek.cert');
  const chainB64 = Buffer.concat([pek, oca, cek]).toString('base64');

  it('cert-chain is PEK || OCA || CEK; with pdh and the builtin ARK/ASK it verifies', () => {
    const chain = parseQemuCertChain(chainB64);
    expect(sha(chain.pek.raw)).toBe(sha(pek));
    expect(sha(chain.cek.raw)).toBe(sha(cek));
    const pdh = parseQemuPdh(read('tests/rome/pdh.cert').toString('base64'));
    const r = verifySevChain({
      ...chain,
      pdh,
      ark: parseAmdCert(read('src/certs/sev/builtin/rome/ark.cert')),
      ask: parseAmdCert(read('src/certs/sev/builtin/rome/ask.cert')),
    });
    expect(r.ok).toBe(true);
  });

  it('accepts base64 with line breaks (virsh/libvirt may wrap)', () => {
    expect(parseQemuCertChain(chainB64.replace(/(.{76})/g, '$1\n')).oca.usageName).toBe('OCA');
  });

  it('rejects a chain in the wrong order, naming the position', () => {
    const swapped = Buffer.concat([oca, pek, cek]).toString('base64');
    expectInputError(() => parseQemuCertChain(swapped), /holds a OCA certificate where the PEK belongs/);
  });

  it('rejects a short chain, a PEK given as pdh, non-base64 and empty input', () => {
    expectInputError(() => parseQemuCertChain(Buffer.concat([pek, oca]).toString('base64')), /decodes to 4168 bytes; PEK \|\| OCA \|\| CEK is 6252/);
    expectInputError(() => parseQemuPdh(pek.toString('base64')), /holds a PEK certificate where the PDH belongs/);
    expectInputError(() => decodeBase64Strict('AQAA*AAA', 'pdh'), /not valid base64/);
    expectInputError(() => decodeBase64Strict('  ', 'pdh'), /is empty/);
    expectInputError(() => parseQemuPdh('UExBQ0VIT0xERVIgLSBub3QgYSBTRVYgUERIIGNlcnRpZmljYXRl'), /is 39 bytes/);
  });

  it('SEV_CERT_SIZE is 0x824', () => expect(SEV_CERT_SIZE).toBe(2084));
});
