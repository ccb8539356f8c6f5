import { isHostError, type CpuidRegs, type Host, type ReadOutcome, type ReadRequest, type StatInfo } from './types.js';

/** A file's text, or undefined when the host has no such file; other read errors propagate. */
export async function readTextIfExists(host: Host, path: string): Promise<string | undefined> {
  try {
    return (await host.readFile(path)).toString('utf8');
  } catch (e) {
    if (isHostError(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** The single-read method a batch request stands for, called on `host`. */
export function readOne(host: Host, r: ReadRequest): Promise<Buffer | StatInfo | string[] | CpuidRegs | bigint> {
  switch (r.op) {
    case 'readFile':
      return host.readFile(r.path);
    case 'stat':
      return host.stat(r.path);
    case 'listDir':
      return host.listDir(r.path);
    case 'cpuid':
      return host.cpuid(r.leaf, r.cpu);
    case 'msr':
      return host.readMsr(r.cpu, r.index);
  }
}

/**
 * Several reads at once (Host.readMany): the host's batch when it has one (ssh: one remote
 * command), else every request through its own method, a few at a time.
 */
export async function readMany(host: Host, reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
  if (host.readMany) return host.readMany(reads);
  // one by one, EACH_PARALLELISM in flight at once (a batch may be every CPU of a large host)
  const out = new Array<ReadOutcome>(reads.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < reads.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await readOne(host, reads[i] as ReadRequest) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(EACH_PARALLELISM, reads.length) }, lane));
  return out;
}

/** reads in flight at once for a backend without a batch of its own (probes/host-cpu.ts CPU_READ_PARALLELISM's reason) */
const EACH_PARALLELISM = 8;

/**
 * Ask for a phase's reads in one go and ignore the outcomes: on the run's caching host
 * (caching-host.ts) each lands in the cache, so the probe's single reads that follow answer from there (and fail as
 * they would have). Nothing is read that the probe would not read next.
 */
export async function prefetch(host: Host, reads: readonly ReadRequest[]): Promise<void> {
  // without a batch of its own (a bare backend in a test) there is no cache to fill: nothing to do
  if (reads.length && host.readMany) await host.readMany(reads);
}
