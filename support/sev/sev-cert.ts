/**
 * SEV (legacy, pre-SNP) certificates: the platform format of AMD's "Secure Encrypted
 * Virtualization API" spec, Appendix C "Certificate Formats" (PDH, PEK, OCA, CEK), and the
 * "AMD public key" format of the ARK and ASK (same spec, Appendix B/C, "AMD Root Key / AMD
 * Signing Key"). Pure: bytes in, typed data and verdict-ready results out; no I/O.
 *
 * Byte layouts, usages, algorithm ids, the RSA-PSS parameters and the little-endian encodings
 * were cross-checked against github.com/virtee/sev (Apache-2.0) src/certs/sev/ at commit
 * 9cf2adbffa209cc5becf7ff89ffdf624e7278ced (the commit test/vectors/virtee-sev/COMMIT
 * names) — the code below is our own.
 *
 * Chain of trust (SEV API spec §"Platform certificates" / virtee sev src/certs/sev/chain.rs):
 *
 *   ARK (self-signed) -> ASK -> CEK -> PEK <- OCA (self-signed) ; PEK -> PDH
 *
 * QEMU's `query-sev-capabilities` (and libvirt's `virsh nodesevinfo` / capabilities cache,
 * which copy it) return `pdh` = base64(PDH) and `cert-chain` = base64(PEK || OCA || CEK): QEMU
 * target/i386/sev.c sev_get_pdh_info() base64-encodes the SEV_PDH_CERT_EXPORT cert_chain buffer,
 * whose order the SEV API spec defines for PDH_CERT_EXPORT as PEK, OCA, CEK.
 */
import { createHash, createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/** Key usage ids (SEV API spec Appendix C table "Key Usages"; virtee sev src/certs/sev/mod.rs). */
export const USAGE = {
  ARK: 0x0000,
  ASK: 0x0013,
  INVALID: 0x1000,
  OCA: 0x1001,
  PEK: 0x1002,
  PDH: 0x1003,
  CEK: 0x1004,
} as const;
export type UsageName = keyof typeof USAGE;

/** Algorithm ids (SEV API spec Appendix C table "Algorithms"; virtee sev .../v1/algo.rs). */
export const ALGO = {
  NONE: 0x0000,
  RSA_SHA256: 0x0001,
  ECDSA_SHA256: 0x0002,
  ECDH_SHA256: 0x0003,
  RSA_SHA384: 0x0101,
  ECDSA_SHA384: 0x0102,
  ECDH_SHA384: 0x0103,
} as const;
export type AlgoName = keyof typeof ALGO;

/** ECC curve ids in the SEV public key (SEV API spec Appendix C "ECDSA/ECDH public key"). */
const CURVES: Record<number, { name: 'P-256' | 'P-384'; bytes: number }> = {
  1: { name: 'P-256', bytes: 32 },
  2: { name: 'P-384', bytes: 48 },
};

/**
 * SEV certificate layout (SEV API spec Appendix C, Table "SEV Certificate Format"):
 *   0x000 VERSION u32 (=1) | 0x004 API_MAJOR u8 | 0x005 API_MINOR u8 | 0x006 RESERVED 2
 *   0x008 PUBKEY_USAGE u32 | 0x00C PUBKEY_ALGO u32 | 0x010 PUBKEY 0x404 bytes
 *   0x414 SIG1_USAGE u32 | 0x418 SIG1_ALGO u32 | 0x41C SIG1 0x200 bytes
 *   0x61C SIG2_USAGE u32 | 0x620 SIG2_ALGO u32 | 0x624 SIG2 0x200 bytes      total 0x824
 * The signed body is bytes 0x000..0x413 (virtee sev: `Encoder<Body>` writes `v1.body`).
 */
export const SEV_CERT_SIZE = 0x824; // 2084
const SEV_BODY_END = 0x414;
const SEV_PUBKEY_OFF = 0x10;
const SEV_SIG_OFF = [0x414, 0x61c] as const;
const SEV_SIG_BYTES = 0x200;
/** RSA public key inside PUBKEY: MODULUS_SIZE u32 (bits) | PUBEXP 512 LE | MODULUS 512 LE. */
const RSA_FIELD_BYTES = 512;
/** ECC public key inside PUBKEY: CURVE u32 | QX 72 LE | QY 72 LE | reserved 880. */
const ECC_COORD_BYTES = 72;

/**
 * AMD public key format (ARK/ASK; SEV API spec "AMD Root Key (ARK) and AMD SEV Signing Key (ASK)
 * certificate format"; virtee sev src/certs/sev/ca/cert/v1.rs):
 *   0x00 VERSION u32 (=1) | 0x04 KEY_ID 16 | 0x14 CERTIFYING_ID 16 | 0x24 KEY_USAGE u32
 *   0x28 RESERVED 16 | 0x38 PUBEXP_SIZE u32 (bits) | 0x3C MODULUS_SIZE u32 (bits)
 *   0x40 PUBEXP (PUBEXP_SIZE/8, LE) | MODULUS (MODULUS_SIZE/8, LE) | SIGNATURE (MODULUS_SIZE/8, LE)
 * Signed body: everything before SIGNATURE. Signature: RSASSA-PSS, MGF1 with the same hash,
 * salt length = digest length, hash SHA-256 for 2048-bit keys and SHA-384 for 4096-bit keys
 * (virtee sev crypto.rs `set_rsa_pss_saltlen(DIGEST_LENGTH)` and v1.rs `Size::{Small,Large}`).
 * virtee sev accepts only PUBEXP_SIZE == MODULUS_SIZE ∈ {2048, 4096}; every AMD ARK/ASK has that.
 */
const AMD_HEADER_BYTES = 0x40;

/**
 * Pinned ARK public keys: SHA-256 over the DER SubjectPublicKeyInfo of the ARK's RSA key
 * (`openssl pkey -pubin -outform der | sha256sum` on the same key gives the same hex).
 * Computed by this module from the ARK files in github.com/virtee/sev
 * src/certs/sev/builtin/<gen>/ark.cert at commit 9cf2adbffa209cc5becf7ff89ffdf624e7278ced, which
 * that crate embeds from AMD's published ask_ark_<gen>.cert (developer.amd.com/sev; the crate's
 * naples/rome/turin mod.rs name the URL, its milan/genoa mod.rs copy the naples comment). Each
 * ARK's self-signature verifies under its own key (test/sev/sev-cert.test.ts), the test suite
 * re-derives every constant from the vector files, and the milan value was cross-checked with
 * openssl (asn1parse -genconf of n/e, `openssl rsa -RSAPublicKey_in -pubout -outform DER`).
 */
export const ARK_SPKI_SHA256 = {
  naples: '3a04f8f1347de206c9206a81148ba4ef0a233b245d43a15dd82de043bb3e4f69',
  rome: '7447ffa21e2b938bfade89f5e9066c00a328813bfc43685605cceabd18da6fde',
  milan: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9',
  genoa: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831',
  turin: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08',
} as const satisfies Record<string, string>;
export type Generation = keyof typeof ARK_SPKI_SHA256;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export interface RsaPublicKey {
  readonly kind: 'rsa';
  readonly bits: number;
  /** big-endian, no leading zero bytes */
  readonly modulus: Buffer;
  /** big-endian, no leading zero bytes */
  readonly exponent: Buffer;
}

export interface EcPublicKey {
  readonly kind: 'ec';
  readonly curve: 'P-256' | 'P-384';
  /** big-endian, curve size */
  readonly x: Buffer;
  readonly y: Buffer;
}

export type PublicKey = RsaPublicKey | EcPublicKey;

export interface SevSignatureSlot {
  readonly index: 0 | 1;
  readonly usage: number;
  readonly usageName: UsageName | undefined;
  readonly algo: number;
  readonly algoName: AlgoName | undefined;
  /** a slot is empty unless it names a signing usage and an RSA/ECDSA algorithm (virtee sev sig/mod.rs is_empty) */
  readonly empty: boolean;
  /** the 512 raw bytes of the slot as stored (little-endian numbers) */
  readonly raw: Buffer;
}

export interface SevCert {
  readonly format: 'sev';
  readonly version: number;
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly usage: number;
  readonly usageName: UsageName | undefined;
  readonly algo: number;
  readonly algoName: AlgoName | undefined;
  readonly key: PublicKey;
  readonly signatures: readonly [SevSignatureSlot, SevSignatureSlot];
  /** signed bytes 0x000..0x413 */
  readonly body: Buffer;
  readonly raw: Buffer;
}

export interface AmdCert {
  readonly format: 'amd';
  readonly version: number;
  readonly keyId: Buffer;
  readonly certifyingId: Buffer;
  readonly usage: number;
  readonly usageName: UsageName | undefined;
  readonly pubExpBits: number;
  readonly modulusBits: number;
  readonly key: RsaPublicKey;
  /** raw signature field as stored (little-endian) */
  readonly signature: Buffer;
  /** signed bytes: header + pubexp + modulus */
  readonly body: Buffer;
  readonly raw: Buffer;
}

export type AnyCert = SevCert | AmdCert;

/** One verified (or not) signature link: `issuer` signed `subject`. */
export interface LinkResult {
  readonly subject: string;
  readonly issuer: string;
  readonly ok: boolean;
  /** on success, what verified (slot, algorithm); on failure, what failed and why */
  readonly detail: string;
}

export interface ChainInput {
  readonly ark: AmdCert;
  readonly ask: AmdCert;
  readonly cek: SevCert;
  readonly oca: SevCert;
  readonly pek: SevCert;
  readonly pdh?: SevCert | undefined;
}

export interface ChainResult {
  readonly ok: boolean;
  /** generation whose pinned ARK key matched, if any */
  readonly generation: Generation | undefined;
  readonly links: readonly LinkResult[];
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

function usageName(u: number): UsageName | undefined {
  return (Object.keys(USAGE) as UsageName[]).find((k) => USAGE[k] === u);
}

function algoName(a: number): AlgoName | undefined {
  return (Object.keys(ALGO) as AlgoName[]).find((k) => ALGO[k] === a);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/** little-endian bytes -> big-endian bytes without leading zeros (at least one byte) */
function leToBe(le: Buffer): Buffer {
  const be = Buffer.from(le).reverse();
  let i = 0;
  while (i < be.length - 1 && be[i] === 0) i++;
  return be.subarray(i);
}

function allZero(b: Buffer): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

function parseSevPubKey(area: Buffer, algo: number, source: string): PublicKey {
  if (algo === ALGO.RSA_SHA256 || algo === ALGO.RSA_SHA384) {
    const bits = area.readUInt32LE(0);
    if (bits !== 2048 && bits !== 4096) {
      throw new InputError(source, `RSA public key MODULUS_SIZE is ${bits} bits; the SEV format allows 2048 or 4096`);
    }
    const bytes = bits / 8;
    const expLe = area.subarray(4, 4 + RSA_FIELD_BYTES);
    const modLe = area.subarray(4 + RSA_FIELD_BYTES, 4 + 2 * RSA_FIELD_BYTES);
    if (!allZero(modLe.subarray(bytes)) || !allZero(expLe.subarray(bytes))) {
      throw new InputError(source, `RSA public key has non-zero bytes beyond its ${bits}-bit size`);
    }
    const modulus = leToBe(modLe.subarray(0, bytes));
    const exponent = leToBe(expLe.subarray(0, bytes));
    if (modulus.length * 8 < bits - 7 || allZero(exponent)) {
      throw new InputError(source, `RSA public key is degenerate (modulus shorter than ${bits} bits or zero exponent)`);
    }
    return { kind: 'rsa', bits, modulus, exponent };
  }
  if (
    algo === ALGO.ECDSA_SHA256 ||
    algo === ALGO.ECDSA_SHA384 ||
    algo === ALGO.ECDH_SHA256 ||
    algo === ALGO.ECDH_SHA384
  ) {
    const curveId = area.readUInt32LE(0);
    const curve = CURVES[curveId];
    if (!curve) throw new InputError(source, `ECC public key names curve id ${curveId}; expected 1 (P-256) or 2 (P-384)`);
    const xLe = area.subarray(4, 4 + ECC_COORD_BYTES);
    const yLe = area.subarray(4 + ECC_COORD_BYTES, 4 + 2 * ECC_COORD_BYTES);
    if (!allZero(xLe.subarray(curve.bytes)) || !allZero(yLe.subarray(curve.bytes))) {
      throw new InputError(source, `ECC public key has non-zero bytes beyond the ${curve.name} coordinate size`);
    }
    const x = Buffer.from(xLe.subarray(0, curve.bytes)).reverse();
    const y = Buffer.from(yLe.subarray(0, curve.bytes)).reverse();
    return { kind: 'ec', curve: curve.name, x, y };
  }
  throw new InputError(source, `PUBKEY_ALGO ${hex(algo)} is not an RSA/ECDSA/ECDH algorithm id`);
}

/**
 * Parse one SEV platform certificate (exactly 2084 bytes). Throws InputError(source, problem)
 * for a wrong size, version, unknown usage/algorithm or malformed key.
 */
export function parseSevCert(bytes: Uint8Array, source = 'SEV certificate'): SevCert {
  const raw = Buffer.from(bytes);
  if (raw.length !== SEV_CERT_SIZE) {
    throw new InputError(source, `is ${raw.length} bytes; a SEV certificate (SEV API Appendix C) is exactly ${SEV_CERT_SIZE}`);
  }
  const version = raw.readUInt32LE(0);
  if (version !== 1) throw new InputError(source, `VERSION is ${version}; only version 1 is defined`);
  const usage = raw.readUInt32LE(0x08);
  const uName = usageName(usage);
  if (uName !== 'OCA' && uName !== 'PEK' && uName !== 'PDH' && uName !== 'CEK') {
    throw new InputError(source, `PUBKEY_USAGE ${hex(usage)} is not a SEV platform key usage (OCA/PEK/PDH/CEK)`);
  }
  const algo = raw.readUInt32LE(0x0c);
  const key = parseSevPubKey(raw.subarray(SEV_PUBKEY_OFF, SEV_BODY_END), algo, `${source}: ${uName} public key`);
  const slot = (index: 0 | 1): SevSignatureSlot => {
    const off = SEV_SIG_OFF[index];
    const su = raw.readUInt32LE(off);
    const sa = raw.readUInt32LE(off + 4);
    const sun = usageName(su);
    const san = algoName(sa);
    const signing = sun !== undefined && sun !== 'INVALID';
    const sigAlgo = sa === ALGO.RSA_SHA256 || sa === ALGO.RSA_SHA384 || sa === ALGO.ECDSA_SHA256 || sa === ALGO.ECDSA_SHA384;
    return {
      index,
      usage: su,
      usageName: sun,
      algo: sa,
      algoName: san,
      empty: !(signing && sigAlgo),
      raw: raw.subarray(off + 8, off + 8 + SEV_SIG_BYTES),
    };
  };
  return {
    format: 'sev',
    version,
    apiMajor: raw.readUInt8(0x04),
    apiMinor: raw.readUInt8(0x05),
    usage,
    usageName: uName,
    algo,
    algoName: algoName(algo),
    key,
    signatures: [slot(0), slot(1)],
    body: raw.subarray(0, SEV_BODY_END),
    raw,
  };
}

/**
 * Parse one AMD-format (ARK/ASK) certificate starting at `offset`; returns it and the offset just
 * past it, so concatenations (AMD's ask_ark_<gen>.cert is ASK || ARK) can be walked.
 */
export function parseAmdCertAt(bytes: Uint8Array, offset: number, source = 'AMD certificate'): { cert: AmdCert; end: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const avail = buf.length - offset;
  if (avail < AMD_HEADER_BYTES) {
    throw new InputError(source, `truncated: ${avail} bytes, the AMD public key header alone is ${AMD_HEADER_BYTES}`);
  }
  const h = buf.subarray(offset);
  const version = h.readUInt32LE(0);
  if (version !== 1) throw new InputError(source, `VERSION is ${version}; only version 1 is defined`);
  const usage = h.readUInt32LE(0x24);
  const uName = usageName(usage);
  if (uName !== 'ARK' && uName !== 'ASK') {
    throw new InputError(source, `KEY_USAGE ${hex(usage)} is not ARK (0x0000) or ASK (0x0013)`);
  }
  const pubExpBits = h.readUInt32LE(0x38);
  const modulusBits = h.readUInt32LE(0x3c);
  if ((modulusBits !== 2048 && modulusBits !== 4096) || pubExpBits !== modulusBits) {
    throw new InputError(
      source,
      `PUBEXP_SIZE ${pubExpBits} / MODULUS_SIZE ${modulusBits} bits; AMD ARK/ASK keys are 2048 or 4096 bits with equal sizes`,
    );
  }
  const eBytes = pubExpBits / 8;
  const nBytes = modulusBits / 8;
  const total = AMD_HEADER_BYTES + eBytes + nBytes + nBytes;
  if (avail < total) {
    const missing = avail >= AMD_HEADER_BYTES + eBytes + nBytes ? 'the signature is missing' : 'the key is cut short';
    const naples =
      uName === 'ARK' && avail === AMD_HEADER_BYTES + eBytes + nBytes
        ? ' (this is the known-malformed Naples ARK distributed without its signature, github.com/AMDESE/AMDSEV/issues/17; use the complete 832-byte ARK)'
        : '';
    throw new InputError(source, `truncated ${uName}: ${avail} bytes, needs ${total}; ${missing}${naples}`);
  }
  const expLe = h.subarray(AMD_HEADER_BYTES, AMD_HEADER_BYTES + eBytes);
  const modLe = h.subarray(AMD_HEADER_BYTES + eBytes, AMD_HEADER_BYTES + eBytes + nBytes);
  const modulus = leToBe(modLe);
  const exponent = leToBe(expLe);
  if (modulus.length * 8 < modulusBits - 7 || allZero(exponent)) {
    throw new InputError(source, `${uName} RSA key is degenerate (modulus shorter than ${modulusBits} bits or zero exponent)`);
  }
  const cert: AmdCert = {
    format: 'amd',
    version,
    keyId: Buffer.from(h.subarray(0x04, 0x14)),
    certifyingId: Buffer.from(h.subarray(0x14, 0x24)),
    usage,
    usageName: uName,
    pubExpBits,
    modulusBits,
    key: { kind: 'rsa', bits: modulusBits, modulus, exponent },
    signature: Buffer.from(h.subarray(total - nBytes, total)),
    body: Buffer.from(h.subarray(0, total - nBytes)),
    raw: Buffer.from(h.subarray(0, total)),
  };
  return { cert, end: offset + total };
}

/** Parse exactly one AMD-format certificate; trailing bytes are an error. */
export function parseAmdCert(bytes: Uint8Array, source = 'AMD certificate'): AmdCert {
  const { cert, end } = parseAmdCertAt(bytes, 0, source);
  if (end !== bytes.byteLength) {
    throw new InputError(source, `${bytes.byteLength - end} unexpected trailing bytes after the ${cert.usageName} (${end} bytes)`);
  }
  return cert;
}

/** AMD's ask_ark_<gen>.cert: ASK followed by ARK. */
export function parseAskArk(bytes: Uint8Array, source = 'ASK/ARK file'): { ask: AmdCert; ark: AmdCert } {
  const first = parseAmdCertAt(bytes, 0, `${source} (first certificate)`);
  const second = parseAmdCertAt(bytes, first.end, `${source} (second certificate)`);
  if (second.end !== bytes.byteLength) {
    throw new InputError(source, `${bytes.byteLength - second.end} unexpected trailing bytes after ASK and ARK`);
  }
  if (first.cert.usageName !== 'ASK' || second.cert.usageName !== 'ARK') {
    throw new InputError(source, `expected ASK then ARK, found ${first.cert.usageName} then ${second.cert.usageName}`);
  }
  return { ask: first.cert, ark: second.cert };
}

/**
 * Strict base64 (RFC 4648 §4, padding optional, whitespace ignored); anything else is an
 * InputError instead of Node's silent skipping of bad characters.
 */
export function decodeBase64Strict(text: string, source: string): Buffer {
  const s = text.replace(/\s+/g, '');
  if (s.length === 0) throw new InputError(source, 'is empty; expected base64 data');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new InputError(source, 'is not valid base64');
  }
  return Buffer.from(s, 'base64');
}

function expectUsage(cert: SevCert, want: UsageName, source: string): SevCert {
  if (cert.usageName !== want) {
    throw new InputError(source, `holds a ${cert.usageName ?? hex(cert.usage)} certificate where the ${want} belongs`);
  }
  return cert;
}

/**
 * QEMU's `cert-chain` (query-sev-capabilities), libvirt's `cert-chain` (virsh nodesevinfo) and
 * `<certChain>` (capabilities cache): base64 of PEK || OCA || CEK, 3 × 2084 bytes.
 */
export function parseQemuCertChain(input: string | Uint8Array, source = 'cert-chain'): { pek: SevCert; oca: SevCert; cek: SevCert } {
  const bytes = typeof input === 'string' ? decodeBase64Strict(input, source) : Buffer.from(input);
  if (bytes.length !== 3 * SEV_CERT_SIZE) {
    throw new InputError(source, `decodes to ${bytes.length} bytes; PEK || OCA || CEK is ${3 * SEV_CERT_SIZE}`);
  }
  const at = (i: number, name: UsageName): SevCert =>
    expectUsage(parseSevCert(bytes.subarray(i * SEV_CERT_SIZE, (i + 1) * SEV_CERT_SIZE), `${source}[${i}]`), name, `${source}[${i}]`);
  return { pek: at(0, 'PEK'), oca: at(1, 'OCA'), cek: at(2, 'CEK') };
}

/** QEMU's / libvirt's `pdh`: base64 of the PDH certificate. */
export function parseQemuPdh(input: string | Uint8Array, source = 'pdh'): SevCert {
  const bytes = typeof input === 'string' ? decodeBase64Strict(input, source) : Buffer.from(input);
  return expectUsage(parseSevCert(bytes, source), 'PDH', source);
}

// ---------------------------------------------------------------------------------------------
// Keys and fingerprints
// ---------------------------------------------------------------------------------------------

/** A DER length (X.690 8.1.3: short form below 128, else the long form's byte count and bytes). */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};

/** A non-negative INTEGER from big-endian magnitude bytes (a 0x00 first when the top bit is set, X.690 8.3.2). */
const derUnsigned = (be: Buffer): Buffer => der(0x02, be.length === 0 || (be[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), be]) : be);

/**
 * The SubjectPublicKeyInfo's fixed head for each curve, up to the BIT STRING's unused-bits byte
 * (RFC 5480 section 2: id-ecPublicKey 1.2.840.10045.2.1 with the named curve secp256r1
 * 1.2.840.10045.3.1.7 or secp384r1 1.3.132.0.34), then the uncompressed point 04 || X || Y.
 */
const EC_SPKI_HEAD: Record<EcPublicKey['curve'], Buffer> = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
};
/** AlgorithmIdentifier rsaEncryption 1.2.840.113549.1.1.1 with NULL parameters (RFC 3279 section 2.3.1) */
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');

/**
 * The key as node:crypto's KeyObject, from its DER SubjectPublicKeyInfo. OpenSSL decodes it as it
 * would a JWK (an EC point off its curve is refused either way), in a quarter of the time a JWK
 * import takes (measured: P-384 114 against 460 us).
 */
function keyObject(key: PublicKey): KeyObject {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = importKey(key)));
  return k;
}

/** each parsed key imported once (a chain's OCA key checks two signatures); the key objects are immutable */
const keyObjects = new WeakMap<PublicKey, KeyObject>();

function importKey(key: PublicKey): KeyObject {
  const spki =
    key.kind === 'rsa'
      ? der(0x30, RSA_ALGORITHM, der(0x03, Buffer.from([0]), der(0x30, derUnsigned(key.modulus), derUnsigned(key.exponent))))
      : Buffer.concat([EC_SPKI_HEAD[key.curve], Buffer.from([0x04]), key.x, key.y]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** SHA-256 (hex) of the DER SubjectPublicKeyInfo of a certificate's public key. */
export function spkiSha256(cert: AnyCert): string {
  const der = keyObject(cert.key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Which generation's pinned ARK this is, if any. */
export function arkGeneration(ark: AmdCert): Generation | undefined {
  const fp = spkiSha256(ark);
  return (Object.keys(ARK_SPKI_SHA256) as Generation[]).find((g) => ARK_SPKI_SHA256[g] === fp);
}

// ---------------------------------------------------------------------------------------------
// Signature verification
// ---------------------------------------------------------------------------------------------

function label(c: AnyCert): string {
  return c.usageName ?? hex(c.usage);
}

/** hash implied by the signer's key: SEV certs by their PUBKEY_ALGO, AMD certs by key size */
function signerHash(signer: AnyCert): 'sha256' | 'sha384' | undefined {
  if (signer.format === 'amd') return signer.modulusBits === 4096 ? 'sha384' : 'sha256';
  switch (signer.algo) {
    case ALGO.RSA_SHA256:
    case ALGO.ECDSA_SHA256:
      return 'sha256';
    case ALGO.RSA_SHA384:
    case ALGO.ECDSA_SHA384:
      return 'sha384';
    default:
      return undefined; // ECDH keys (PDH) sign nothing
  }
}

function slotHash(algo: number): 'sha256' | 'sha384' | undefined {
  if (algo === ALGO.RSA_SHA256 || algo === ALGO.ECDSA_SHA256) return 'sha256';
  if (algo === ALGO.RSA_SHA384 || algo === ALGO.ECDSA_SHA384) return 'sha384';
  return undefined;
}

function rsaVerify(key: RsaPublicKey, hash: 'sha256' | 'sha384', data: Buffer, sigLe: Buffer): boolean | string {
  const nBytes = key.bits / 8;
  if (!allZero(sigLe.subarray(nBytes))) return `signature is wider than the ${key.bits}-bit key`;
  const sig = Buffer.from(sigLe.subarray(0, nBytes)).reverse();
  return cryptoVerify(
    hash,
    data,
    { key: keyObject(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash === 'sha256' ? 32 : 48 },
    sig,
  );
}

function ecdsaVerify(key: EcPublicKey, hash: 'sha256' | 'sha384', data: Buffer, slot: Buffer): boolean | string {
  // ECDSA signature in a SEV slot: R 72 bytes LE | S 72 bytes LE | reserved (virtee sev sig/ecdsa.rs)
  const size = key.curve === 'P-384' ? 48 : 32;
  const rLe = slot.subarray(0, ECC_COORD_BYTES);
  const sLe = slot.subarray(ECC_COORD_BYTES, 2 * ECC_COORD_BYTES);
  if (!allZero(rLe.subarray(size)) || !allZero(sLe.subarray(size))) return `ECDSA R/S wider than ${key.curve}`;
  const rs = Buffer.concat([Buffer.from(rLe.subarray(0, size)).reverse(), Buffer.from(sLe.subarray(0, size)).reverse()]);
  return cryptoVerify(hash, data, { key: keyObject(key), dsaEncoding: 'ieee-p1363' }, rs);
}

function fail(subject: AnyCert, issuer: AnyCert, detail: string): LinkResult {
  return { subject: label(subject), issuer: label(issuer), ok: false, detail };
}

/**
 * Did `issuer` sign `subject`? For a SEV-format subject, one of its two signature slots must
 * name the issuer's usage and an algorithm whose hash matches the issuer's key, and verify
 * (virtee sev crypto.rs PublicKey::verify). For an AMD-format subject (ASK, or the ARK itself),
 * the subject's CERTIFYING_ID must equal the issuer's KEY_ID and the RSA-PSS signature verify.
 * Never throws for bad signatures: the result says what failed.
 */
export function verifySignedBy(subject: AnyCert, issuer: AnyCert): LinkResult {
  const hash = signerHash(issuer);
  if (!hash) return fail(subject, issuer, `${label(issuer)} key (algorithm ${hex((issuer as SevCert).algo)}) cannot sign`);
  try {
    if (subject.format === 'amd') {
      if (issuer.format !== 'amd') return fail(subject, issuer, `an AMD-format ${label(subject)} can only be signed by an ARK`);
      if (!subject.certifyingId.equals(issuer.keyId)) {
        return fail(
          subject,
          issuer,
          `CERTIFYING_ID ${subject.certifyingId.toString('hex')} is not the ${label(issuer)} KEY_ID ${issuer.keyId.toString('hex')}`,
        );
      }
      const r = rsaVerify(issuer.key, hash, subject.body, subject.signature);
      if (r === true) return { subject: label(subject), issuer: label(issuer), ok: true, detail: `RSA-PSS ${hash.toUpperCase()} signature verifies` };
      return fail(subject, issuer, r === false ? `RSA-PSS ${hash.toUpperCase()} signature does not verify` : r);
    }
    const reasons: string[] = [];
    for (const s of subject.signatures) {
      if (s.empty) continue;
      if (s.usage !== issuer.usage) {
        reasons.push(`slot ${s.index + 1} is by ${s.usageName ?? hex(s.usage)}`);
        continue;
      }
      const sh = slotHash(s.algo);
      const rsaSlot = s.algo === ALGO.RSA_SHA256 || s.algo === ALGO.RSA_SHA384;
      if (sh !== hash || rsaSlot !== (issuer.key.kind === 'rsa')) {
        reasons.push(`slot ${s.index + 1} algorithm ${s.algoName ?? hex(s.algo)} does not match the ${label(issuer)} key`);
        continue;
      }
      const r = issuer.key.kind === 'rsa' ? rsaVerify(issuer.key, hash, subject.body, s.raw) : ecdsaVerify(issuer.key, hash, subject.body, s.raw);
      if (r === true) {
        return { subject: label(subject), issuer: label(issuer), ok: true, detail: `slot ${s.index + 1} ${s.algoName} signature verifies` };
      }
      reasons.push(`slot ${s.index + 1} ${s.algoName} signature does not verify${typeof r === 'string' ? ` (${r})` : ''}`);
    }
    if (reasons.length === 0) return fail(subject, issuer, 'the certificate carries no signature');
    return fail(subject, issuer, `no valid ${label(issuer)} signature: ${reasons.join('; ')}`);
  } catch (e) {
    // node:crypto rejects keys that are not valid points / moduli: report, do not crash the run
    return fail(subject, issuer, `${label(issuer)} key unusable: ${(e as Error).message}`);
  }
}

/**
 * Verify the whole SEV chain: ARK self-signature and pin, ASK <- ARK, CEK <- ASK, OCA
 * self-signature, PEK <- OCA, PEK <- CEK, and PDH <- PEK when a PDH is given. Every link is
 * evaluated (no short-circuit) so a report names all broken links at once.
 */
export function verifySevChain(chain: ChainInput, opts: { expectGeneration?: Generation } = {}): ChainResult {
  const links: LinkResult[] = [];
  const usage = (c: AnyCert, want: UsageName): LinkResult | undefined =>
    c.usageName === want ? undefined : { subject: want, issuer: want, ok: false, detail: `${want} slot holds a ${label(c)} certificate` };
  for (const [c, want] of [
    [chain.ark, 'ARK'],
    [chain.ask, 'ASK'],
    [chain.cek, 'CEK'],
    [chain.oca, 'OCA'],
    [chain.pek, 'PEK'],
    ...(chain.pdh ? [[chain.pdh, 'PDH'] as const] : []),
  ] as const) {
    const u = usage(c, want);
    if (u) links.push(u);
  }
  const generation = arkGeneration(chain.ark);
  if (opts.expectGeneration !== undefined && generation !== opts.expectGeneration) {
    links.push({
      subject: 'ARK',
      issuer: 'pinned AMD root',
      ok: false,
      detail: `ARK key SHA-256 ${spkiSha256(chain.ark)} is not the pinned ${opts.expectGeneration} ARK (${ARK_SPKI_SHA256[opts.expectGeneration]})${generation ? `; it is the ${generation} ARK` : ''}`,
    });
  } else if (generation === undefined) {
    links.push({ subject: 'ARK', issuer: 'pinned AMD root', ok: false, detail: `ARK key SHA-256 ${spkiSha256(chain.ark)} matches no pinned AMD ARK` });
  } else {
    links.push({ subject: 'ARK', issuer: 'pinned AMD root', ok: true, detail: `ARK is the pinned ${generation} root` });
  }
  links.push(verifySignedBy(chain.ark, chain.ark));
  links.push(verifySignedBy(chain.ask, chain.ark));
  links.push(verifySignedBy(chain.cek, chain.ask));
  links.push(verifySignedBy(chain.oca, chain.oca));
  links.push(verifySignedBy(chain.pek, chain.oca));
  links.push(verifySignedBy(chain.pek, chain.cek));
  if (chain.pdh) links.push(verifySignedBy(chain.pdh, chain.pek));
  return { ok: links.every((l) => l.ok), generation, links };
}
