/**
 * `--history DIR` (docs/fleet.md "History"): the fleet's runs kept under DIR, one directory per
 * complete run, named by its start (2026-12-03T02-17-00Z), the newest `keep` of them (60 by
 * default). A run reads only the newest complete one: it is the baseline for `changes` (unless
 * --compare names another), and its fleet.json's `history` plus its own totals are the new
 * `history` (so older runs need not be read, and a pruned run's totals stay in the history);
 * `firstSeen` is carried over the same way.
 *
 * The totals are by check id, worst of its scenarios, waived apart (fleet/matrix.ts rowTally):
 * the numbers the host's pages state.
 */
import { cpSync, existsSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fleetMatrix, rowTally } from './matrix.js';
import type { FleetHost, FleetResults, HistoryPoint } from './types.js';

export const DEFAULT_KEEP = 60;

/** A run directory's name: its start, as a file name (no colons), sortable as text. */
export const runName = (startedAt: string): string => startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

/** Each host's point for a run: its totals by check id (an `error` host: error, zeros). */
export function points(fleet: Pick<FleetResults, 'hosts' | 'startedAt'>): Map<string, HistoryPoint> {
  const m = fleetMatrix(fleet);
  const out = new Map<string, HistoryPoint>();
  for (const h of fleet.hosts) {
    if (h.error !== undefined) out.set(h.name, { startedAt: fleet.startedAt, failed: 0, undecided: 0, waived: 0, error: true });
    else {
      const n = rowTally(m, h.name);
      out.set(h.name, { startedAt: fleet.startedAt, failed: n.failed, undecided: n.undecided, waived: n.waived });
    }
  }
  return out;
}

/**
 * The `history` of a run whose previous kept run is `prev`: per host of this run, prev's history
 * of it plus prev's own point, the last `keep - 1` (with this run, `keep` runs).
 */
export function nextHistory(prev: Pick<FleetResults, 'hosts' | 'startedAt' | 'history'> | undefined, hosts: readonly FleetHost[], keep = DEFAULT_KEEP): Record<string, HistoryPoint[]> {
  const out: Record<string, HistoryPoint[]> = {};
  const last = prev ? points(prev) : new Map<string, HistoryPoint>();
  for (const h of hosts) {
    const before = [...(prev?.history?.[h.name] ?? [])];
    const p = last.get(h.name);
    if (p) before.push(p);
    out[h.name] = before.slice(-Math.max(0, keep - 1));
  }
  return out;
}

/**
 * When each failed or waived check id of each host was first seen failing: prev's date for it
 * while it failed (or was waived) in prev too, else prev's startedAt when prev had no date, else
 * this run's startedAt.
 */
export function firstSeen(prev: Pick<FleetResults, 'hosts' | 'startedAt' | 'firstSeen'> | undefined, hosts: readonly FleetHost[], startedAt: string): Record<string, Record<string, string>> {
  const was = new Map<string, Set<string>>();
  for (const h of prev?.hosts ?? []) if (h.error === undefined) was.set(h.name, new Set(h.checks.filter((c) => c.status === 'failed').map((c) => c.id)));
  const out: Record<string, Record<string, string>> = {};
  for (const h of hosts) {
    if (h.error !== undefined) continue;
    const ids = [...new Set(h.checks.filter((c) => c.status === 'failed').map((c) => c.id))];
    if (!ids.length) continue;
    const row: Record<string, string> = {};
    for (const id of ids) row[id] = was.get(h.name)?.has(id) ? (prev?.firstSeen?.[h.name]?.[id] ?? prev!.startedAt) : startedAt;
    out[h.name] = row;
  }
  return out;
}

/** Whether a run directory's fleet.json says `"complete": true` (read from its first KiB, as the file is written: fleet/writers.ts). */
function isComplete(dir: string): boolean {
  const file = join(dir, 'fleet.json');
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return /"complete": true/.test(buf.subarray(0, n).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** The complete runs under DIR, oldest first (directory names sort by time). */
export function completeRuns(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^\d{4}-\d{2}-\d{2}T/.test(n))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory() && isComplete(p));
}

/** `child` is `parent` or inside it. */
export function isInside(child: string, parent: string): boolean {
  const r = relative(resolve(parent), resolve(child));
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
}

/**
 * Keep a complete run (its report directory `out`) under DIR as DIR/<runName>: nothing to do when
 * `out` is already there, else a copy. Then remove the oldest complete runs beyond `keep`.
 * Returns the kept run's directory and the directories removed.
 */
export function keepRun(out: string, dir: string, startedAt: string, keep = DEFAULT_KEEP): { kept: string; removed: string[] } {
  let kept = resolve(out);
  if (resolve(join(out, '..')) !== resolve(dir)) {
    kept = join(dir, runName(startedAt));
    cpSync(out, kept, { recursive: true });
  }
  const runs = completeRuns(dir);
  const removed = runs.slice(0, Math.max(0, runs.length - keep));
  for (const r of removed) rmSync(r, { recursive: true, force: true });
  return { kept, removed };
}
