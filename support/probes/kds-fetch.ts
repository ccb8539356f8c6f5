/**
 * sevcheck's one client for AMD's certificate downloads, used by the caps layer (SEV ARK/ASK for
 * caps.pdh.chain-valid) and the launch layer (SNP ARK/ASK and VCEKs for launch.snp.*). It runs on
 * the machine running sevcheck, never on the probed host.
 *
 * Where certificates come from, in order:
 *  1. `--amd-certs DIR` (offline hosts): read from DIR only, never fetched (rootsFromDir here for
 *     SEV, the launch probe for SNP's <gen>/{ark,ask}.pem layout).
 *  2. The on-disk cache: one directory, `--kds-cache DIR`, else $XDG_CACHE_HOME/sevcheck/kds
 *     (~/.cache/sevcheck/kds). A resource is cached under its path below the service root:
 *     `ask_ark_<gen>.cert` (SEV), `vcek/v1/<Product>/cert_chain` and
 *     `vcek/v1/<Product>/<hwid>_blSPL_..` (SNP; `?&=` become `_`).
 *  3. AMD, with a timeout: SEV roots from https://developer.amd.com/wp-content/resources (where
 *     virtee/sev src/certs/sev/builtin and sevctl take ask_ark_<gen>.cert from), SNP certificates
 *     from the Key Distribution Service https://kdsintf.amd.com (VCEK spec #57230 ch. 4).
 *     `--kds-url URL` (default $SEVCHECK_KDS_URL) replaces both with one mirror that serves both
 *     layouts below URL: URL/ask_ark_<gen>.cert and URL/vcek/v1/...
 *
 * Whether the cache and the network are used at all is one switch: on for live hosts, off for
 * fixture replays and with --amd-certs (a replay's verdicts must not depend on the network or
 * on what this machine happened to cache); `--kds` / `--no-kds` override it.
 *
 * Nothing is trusted for being cached or downloaded: every answer goes through the caller's
 * `accept` (which parses it; the ARK is pinned by its SPKI fingerprint, support/sev/kds.ts and
 * sev-cert.ts ARK_SPKI_SHA256 for SEV, snp-verify.ts for SNP) before it is cached or used; a
 * cached entry that fails it is fetched again, a download that fails it is not cached.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { HarnessError, HostError } from '../host/types.js';
import { askArkFileName, GENERATIONS, rootFileCandidates, rootsFromAskArk, rootsFromPair, type AmdRoots } from '../sev/kds.js';
import type { Generation } from '../sev/sev-cert.js';

/** The one environment variable: default for --kds-url (tests point it at a local server). */
export const KDS_URL_ENV = 'SEVCHECK_KDS_URL';

/** AMD's own services, used when no mirror is named. */
export const AMD_SERVICES = {
  /** SEV (legacy) ask_ark_<gen>.cert files (virtee/sev src/certs/sev/builtin/*, sevctl) */
  sev: 'https://developer.amd.com/wp-content/resources',
  /** SNP Key Distribution Service (VCEK spec #57230 ch. 4: /vcek/v1/{product}/...) */
  snp: 'https://kdsintf.amd.com',
} as const;
export type KdsService = keyof typeof AMD_SERVICES;

const KDS_TIMEOUT_MS = 15_000;

/** The command line's certificate options (--amd-certs, --kds / --no-kds, --kds-cache, --kds-url). */
export interface AmdCertOptions {
  /** `--amd-certs DIR`: read AMD's roots from here only (no network, no cache) */
  readonly amdCertsDir?: string | undefined;
  /** `--kds` / `--no-kds`: use the cache and AMD (default: on for live hosts, off for fixture replays and with --amd-certs) */
  readonly kds?: boolean | undefined;
  /** `--kds-cache DIR` */
  readonly kdsCacheDir?: string | undefined;
  /** `--kds-url URL`: one mirror for both services (default $SEVCHECK_KDS_URL, else AMD's) */
  readonly kdsUrl?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export function defaultKdsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'sevcheck', 'kds');
}

export interface KdsAnswer<T> {
  readonly value: T;
  /** the cache file or the URL */
  readonly source: string;
  /** for messages: "<file> (cached from AMD KDS)" or "AMD KDS <url>" */
  readonly label: string;
}

function why(e: unknown): string {
  if (e instanceof InputError) return `${e.source}: ${e.problem}`;
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  return err?.cause?.code ? `${err.message} (${err.cause.code})` : (err?.message ?? String(e));
}

async function maybeRead(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class KdsClient {
  readonly enabled: boolean;
  readonly cacheDir: string;
  private readonly mirror: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: { readonly enabled: boolean; readonly cacheDir?: string | undefined; readonly url?: string | undefined; readonly timeoutMs?: number | undefined }) {
    this.enabled = opts.enabled;
    this.cacheDir = opts.cacheDir || defaultKdsCacheDir();
    const url = opts.url ?? (process.env[KDS_URL_ENV] || undefined);
    if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) {
      throw new HarnessError(`${opts.url !== undefined ? '--kds-url' : KDS_URL_ENV} ${url}: not an http(s) URL`);
    }
    this.mirror = url?.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? KDS_TIMEOUT_MS;
  }

  /** The run's client from the command line's options; `live`: the host is not a fixture replay. */
  static forRun(o: AmdCertOptions, live: boolean): KdsClient {
    return new KdsClient({ enabled: o.kds ?? (!o.amdCertsDir && live), cacheDir: o.kdsCacheDir, url: o.kdsUrl, timeoutMs: o.timeoutMs });
  }

  base(service: KdsService): string {
    return this.mirror ?? AMD_SERVICES[service];
  }

  /** for messages */
  describe(): string {
    return this.enabled ? `AMD (${this.mirror ?? `${AMD_SERVICES.sev}, ${AMD_SERVICES.snp}`}; cache ${this.cacheDir})` : 'AMD KDS off';
  }

  /** Where `path` of a service is cached. */
  cacheFile(path: string): string {
    return join(this.cacheDir, path.replace(/^\/+/, '').replace(/[?&=]/g, '_'));
  }

  /**
   * `path` below the service root (`ask_ark_milan.cert`, `/vcek/v1/Milan/cert_chain`): from the
   * cache when present and `accept`ed, else fetched, `accept`ed, and cached. `accept` parses and
   * verifies; what it throws for a download makes the answer unusable. Throws HostError (the
   * check is undecided with the URL and the reason): KDS off, network or HTTP failure, bad answer.
   */
  async get<T>(service: KdsService, path: string, what: string, accept: (bytes: Buffer, label: string) => T): Promise<KdsAnswer<T>> {
    const file = this.cacheFile(path);
    const url = `${this.base(service)}/${path.replace(/^\/+/, '')}`;
    if (!this.enabled) {
      throw new HostError('UNSUPPORTED', url, `${what} is not available: fetching from AMD is off (fixture replay, --amd-certs or --no-kds); name the certificates, pass --amd-certs DIR, or --kds`);
    }
    let cached: Buffer | undefined;
    try {
      cached = await maybeRead(file);
    } catch (e) {
      throw new HostError('EIO', file, `${file}: ${why(e)}`);
    }
    if (cached) {
      const label = `${file} (cached from AMD KDS)`;
      try {
        return { value: accept(cached, label), source: file, label };
      } catch (e) {
        // a corrupt or foreign cache entry is replaced below, never trusted
        if (!(e instanceof InputError)) throw e;
      }
    }
    let bytes: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
      if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new HostError('EIO', url, `could not fetch ${what}: GET ${url}: ${why(e)}; pass --amd-certs DIR or name the certificates`);
    }
    const label = `AMD KDS ${url}`;
    let value: T;
    try {
      value = accept(bytes, label);
    } catch (e) {
      if (e instanceof InputError) throw new HostError('EIO', url, `${what} from ${url} is not usable: ${why(e)}`);
      throw e;
    }
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.part`;
      await writeFile(tmp, bytes, { mode: 0o644 });
      await rename(tmp, file);
    } catch {
      // an unwritable cache only costs another download next time
    }
    return { value, source: url, label };
  }
}

// ------------------------------------------------------------------------------------------------
// SEV (legacy) roots for caps.pdh.chain-valid

/** One generation's roots, or why they are not available. */
export type RootsOutcome = { readonly ok: true; readonly roots: AmdRoots } | { readonly ok: false; readonly reason: string };

/** From `--amd-certs DIR`. */
export async function rootsFromDir(dir: string, gen: Generation): Promise<RootsOutcome> {
  const c = rootFileCandidates(gen);
  try {
    const askArk = await maybeRead(join(dir, c.askArk));
    if (askArk) return { ok: true, roots: rootsFromAskArk(askArk, gen, join(dir, c.askArk)) };
    const ark = await maybeRead(join(dir, c.pair.ark));
    const ask = await maybeRead(join(dir, c.pair.ask));
    if (ark && ask) return { ok: true, roots: rootsFromPair(ark, ask, gen, join(dir, gen)) };
    return { ok: false, reason: `--amd-certs ${dir} has neither ${c.askArk} nor ${c.pair.ark} + ${c.pair.ask}` };
  } catch (e) {
    return { ok: false, reason: why(e) };
  }
}

/** From the KDS client (cache, else AMD; pinned either way). */
export async function rootsFromKds(gen: Generation, kds: KdsClient): Promise<RootsOutcome> {
  try {
    const a = await kds.get('sev', askArkFileName(gen), `AMD's SEV ${gen} ASK/ARK`, (bytes, label) => rootsFromAskArk(bytes, gen, label));
    return { ok: true, roots: { ...a.value, source: a.source } };
  } catch (e) {
    if (e instanceof HostError) return { ok: false, reason: e.message };
    return { ok: false, reason: why(e) };
  }
}

/**
 * A source of AMD's SEV roots for a run: tries the generations in order and remembers every
 * outcome (each generation is read or fetched at most once per run).
 */
export class AmdRootSource {
  private readonly memo = new Map<Generation, Promise<RootsOutcome>>();
  constructor(readonly opts: { readonly amdCertsDir?: string | undefined; readonly kds?: KdsClient | undefined }) {}

  /** human description for messages */
  describe(): string {
    if (this.opts.amdCertsDir) return `--amd-certs ${this.opts.amdCertsDir}`;
    if (this.opts.kds?.enabled) return this.opts.kds.describe();
    return 'none';
  }

  get available(): boolean {
    return Boolean(this.opts.amdCertsDir) || Boolean(this.opts.kds?.enabled);
  }

  get(gen: Generation): Promise<RootsOutcome> {
    let p = this.memo.get(gen);
    if (!p) {
      const { amdCertsDir, kds } = this.opts;
      p = amdCertsDir ? rootsFromDir(amdCertsDir, gen) : kds ? rootsFromKds(gen, kds) : Promise.resolve({ ok: false, reason: 'no source of AMD roots' });
      this.memo.set(gen, p);
    }
    return p;
  }

  generations(): readonly Generation[] {
    return GENERATIONS;
  }
}
