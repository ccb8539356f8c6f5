/**
 * Launch layer facts: the guest owner's launch bundle (support/launch/bundle.ts: what the owner
 * expects and holds) decoded into evidence (support/launch/evidence.ts), and the platform's side
 * of the launch (QMP query-sev / query-sev-launch-measure, read through the run's Host unless the
 * bundle carries the platform's replies). SNP certificates the bundle does not carry come from
 * --amd-certs or the run's one KDS client (support/probes/kds-fetch.ts).
 *
 * Errors: a bundle that cannot be understood is a HarnessError from the loader (exit 2, and the
 * CLI loads it before any check runs); evidence whose content is wrong is an InputError naming
 * the file and the field (a failed check); certificates that are neither in the bundle, nor in
 * --amd-certs, nor to be had from AMD KDS are a HostError (the check is undecided with the reason,
 * as the caps layer's chain check is without AMD's roots).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Memo } from '../memo.js';
import { HarnessError, HostError, type Host } from '../host/types.js';
import type { KdsAnswer, KdsClient } from './kds-fetch.js';
import { parseSnpReport, type SnpGeneration, type SnpReport } from '../sev/snp-report.js';
import { loadSnpCert, type SnpCert } from '../sev/snp-verify.js';
import { certOf, parseCertTable, type CertKind } from '../sev/snp-cert-table.js';
import { vmsaModelsFor, type PlatformSoftware, type VmsaModelChoice } from '../sev/vmsa-model.js';
import { kdsChainPath, kdsProduct, kdsVcekPath } from '../sev/kds.js';
import { BUNDLE_FILE, loadBundle, readRef, VECTORS_ENV, type LaunchBundle, type LaunchOptions, type SevBundle, type SnpBundle } from '../launch/bundle.js';
import {
  amdCertsDir,
  applyTamper,
  chainPair,
  chainPairOf,
  expectedDigest,
  parsePlatformFile,
  platformFromQmp,
  qemuVersion,
  rawOrBase64,
  reportBytes,
  sessionKey,
  type ExpectedDigest,
  type SevKeys,
  type SevPlatform,
} from '../launch/evidence.js';

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
    /** AMD's certificates: `--amd-certs DIR` and the run's KDS client (shared with the caps layer) */
    readonly certs: { readonly amdCertsDir?: string | undefined; readonly kds?: KdsClient | undefined } = {},
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
      return dir === undefined ? undefined : loadBundle(dir, { vectors: this.options.vectors ?? process.env[VECTORS_ENV], amdCerts: this.certs.amdCertsDir });
    });
  }

  /** TIK and TEK from the owner's key files (16 bytes each; sevctl session's tik.bin / tek.bin). */
  sevKeys(): Promise<SevKeys> {
    return this.memo.once('sev-keys', async () => {
      const sev = await this.sevBundle();
      return { tik: sessionKey('TIK', sev.tik), tek: sessionKey('TEK', sev.tek) };
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
        const file = (await this.bundleOrThrow()).file;
        throw new HostError('UNSUPPORTED', file, `${file}: snp.vcek: no VCEK: name the VCEK file ("vcek") or the extended report's certificate table ("certTable")${report ? ', or the processor "generation" so that it can be fetched from AMD KDS' : ''}`);
      }
      const got = await this.kdsGet(gen, kdsVcekPath(report, gen), `the VCEK for this report's CHIP_ID and REPORTED_TCB`, (bytes, label) => loadSnpCert(bytes, label));
      return got.value;
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
        const got = await this.kdsGet(gen, kdsChainPath(gen), `AMD's ${gen} ARK and ASK`, chainPairOf);
        const [a, b] = got.value;
        ask ??= a;
        ark ??= b;
      }
      if (!ark || !ask) {
        const file = (await this.bundleOrThrow()).file;
        throw new HostError(
          'UNSUPPORTED',
          file,
          `${file}: snp.ark/snp.ask: AMD's ARK and ASK are not bundled with sevcheck: name them ("ark"/"ask", "certChain"), pass --amd-certs DIR (snpguest fetch ca pem DIR <milan|genoa|turin>), or give the processor "generation" to fetch them from AMD KDS`,
        );
      }
      return { ark, ask, vek };
    });
  }

  /** An SNP certificate from the run's KDS client; undecided (HostError) when there is none or it is off. */
  private kdsGet<T>(gen: SnpGeneration, path: string, what: string, accept: (bytes: Buffer, label: string) => T): Promise<KdsAnswer<T>> {
    const kds = this.certs.kds;
    if (!kds || !kdsProduct(gen)) {
      throw new HostError('UNSUPPORTED', 'AMD KDS', `${what}: ${kds ? `AMD KDS has no product name for ${gen}` : 'no AMD KDS client in this run'}: name the certificates in launch.json or pass --amd-certs DIR`);
    }
    return kds.get('snp', path, what, accept);
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

