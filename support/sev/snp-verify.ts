/**
 * SEV-SNP attestation verification (pure: certificates and report in, structured steps out).
 *
 * - Report signature: ECDSA P-384 with SHA-384 over bytes 0h..29Fh of the report, R and S stored
 *   as 72-byte little-endian integers (SNP ABI spec 56860, ATTESTATION_REPORT SIGNATURE field and
 *   "ECDSA Signature Format"; virtee/sev src/firmware/guest/types/snp.rs `Verifiable`).
 * - Chain: ARK (self-signed) -> ASK -> VCEK, each signed RSASSA-PSS with SHA-384 (AMD "Versioned
 *   Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification", pub. 57230, ch. 2-3;
 *   virtee/sev src/certs/snp/chain.rs). VLEK chains (ARK -> ASVK -> VLEK) verify the same way.
 * - The ARK must be one of AMD's real ARKs, pinned below by the SHA-256 of its SubjectPublicKeyInfo.
 * - VCEK extensions vs. the report (57230 "VCEK Certificate Extensions" table; OIDs as in
 *   virtee/snpguest src/verify.rs `SnpOid`): SPLs must equal REPORTED_TCB, hwID must equal CHIP_ID
 *   (64 bytes on Milan/Genoa; on Turin the hwID is the first 8 bytes of CHIP_ID: snpguest
 *   src/fetch.rs `request_vcek_kds` builds Turin KDS URLs from chip_id[0..8], go-sev-guest PR #199
 *   cites 56860 Table 23 / 57230 Table 11).
 *
 * Each step is a Verdict (support/verdict.ts) with a `check` name: failed steps say what was found,
 * what was expected and the fix.
 */
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import { InputError } from '../errors.js';
import { failed, passed, skipped, undecided, worst, type FailedVerdict, type SkippedVerdict, type Status, type UndecidedVerdict, type Verdict } from '../verdict.js';
import { readCertificateDer } from './snp-der.js';
import { SIG_ALGO_ECDSA_P384_SHA384, SNP_SIGNED_LENGTH, type SnpReport, type TcbVersion } from './snp-report.js';

/**
 * SHA-256 of each generation's ARK SubjectPublicKeyInfo (DER), hex.
 * Computed from virtee/sev src/certs/snp/builtin/{milan,genoa,turin}/ark.pem (commit 9cf2adb,
 * the copies in test/vectors/virtee-sev) and cross-checked against the ARKs in
 * google/go-sev-guest verify/trust/ask_ark_{milan,genoa,turin_vcek}.pem (commit af1c107): same keys.
 * Both projects take them from AMD KDS https://kdsintf.amd.com/vcek/v1/<Gen>/cert_chain.
 */
export const PINNED_ARK_SPKI_SHA256 = {
  /** CN=ARK-Milan */
  milan: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9',
  /** CN=ARK-Genoa */
  genoa: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831',
  /** CN=ARK-Turin */
  turin: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08',
} as const;
export type PinnedGeneration = keyof typeof PINNED_ARK_SPKI_SHA256;

/** VCEK/VLEK extension OIDs (57230 "VCEK Certificate Extensions"; snpguest src/verify.rs). */
export const VEK_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSPL: '1.3.6.1.4.1.3704.1.3.1',
  teeSPL: '1.3.6.1.4.1.3704.1.3.2',
  snpSPL: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSPL: '1.3.6.1.4.1.3704.1.3.8',
  /** Turin and later only */
  fmcSPL: '1.3.6.1.4.1.3704.1.3.9',
  hwID: '1.3.6.1.4.1.3704.1.4',
} as const;

/**
 * productName prefixes a VCEK under each pinned ARK may carry ("Milan-B0", "Turin" in the vectors).
 * Bergamo and Siena (4th gen EPYC) take their VCEKs from the Genoa KDS endpoint
 * (virtee/snpguest src/fetch.rs `ProcType::to_kds_url`), so they sit under the Genoa ARK.
 */
const PRODUCT_PREFIXES: Record<PinnedGeneration, readonly string[]> = {
  milan: ['milan'],
  genoa: ['genoa', 'bergamo', 'siena'],
  turin: ['turin'],
};

/** id-RSASSA-PSS (RFC 4055 section 3.1) and id-sha384 (RFC 4055 section 2.1). */
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';

/** A parsed certificate with what the checks need. */
export interface SnpCert {
  readonly source: string;
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly subjectCN: string;
  readonly issuerCN: string;
  /** SHA-256 of the SubjectPublicKeyInfo DER, hex */
  readonly spkiSha256: string;
  readonly signatureAlgorithm: string;
  readonly pssHash?: string | undefined;
  readonly extensions: ReadonlyMap<string, Buffer>;
}

/** One verification step: a Verdict plus the name of what it checked. */
/** One verification step: its verdict (with the verdict's fields) and the step's name. */
export type Step = Verdict & { readonly check: string };

export interface StepsResult {
  /** true when every step passed */
  readonly ok: boolean;
  readonly steps: readonly Step[];
}

export interface ChainResult extends StepsResult {
  /** the generation whose pinned ARK the chain ends in */
  readonly generation?: PinnedGeneration | undefined;
}

/** Parse one certificate, PEM text or DER bytes. Throws InputError when it is not one. */
export function loadSnpCert(input: Uint8Array | string, source: string): SnpCert {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input));
  } catch (e) {
    throw new InputError(source, `not an X.509 certificate (PEM or DER): ${(e as Error).message.split('\n')[0]}`);
  }
  const der = Buffer.from(x509.raw);
  const parsed = readCertificateDer(der, source);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    source,
    der,
    x509,
    subjectCN: commonName(x509.subject),
    issuerCN: commonName(x509.issuer),
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    signatureAlgorithm: parsed.signatureAlgorithm,
    pssHash: parsed.pssHash,
    extensions: parsed.extensions,
  };
}

/**
 * The certificates of a PEM bundle, in file order (AMD KDS cert_chain is ASK then ARK).
 * Throws InputError when there is none or a block is broken.
 */
export function loadPemChain(text: string, source: string): SnpCert[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InputError(source, 'no "-----BEGIN CERTIFICATE-----" block found');
  return blocks.map((pem, i) => loadSnpCert(pem, `${source} (certificate ${i + 1})`));
}

/** The generation whose pinned ARK has this public key, if any. */
export function pinnedGenerationOf(ark: SnpCert): PinnedGeneration | undefined {
  for (const [gen, fp] of Object.entries(PINNED_ARK_SPKI_SHA256)) {
    if (fp === ark.spkiSha256) return gen as PinnedGeneration;
  }
  return undefined;
}

/** Verify ARK -> ASK -> VCEK (or ARK -> ASVK -> VLEK). `now` adds a validity-period step per certificate. */
export function verifyCertChain(
  chain: { readonly ark: SnpCert; readonly ask: SnpCert; readonly vek: SnpCert },
  options: { readonly now?: Date } = {},
): ChainResult {
  const { ark, ask, vek } = chain;
  const steps: Step[] = [];
  const fetchCa = "fetch AMD's ARK and ASK from the KDS with `snpguest fetch ca pem ./certs <milan|genoa|turin>`";

  const generation = pinnedGenerationOf(ark);
  if (generation) {
    steps.push(
      step('chain.ark-pinned', passed(`ARK ${describe(ark)} is AMD's ${cap(generation)} ARK (public key SHA-256 ${ark.spkiSha256})`)),
    );
  } else {
    const pins = Object.entries(PINNED_ARK_SPKI_SHA256)
      .map(([g, fp]) => `${cap(g)} ${fp.slice(0, 16)}…`)
      .join(', ');
    steps.push(
      step(
        'chain.ark-pinned',
        failed(
          `ARK ${describe(ark)} with public key SHA-256 ${ark.spkiSha256}`,
          `one of AMD's ARKs (${pins})`,
          fetchCa,
        ),
      ),
    );
  }

  steps.push(step('chain.ark-self-signed', signedBy(ark, ark, 'ARK', 'ARK', fetchCa)));
  steps.push(step('chain.ask-signed-by-ark', signedBy(ask, ark, 'ASK', 'ARK', fetchCa)));
  steps.push(
    step(
      'chain.vek-signed-by-ask',
      signedBy(vek, ask, 'VCEK', 'ASK', `use the ARK/ASK of the VCEK's processor generation (${fetchCa}), or this chip's VCEK (\`snpguest fetch vcek pem ./certs <report>\`)`),
    ),
  );

  const key = vek.x509.publicKey;
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  steps.push(
    step(
      'chain.vek-key',
      curve === 'secp384r1'
        ? passed(`VCEK ${describe(vek)} holds an ECDSA P-384 public key`)
        : failed(
            `VCEK ${describe(vek)} holds a ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key`,
            'an ECDSA P-384 key (VCEK spec 57230)',
            'use the VCEK/VLEK from AMD KDS or from the extended report (snpguest certificates pem ./certs)',
          ),
    ),
  );

  if (generation) {
    let product: string | undefined;
    let problem: string | undefined;
    try {
      product = decodeVekExtensions(vek).productName;
    } catch (e) {
      problem = (e as Error).message;
    }
    const wanted = cap(generation);
    steps.push(
      step(
        'chain.vek-product',
        product !== undefined && PRODUCT_PREFIXES[generation].some((p) => product.toLowerCase().startsWith(p))
          ? passed(`VCEK productName "${product}" belongs to the ${wanted} ARK`)
          : failed(
              problem ?? (product === undefined ? `VCEK ${describe(vek)} without a productName extension (${VEK_OID.productName})` : `VCEK productName "${product}"`),
              `a ${wanted} product name, matching the pinned ARK`,
              `use the VCEK and the ARK/ASK of one processor generation; ${fetchCa}`,
            ),
      ),
    );
  }

  if (options.now) {
    for (const [role, c] of [
      ['ARK', ark],
      ['ASK', ask],
      ['VCEK', vek],
    ] as const) {
      const from = new Date(c.x509.validFrom);
      const to = new Date(c.x509.validTo);
      const now = options.now;
      steps.push(
        step(
          `chain.${role.toLowerCase()}-validity`,
          now >= from && now <= to
            ? passed(`${role} ${describe(c)} is valid from ${from.toISOString()} to ${to.toISOString()}`)
            : failed(
                `${role} ${describe(c)} valid from ${from.toISOString()} to ${to.toISOString()}`,
                `a certificate valid at ${now.toISOString()}`,
                role === 'VCEK' ? 'fetch a current VCEK: snpguest fetch vcek pem ./certs <report>' : fetchCa,
              ),
        ),
      );
    }
  }
  return { ...fold(steps), generation };
}

/** Verify the report's signature with the VCEK/VLEK public key. */
export function verifyReportSignature(report: SnpReport, vek: SnpCert): Step {
  const check = 'report.signature';
  const fixVek =
    'use the VCEK of the chip and TCB that produced this report (snpguest fetch vcek pem ./certs <report>, or the one from the extended report: snpguest certificates pem ./certs)';
  if (report.signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    return step(
      check,
      failed(
        `SIGNATURE_ALGO ${report.signatureAlgo} in the report`,
        `${SIG_ALGO_ECDSA_P384_SHA384} (ECDSA P-384 with SHA-384, SNP ABI spec)`,
        'request a signed report: a VCEK- or VLEK-signed report from SNP_GET_REPORT',
      ),
    );
  }
  const r = report.signature.r;
  const s = report.signature.s;
  if (report.flags.signingKey === 'none' || (isZero(r) && isZero(s))) {
    return step(
      check,
      failed(
        `an unsigned report (SIGNING_KEY ${report.flags.signingKeyRaw}, MASK_CHIP_KEY ${report.flags.maskChipKey ? 1 : 0}, signature all zero)`,
        'a report signed by the VCEK or VLEK',
        'clear MASK_CHIP_KEY in the host SNP configuration (SNP_SET_CONFIG / snphost config) and request the report again',
      ),
    );
  }
  // R and S are 72-byte little-endian fields; a P-384 scalar fits in the low 48 bytes.
  for (const [name, v] of [
    ['R', r],
    ['S', s],
  ] as const) {
    if (!isZero(v.subarray(48))) {
      return step(
        check,
        failed(
          `signature ${name} with ${significantBytes(v)} significant bytes`,
          `a P-384 ${name} of at most 48 bytes (zero above byte 48 of the 72-byte field)`,
          'the report is corrupt or was altered: request it again from /dev/sev-guest',
        ),
      );
    }
  }
  const key = vek.x509.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    return step(check, failed(`VCEK ${describe(vek)} without an ECDSA P-384 key`, 'an ECDSA P-384 VCEK', fixVek));
  }
  const p1363 = Buffer.concat([Buffer.from(r.subarray(0, 48)).reverse(), Buffer.from(s.subarray(0, 48)).reverse()]);
  const ok = cryptoVerify('sha384', report.signedBytes.subarray(0, SNP_SIGNED_LENGTH), { key, dsaEncoding: 'ieee-p1363' }, p1363);
  return step(
    check,
    ok
      ? passed(`the report's ECDSA P-384/SHA-384 signature over bytes 0x0..0x29F verifies with ${describe(vek)}`)
      : failed(
          `a report signature that does not verify with ${describe(vek)} (public key SHA-256 ${vek.spkiSha256.slice(0, 16)}…)`,
          'a signature by this VCEK over bytes 0x0..0x29F',
          `${fixVek}; if the VCEK is the right one, the report was altered after signing`,
        ),
  );
}

/** The AMD extensions of a VCEK/VLEK, decoded. Throws InputError on a malformed encoding. */
export interface VekExtensions {
  readonly structVersion?: number | undefined;
  readonly productName?: string | undefined;
  readonly blSPL?: number | undefined;
  readonly teeSPL?: number | undefined;
  readonly snpSPL?: number | undefined;
  readonly ucodeSPL?: number | undefined;
  readonly fmcSPL?: number | undefined;
  /** raw bytes: 64 on Milan/Genoa, 8 on Turin; absent on a VLEK */
  readonly hwID?: Buffer | undefined;
}

export function decodeVekExtensions(vek: SnpCert): VekExtensions {
  const ext = vek.extensions;
  const int = (name: keyof typeof VEK_OID): number | undefined => {
    const v = ext.get(VEK_OID[name]);
    return v === undefined ? undefined : derSmallUint(v, vek.source, `${name} (${VEK_OID[name]})`);
  };
  let productName: string | undefined;
  const pn = ext.get(VEK_OID.productName);
  if (pn !== undefined) {
    // IA5String (tag 16h) holding e.g. "Milan-B0" or "Turin"
    if (pn[0] !== 0x16 || pn[1] !== pn.length - 2 || pn.length < 2) {
      throw new InputError(vek.source, `productName (${VEK_OID.productName}) is not a short IA5String: 0x${pn.toString('hex')}`);
    }
    productName = pn.subarray(2).toString('latin1');
  }
  const hw = ext.get(VEK_OID.hwID);
  return {
    structVersion: int('structVersion'),
    productName,
    blSPL: int('blSPL'),
    teeSPL: int('teeSPL'),
    snpSPL: int('snpSPL'),
    ucodeSPL: int('ucodeSPL'),
    fmcSPL: int('fmcSPL'),
    hwID: hw === undefined ? undefined : Buffer.from(hw),
  };
}

/** Compare the VCEK's SPL and hwID extensions (and the signing-key kind) with the report. */
export function checkReportAgainstVek(report: SnpReport, vek: SnpCert): StepsResult {
  const steps: Step[] = [];
  const fixTcb = "fetch the VCEK for the report's REPORTED_TCB and CHIP_ID with `snpguest fetch vcek pem ./certs <report>`";
  let x: VekExtensions;
  try {
    x = decodeVekExtensions(vek);
  } catch (e) {
    steps.push(step('vek.extensions', failed((e as Error).message, 'DER INTEGER SPL extensions (VCEK spec 57230)', fixTcb)));
    return fold(steps);
  }

  const kind = vekKind(vek);
  const signer = report.flags.signingKey;
  steps.push(
    step(
      'report.signing-key',
      kind !== undefined && signer === kind
        ? passed(`report SIGNING_KEY says ${signer.toUpperCase()} and ${describe(vek)} is one`)
        : failed(
            `report SIGNING_KEY ${report.flags.signingKeyRaw} (${signer}) with certificate ${describe(vek)}`,
            'a VCEK for SIGNING_KEY 0 or a VLEK for SIGNING_KEY 1',
            signer === 'vlek' ? 'verify with the VLEK the host loaded (snphost, SNP_VLEK_LOAD)' : fixTcb,
          ),
    ),
  );

  const tcb = report.reportedTcb;
  const pairs: [string, keyof VekExtensions, keyof TcbVersion][] = [
    ['bootloader', 'blSPL', 'bootloader'],
    ['tee', 'teeSPL', 'tee'],
    ['snp', 'snpSPL', 'snp'],
    ['microcode', 'ucodeSPL', 'microcode'],
  ];
  if (tcb.layout === 'turin') pairs.unshift(['fmc', 'fmcSPL', 'fmc']);
  for (const [name, extName, tcbName] of pairs) {
    const want = tcb[tcbName] as number | undefined;
    const got = x[extName] as number | undefined;
    steps.push(
      step(
        `tcb.${name}`,
        got !== undefined && got === want
          ? passed(`REPORTED_TCB ${name} ${want} equals the VCEK's ${extName} ${got}`)
          : failed(
              got === undefined
                ? `no ${extName} extension (${VEK_OID[extName as keyof typeof VEK_OID]}) in ${describe(vek)}`
                : `${extName} ${got} in ${describe(vek)}`,
              `${extName} ${want}, the report's REPORTED_TCB ${name} SPL`,
              fixTcb,
            ),
      ),
    );
  }
  if (tcb.layout !== 'turin' && x.fmcSPL !== undefined) {
    steps.push(
      step(
        'tcb.layout',
        failed(
          `a Turin-style VCEK (fmcSPL ${x.fmcSPL}) for a report with the Milan/Genoa TCB layout`,
          'a VCEK of the report\'s processor generation',
          fixTcb,
        ),
      ),
    );
  }

  if (kind === 'vcek') steps.push(step('vek.chip-id', chipIdCheck(report, vek, x.hwID, fixTcb)));
  return fold(steps);
}

/** Chain + signature + VCEK-vs-report in one call: the three SNP checks of launch.snp.*. */
export function verifySnpAttestation(
  report: SnpReport,
  chain: { readonly ark: SnpCert; readonly ask: SnpCert; readonly vek: SnpCert },
  options: { readonly now?: Date } = {},
): ChainResult {
  const c = verifyCertChain(chain, options);
  const steps: Step[] = [...c.steps, verifyReportSignature(report, chain.vek), ...checkReportAgainstVek(report, chain.vek).steps];
  if (c.generation && report.generation && report.generation !== c.generation) {
    steps.push(
      step(
        'report.generation',
        failed(
          `a ${cap(report.generation)} report (from its CPUID/CHIP_ID fields) with the ${cap(c.generation)} ARK`,
          'the ARK/ASK/VCEK of the report\'s processor generation',
          `snpguest fetch ca pem ./certs ${report.generation}`,
        ),
      ),
    );
  }
  return { ...fold(steps), generation: c.generation };
}

/**
 * Fold steps into one Verdict in the house format, from the steps' fields: passed = what every step
 * found; failed = "found <check>: <found> | …; expected <the first failing step's expectation>;
 * fix: <its fix>"; undecided / skipped = "<check>: <reason>; …".
 */
export function stepsVerdict(result: StepsResult): Verdict {
  const status: Status = worst(result.steps.map((s) => s.status));
  if (result.steps.length === 0) return undecided('no verification step ran');
  if (status === 'passed') {
    return passed(result.steps.map((s) => s.message).join('; '));
  }
  if (status === 'failed') {
    const bad = result.steps.filter((s): s is Step & FailedVerdict => s.status === 'failed');
    const first = bad[0]!;
    return failed(bad.map((s) => `${s.check}: ${s.found}`).join(' | '), first.expected, first.fix);
  }
  const reasons = result.steps
    .filter((s): s is Step & (UndecidedVerdict | SkippedVerdict) => s.status === status)
    .map((s) => `${s.check}: ${s.reason}`)
    .join('; ');
  return status === 'undecided' ? undecided(reasons) : skipped(reasons);
}

// ---------------------------------------------------------------------------------------------

function chipIdCheck(report: SnpReport, vek: SnpCert, hwId: Buffer | undefined, fix: string): Verdict {
  const chip = report.chipId;
  if (isZero(chip)) {
    return undecided(
      `the report's CHIP_ID is all zero (MASK_CHIP_ID set on the host), so the VCEK cannot be tied to this chip; to check it, clear MASK_CHIP_ID in the host SNP configuration`,
    );
  }
  if (hwId === undefined) {
    return failed(`${describe(vek)} without a hwID extension (${VEK_OID.hwID})`, "a VCEK carrying the chip's hwID", fix);
  }
  // Milan/Genoa: hwID is the full 64-byte CHIP_ID. Turin: hwID is 8 bytes, the first 8 of CHIP_ID.
  if (hwId.length !== 64 && hwId.length !== 8) {
    return failed(`a ${hwId.length}-byte hwID in ${describe(vek)}`, 'a 64-byte (Milan/Genoa) or 8-byte (Turin) hwID', fix);
  }
  const part = chip.subarray(0, hwId.length);
  return part.equals(hwId)
    ? passed(`CHIP_ID ${hwId.length === 8 ? '(first 8 bytes, Turin rule) ' : ''}equals the VCEK's hwID ${short(hwId)}`)
    : failed(
        `hwID ${short(hwId)} in ${describe(vek)}`,
        `the report's CHIP_ID ${hwId.length === 8 ? '(first 8 bytes, Turin rule) ' : ''}${short(part)}`,
        fix,
      );
}

/** A certificate's signature by `issuer`: issuer name, RSASSA-PSS/SHA-384, and the signature itself. */
function signedBy(cert: SnpCert, issuer: SnpCert, role: string, issuerRole: string, fix: string): Verdict {
  const what = `${role} ${describe(cert)}`;
  if (cert.signatureAlgorithm !== OID_RSASSA_PSS || cert.pssHash !== OID_SHA384) {
    return failed(
      `${what} signed with algorithm ${cert.signatureAlgorithm}${cert.pssHash ? ` (hash ${cert.pssHash})` : ''}`,
      `RSASSA-PSS with SHA-384 (${OID_RSASSA_PSS}, ${OID_SHA384}), as AMD signs its SNP certificates`,
      fix,
    );
  }
  if (cert.x509.issuer !== issuer.x509.subject) {
    return failed(`${what} issued by CN=${cert.issuerCN}`, `issued by the ${issuerRole} ${describe(issuer)}`, fix);
  }
  let ok = false;
  try {
    ok = cert.x509.verify(issuer.x509.publicKey);
  } catch {
    ok = false;
  }
  return ok
    ? passed(`${what} is signed by the ${issuerRole}${cert === issuer ? ' itself' : ` ${describe(issuer)}`}`)
    : failed(`${what} whose signature does not verify with the ${issuerRole} ${describe(issuer)}`, `a signature by that ${issuerRole}`, fix);
}

/** A small non-negative DER INTEGER (02 01 xx, or 02 02 00 xx for xx >= 80h), as AMD encodes SPLs. */
function derSmallUint(v: Buffer, source: string, what: string): number {
  const ok =
    (v.length === 3 && v[0] === 0x02 && v[1] === 0x01 && (v[2] ?? 0) < 0x80) ||
    (v.length === 4 && v[0] === 0x02 && v[1] === 0x02 && v[2] === 0x00 && (v[3] ?? 0) >= 0x80);
  if (!ok) throw new InputError(source, `${what} is not a DER INTEGER 0..255: 0x${v.toString('hex')}`);
  return v[v.length - 1] ?? 0;
}

function vekKind(c: SnpCert): 'vcek' | 'vlek' | undefined {
  const cn = c.subjectCN.toUpperCase();
  if (cn.includes('VCEK')) return 'vcek';
  if (cn.includes('VLEK')) return 'vlek';
  return undefined;
}

function commonName(dn: string): string {
  const line = dn.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : '';
}

function describe(c: SnpCert): string {
  return `${c.source} (CN=${c.subjectCN})`;
}

function step(check: string, v: Verdict): Step {
  return { check, ...v };
}

function fold(steps: Step[]): StepsResult {
  return { ok: steps.length > 0 && steps.every((s) => s.status === 'passed'), steps };
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

function significantBytes(le: Uint8Array): number {
  let n = le.length;
  while (n > 0 && le[n - 1] === 0) n--;
  return n;
}

function short(b: Buffer): string {
  const h = b.toString('hex');
  return h.length > 32 ? `${h.slice(0, 32)}…` : h;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
