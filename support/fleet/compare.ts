/**
 * `--compare PREV`: what changed since a previous fleet run (docs/fleet.md "Changes"). Failures
 * are unwaived failed check ids per host; a host that could not be checked (`error`) has no
 * verdicts, so it adds nothing to new / fixed / stillFailing. Pure.
 */
import type { FleetChanges, FleetHost, FleetResults, PerHost } from './types.js';
import { counts } from './waivers.js';

const failing = (h: FleetHost): Set<string> => new Set(h.checks.filter(counts).map((c) => c.id));

export function compareFleets(prev: Pick<FleetResults, 'hosts' | 'startedAt'>, prevDir: string, hosts: readonly FleetHost[]): FleetChanges {
  const before = new Map(prev.hosts.map((h) => [h.name, h]));
  const now = new Set(hosts.map((h) => h.name));
  const fresh: Record<string, string[]> = {};
  const fixed: Record<string, string[]> = {};
  const still: Record<string, string[]> = {};
  const put = (to: Record<string, string[]>, host: string, ids: string[]): void => {
    if (ids.length) to[host] = [...new Set(ids)].sort();
  };
  for (const h of hosts) {
    const p = before.get(h.name);
    if (!p || h.error || p.error) {
      // a new host: all its failures are new; an error host has no verdicts to compare
      if (!p && !h.error) put(fresh, h.name, [...failing(h)]);
      continue;
    }
    const a = failing(p);
    const b = failing(h);
    put(fresh, h.name, [...b].filter((id) => !a.has(id)));
    put(fixed, h.name, [...a].filter((id) => !b.has(id)));
    put(still, h.name, [...b].filter((id) => a.has(id)));
  }
  return {
    against: { dir: prevDir, startedAt: prev.startedAt },
    new: fresh as PerHost,
    fixed: fixed as PerHost,
    stillFailing: still as PerHost,
    newHosts: hosts.filter((h) => !before.has(h.name)).map((h) => h.name),
    missingHosts: prev.hosts.filter((h) => !now.has(h.name)).map((h) => h.name),
  };
}

/**
 * The fleet's exit code: 1 when an unwaived failure (with `failOn: 'new'`: a new one, per
 * `changes`) or an `error` host, else 0.
 */
export function fleetExitCode(hosts: readonly FleetHost[], failOn: 'any' | 'new', changes?: FleetChanges): 0 | 1 {
  if (hosts.some((h) => h.error)) return 1;
  if (failOn === 'new' && changes) return Object.values(changes.new).some((ids) => ids.length > 0) ? 1 : 0;
  return hosts.some((h) => h.checks.some(counts)) ? 1 : 0;
}
