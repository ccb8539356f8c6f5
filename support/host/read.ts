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
 * command), else every request through its own method, all at once.
 */
export function readMany(host: Host, reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
  if (host.readMany) return host.readMany(reads);
  return Promise.allSettled(reads.map((r) => readOne(host, r)));
}

/**
 * Ask for a phase's reads in one go and ignore the outcomes: on the run's caching host
 * (caching-host.ts) each lands in the cache, so the probe's single reads that follow answer from there (and fail as
 * they would have). Nothing is read that the probe would not read next.
 */
export async function prefetch(host: Host, reads: readonly ReadRequest[]): Promise<void> {
  // without a batch of its own (a bare backend in a test) there is no cache to fill: nothing to do
  if (reads.length && host.readMany) await host.readMany(reads);
}
