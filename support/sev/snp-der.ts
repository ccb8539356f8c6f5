/**
 * Just enough DER (ITU-T X.690) to read what node:crypto's X509Certificate does not expose:
 * the extensions of an X.509 v3 certificate (RFC 5280 section 4.1) and its outer
 * signatureAlgorithm with the RSASSA-PSS hash (RFC 4055 section 3.1). Read-only, bounds-checked;
 * malformed input throws InputError naming the certificate.
 */
import { InputError } from '../errors.js';

export interface Tlv {
  readonly tag: number;
  /** offset of the first content byte */
  readonly start: number;
  /** offset one past the last content byte */
  readonly end: number;
}

/** Tag numbers used here (X.690 section 8 / X.680 universal tags). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  IA5_STRING: 0x16,
  SEQUENCE: 0x30,
  /** [0] constructed, EXPLICIT */
  CTX0: 0xa0,
  /** [3] constructed, EXPLICIT (extensions in TBSCertificate) */
  CTX3: 0xa3,
} as const;

export function readTlv(buf: Uint8Array, offset: number, limit: number, source: string): Tlv {
  if (offset + 2 > limit) throw new InputError(source, `DER: truncated element header at byte ${offset}`);
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new InputError(source, `DER: multi-byte tag at byte ${offset} is not supported`);
  let len = buf[offset + 1] ?? 0;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new InputError(source, `DER: length of ${n} bytes at byte ${offset} is not allowed`);
    if (start + n > limit) throw new InputError(source, `DER: truncated length at byte ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] ?? 0);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new InputError(source, `DER: element at byte ${offset} runs past its container (${end} > ${limit})`);
  return { tag, start, end };
}

/** The elements directly inside a constructed element. */
export function children(buf: Uint8Array, parent: Tlv, source: string): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const t = readTlv(buf, at, parent.end, source);
    out.push(t);
    at = t.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, source: string, what: string): Tlv {
  if (!t) throw new InputError(source, `DER: ${what} is missing`);
  if (t.tag !== tag) {
    throw new InputError(source, `DER: ${what} has tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  }
  return t;
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's contents (X.690 section 8.19). */
export function oidText(buf: Uint8Array, t: Tlv, source: string): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const byte = buf[i] ?? 0;
    v = v * 128 + (byte & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) throw new InputError(source, 'DER: OID arc too large');
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else {
        parts.push(v);
      }
      v = 0;
    }
  }
  if (t.end === t.start || ((buf[t.end - 1] ?? 0) & 0x80) !== 0) throw new InputError(source, 'DER: malformed OID');
  return parts.join('.');
}

export interface CertificateDer {
  /** extnID (dotted) -> extnValue contents (the bytes inside the OCTET STRING) */
  readonly extensions: ReadonlyMap<string, Buffer>;
  /** outer signatureAlgorithm OID */
  readonly signatureAlgorithm: string;
  /** RSASSA-PSS hashAlgorithm OID when signatureAlgorithm is id-RSASSA-PSS; SHA-1 when absent (RFC 4055 default) */
  readonly pssHash?: string | undefined;
}

const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_SHA1 = '1.3.14.3.2.26';

/** Read the extensions and the signature algorithm of an X.509 certificate's DER. */
export function readCertificateDer(der: Uint8Array, source: string): CertificateDer {
  const cert = expectTag(readTlv(der, 0, der.length, source), TAG.SEQUENCE, source, 'Certificate');
  const [tbs, sigAlg] = children(der, cert, source);
  expectTag(tbs, TAG.SEQUENCE, source, 'tbsCertificate');
  const alg = children(der, expectTag(sigAlg, TAG.SEQUENCE, source, 'signatureAlgorithm'), source);
  const signatureAlgorithm = oidText(der, expectTag(alg[0], TAG.OID, source, 'signatureAlgorithm OID'), source);
  let pssHash: string | undefined;
  if (signatureAlgorithm === OID_RSASSA_PSS) {
    pssHash = OID_SHA1;
    const params = alg[1];
    if (params && params.tag === TAG.SEQUENCE) {
      for (const p of children(der, params, source)) {
        if (p.tag !== TAG.CTX0) continue;
        const hashAlg = expectTag(children(der, p, source)[0], TAG.SEQUENCE, source, 'RSASSA-PSS hashAlgorithm');
        pssHash = oidText(der, expectTag(children(der, hashAlg, source)[0], TAG.OID, source, 'hash OID'), source);
      }
    }
  }
  const extensions = new Map<string, Buffer>();
  for (const field of children(der, tbs as Tlv, source)) {
    if (field.tag !== TAG.CTX3) continue;
    const list = expectTag(children(der, field, source)[0], TAG.SEQUENCE, source, 'Extensions');
    for (const ext of children(der, list, source)) {
      const parts = children(der, expectTag(ext, TAG.SEQUENCE, source, 'Extension'), source);
      const id = oidText(der, expectTag(parts[0], TAG.OID, source, 'extnID'), source);
      const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, source, `extnValue of ${id}`);
      if (extensions.has(id)) throw new InputError(source, `DER: extension ${id} appears twice`);
      extensions.set(id, Buffer.from(der.subarray(value.start, value.end)));
    }
  }
  return { extensions, signatureAlgorithm, pssHash };
}
