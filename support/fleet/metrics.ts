/**
 * metrics.prom: the fleet run in the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector (docs/nightly.md).
 *
 * Grammar: prometheus/docs content/docs/instrumenting/exposition_formats.md, "Text format
 * details": `# HELP name docstring` (backslash and line feed escaped as `\\` and `\n`), `# TYPE
 * name gauge`, then `name{label="value",…} number`; a label value escapes backslash, double quote
 * and line feed (`\\`, `\"`, `\n`); lines end in `\n`, the last one too.
 *
 * `sevcheck_check_status{host,check,status}` is written as a state set: for every host × check
 * cell one series per status (passed, failed, waived, undecided, skipped, error), 1 for the cell's
 * status and 0 for the others. That is OpenMetrics' StateSet (OpenMetrics 1.0 specification,
 * "StateSet": one sample per state, 1 for the current one) and how kube-state-metrics exposes
 * `kube_pod_status_phase{phase}`: a status change is a value change of existing series (no series
 * vanishes and turns stale between scrapes), `sevcheck_check_status{status="failed"} == 1` selects
 * the failing cells, `sum by (status) (sevcheck_check_status)` counts them, and `changes(…[1d])`
 * sees a flip. The price is 6 series per cell (300 hosts × 60 checks: 108 000 series, measured
 * in test/fleet/report-writers.test.ts). A host with an `error` has every check id of the run at
 * status `error`; a cell a host has no entry for (a --tags filter) has no series.
 *
 * Pure: FleetResults in, text out.
 */
import { CELL_STATUSES, fleetMatrix } from './matrix.js';
import type { FleetResults } from './types.js';

/** Label value escaping (exposition_formats.md, "Text format details"). */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP docstring escaping: backslash and line feed only (same section). */
const help = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

const labels = (l: Record<string, string>): string =>
  `{${Object.entries(l).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;

/** A float as the format writes it: Go's ParseFloat reads any JS number string but NaN / ±Infinity, spelled NaN / +Inf / -Inf. */
function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function family(name: string, doc: string, samples: readonly string[]): string[] {
  return [`# HELP ${name} ${help(doc)}`, `# TYPE ${name} gauge`, ...samples];
}

export function metricsProm(fleet: FleetResults): string {
  const m = fleetMatrix(fleet);
  const status: string[] = [];
  for (const h of m.hosts) {
    for (const c of m.columns) {
      const cell = m.cell(h.name, c.id);
      if (!cell) continue;
      const head = `sevcheck_check_status{host="${labelValue(h.name)}",check="${labelValue(c.id)}",status="`;
      for (const s of CELL_STATUSES) status.push(`${head}${s}"} ${cell.status === s ? 1 : 0}`);
    }
  }
  const started = Date.parse(fleet.startedAt);
  const finished = (started + fleet.durationMs) / 1000;
  return [
    ...family(
      'sevcheck_check_status',
      'sevcheck verdict of one check on one host: 1 for its status (passed, failed, waived, undecided, skipped, error), 0 for the others.',
      status,
    ),
    ...family(
      'sevcheck_host_up',
      'Whether sevcheck could check the host in the last fleet run (1) or not (0: unreachable, timeout, corrupt results; see index.html).',
      m.hosts.map((h) => `sevcheck_host_up${labels({ host: h.name })} ${h.error === undefined ? 1 : 0}`),
    ),
    ...family('sevcheck_run_duration_seconds', 'Wall-clock duration of the last sevcheck fleet run.', [`sevcheck_run_duration_seconds ${num(fleet.durationMs / 1000)}`]),
    ...family('sevcheck_last_run_timestamp_seconds', 'When the last sevcheck fleet run finished, in seconds since the Unix epoch.', [
      `sevcheck_last_run_timestamp_seconds ${num(finished)}`,
    ]),
    ...family('sevcheck_run_complete', 'Whether the last sevcheck fleet run checked every host (1) or was interrupted (0).', [
      `sevcheck_run_complete ${fleet.complete ? 1 : 0}`,
    ]),
    '',
  ].join('\n');
}
