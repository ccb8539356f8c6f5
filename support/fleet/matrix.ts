/**
 * The host × check matrix every fleet report reads (index.html, metrics.prom, summary.md): one cell
 * per host and check id. A host's results have one entry per scenario; a cell is the worst status of
 * its id's scenarios (support/verdict.ts `worst`: failed > undecided > passed > skipped), with two
 * fleet-only statuses on top:
 *   waived — the cell would be failed, and every failed scenario of it carries a waiver
 *            (issue 10: a waived failure stays `failed` in fleet.json, marked `waived`; it does not
 *            count for the exit code, so a cell with an unwaived failed scenario stays `failed`);
 *   error  — the host could not be checked (`FleetHost.error`): every cell of its row.
 * A host that ran but has no entry for an id (a --tags filter, a profile) has no cell there (`absent`).
 *
 * Pure: FleetResults in, values out.
 */
import { worst, type Status } from '../verdict.js';
import type { FleetCheck, FleetHost, FleetResults } from './types.js';
import { findings } from '../report/findings.js';

export type CellStatus = Status | 'waived' | 'error';

/** Every cell status, worst first: the order of legends, totals and filters. */
export const CELL_STATUSES: readonly CellStatus[] = ['error', 'failed', 'waived', 'undecided', 'passed', 'skipped'];

export interface Cell {
  readonly status: CellStatus;
  /** the id's scenarios on this host, worst first (empty for an error cell) */
  readonly scenarios: readonly FleetCheck[];
}

export interface Column {
  readonly id: string;
  /** the id's first segment (host, device, caps, …) */
  readonly layer: string;
}

export interface Matrix {
  /** check ids in the order the suite ran them (first appearance over the hosts), grouped by layer */
  readonly columns: readonly Column[];
  /** layers in column order, each once */
  readonly layers: readonly string[];
  readonly hosts: readonly FleetHost[];
  /** host name → check id → cell (absent: the host has no entry for that id) */
  cell(host: string, id: string): Cell | undefined;
}

const RANK: Record<Status, number> = { failed: 3, undecided: 2, passed: 1, skipped: 0 };

export const layerOf = (id: string): string => id.split('.')[0] ?? id;

function cellOf(scenarios: readonly FleetCheck[]): Cell {
  const sorted = [...scenarios].sort((a, b) => RANK[b.status] - RANK[a.status]);
  const w = worst(scenarios.map((c) => c.status));
  const waived = w === 'failed' && scenarios.every((c) => c.status !== 'failed' || c.waived !== undefined);
  return { status: waived ? 'waived' : w, scenarios: sorted };
}

export function fleetMatrix(fleet: Pick<FleetResults, 'hosts'>): Matrix {
  const order = new Map<string, number>();
  for (const h of fleet.hosts) for (const c of h.checks) if (!order.has(c.id)) order.set(c.id, order.size);
  const layers: string[] = [];
  for (const id of order.keys()) if (!layers.includes(layerOf(id))) layers.push(layerOf(id));
  const columns = [...order.keys()]
    .map((id) => ({ id, layer: layerOf(id) }))
    .sort((a, b) => layers.indexOf(a.layer) - layers.indexOf(b.layer) || order.get(a.id)! - order.get(b.id)!);
  const cells = new Map<string, Map<string, Cell>>();
  for (const h of fleet.hosts) {
    const row = new Map<string, Cell>();
    if (h.error !== undefined) {
      for (const c of columns) row.set(c.id, { status: 'error', scenarios: [] });
    } else {
      const by = new Map<string, FleetCheck[]>();
      for (const c of h.checks) {
        const list = by.get(c.id);
        if (list) list.push(c);
        else by.set(c.id, [c]);
      }
      for (const [id, scenarios] of by) row.set(id, cellOf(scenarios));
    }
    cells.set(h.name, row);
  }
  return { columns, layers, hosts: fleet.hosts, cell: (host, id) => cells.get(host)?.get(id) };
}

/** How many cells of each status a host's row (or a check's column) has. */
export function tally(cells: Iterable<Cell | undefined>): Record<CellStatus, number> {
  const n: Record<CellStatus, number> = { error: 0, failed: 0, waived: 0, undecided: 0, passed: 0, skipped: 0 };
  for (const c of cells) if (c) n[c.status]++;
  return n;
}

export const rowTally = (m: Matrix, host: string): Record<CellStatus, number> => tally(m.columns.map((c) => m.cell(host, c.id)));
export const columnTally = (m: Matrix, id: string): Record<CellStatus, number> => tally(m.hosts.map((h) => m.cell(h.name, id)));

/** The fleet's verdict: any error or unwaived failure is NOT COMPLIANT (issue 10's exit code 1). */
export function fleetVerdict(m: Matrix): { status: 'failed' | 'undecided' | 'passed'; words: string } {
  const n = tally(m.hosts.flatMap((h) => m.columns.map((c) => m.cell(h.name, c.id))));
  const errors = m.hosts.filter((h) => h.error !== undefined).length;
  if (n.failed > 0 || errors > 0) return { status: 'failed', words: 'NOT COMPLIANT' };
  if (n.undecided > 0) return { status: 'undecided', words: `COMPLIANT SO FAR — ${n.undecided} undecided` };
  return { status: 'passed', words: 'COMPLIANT' };
}

/** A host's totals by check id (the worst of each id's scenarios; waived apart from failed): the numbers every fleet output states. */
export const hostTotals = rowTally;

/** A host's cells of one layer, tallied: what a collapsed layer shows. */
export const layerTally = (m: Matrix, host: string, layer: string): Record<CellStatus, number> =>
  tally(m.columns.filter((c) => c.layer === layer).map((c) => m.cell(host, c.id)));

/** The worst status a set of tallied cells has (`passed` for none at all). */
export function worstOf(n: Record<CellStatus, number>): CellStatus {
  return CELL_STATUSES.find((s) => n[s] > 0) ?? 'passed';
}

/**
 * Hosts in triage order: new failures first (most first), then hosts that could not be checked,
 * then failing (most failures first), only waived, undecided, and last the clean ones; name order
 * within each.
 */
export function triageOrder(m: Matrix, newFailures: Readonly<Record<string, readonly string[]>> = {}): FleetHost[] {
  const key = (h: FleetHost): number[] => {
    const n = rowTally(m, h.name);
    const fresh = newFailures[h.name]?.length ?? 0;
    const rank = fresh > 0 ? 0 : h.error !== undefined ? 1 : n.failed > 0 ? 2 : n.waived > 0 ? 3 : n.undecided > 0 ? 4 : 5;
    return [rank, -fresh, -n.failed, -n.waived, -n.undecided];
  };
  const keys = new Map(m.hosts.map((h) => [h.name, key(h)]));
  return [...m.hosts].sort((a, b) => {
    const ka = keys.get(a.name)!;
    const kb = keys.get(b.name)!;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** One failing check over the fleet: on which hosts it fails (unwaived) and is waived. */
export interface CheckOverFleet {
  readonly id: string;
  readonly layer: string;
  readonly failed: readonly string[];
  readonly waived: readonly string[];
}

/** Every check id failed or waived on some host, most hosts first: the page's "by check" view, summary.md's failures. */
export function byCheck(m: Matrix): CheckOverFleet[] {
  const out: CheckOverFleet[] = [];
  for (const c of m.columns) {
    const failed: string[] = [];
    const waived: string[] = [];
    for (const h of m.hosts) {
      const s = m.cell(h.name, c.id)?.status;
      if (s === 'failed') failed.push(h.name);
      else if (s === 'waived') waived.push(h.name);
    }
    if (failed.length + waived.length > 0) out.push({ id: c.id, layer: c.layer, failed, waived });
  }
  return out.sort((a, b) => b.failed.length - a.failed.length || b.waived.length - a.waived.length);
}

/** A root cause over the fleet: a failed check no other failure on that host explains (report/findings.ts), and what it explains there. */
export interface CauseOverFleet {
  readonly id: string;
  /** hosts where it is an unwaived root cause */
  readonly failed: readonly string[];
  /** hosts where it is a waived root cause */
  readonly waived: readonly string[];
  /** the checks it explains (failed or undecided because of it), with the hosts, most hosts first */
  readonly symptoms: ReadonlyArray<{ readonly id: string; readonly hosts: readonly string[] }>;
}

export interface Causes {
  /** root causes, most hosts first */
  readonly causes: readonly CauseOverFleet[];
  /** host → failed check id → the failed checks that explain it there (nearest first) */
  readonly because: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

/** The cause graph (report/findings.ts, rules/causes.ts) over every host: the page's "by cause" view and its cells' "because". */
export function causesOver(m: Matrix): Causes {
  const roots = new Map<string, { failed: string[]; waived: string[]; symptoms: Map<string, string[]> }>();
  const because = new Map<string, Map<string, readonly string[]>>();
  // hosts that fail alike have the same findings: computed once per distinct set of verdicts
  const memo = new Map<string, ReturnType<typeof findings>>();
  for (const h of m.hosts) {
    if (h.error !== undefined) continue;
    const key = h.checks.map((c) => `${c.id}\u0000${c.status}\u0000${c.status === 'failed' ? (c.fix ?? c.message) : ''}`).join('\u0001');
    let f = memo.get(key);
    if (!f) {
      f = findings(h.checks);
      memo.set(key, f);
    }
    const mine = new Map<string, readonly string[]>();
    for (const c of f.checks) if (c.because.length && c.status === 'failed') mine.set(c.id, c.because);
    if (mine.size) because.set(h.name, mine);
    for (const cause of f.causes) {
      const id = cause.check.id;
      const e = roots.get(id) ?? { failed: [], waived: [], symptoms: new Map<string, string[]>() };
      (m.cell(h.name, id)?.status === 'waived' ? e.waived : e.failed).push(h.name);
      for (const s of cause.symptoms) e.symptoms.set(s.id, [...(e.symptoms.get(s.id) ?? []), h.name]);
      roots.set(id, e);
    }
  }
  const causes = [...roots]
    .map(([id, e]) => ({ id, failed: e.failed, waived: e.waived, symptoms: [...e.symptoms].map(([sid, hosts]) => ({ id: sid, hosts })).sort((a, b) => b.hosts.length - a.hosts.length) }))
    .sort((a, b) => b.failed.length - a.failed.length || b.waived.length - a.waived.length || b.symptoms.length - a.symptoms.length);
  return { causes, because };
}
