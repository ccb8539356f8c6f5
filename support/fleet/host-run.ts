/**
 * One fleet host, run where the pool put it (a worker thread, or this thread): the suite as a
 * value (support/run/suite.ts) with the host timeout, then the host's own report set written
 * into hosts/<name>/ of the staged fleet directory with the same writers `sevcheck run` uses
 * (report/writers.ts WRITERS), carrying the host's waivers and a link back to the fleet page
 * (fleet/host-writers.ts). Never throws: whatever goes wrong is the host's `error`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../report/results.js';
import { hostReportSet, type FleetSide } from './host-writers.js';
import { runOnce, type LoadedSuite, type OneRunOptions } from '../run/suite.js';

/** One host of a fleet: its run options as `runOnce` takes them (the host is `target`; a fleet never records or counts reads). */
export interface HostJob extends Omit<OneRunOptions, 'host' | 'record' | 'count'> {
  readonly name: string;
  readonly target: string;
  /** where the host's report set goes; absent: none written */
  readonly reportDir?: string | undefined;
  readonly timeoutMs: number;
  /** what the host's report set carries of the fleet (its waivers, the link back) */
  readonly fleet: FleetSide;
  /** the host's inventory tags (`tags` is run's scenario selection) */
  readonly hostTags: readonly string[];
}

export interface HostDone {
  readonly name: string;
  readonly exitCode: 0 | 1 | 2;
  readonly results?: Results | undefined;
  readonly error?: string | undefined;
  readonly durationMs: number;
  /** where the time went, ms */
  readonly phases: { open: number; suite: number; collect: number; write: number };
  readonly warnings: readonly string[];
}

export async function runHost(job: HostJob, suite: LoadedSuite): Promise<HostDone> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((res) => {
    timer = setTimeout(() => {
      ctl.abort(`timed out after ${job.timeoutMs / 1000} s`);
      res('timeout');
    }, job.timeoutMs);
  });
  const zero = { open: 0, suite: 0, collect: 0, write: 0 };
  try {
    // the job is its run options (runOnce reads only those) plus where it stands in the fleet
    const run = runOnce(
      { ...job, host: job.target },
      { warn: (m) => warnings.push(m), signal: ctl.signal },
      suite,
    );
    // a hung host (an ssh server that never answers) costs its timeout: the run is abandoned
    // here (its target closed by the abort), and ends on its own later
    const r = await Promise.race([run, timedOut]);
    if (r === 'timeout') {
      run.catch(() => undefined);
      return { name: job.name, exitCode: 2, error: `timed out after ${job.timeoutMs / 1000} s`, durationMs: performance.now() - t0, phases: zero, warnings };
    }
    const t1 = performance.now();
    if (job.reportDir && r.results && !r.error) {
      const results = r.results;
      const set = hostReportSet(results, job.fleet, { name: job.name, target: job.target, profile: results.profile, tags: job.hostTags, exitCode: r.exitCode });
      // synchronous: five small files into the fleet's own staging directory, from a worker
      // thread; the promise versions cost a thread-pool round trip and their promises per file
      mkdirSync(job.reportDir, { recursive: true });
      for (const f of set) writeFileSync(join(job.reportDir, f.file), f.text);
    }
    const write = performance.now() - t1;
    return {
      name: job.name,
      exitCode: r.exitCode,
      results: r.results,
      error: r.error,
      durationMs: performance.now() - t0,
      phases: { ...r.phases, write },
      warnings,
    };
  } catch (e) {
    // a defect in one host's run must not take the fleet down: that host is `error`
    return { name: job.name, exitCode: 2, error: `internal error: ${e instanceof Error ? e.message : String(e)}`, durationMs: performance.now() - t0, phases: zero, warnings };
  } finally {
    clearTimeout(timer);
  }
}
