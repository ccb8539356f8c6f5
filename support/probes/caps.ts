/**
 * caps layer facts: what libvirt (virsh domcapabilities / nodesevinfo, its QEMU capabilities
 * cache) and QEMU (QMP query-sev-capabilities, query-sev, query-kvm) say about SEV. Read through
 * the run's cached Host (one virsh call per argv, one QEMU probe per run), parsed once here.
 *
 * "Could not be asked" is a HostError (the check becomes undecided with its message): virsh
 * missing or unable to reach libvirtd, the QEMU probe getting no answer, output that does not
 * parse (InputError from a parser is turned into HostError EIO naming the command: a host that
 * prints garbage is a host fact, not a broken harness, and must never pass).
 */
import { optional } from '../facts.js';
import { Memo } from '../memo.js';
import { InputError } from '../errors.js';
import { HostError, isHostError, type Host, type QmpReply } from '../host/types.js';
import { parseSevCapabilities, parseSevInfo, probeContextOf, type QmpProbeContext, type SevCapabilities, type SevInfo } from '../qemu/qemu-probe.js';
import { parseDomainCapabilities, type DomainCapabilities } from '../parsers/domcaps.js';
import { parseNodeSevInfo, type NodeSevInfo } from '../parsers/nodesevinfo.js';
import { parseLibvirtCapsCache, type LibvirtQemuCapsCache } from '../parsers/libvirt-caps-cache.js';
import { parseQemuCertChain, parseQemuPdh, verifySevChain, verifySignedBy, type LinkResult, type SevCert } from '../sev/sev-cert.js';
import type { AmdRootSource } from './kds-fetch.js';
import { KVM_AMD_PARAMS, type HostProbe } from './host.js';
import { findDisagreements, type CacheFacts, type CpuidFacts, type Disagreement, type DomCapsFacts, type KernelFacts, type NodeSevInfoFacts, type QmpFacts } from '../sev/consistency.js';

export interface LayerFactsResult {
  readonly disagreements: readonly Disagreement[];
  /** the layers that answered, for messages */
  readonly compared: readonly string[];
  readonly live: LiveSevState;
}

export const LIBVIRT_URI = 'qemu:///system';
export const CAPS_CACHE_DIR = '/var/cache/libvirt/qemu/capabilities';
const VIRSH_TIMEOUT_MS = 30_000;

export type DomcapsMachine = 'default' | 'q35';

export function domcapsArgv(machine: DomcapsMachine): string[] {
  return ['virsh', '-c', LIBVIRT_URI, 'domcapabilities', ...(machine === 'q35' ? ['--machine', 'q35'] : [])];
}
export const NODESEVINFO_ARGV = ['virsh', '-c', LIBVIRT_URI, 'nodesevinfo'] as const;

/** A QMP answer with the probe context (who QEMU ran as, its version) when the backend gave one. */
export type QmpAnswer<T> =
  | { readonly ok: true; readonly value: T; readonly context: QmpProbeContext | undefined }
  | { readonly ok: false; readonly error: { readonly class: string; readonly desc: string }; readonly context: QmpProbeContext | undefined };

/** virsh nodesevinfo: the parsed fields, or libvirt's refusal (not supported / no SEV). */
export type NodeSevInfoFact = { readonly ok: true; readonly info: NodeSevInfo } | { readonly ok: false; readonly error: string };

export interface CacheFile {
  readonly path: string;
  readonly cache?: LibvirtQemuCapsCache | undefined;
  /** the file could not be read or parsed */
  readonly problem?: string | undefined;
}

/** What decides whether SEV is usable now (caps.cache.fresh compares the cache with it). */
export interface LiveSevState {
  /** kvm_amd sev parameter: true/false, undefined when unknown */
  readonly kvmSev: boolean | undefined;
  readonly kvmSevSource: string;
  /** QEMU's answer, when it could be asked */
  readonly qmp: QmpAnswer<SevCapabilities> | undefined;
}

/** The platform's PDH and certificate chain (base64, as QMP and virsh nodesevinfo give them). */
export interface ChainSource {
  readonly from: string;
  readonly pdh: string;
  readonly certChain: string;
}

/** The outcome of verifying a platform chain up to AMD's pinned roots (caps.pdh.chain-valid). */
export type ChainCheck =
  | { readonly kind: 'malformed'; readonly from: string; readonly problem: string }
  | { readonly kind: 'platform-broken'; readonly from: string; readonly links: readonly LinkResult[] }
  | { readonly kind: 'no-roots'; readonly from: string; readonly reasons: readonly string[]; readonly rootSource: string }
  | { readonly kind: 'verified'; readonly from: string; readonly generation: string; readonly rootSource: string }
  | { readonly kind: 'not-amd-signed'; readonly from: string; readonly tried: ReadonlyArray<{ gen: string; links: readonly LinkResult[] }> };

/** libvirt's QEMU capabilities cache: undefined when the directory does not exist. */
export interface CapsCacheFact {
  readonly dir: string;
  readonly files: readonly CacheFile[];
}

function virshProblem(argv: readonly string[], exitCode: number, stderr: string): HostError {
  const cmd = argv.join(' ');
  if (exitCode === 127) return new HostError('ENOENT', cmd, `${cmd}: virsh is not installed (libvirt-clients / libvirt-client package)`);
  const err = stderr.trim().split('\n').filter(Boolean).join('; ') || `exit status ${exitCode}`;
  const hint = /failed to connect|Failed to connect socket|No such file or directory|Connection refused/i.test(err)
    ? ' — libvirt is not running: systemctl start libvirtd (or virtqemud.socket on modular daemons)'
    : '';
  return new HostError('EIO', cmd, `${cmd} failed: ${err}${hint}`);
}

function asHostError(e: unknown, what: string): never {
  if (e instanceof InputError) throw new HostError('EIO', what, `${e.source}: ${e.problem}`);
  throw e;
}

export class CapsProbe {
  private readonly memo = new Memo();
  constructor(
    readonly host: Host,
    /** where AMD's ASK/ARK come from this run (--amd-certs / KDS); none: chain checks stay undecided */
    readonly amdRoots?: AmdRootSource,
  ) {}

  /** `virsh -c qemu:///system domcapabilities [--machine q35]`, parsed. */
  domcaps(machine: DomcapsMachine = 'default'): Promise<DomainCapabilities> {
    return this.memo.once(`domcaps:${machine}`, async () => {
      const argv = domcapsArgv(machine);
      const r = await this.host.run(argv, { timeoutMs: VIRSH_TIMEOUT_MS });
      if (r.exitCode !== 0) throw virshProblem(argv, r.exitCode, r.stderr);
      try {
        return await parseDomainCapabilities(r.stdout, argv.join(' '));
      } catch (e) {
        return asHostError(e, argv.join(' '));
      }
    });
  }

  /** `virsh nodesevinfo`: fields, or libvirt's error when it has no SEV to report. */
  nodeSevInfo(): Promise<NodeSevInfoFact> {
    return this.memo.once('nodesevinfo', async () => {
      const argv = [...NODESEVINFO_ARGV];
      const r = await this.host.run(argv, { timeoutMs: VIRSH_TIMEOUT_MS });
      if (r.exitCode !== 0) {
        const err = r.stderr.trim();
        // libvirt answers VIR_ERR_OPERATION_UNSUPPORTED when QEMU has no SEV capabilities
        // (qemu_driver.c qemuNodeGetSEVInfo / qemuGetSEVInfoToParams)
        if (r.exitCode === 1 && /not supported|unsupported/i.test(err)) return { ok: false, error: err.split('\n').join('; ') };
        throw virshProblem(argv, r.exitCode, r.stderr);
      }
      try {
        return { ok: true, info: parseNodeSevInfo(r.stdout, argv.join(' ')) };
      } catch (e) {
        return asHostError(e, argv.join(' '));
      }
    });
  }

  /** Every *.xml under /var/cache/libvirt/qemu/capabilities; undefined when there is no cache. */
  capsCache(): Promise<CapsCacheFact | undefined> {
    return this.memo.once('capscache', async () => {
      let names: string[];
      try {
        names = await this.host.listDir(CAPS_CACHE_DIR);
      } catch (e) {
        if (isHostError(e, 'ENOENT')) return undefined;
        throw e;
      }
      const files: CacheFile[] = [];
      for (const name of names.filter((n) => n.endsWith('.xml'))) {
        const path = `${CAPS_CACHE_DIR}/${name}`;
        try {
          const text = (await this.host.readFile(path)).toString('utf8');
          files.push({ path, cache: await parseLibvirtCapsCache(text, path) });
        } catch (e) {
          if (e instanceof InputError || (e instanceof HostError && e.code !== 'NOT_RUNNING')) files.push({ path, problem: e.message });
          else throw e;
        }
      }
      return { dir: CAPS_CACHE_DIR, files };
    });
  }

  private async qmp<T>(command: string, parse: (r: unknown, source: string) => T): Promise<QmpAnswer<T>> {
    const reply: QmpReply = await this.host.qmp(command);
    const context = probeContextOf(reply);
    if ('error' in reply) return { ok: false, error: reply.error, context };
    try {
      return { ok: true, value: parse(reply.return, `QMP ${command}`), context };
    } catch (e) {
      return asHostError(e, `QMP ${command}`);
    }
  }

  /** QMP query-sev-capabilities from the host's QEMU (one probe per run). */
  sevCapabilities(): Promise<QmpAnswer<SevCapabilities>> {
    return this.memo.once('qmp:caps', () => this.qmp('query-sev-capabilities', parseSevCapabilities));
  }

  /** QMP query-sev (firmware API version and state as QEMU sees it). */
  sevInfo(): Promise<QmpAnswer<SevInfo>> {
    return this.memo.once('qmp:sev', () => this.qmp('query-sev', parseSevInfo));
  }

  /**
   * What every layer says, for the cross-layer rules (consistency.ts findDisagreements). A layer
   * that cannot be asked is left out (absent facts are not disagreements). QEMU's answer counts
   * only when it is about SEV: "KVM not enabled" from a stand-in identity says nothing about the
   * host.
   */
  layerFacts(hostProbe: HostProbe): Promise<LayerFactsResult> {
    return this.memo.once('layers', async () => {
      const opt = optional; // a layer the host cannot give (HostError) is left out; harness errors end the run
      const compared: string[] = [];
      // ask every layer at once (over ssh each read is a round trip)
      const [sev, sevEs, snp, loaded, em, q, dc, ns, cacheFact] = await Promise.all([
        opt(hostProbe.kvmAmdParam('sev')),
        opt(hostProbe.kvmAmdParam('sev_es')),
        opt(hostProbe.kvmAmdParam('sev_snp')),
        opt(hostProbe.kvmAmdLoaded()),
        opt(hostProbe.encryptedMemory()),
        opt(this.sevCapabilities()),
        opt(this.domcaps('q35')),
        opt(this.nodeSevInfo()),
        opt(this.capsCache()),
      ]);
      const kernel: KernelFacts | undefined =
        loaded === undefined ? undefined : { source: KVM_AMD_PARAMS, sev: loaded ? sev?.enabled ?? false : false, sevEs: loaded ? sevEs?.enabled : false, snp: loaded ? snp?.enabled : false };
      if (kernel) compared.push('kvm_amd');
      const cpuid: CpuidFacts | undefined = em && { ...em, source: 'CPUID 0x8000001F' };
      if (cpuid) compared.push('CPUID');
      const qmpRelevant = q && (q.ok || !(q.error.desc === 'KVM not enabled' && q.context && !q.context.asLibvirtUser)) ? q : undefined;
      const qmp: QmpFacts | undefined = qmpRelevant && {
        source: 'QMP query-sev-capabilities',
        capabilitiesOk: qmpRelevant.ok,
        ...(qmpRelevant.ok
          ? { cbitpos: qmpRelevant.value.cbitpos, reducedPhysBits: qmpRelevant.value.reducedPhysBits, pdh: qmpRelevant.value.pdh, certChain: qmpRelevant.value.certChain, cpu0Id: qmpRelevant.value.cpu0Id }
          : { errorDesc: qmpRelevant.error.desc }),
      };
      if (qmp) compared.push('QEMU');
      const domcaps: DomCapsFacts | undefined = dc && { ...dc.sev, source: dc.source, sevSupported: dc.sev?.supported, snpSupported: dc.snpSupported };
      if (domcaps) compared.push('domcapabilities');
      const nodesevinfo: NodeSevInfoFacts | undefined = ns?.ok ? { ...ns.info, source: ns.info.source } : undefined;
      if (nodesevinfo) compared.push('nodesevinfo');
      const cacheFile = cacheFact?.files.find((f) => f.cache && f.cache.arch === 'x86_64')?.cache;
      const cache: CacheFacts | undefined = cacheFile && { source: cacheFile.source, hasSev: cacheFile.sev !== undefined, ...(cacheFile.sev ?? {}) };
      if (cache) compared.push('capabilities cache');
      return {
        disagreements: findDisagreements({ kernel, cpuid, qmp, domcaps, nodesevinfo, cache }),
        compared,
        live: { kvmSev: kernel?.sev, kvmSevSource: `${KVM_AMD_PARAMS}/sev`, qmp: qmpRelevant },
      };
    });
  }

  /** QMP query-kvm: did the probe QEMU get KVM (qapi KvmInfo {enabled, present})? */
  kvm(): Promise<QmpAnswer<{ enabled: boolean; present: boolean }>> {
    return this.memo.once('qmp:kvm', () =>
      this.qmp('query-kvm', (r, source) => {
        const o = r as Record<string, unknown> | null;
        if (typeof o !== 'object' || o === null || typeof o.enabled !== 'boolean' || typeof o.present !== 'boolean') {
          throw new InputError(source, 'return value is not {enabled: bool, present: bool}');
        }
        return { enabled: o.enabled, present: o.present };
      }),
    );
  }
}

/**
 * Verify a PDH/cert chain: parse it, check the platform links (OCA self-signed, PEK ← OCA,
 * PEK ← CEK, PDH ← PEK), then look for AMD roots generation by generation (each read or fetched
 * at most once per run) until one verifies CEK ← ASK ← ARK with the ARK pinned.
 */
export async function checkChain(src: ChainSource, roots: AmdRootSource): Promise<ChainCheck> {
  let pdh: SevCert, pek: SevCert, oca: SevCert, cek: SevCert;
  try {
    pdh = parseQemuPdh(src.pdh, `${src.from} pdh`);
    ({ pek, oca, cek } = parseQemuCertChain(src.certChain, `${src.from} cert-chain`));
  } catch (e) {
    if (e instanceof InputError) return { kind: 'malformed', from: src.from, problem: e.message };
    throw e;
  }
  const platform = [verifySignedBy(oca, oca), verifySignedBy(pek, oca), verifySignedBy(pek, cek), verifySignedBy(pdh, pek)];
  if (platform.some((l) => !l.ok)) return { kind: 'platform-broken', from: src.from, links: platform };
  if (!roots.available) {
    return { kind: 'no-roots', from: src.from, rootSource: roots.describe(), reasons: ['no --amd-certs directory was given, and fetching from AMD is off (fixture replays never fetch; live runs do unless --no-kds)'] };
  }
  const reasons: string[] = [];
  const tried: Array<{ gen: string; links: readonly LinkResult[] }> = [];
  for (const gen of roots.generations()) {
    const r = await roots.get(gen);
    if (!r.ok) {
      reasons.push(`${gen}: ${r.reason}`);
      continue;
    }
    const v = verifySevChain({ ark: r.roots.ark, ask: r.roots.ask, cek, oca, pek, pdh }, { expectGeneration: gen });
    if (v.ok) return { kind: 'verified', from: src.from, generation: gen, rootSource: r.roots.source };
    tried.push({ gen, links: v.links });
  }
  if (tried.length === 0) return { kind: 'no-roots', from: src.from, rootSource: roots.describe(), reasons };
  return { kind: 'not-amd-signed', from: src.from, tried };
}
