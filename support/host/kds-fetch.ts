/**
 * Getting AMD's SEV ASK/ARK onto this machine (the one running sevcheck — never the probed
 * host): from a directory the user names (`--amd-certs DIR`, for offline hosts), else from the
 * on-disk cache ($XDG_CACHE_HOME/sevcheck/amd, default ~/.cache/sevcheck/amd), else from AMD
 * (DEFAULT_KDS_URL or `--kds-url`) with a timeout, caching what passed the pin. Parsing and
 * pinning are in support/sev/kds.ts; every ARK is checked against the pinned fingerprint, so a
 * tampered cache or mirror is refused, not trusted.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { askArkFileName, askArkUrl, DEFAULT_KDS_URL, GENERATIONS, rootFileCandidates, rootsFromAskArk, rootsFromPair, type AmdRoots } from '../sev/kds.js';
import type { Generation } from '../sev/sev-cert.js';

export interface AmdCertOptions {
  /** `--amd-certs DIR`: read the roots from here only (no network, no cache) */
  readonly amdCertsDir?: string | undefined;
  /** fetch from AMD when not cached (default: on for live hosts, off for fixture replays) */
  readonly kds?: boolean | undefined;
  readonly kdsCacheDir?: string | undefined;
  readonly kdsUrl?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export function defaultKdsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'sevcheck', 'amd');
}

/** One generation's roots, or why they are not available. */
export type RootsOutcome = { readonly ok: true; readonly roots: AmdRoots } | { readonly ok: false; readonly reason: string };

async function maybeRead(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function why(e: unknown): string {
  if (e instanceof InputError) return `${e.source}: ${e.problem}`;
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  return err?.cause?.code ? `${err.message} (${err.cause.code})` : (err?.message ?? String(e));
}

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

/** From the cache, else AMD (then cached). */
export async function rootsFromKds(gen: Generation, opts: AmdCertOptions = {}): Promise<RootsOutcome> {
  const cacheDir = opts.kdsCacheDir ?? defaultKdsCacheDir();
  const cached = join(cacheDir, askArkFileName(gen));
  try {
    const bytes = await maybeRead(cached);
    if (bytes) return { ok: true, roots: rootsFromAskArk(bytes, gen, cached) };
  } catch (e) {
    // a corrupt or foreign cache entry is ignored (and replaced below), never trusted
    if (!(e instanceof InputError)) return { ok: false, reason: `${cached}: ${why(e)}` };
  }
  const url = askArkUrl(opts.kdsUrl ?? DEFAULT_KDS_URL, gen);
  let bytes: Buffer;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000), redirect: 'follow' });
    if (!res.ok) return { ok: false, reason: `GET ${url}: HTTP ${res.status}` };
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    return { ok: false, reason: `GET ${url}: ${why(e)}` };
  }
  let roots: AmdRoots;
  try {
    roots = rootsFromAskArk(bytes, gen, url);
  } catch (e) {
    return { ok: false, reason: why(e) };
  }
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(tmp, bytes, { mode: 0o644 });
    await rename(tmp, cached);
  } catch {
    // an unwritable cache costs a fetch next time; the roots are still good
  }
  return { ok: true, roots };
}

/**
 * A source of AMD roots for a run: tries the generations in order and remembers every outcome
 * (each generation is read or fetched at most once per run).
 */
export class AmdRootSource {
  private readonly memo = new Map<Generation, Promise<RootsOutcome>>();
  constructor(readonly opts: AmdCertOptions) {}

  /** human description for messages */
  describe(): string {
    if (this.opts.amdCertsDir) return `--amd-certs ${this.opts.amdCertsDir}`;
    if (this.opts.kds) return `AMD (${this.opts.kdsUrl ?? DEFAULT_KDS_URL}, cache ${this.opts.kdsCacheDir ?? defaultKdsCacheDir()})`;
    return 'none';
  }

  get available(): boolean {
    return Boolean(this.opts.amdCertsDir) || Boolean(this.opts.kds);
  }

  get(gen: Generation): Promise<RootsOutcome> {
    let p = this.memo.get(gen);
    if (!p) {
      p = this.opts.amdCertsDir ? rootsFromDir(this.opts.amdCertsDir, gen) : rootsFromKds(gen, this.opts);
      this.memo.set(gen, p);
    }
    return p;
  }

  generations(): readonly Generation[] {
    return GENERATIONS;
  }
}
