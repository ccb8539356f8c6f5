/**
 * `--compare PREV` (or the newest run of `--history DIR`): what changed since a previous fleet run
 * (docs/fleet.md "Changes"). Failures are unwaived failed check ids per host. A failure waived
 * since is `waived`, not `fixed` (it still fails; someone accepted it): `fixed` means the check
 * no longer fails at all. A host that could not be checked (`error`) has no verdicts, so it adds
 * nothing to the lists. Pure.
 */
import type { FleetChanges, FleetHost, FleetResults, PerHost } from './types.js';
import { counts } from './waivers.js';

const failing = (h: FleetHost): Set<string> => new Set(h.checks.filter(counts).map((c) => c.id));
const waivedIds = (h: FleetHost): Set<string> => new Set(h.checks.filter((c) => c.status === 'failed' && c.waived).map((c) => c.id));

export function compareFleets(prev: Pick<FleetResults, 'hosts' | 'startedAt'>, prevDir: string, hosts: readonly FleetHost[]): FleetChanges {
  const before = new Map(prev.hosts.map((h) => [h.name, h]));
  const now = new Set(hosts.map((h) => h.name));
  const fresh: Record<string, string[]> = {};
  const fixed: Record<string, string[]> = {};
  const still: Record<string, string[]> = {};
  const waived: Record<string, string[]> = {};
  const put = (to: Record<string, string[]>, host: string, ids: string[]): void => {
    if (ids.length) to[host] = [...new Set(ids)].sort();
  };
  for (const h of hosts) {
    const p = before.get(h.name);
    if (!p || h.error || p.error) {
      // a new host: all its failures are new; an error host has no verdicts to compare
      if (!p && !h.error) {
        put(fresh, h.name, [...failing(h)]);
        put(waived, h.name, [...waivedIds(h)]);
      }
      continue;
    }
    const a = failing(p);
    const b = failing(h);
    const wasWaived = waivedIds(p);
    const isWaived = waivedIds(h);
    put(fresh, h.name, [...b].filter((id) => !a.has(id)));
    put(fixed, h.name, [...a].filter((id) => !b.has(id) && !isWaived.has(id)));
    put(waived, h.name, [...isWaived].filter((id) => !wasWaived.has(id)));
    put(still, h.name, [...b].filter((id) => a.has(id)));
  }
  return {
    against: { dir: prevDir, startedAt: prev.startedAt },
    new: fresh as PerHost,
    fixed: fixed as PerHost,
    stillFailing: still as PerHost,
    waived: waived as PerHost,
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

/** The numbers every fleet output leads with (index.html's headline, summary.md, the console): host × check pairs, waivers. */
export interface Headline {
  /** unwaived failures not failing in the compared run */
  readonly new: number;
  /** failures of the compared run that no longer fail */
  readonly fixed: number;
  /** failures waived since the compared run */
  readonly waived: number;
  /** live waivers expiring within EXPIRING_DAYS days */
  readonly expiring: number;
  /** the compared run's startedAt; absent: nothing to compare with */
  readonly since?: string | undefined;
}

const pairs = (p: PerHost | undefined): number => Object.values(p ?? {}).reduce((n, ids) => n + ids.length, 0);

export function headline(fleet: Pick<FleetResults, 'changes' | 'waivers'>): Headline {
  const c = fleet.changes;
  return { new: pairs(c?.new), fixed: pairs(c?.fixed), waived: pairs(c?.waived), expiring: fleet.waivers?.expiring.length ?? 0, since: c?.against.startedAt };
}

/** "+3 new failures, −2 fixed, 1 newly waived, 2 expiring within 14 days since <when>": the same words on every output. */
export function headlineWords(h: Headline, when: (iso: string) => string = (s) => s, days = 14): string {
  const expiring = `${h.expiring} expiring within ${days} days`;
  if (h.since === undefined) return `${expiring}; no earlier run to compare with (--compare PREV or --history DIR)`;
  return `+${h.new} new ${h.new === 1 ? 'failure' : 'failures'}, −${h.fixed} fixed, ${h.waived} newly waived, ${expiring} since ${when(h.since)}`;
}
