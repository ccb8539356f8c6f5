/**
 * The fleet's bounded pool: `threads` worker threads (each loads cucumber's support code once:
 * fleet/worker.ts), each running up to `perThread` hosts at once. Fixture hosts are CPU-bound
 * (one per thread, as many threads as cores); ssh hosts mostly wait (several per thread).
 * `threads: 0` runs every host in this thread (one support load, `perThread` at a time).
 */
import { Worker } from 'node:worker_threads';
import { isPrebuilt } from '../run/prebuilt.js';
import type { LoadedSuite } from '../run/suite.js';
import type { HostDone, HostJob } from './host-run.js';

export interface PoolOptions {
  readonly threads: number;
  readonly perThread: number;
  /** each host as it finishes */
  readonly onDone?: ((d: HostDone) => void) | undefined;
  /** each host as it starts */
  readonly onStart?: ((job: HostJob) => void) | undefined;
  /** stop: no new host starts, running ones are abandoned; runPool resolves with what finished */
  readonly signal?: AbortSignal | undefined;
}

export interface PoolRun {
  readonly done: HostDone[];
  /** the highest resident set size seen (this process, all threads), bytes */
  readonly peakRss: number;
}

/** Where the worker thread's entry is: the bundle's worker.mjs, or the sources through tsx. */
function workerUrl(): URL {
  return isPrebuilt() ? new URL('./worker.mjs', import.meta.url) : new URL('./worker-boot.mjs', import.meta.url);
}

export async function runPool(jobs: readonly HostJob[], opts: PoolOptions): Promise<PoolRun> {
  const done: HostDone[] = [];
  let peakRss = process.memoryUsage().rss;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  sample.unref();
  const queue = [...jobs];
  const finish = (d: HostDone): void => {
    done.push(d);
    opts.onDone?.(d);
  };
  try {
    if (opts.threads <= 0) {
      // cucumber is loaded here only when this thread runs hosts itself: with worker threads the
      // main thread never loads it, and the workers start sooner
      const { loadSuite } = await import('../run/suite.js');
      const { runHost } = await import('./host-run.js');
      let suite: LoadedSuite | undefined;
      const lane = async (): Promise<void> => {
        for (let job = queue.shift(); job && !opts.signal?.aborted; job = queue.shift()) {
          suite ??= await loadSuite();
          opts.onStart?.(job);
          finish(await runHost(job, suite));
        }
      };
      await Promise.race([
        Promise.all(Array.from({ length: Math.max(1, opts.perThread) }, lane)),
        new Promise<void>((res) => opts.signal?.addEventListener('abort', () => res(), { once: true })),
      ]);
      return { done, peakRss };
    }
    await new Promise<void>((resolveAll) => {
      const workers: Array<{ w: Worker; busy: Map<number, HostJob> }> = [];
      let next = 0;
      let settled = false;
      const end = (): void => {
        if (settled) return;
        settled = true;
        // each thread stops what it keeps running (its xmllint) and ends; one that does not
        // within a second is terminated
        void Promise.all(
          workers.map(({ w }) => {
            const gone = new Promise<void>((res) => w.once('exit', () => res()));
            w.postMessage({ close: true });
            const t = setTimeout(() => void w.terminate(), 1000);
            return gone.finally(() => clearTimeout(t));
          }),
        ).then(() => resolveAll());
      };
      const pump = (): void => {
        if (opts.signal?.aborted) return end();
        for (const slot of workers) {
          while (slot.busy.size < opts.perThread && queue.length) {
            const job = queue.shift() as HostJob;
            const id = next++;
            slot.busy.set(id, job);
            opts.onStart?.(job);
            slot.w.postMessage({ id, job });
          }
        }
        if (!queue.length && workers.every((s) => s.busy.size === 0)) end();
      };
      opts.signal?.addEventListener('abort', end, { once: true });
      const n = Math.max(1, Math.min(opts.threads, Math.ceil(jobs.length / Math.max(1, opts.perThread))));
      for (let i = 0; i < n; i++) {
        const slot = { w: new Worker(workerUrl()), busy: new Map<number, HostJob>() };
        slot.w.on('message', (m: { id: number; done: HostDone; rss: number }) => {
          slot.busy.delete(m.id);
          peakRss = Math.max(peakRss, m.rss);
          finish(m.done);
          pump();
        });
        // a thread that dies takes its running hosts with it: they are `error`, the rest go on
        slot.w.on('error', (e) => {
          for (const job of slot.busy.values()) finish({ name: job.name, exitCode: 2, error: `worker failed: ${e.message}`, durationMs: 0, phases: { open: 0, suite: 0, collect: 0, write: 0 }, warnings: [] });
          slot.busy.clear();
          workers.splice(workers.indexOf(slot), 1);
          if (!workers.length) {
            for (const job of queue.splice(0)) finish({ name: job.name, exitCode: 2, error: `worker failed: ${e.message}`, durationMs: 0, phases: { open: 0, suite: 0, collect: 0, write: 0 }, warnings: [] });
            end();
          } else pump();
        });
        workers.push(slot);
      }
      pump();
    });
    return { done, peakRss };
  } finally {
    clearInterval(sample);
  }
}
