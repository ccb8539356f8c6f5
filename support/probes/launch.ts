/**
 * Launch layer facts: the guest owner's launch bundle (what the owner expects and holds: firmware,
 * policy, TIK/TEK, secrets, SNP report and certificates) and the platform's side of the launch
 * (QMP query-sev / query-sev-launch-measure, read through the run's Host unless the bundle
 * carries the platform's replies). The bundle format is documented in docs/launch.md.
 *
 * The bundle lives with the guest owner, not on the probed host, so it is read with node:fs from
 * the machine running sevcheck. Everything else goes through `Host`.
 *
 * Errors:
 *  - launch.json that cannot be understood, or a file it names that cannot be read: HarnessError
 *    naming launch.json and the key (exit 2).
 *  - evidence whose content is wrong (a report of the wrong size, firmware without a GUID table,
 *    a TIK of the wrong length, ...): InputError naming the file and the field; the launch rules
 *    turn it into a failed check (support/rules/launch.ts `evidence`).
 *
 * Key material (TIK, TEK, secret values) is returned as bytes only; nothing here formats it.
 */
import { Memo } from '../memo.js';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { HarnessError, HostError, type Host } from '../host/types.js';
import { InputError } from '../errors.js';
import { parseOvmf } from '../sev/ovmf.js';
import { sevKernelHashes, type SevKernelHashes } from '../sev/sev-hashes.js';
import { sevEsLaunchDigest, sevLaunchDigest, SEV_KEY_SIZE } from '../sev/sev-measurement.js';
import { snpLaunchDigest } from '../sev/snp-digest.js';
import { CPU_SIGS, VMM_TYPES, VMSA_MODELS, type VmmType, type VmsaModel } from '../sev/vmsa.js';
import { vmsaModelsFor, type PlatformSoftware, type VmsaModelChoice } from '../sev/vmsa-model.js';
import { hexToBytes, parseSnpReport, SNP_REPORT_SIZE, type SnpGeneration, type SnpReport } from '../sev/snp-report.js';
import { loadPemChain, loadSnpCert, type SnpCert } from '../sev/snp-verify.js';
import { certOf, parseCertTable, type CertKind } from '../sev/snp-cert-table.js';
import { SECRET_GUID_ALIASES } from '../sev/launch-secret.js';
import { isGuid } from '../sev/guid.js';

export const BUNDLE_FILE = 'launch.json';
/** `vectors:REL` in launch.json resolves against this (or --vectors DIR). */
export const VECTORS_ENV = 'SEVCHECK_VECTORS';
/** AMD Key Distribution Service base URL (VCEK spec #57230 ch. 4); tests point it at a local server. */
export const KDS_URL_ENV = 'SEVCHECK_KDS_URL';
export const KDS_URL = 'https://kdsintf.amd.com';
/** Where KDS answers are cached (default $XDG_CACHE_HOME/sevcheck/kds, else ~/.cache/sevcheck/kds). */
export const CACHE_ENV = 'SEVCHECK_CACHE_DIR';
/** Set to 1 to never ask the KDS (cached answers are still used). */
export const OFFLINE_ENV = 'SEVCHECK_OFFLINE';
const KDS_TIMEOUT_MS = 15_000;

export interface LaunchOptions {
  /** --launch DIR */
  readonly bundle?: string | undefined;
  /** --vectors DIR (else $SEVCHECK_VECTORS) */
  readonly vectors?: string | undefined;
  /** --amd-certs DIR: AMD's ARK/ASK (ark.pem, ask.pem, cert_chain; optionally under milan/, genoa/, turin/) */
  readonly amdCerts?: string | undefined;
  /**
   * --kds / --no-kds: may missing SNP certificates be fetched from AMD KDS? Default as the caps
   * layer's AMD roots: yes for live hosts, no for fixture replays and when --amd-certs is given.
   */
  readonly kds?: boolean | undefined;
  /** --kds-cache DIR: KDS answers are cached under DIR/snp (default $SEVCHECK_CACHE_DIR, else ~/.cache/sevcheck/kds) */
  readonly kdsCacheDir?: string | undefined;
}

/** Fail fast (exit 2) on a --launch or --vectors directory that is not one. */
export function checkLaunchOptions(o: LaunchOptions): void {
  if (o.bundle !== undefined && !existsSync(join(resolve(o.bundle), BUNDLE_FILE))) {
    throw new HarnessError(`--launch ${o.bundle}: no ${BUNDLE_FILE} there (a launch bundle is a directory with ${BUNDLE_FILE}, docs/launch.md)`);
  }
  if (o.vectors !== undefined && !(existsSync(o.vectors) && statSync(o.vectors).isDirectory())) {
    throw new HarnessError(`--vectors ${o.vectors}: not a directory`);
  }
}

/** A file named in launch.json: `label` is how launch.json wrote it, `path` where it was found. */
export interface FileRef {
  readonly label: string;
  readonly path: string;
}

export type SevMode = 'sev' | 'seves';

/** What the guest owner expects to be launched: a firmware image and its parameters, or a reference digest. */
export type ExpectedLaunch =
  | { readonly kind: 'digest'; readonly digest: Buffer; readonly label: string }
  | {
      readonly kind: 'image';
      readonly ovmf: FileRef;
      readonly kernel?: FileRef | undefined;
      readonly initrd?: FileRef | undefined;
      readonly append?: string | undefined;
      readonly vcpus?: number | undefined;
      readonly vcpuSig: number;
      readonly vmmType: VmmType;
      readonly guestFeatures: bigint;
      readonly label: string;
    };

export type Tamper = { readonly offset: number; readonly xor: number } | { readonly truncate: number };

export interface SevBundle {
  readonly mode: SevMode;
  readonly expected: ExpectedLaunch;
  /** the policy the guest owner sent with its session (SEV API spec §3 "Guest Policy") */
  readonly policy: number;
  readonly tik: FileRef;
  readonly tek: FileRef;
  /** the platform's replies (QMP JSON or `virsh domlaunchsecinfo` text); absent: ask the host over QMP */
  readonly platform?: FileRef | undefined;
  readonly api?: { readonly major: number; readonly minor: number; readonly build: number } | undefined;
  readonly secret?: {
    readonly entries: ReadonlyArray<{ readonly guid: string; readonly file: FileRef }>;
    readonly packet?: { readonly header: FileRef; readonly data: FileRef } | undefined;
  } | undefined;
}

export interface SnpBundle {
  readonly expected?: ExpectedLaunch | undefined;
  /** the platform's measurement when there is no report (hex, 48 bytes) */
  readonly measurement?: Buffer | undefined;
  readonly report?: FileRef | undefined;
  readonly tamper: readonly Tamper[];
  readonly generation?: SnpGeneration | undefined;
  readonly vcek?: FileRef | undefined;
  readonly ask?: FileRef | undefined;
  readonly ark?: FileRef | undefined;
  /** AMD KDS cert_chain (PEM: ASK then ARK) */
  readonly certChain?: FileRef | undefined;
  /** the certificate blob of SNP_GET_EXT_REPORT (GHCB certificate table) */
  readonly certTable?: FileRef | undefined;
  readonly amdCerts?: string | undefined;
}

export interface LaunchBundle {
  readonly dir: string;
  /** launch.json's path as shown in messages */
  readonly file: string;
  readonly description?: string | undefined;
  /** when to judge certificate validity (recorded evidence); default: now */
  readonly at?: Date | undefined;
  readonly sev?: SevBundle | undefined;
  readonly snp?: SnpBundle | undefined;
}

export interface SevKeys {
  readonly tik: Uint8Array;
  readonly tek: Uint8Array;
}

/** What the platform returned for an SEV launch (QMP query-sev + query-sev-launch-measure). */
export interface SevPlatform {
  /** base64 of MEASURE || MNONCE as query-sev-launch-measure returns it */
  readonly measurement: string;
  readonly api: { readonly major: number; readonly minor: number; readonly build: number };
  /** the policy the platform says the guest runs with, when it said */
  readonly policy?: number | undefined;
  /** where these came from, for messages */
  readonly source: string;
  /** the platform's kernel release and QEMU version, where recorded (they decide the SEV-ES VMSA) */
  readonly software?: PlatformSoftware | undefined;
}

export interface ExpectedDigest {
  readonly digest: Uint8Array;
  /**
   * SEV-ES launches under QEMU: the digest with each VMSA model (support/sev/vmsa-model.ts), since
   * the platform's kernel and QEMU decide which one it measures. `digest` is the 'init2' one.
   */
  readonly byModel?: ReadonlyArray<{ readonly model: VmsaModel; readonly digest: Uint8Array }> | undefined;
  /** "ovmf.fd, 4 vCPUs EPYC-v4, kernel+initrd+append" or "reference digest in launch.json" */
  readonly describe: string;
}

export interface SnpChain {
  readonly ark: SnpCert;
  readonly ask: SnpCert;
  readonly vek: SnpCert;
}

export class LaunchProbe {
  private readonly memo = new Memo();
  constructor(
    readonly host: Host,
    private readonly options: LaunchOptions = {},
  ) {}

  /** The bundle directory: --launch DIR, else a fixture host's launch/ subdirectory. */
  bundleDir(): string | undefined {
    if (this.options.bundle) return resolve(this.options.bundle);
    if (this.host.kind === 'fixture' && this.host.target.startsWith('fixture:')) {
      const dir = resolve(this.host.target.slice('fixture:'.length), 'launch');
      if (existsSync(join(dir, BUNDLE_FILE))) return dir;
    }
    return undefined;
  }

  /** The guest owner's launch bundle; undefined when the run has none. */
  bundle(): Promise<LaunchBundle | undefined> {
    return this.memo.once('bundle', async () => {
      const dir = this.bundleDir();
      return dir === undefined ? undefined : loadBundle(dir, { vectors: this.options.vectors ?? process.env[VECTORS_ENV], amdCerts: this.options.amdCerts });
    });
  }

  /** TIK and TEK from the owner's key files (16 bytes each; sevctl session's tik.bin / tek.bin). */
  sevKeys(): Promise<SevKeys> {
    return this.memo.once('sev-keys', async () => {
      const sev = await this.sevBundle();
      return { tik: key('TIK', sev.tik), tek: key('TEK', sev.tek) };
    });
  }

  /** The SEV launch digest the owner expects (sevcheck measure --mode sev|seves, or a reference digest). */
  sevExpectedDigest(): Promise<ExpectedDigest> {
    return this.memo.once('sev-digest', async () => {
      const sev = await this.sevBundle();
      return expectedDigest(sev.expected, sev.mode, 32);
    });
  }

  /** What the platform returned: the bundle's recorded replies, else QMP on the host. */
  sevPlatform(): Promise<SevPlatform> {
    return this.memo.once('sev-platform', async () => {
      const sev = await this.sevBundle();
      let p: SevPlatform;
      if (sev.platform) p = parsePlatformFile(sev.platform);
      else {
        const info = await this.host.qmp('query-sev');
        const measure = await this.host.qmp('query-sev-launch-measure');
        p = { ...platformFromQmp(info, measure, `QMP on ${this.host.target}`), software: await this.hostSoftware() };
      }
      return sev.api ? { ...p, api: sev.api } : p;
    });
  }

  /**
   * The SEV-ES VMSA models the platform can have launched, from its recorded kernel release and
   * QEMU version (the bundle's platform replies, or this host when QMP on it is the platform).
   */
  sevVmsaModels(): Promise<VmsaModelChoice> {
    return this.memo.once('sev-vmsa-models', async () => vmsaModelsFor((await this.sevPlatform()).software ?? {}));
  }

  /** Kernel release (host.json "kernel" or the live host's uname) and QEMU version (QMP query-version) of this host. */
  private async hostSoftware(): Promise<PlatformSoftware> {
    let kernel: string | undefined;
    try {
      kernel = (await this.host.describe()).kernel;
    } catch (e) {
      if (!(e instanceof HostError)) throw e;
    }
    let qemu: string | undefined;
    try {
      const reply = await this.host.qmp('query-version');
      qemu = 'return' in reply ? qemuVersion(reply.return) : undefined;
    } catch (e) {
      if (!(e instanceof HostError)) throw e; // not recorded / no QEMU: the version stays unknown
    }
    const where = this.host.kind === 'fixture' ? `${this.host.target} host.json` : this.host.target;
    return { kernel, kernelSource: kernel === undefined ? undefined : where, qemu, qemuSource: qemu === undefined ? undefined : `QMP query-version on ${this.host.target}` };
  }

  /** The owner's secret entries (GUID and value); undefined when the bundle names none. */
  secretEntries(): Promise<Array<{ guid: string; value: Uint8Array }> | undefined> {
    return this.memo.once('secret', async () => {
      const s = (await this.sevBundle()).secret;
      return s?.entries.map((e) => ({ guid: e.guid, value: readRef(e.file) }));
    });
  }

  /** A secret packet the owner's tooling already built (header and data, raw or base64). */
  secretPacket(): Promise<{ header: Uint8Array; data: Uint8Array; source: string } | undefined> {
    return this.memo.once('secret-packet', async () => {
      const p = (await this.sevBundle()).secret?.packet;
      if (!p) return undefined;
      return { header: rawOrBase64(p.header), data: rawOrBase64(p.data), source: `${p.header.label} + ${p.data.label}` };
    });
  }

  /** The SNP launch digest the owner expects; undefined when the bundle states none. */
  snpExpectedDigest(): Promise<ExpectedDigest | undefined> {
    return this.memo.once('snp-digest', async () => {
      const e = (await this.snpBundle()).expected;
      return e === undefined ? undefined : expectedDigest(e, 'snp', 48);
    });
  }

  /** The attestation report (tampering from launch.json applied); undefined when the bundle has none. */
  snpReport(): Promise<SnpReport | undefined> {
    return this.memo.once('snp-report', async () => {
      const snp = await this.snpBundle();
      if (!snp.report) return undefined;
      let bytes = reportBytes(snp.report);
      for (const t of snp.tamper) bytes = applyTamper(bytes, t);
      const label = snp.tamper.length ? `${snp.report.label} (tampered as launch.json says)` : snp.report.label;
      return parseSnpReport(bytes, label, snp.generation ? { generation: snp.generation } : {});
    });
  }

  /** The measurement the platform returned: the report's MEASUREMENT, else the bundle's measurement. */
  snpMeasurement(): Promise<{ measurement: Buffer; source: string } | undefined> {
    return this.memo.once('snp-measurement', async () => {
      const snp = await this.snpBundle();
      const report = await this.snpReport();
      if (report) return { measurement: report.measurement, source: `MEASUREMENT of ${snp.report?.label ?? 'the report'}` };
      return snp.measurement ? { measurement: snp.measurement, source: 'snp.measurement in launch.json' } : undefined;
    });
  }

  /** The VCEK (or VLEK) that should have signed the report. */
  snpVek(): Promise<SnpCert> {
    return this.memo.once('snp-vek', async () => {
      const snp = await this.snpBundle();
      if (snp.vcek) return loadSnpCert(readRef(snp.vcek), snp.vcek.label);
      const fromTable = (await this.fromCertTable('vcek')) ?? (await this.fromCertTable('vlek'));
      if (fromTable) return fromTable;
      const report = await this.snpReport();
      const gen = report?.generation ?? snp.generation;
      if (!report || !gen) {
        throw new HarnessError(`${(await this.bundleOrThrow()).file}: snp.vcek: no VCEK: name the VCEK file ("vcek") or the extended report's certificate table ("certTable")${report ? ', or the processor "generation" so that it can be fetched from AMD KDS' : ''}`);
      }
      const got = await kdsFetch(kdsVcekPath(report, gen), `the VCEK for this report's CHIP_ID and REPORTED_TCB`, this.kdsSettings());
      return loadSnpCert(got.bytes, got.label);
    });
  }

  /** AMD's ARK and ASK for the report's generation, and the VCEK. */
  snpChain(): Promise<SnpChain> {
    return this.memo.once('snp-chain', async () => {
      const snp = await this.snpBundle();
      const vek = await this.snpVek();
      let ark = snp.ark ? loadSnpCert(readRef(snp.ark), snp.ark.label) : await this.fromCertTable('ark');
      let ask = snp.ask ? loadSnpCert(readRef(snp.ask), snp.ask.label) : await this.fromCertTable('ask');
      if ((!ark || !ask) && snp.certChain) {
        const [a, b] = chainPair(snp.certChain);
        ask ??= a;
        ark ??= b;
      }
      if ((!ark || !ask) && snp.amdCerts) {
        const gen = (await this.snpReport())?.generation ?? snp.generation;
        const found = amdCertsDir(snp.amdCerts, gen);
        ask ??= found?.ask;
        ark ??= found?.ark;
      }
      const gen = (await this.snpReport())?.generation ?? snp.generation;
      if ((!ark || !ask) && gen) {
        const got = await kdsFetch(kdsChainPath(gen), `AMD's ${gen} ARK and ASK`, this.kdsSettings());
        const [a, b] = chainPairOf(got.bytes, got.label);
        ask ??= a;
        ark ??= b;
      }
      if (!ark || !ask) {
        throw new HarnessError(
          `${(await this.bundleOrThrow()).file}: snp.ark/snp.ask: AMD's ARK and ASK are not bundled with sevcheck: name them ("ark"/"ask", "certChain"), pass --amd-certs DIR (snpguest fetch ca pem DIR <milan|genoa|turin>), or give the processor "generation" to fetch them from AMD KDS`,
        );
      }
      return { ark, ask, vek };
    });
  }

  private kdsSettings(): KdsSettings {
    const o = this.options;
    return {
      enabled: process.env[OFFLINE_ENV] === '1' ? false : (o.kds ?? (!o.amdCerts && this.host.kind !== 'fixture')),
      cacheDir: o.kdsCacheDir ? join(resolve(o.kdsCacheDir), 'snp') : undefined,
    };
  }

  private async fromCertTable(kind: CertKind): Promise<SnpCert | undefined> {
    const snp = await this.snpBundle();
    if (!snp.certTable) return undefined;
    const table = parseCertTable(readRef(snp.certTable), snp.certTable.label);
    const entry = certOf(table, kind);
    return entry ? loadSnpCert(entry.data, `${snp.certTable.label} (${kind.toUpperCase()} entry)`) : undefined;
  }

  private async bundleOrThrow(): Promise<LaunchBundle> {
    const b = await this.bundle();
    if (!b) throw new HarnessError('no launch bundle: run with --launch DIR');
    return b;
  }

  private async sevBundle(): Promise<SevBundle> {
    const b = await this.bundleOrThrow();
    if (!b.sev) throw new HarnessError(`${b.file}: "sev": the bundle has no SEV launch`);
    return b.sev;
  }

  private async snpBundle(): Promise<SnpBundle> {
    const b = await this.bundleOrThrow();
    if (!b.snp) throw new HarnessError(`${b.file}: "snp": the bundle has no SNP launch`);
    return b.snp;
  }
}

// ------------------------------------------------------------------------------------------------
// AMD KDS (VCEK spec #57230 ch. 4: /vcek/v1/{product}/cert_chain and /vcek/v1/{product}/{hwid}?...)

const KDS_PRODUCT: Partial<Record<SnpGeneration, string>> = { milan: 'Milan', genoa: 'Genoa', turin: 'Turin' };

function kdsProduct(gen: SnpGeneration): string {
  const p = KDS_PRODUCT[gen];
  if (!p) throw new HarnessError(`AMD KDS: no known product name for ${gen}: pass --amd-certs DIR and name the VCEK in launch.json`);
  return p;
}

/** KDS path of the ASK + ARK chain of a generation. */
export function kdsChainPath(gen: SnpGeneration): string {
  return `/vcek/v1/${kdsProduct(gen)}/cert_chain`;
}

/**
 * KDS path of a report's VCEK: hwID = CHIP_ID (Milan, Genoa: 64 bytes; Turin: the first 8), SPLs
 * from REPORTED_TCB as two-digit decimals (as virtee/snpguest src/fetch.rs builds it; Turin adds fmcSPL first).
 */
export function kdsVcekPath(report: SnpReport, gen: SnpGeneration): string {
  if (report.chipId.every((b) => b === 0)) {
    throw new InputError('report CHIP_ID', 'all zero (MASK_CHIP_ID): there is no VCEK to fetch; name the VCEK in launch.json ("vcek")');
  }
  const t = report.reportedTcb;
  const d2 = (n: number | undefined): string => String(n ?? 0).padStart(2, '0');
  const turin = gen === 'turin';
  const hwid = (turin ? report.chipId.subarray(0, 8) : report.chipId).toString('hex');
  const fmc = turin ? `fmcSPL=${d2(t.fmc)}&` : '';
  return `/vcek/v1/${kdsProduct(gen)}/${hwid}?${fmc}blSPL=${d2(t.bootloader)}&teeSPL=${d2(t.tee)}&snpSPL=${d2(t.snp)}&ucodeSPL=${d2(t.microcode)}`;
}

export interface KdsSettings {
  /** false: only cached answers are used */
  readonly enabled: boolean;
  readonly cacheDir?: string | undefined;
}

function cacheDir(s: KdsSettings): string {
  return s.cacheDir || process.env[CACHE_ENV] || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sevcheck', 'kds');
}

/**
 * A KDS answer, from the cache when present, else fetched and cached. Cached or fetched, what comes
 * back is verified like any other certificate (the ARK is pinned), so the cache is only a cache.
 * Network and HTTP failures are HostError: the check is undecided with the URL and the reason.
 */
export async function kdsFetch(path: string, what: string, settings: KdsSettings): Promise<{ bytes: Buffer; label: string }> {
  const base = (process.env[KDS_URL_ENV] || KDS_URL).replace(/\/+$/, '');
  const file = join(cacheDir(settings), path.replace(/^\/vcek\/v1\//, '').replace(/[?&=]/g, '_'));
  if (existsSync(file)) return { bytes: readFileSync(file), label: `${displayPath(file)} (cached from AMD KDS)` };
  const url = `${base}${path}`;
  if (!settings.enabled) {
    throw new HostError(
      'UNSUPPORTED',
      url,
      `${what} is not cached (${displayPath(file)}) and fetching from AMD KDS is off (fixture replay, --amd-certs, --no-kds or ${OFFLINE_ENV}=1); name the certificates in launch.json, pass --amd-certs DIR, or --kds`,
    );
  }
  let bytes: Buffer;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(KDS_TIMEOUT_MS), redirect: 'error' });
    if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`);
    bytes = Buffer.from(await r.arrayBuffer());
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
    throw new HostError('EIO', url, `could not fetch ${what} from AMD KDS ${url}: ${why}; pass --amd-certs DIR or name the certificates in launch.json`);
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.part`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch {
    // an unwritable cache only costs another download next time
  }
  return { bytes, label: `AMD KDS ${url}` };
}

// ------------------------------------------------------------------------------------------------
// launch.json

type Json = Record<string, unknown>;

interface LoadContext {
  readonly dir: string;
  readonly file: string;
  readonly vectors?: string | undefined;
  readonly amdCerts?: string | undefined;
}

/** Read and validate DIR/launch.json. Throws HarnessError naming launch.json and the key. */
export function loadBundle(dir: string, opts: { vectors?: string | undefined; amdCerts?: string | undefined } = {}): LaunchBundle {
  const path = join(dir, BUNDLE_FILE);
  const file = displayPath(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new HarnessError(`${file}: no launch bundle here (a launch bundle is a directory with launch.json)`);
    throw new HarnessError(`${file}: ${err.code ? `cannot read (${err.code})` : `not JSON: ${err.message}`}`);
  }
  const c: LoadContext = { dir, file, vectors: opts.vectors, amdCerts: opts.amdCerts };
  const o = obj(c, '', raw);
  known(c, '', o, ['description', 'at', 'sev', 'snp']);
  const at = o.at === undefined ? undefined : date(c, 'at', o.at);
  return {
    dir,
    file,
    description: o.description === undefined ? undefined : str(c, 'description', o.description),
    at,
    sev: o.sev === undefined ? undefined : sevSection(c, obj(c, 'sev', o.sev)),
    snp: o.snp === undefined ? undefined : snpSection(c, obj(c, 'snp', o.snp)),
  };
}

function sevSection(c: LoadContext, o: Json): SevBundle {
  known(c, 'sev', o, ['mode', 'firmware', 'policy', 'tik', 'tek', 'platform', 'api', 'secret']);
  const mode = o.mode === undefined ? 'sev' : str(c, 'sev.mode', o.mode);
  if (mode !== 'sev' && mode !== 'seves') bad(c, 'sev.mode', `"${mode}": use "sev" or "seves"`);
  if (o.firmware === undefined) bad(c, 'sev.firmware', 'required: the firmware the guest owner expects ({"ovmf": ...} or {"digest": "hex"})');
  if (o.policy === undefined) bad(c, 'sev.policy', 'required: the guest policy sent with the launch session (e.g. "0x1")');
  if (o.tik === undefined || o.tek === undefined) bad(c, o.tik === undefined ? 'sev.tik' : 'sev.tek', 'required: the session key file (16 bytes, sevctl session writes tik.bin and tek.bin)');
  const policy = int(c, 'sev.policy', o.policy, 0xffffffff);
  let api: SevBundle['api'];
  if (o.api !== undefined) {
    const a = obj(c, 'sev.api', o.api);
    known(c, 'sev.api', a, ['major', 'minor', 'build']);
    api = { major: int(c, 'sev.api.major', a.major, 0xff), minor: int(c, 'sev.api.minor', a.minor, 0xff), build: int(c, 'sev.api.build', a.build, 0xff) };
  }
  let secret: SevBundle['secret'];
  if (o.secret !== undefined) {
    const s = obj(c, 'sev.secret', o.secret);
    known(c, 'sev.secret', s, ['entries', 'packet']);
    if (!Array.isArray(s.entries) || s.entries.length === 0) bad(c, 'sev.secret.entries', 'a non-empty array of {"guid": GUID or "luks-key", "file": PATH}');
    const entries = (s.entries as unknown[]).map((e, i) => {
      const k = `sev.secret.entries[${i}]`;
      const eo = obj(c, k, e);
      known(c, k, eo, ['guid', 'file']);
      const guid = str(c, `${k}.guid`, eo.guid);
      if (!isGuid(guid) && SECRET_GUID_ALIASES[guid] === undefined) bad(c, `${k}.guid`, `"${guid}" is neither a GUID nor one of ${Object.keys(SECRET_GUID_ALIASES).join(', ')}`);
      return { guid, file: ref(c, `${k}.file`, eo.file) };
    });
    let packet: NonNullable<SevBundle['secret']>['packet'];
    if (s.packet !== undefined) {
      const p = obj(c, 'sev.secret.packet', s.packet);
      known(c, 'sev.secret.packet', p, ['header', 'data']);
      packet = { header: ref(c, 'sev.secret.packet.header', p.header), data: ref(c, 'sev.secret.packet.data', p.data) };
    }
    secret = { entries, packet };
  }
  return {
    mode,
    expected: expected(c, 'sev.firmware', o.firmware, mode),
    policy,
    tik: ref(c, 'sev.tik', o.tik),
    tek: ref(c, 'sev.tek', o.tek),
    platform: o.platform === undefined ? undefined : ref(c, 'sev.platform', o.platform),
    api,
    secret,
  };
}

function snpSection(c: LoadContext, o: Json): SnpBundle {
  known(c, 'snp', o, ['firmware', 'measurement', 'report', 'tamper', 'generation', 'vcek', 'ask', 'ark', 'certChain', 'certTable', 'amdCerts']);
  let measurement: Buffer | undefined;
  if (o.measurement !== undefined) {
    measurement = hex(c, 'snp.measurement', o.measurement, 48);
    if (o.report !== undefined) bad(c, 'snp.measurement', 'give the platform\'s measurement either as "measurement" or inside "report", not both');
  }
  const tamper: Tamper[] = [];
  if (o.tamper !== undefined) {
    if (o.report === undefined) bad(c, 'snp.tamper', 'there is no "report" to tamper with');
    const list = Array.isArray(o.tamper) ? (o.tamper as unknown[]) : [o.tamper];
    list.forEach((t, i) => {
      const k = `snp.tamper[${i}]`;
      const to = obj(c, k, t);
      if (to.truncate !== undefined) {
        known(c, k, to, ['truncate']);
        tamper.push({ truncate: int(c, `${k}.truncate`, to.truncate, 0xffff) });
      } else {
        known(c, k, to, ['offset', 'xor']);
        tamper.push({ offset: int(c, `${k}.offset`, to.offset, SNP_REPORT_SIZE - 1), xor: int(c, `${k}.xor`, to.xor, 0xff) });
      }
    });
  }
  const gens: readonly SnpGeneration[] = ['milan', 'genoa', 'turin', 'venice'];
  let generation: SnpGeneration | undefined;
  if (o.generation !== undefined) {
    const g = str(c, 'snp.generation', o.generation).toLowerCase();
    if (!(gens as readonly string[]).includes(g)) bad(c, 'snp.generation', `"${g}": use ${gens.join(', ')}`);
    generation = g as SnpGeneration;
  }
  const opt = (k: string): FileRef | undefined => (o[k] === undefined ? undefined : ref(c, `snp.${k}`, o[k]));
  let amdCerts = c.amdCerts ? resolve(c.amdCerts) : undefined;
  if (o.amdCerts !== undefined) amdCerts = dirRef(c, 'snp.amdCerts', o.amdCerts);
  return {
    expected: o.firmware === undefined ? undefined : expected(c, 'snp.firmware', o.firmware, 'snp'),
    measurement,
    report: opt('report'),
    tamper,
    generation,
    vcek: opt('vcek'),
    ask: opt('ask'),
    ark: opt('ark'),
    certChain: opt('certChain'),
    certTable: opt('certTable'),
    amdCerts,
  };
}

function expected(c: LoadContext, k: string, v: unknown, mode: SevMode | 'snp'): ExpectedLaunch {
  const o = obj(c, k, v);
  const size = mode === 'snp' ? 48 : 32;
  if (o.digest !== undefined) {
    known(c, k, o, ['digest']);
    return { kind: 'digest', digest: hex(c, `${k}.digest`, o.digest, size), label: `reference digest ${k}.digest in ${c.file}` };
  }
  known(c, k, o, ['ovmf', 'kernel', 'initrd', 'append', 'vcpus', 'vcpuType', 'vcpuSig', 'vmmType', 'guestFeatures']);
  if (o.ovmf === undefined) bad(c, `${k}.ovmf`, 'required (or give "digest": the expected launch digest in hex)');
  const kernel = o.kernel === undefined ? undefined : ref(c, `${k}.kernel`, o.kernel);
  if ((o.initrd !== undefined || o.append !== undefined) && !kernel) bad(c, `${k}.kernel`, 'required with "initrd" or "append" (measured direct boot)');
  const vmm = o.vmmType === undefined ? 'QEMU' : str(c, `${k}.vmmType`, o.vmmType);
  const vmmType = VMM_TYPES.find((t) => t.toLowerCase() === vmm.toLowerCase());
  if (!vmmType) bad(c, `${k}.vmmType`, `"${vmm}": use ${VMM_TYPES.join(', ')}`);
  let vcpus: number | undefined;
  let vcpuSig = 0;
  if (mode !== 'sev') {
    if (o.vcpus === undefined) bad(c, `${k}.vcpus`, `required for ${mode === 'snp' ? 'SNP' : 'SEV-ES'} (one VMSA per vCPU is measured)`);
    vcpus = int(c, `${k}.vcpus`, o.vcpus, 4096);
    if (vcpus < 1) bad(c, `${k}.vcpus`, 'must be 1..4096');
    if (o.vcpuSig !== undefined) vcpuSig = int(c, `${k}.vcpuSig`, o.vcpuSig, 0xffffffff);
    else if (o.vcpuType !== undefined) {
      const t = str(c, `${k}.vcpuType`, o.vcpuType);
      const sig = CPU_SIGS[t];
      if (sig === undefined) bad(c, `${k}.vcpuType`, `unknown vCPU type "${t}" (choose from ${Object.keys(CPU_SIGS).join(', ')})`);
      vcpuSig = sig;
    } else if (vmmType === 'QEMU') bad(c, `${k}.vcpuType`, 'required with QEMU (or "vcpuSig")');
  }
  let guestFeatures = 1n;
  if (o.guestFeatures !== undefined) {
    if (mode !== 'snp') bad(c, `${k}.guestFeatures`, 'only SNP guests have guest features (VMSA SEV_FEATURES)');
    guestFeatures = BigInt(int(c, `${k}.guestFeatures`, o.guestFeatures, Number.MAX_SAFE_INTEGER));
  }
  const ovmf = ref(c, `${k}.ovmf`, o.ovmf);
  const append = o.append === undefined ? undefined : str(c, `${k}.append`, o.append);
  const initrd = o.initrd === undefined ? undefined : ref(c, `${k}.initrd`, o.initrd);
  const parts = [ovmf.label];
  if (vcpus !== undefined) parts.push(`${vcpus} vCPU${vcpus === 1 ? '' : 's'}${o.vcpuType ? ` ${String(o.vcpuType)}` : ''}${vmmType !== 'QEMU' ? ` (${vmmType})` : ''}`);
  if (kernel) parts.push(`kernel ${kernel.label}${initrd ? ` + initrd ${initrd.label}` : ''}${append !== undefined ? ' + append' : ''}`);
  if (mode === 'snp' && guestFeatures !== 1n) parts.push(`guest features 0x${guestFeatures.toString(16)}`);
  return { kind: 'image', ovmf, kernel, initrd, append, vcpus, vcpuSig, vmmType: vmmType as VmmType, guestFeatures, label: parts.join(', ') };
}

// ------------------------------------------------------------------------------------------------
// evidence

/** Compute the expected digest (sevcheck measure semantics). Throws InputError on bad firmware. */
export function expectedDigest(e: ExpectedLaunch, mode: SevMode | 'snp', size: 32 | 48): ExpectedDigest {
  if (e.kind === 'digest') {
    if (e.digest.length !== size) throw new InputError(e.label, `must be ${size} bytes, got ${e.digest.length}`);
    return { digest: e.digest, describe: e.label };
  }
  const ovmf = parseOvmf(readRef(e.ovmf), e.ovmf.label);
  let hashes: SevKernelHashes | undefined;
  if (e.kernel) hashes = sevKernelHashes(readRef(e.kernel), e.initrd ? readRef(e.initrd) : undefined, e.append);
  const vcpus = e.vcpus ?? 0;
  if (mode === 'seves' && e.vmmType === 'QEMU') {
    // The FPU state in each VMSA depends on the platform's kernel and QEMU (sev/vmsa-model.ts).
    const byModel = VMSA_MODELS.map((model) => ({ model, digest: sevEsLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, vmsaModel: model, kernelHashes: hashes }) }));
    return { digest: byModel.find((m) => m.model === 'init2')?.digest ?? new Uint8Array(32), byModel, describe: e.label };
  }
  const digest =
    mode === 'sev'
      ? sevLaunchDigest(ovmf, hashes)
      : mode === 'seves'
        ? sevEsLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, kernelHashes: hashes })
        : snpLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, guestFeatures: e.guestFeatures, kernelHashes: hashes });
  return { digest, describe: e.label };
}

function key(name: 'TIK' | 'TEK', f: FileRef): Uint8Array {
  const b = readRef(f);
  // Only the length is ever reported; the key bytes stay out of every message.
  if (b.length !== SEV_KEY_SIZE) throw new InputError(f.label, `${name} must be ${SEV_KEY_SIZE} bytes (raw, as sevctl session writes it), got ${b.length}`);
  return b;
}

/** A 1184-byte raw report, or hex text of one. */
function reportBytes(f: FileRef): Buffer {
  const b = readRef(f);
  if (b.length === SNP_REPORT_SIZE) return b;
  const text = b.toString('latin1');
  if (/^\s*(0x)?[0-9a-fA-F\s]+$/.test(text)) return hexToBytes(text, f.label);
  return b; // wrong size: parseSnpReport names it
}

function applyTamper(b: Buffer, t: Tamper): Buffer {
  if ('truncate' in t) return b.subarray(0, Math.min(t.truncate, b.length));
  const out = Buffer.from(b);
  if (t.offset < out.length) out[t.offset] = (out[t.offset] ?? 0) ^ t.xor;
  return out;
}

/** KDS cert_chain: ASK then ARK. */
function chainPair(f: FileRef): [SnpCert, SnpCert] {
  return chainPairOf(readRef(f), f.label);
}

function chainPairOf(bytes: Buffer, label: string): [SnpCert, SnpCert] {
  const certs = loadPemChain(bytes.toString('utf8'), label);
  if (certs.length !== 2) throw new InputError(label, `holds ${certs.length} certificates; AMD's cert_chain holds 2 (ASK, then ARK)`);
  return [certs[0] as SnpCert, certs[1] as SnpCert];
}

/** --amd-certs DIR: DIR[/<gen>]/{ark.pem,ask.pem} (snpguest fetch ca) or DIR[/<gen>]/cert_chain (KDS). */
function amdCertsDir(dir: string, gen: SnpGeneration | undefined): { ark: SnpCert; ask: SnpCert } | undefined {
  const dirs = gen ? [join(dir, gen), join(dir, gen[0]?.toUpperCase() + gen.slice(1)), dir] : [dir];
  for (const d of dirs) {
    const ark = join(d, 'ark.pem');
    const ask = join(d, 'ask.pem');
    if (existsSync(ark) && existsSync(ask)) {
      return { ark: loadSnpCert(readFileSync(ark), displayPath(ark)), ask: loadSnpCert(readFileSync(ask), displayPath(ask)) };
    }
    const chain = join(d, 'cert_chain');
    if (existsSync(chain)) {
      const [a, b] = chainPair({ label: displayPath(chain), path: chain });
      return { ask: a, ark: b };
    }
  }
  return undefined;
}

/** Recorded platform replies: {"query-sev": {"return": ...}, "query-sev-launch-measure": {"return": ...}} or `virsh domlaunchsecinfo` text. */
function parsePlatformFile(f: FileRef): SevPlatform {
  const text = readRef(f).toString('utf8');
  if (text.trimStart().startsWith('{')) {
    let o: Json;
    try {
      o = JSON.parse(text) as Json;
    } catch (e) {
      throw new InputError(f.label, `not JSON: ${(e as Error).message}`);
    }
    const p = platformFromQmp(o['query-sev'], o['query-sev-launch-measure'], f.label);
    // Optional: the platform's QMP query-version reply, and "osrelease" (a sevcheck extension: the
    // platform host's /proc/sys/kernel/osrelease) — they tell which SEV-ES VMSA it launches.
    // An error reply leaves the version unknown (both VMSA models are then tried).
    const v = o['query-version'] as Json | undefined;
    const answered = v !== undefined && !(v && typeof v === 'object' && 'error' in v);
    const qemu = answered ? qemuVersion(v?.return) : undefined;
    if (answered && qemu === undefined) throw new InputError(f.label, 'query-version: no "return": {"qemu": {"major", "minor", "micro"}} (QMP VersionInfo)');
    const osrelease = o.osrelease;
    if (osrelease !== undefined && (typeof osrelease !== 'string' || osrelease.trim() === '')) throw new InputError(f.label, 'osrelease: must be the kernel release string (uname -r)');
    const kernel = osrelease === undefined ? undefined : osrelease.trim();
    return { ...p, software: { kernel, kernelSource: kernel === undefined ? undefined : `${f.label} osrelease`, qemu, qemuSource: qemu === undefined ? undefined : `${f.label} query-version` } };
  }
  // virsh domlaunchsecinfo: "sev-measurement: ...", "sev-api-major  : 0", ...
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\w-]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) kv.set(m[1] as string, m[2] as string);
  }
  const num = (k: string, max: number): number => {
    const v = kv.get(k);
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > max) throw new InputError(f.label, `${k}: ${v === undefined ? 'missing' : `"${v}" is not 0..${max}`} (virsh domlaunchsecinfo output expected)`);
    return Number(v);
  };
  const measurement = kv.get('sev-measurement');
  if (!measurement) throw new InputError(f.label, 'sev-measurement: missing (virsh domlaunchsecinfo output or QMP replies expected)');
  return {
    measurement,
    api: { major: num('sev-api-major', 0xff), minor: num('sev-api-minor', 0xff), build: num('sev-build-id', 0xff) },
    policy: kv.has('sev-policy') ? num('sev-policy', 0xffffffff) : undefined,
    source: f.label,
  };
}

/** QMP query-sev (SevInfo) and query-sev-launch-measure (SevLaunchMeasureInfo) replies (QEMU qapi/misc-target.json). */
export function platformFromQmp(info: unknown, measure: unknown, source: string): SevPlatform {
  const ret = (what: string, r: unknown): Json => {
    if (r === undefined) throw new InputError(source, `${what}: no reply recorded`);
    const o = r as Json;
    if (o && typeof o === 'object' && 'error' in o) {
      const e = o.error as Json;
      throw new InputError(source, `${what}: QEMU answered ${String(e?.class)}: ${String(e?.desc)}`);
    }
    const v = o && typeof o === 'object' ? o.return : undefined;
    if (!v || typeof v !== 'object') throw new InputError(source, `${what}: reply has no "return" object`);
    return v as Json;
  };
  const i = ret('query-sev', info);
  const m = ret('query-sev-launch-measure', measure);
  const n = (k: string, max: number): number => {
    const v = i[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new InputError(source, `query-sev "${k}": ${JSON.stringify(v)} is not 0..${max}`);
    return v;
  };
  if (typeof m.data !== 'string') throw new InputError(source, 'query-sev-launch-measure "data": missing (base64 of MEASURE || MNONCE)');
  return {
    measurement: m.data,
    api: { major: n('api-major', 0xff), minor: n('api-minor', 0xff), build: n('build-id', 0xff) },
    policy: i.policy === undefined ? undefined : n('policy', 0xffffffff),
    source,
  };
}

/** "major.minor.micro" from QMP query-version's VersionInfo (QEMU qapi/control.json); undefined when malformed. */
function qemuVersion(ret: unknown): string | undefined {
  const q = ret && typeof ret === 'object' ? (ret as Json).qemu : undefined;
  if (!q || typeof q !== 'object') return undefined;
  const n = (k: string) => (q as Json)[k];
  const parts = [n('major'), n('minor'), n('micro')];
  return parts.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) ? parts.join('.') : undefined;
}

function rawOrBase64(f: FileRef): Buffer {
  const b = readRef(f);
  const t = b.toString('latin1').trim();
  if (t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t)) return Buffer.from(t, 'base64');
  return b;
}

// ------------------------------------------------------------------------------------------------
// launch.json helpers

function bad(c: LoadContext, k: string, problem: string): never {
  throw new HarnessError(`${c.file}: ${k || '(top level)'}: ${problem}`);
}

function known(c: LoadContext, k: string, o: Json, keys: readonly string[]): void {
  for (const name of Object.keys(o)) if (!keys.includes(name)) bad(c, k ? `${k}.${name}` : name, `unknown key (known: ${keys.join(', ')})`);
}

function obj(c: LoadContext, k: string, v: unknown): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(c, k, 'must be a JSON object');
  return v as Json;
}

function str(c: LoadContext, k: string, v: unknown): string {
  if (typeof v !== 'string') bad(c, k, 'must be a string');
  return v;
}

/** A number, or a string in decimal or 0x hex (policies and signatures are written in hex). */
function int(c: LoadContext, k: string, v: unknown, max: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v.trim())) n = Number(v.trim());
  else bad(c, k, `${JSON.stringify(v)} is not an integer (decimal or "0x..." hex)`);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) bad(c, k, `${JSON.stringify(v)} is outside 0..${max === 0xffffffff ? '0xffffffff' : max}`);
  return n;
}

function hex(c: LoadContext, k: string, v: unknown, size: number): Buffer {
  const t = str(c, k, v).replace(/\s+/g, '').replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) bad(c, k, 'not a hex string');
  if (t.length !== size * 2) bad(c, k, `must be ${size} bytes (${size * 2} hex digits), got ${t.length / 2}`);
  return Buffer.from(t, 'hex');
}

function date(c: LoadContext, k: string, v: unknown): Date {
  const d = new Date(str(c, k, v));
  if (Number.isNaN(d.getTime())) bad(c, k, `"${String(v)}" is not an ISO 8601 date-time`);
  return d;
}

/** Where a launch.json path points: relative to the bundle, absolute, or `vectors:REL`. */
function resolveRef(c: LoadContext, k: string, v: unknown): FileRef {
  const label = str(c, k, v);
  if (label.startsWith('vectors:')) {
    if (!c.vectors) bad(c, k, `"${label}" needs the reference vectors: set ${VECTORS_ENV}=DIR or pass --vectors DIR (e.g. ../shared/vectors)`);
    return { label, path: resolve(c.vectors, label.slice('vectors:'.length)) };
  }
  return { label, path: isAbsolute(label) ? label : resolve(c.dir, label) };
}

function ref(c: LoadContext, k: string, v: unknown): FileRef {
  const r = resolveRef(c, k, v);
  let st;
  try {
    st = statSync(r.path);
  } catch (e) {
    bad(c, k, `"${r.label}": cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}: ${r.path})`);
  }
  if (!st.isFile()) bad(c, k, `"${r.label}" is not a regular file`);
  return r;
}

function dirRef(c: LoadContext, k: string, v: unknown): string {
  const r = resolveRef(c, k, v);
  if (!existsSync(r.path) || !statSync(r.path).isDirectory()) bad(c, k, `"${r.label}" is not a directory`);
  return r.path;
}

function readRef(f: FileRef): Buffer {
  try {
    return readFileSync(f.path);
  } catch (e) {
    throw new HarnessError(`${f.label}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function displayPath(p: string): string {
  const rel = p.startsWith(process.cwd() + '/') ? p.slice(process.cwd().length + 1) : p;
  return rel;
}
