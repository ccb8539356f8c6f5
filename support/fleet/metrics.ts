/**
 * metrics.prom: the fleet run in the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector (docs/nightly.md).
 *
 * Grammar: prometheus/docs content/docs/instrumenting/exposition_formats.md, "Text format
 * details": `# HELP name docstring` (backslash and line feed escaped as `\\` and `\n`), `# TYPE
 * name gauge`, then `name{label="value",…} number`; a label value escapes backslash, double quote
 * and line feed (`\\`, `\"`, `\n`); lines end in `\n`, the last one too.
 *
 * Series (issue 20: ≤ 10 per host + 1 per failing check, so 1,000 hosts stay a few thousand
 * series, not one per host × check × status):
 *   sevcheck_host_checks{host,status}       per host, its checks by id per status (failed, waived,
 *                                           undecided, passed, skipped): the numbers of its pages;
 *                                           5 series per host, a host that could not be checked has none
 *   sevcheck_host_up{host}                  1 checked, 0 could not be checked
 *   sevcheck_host_duration_seconds{host}    how long the host took
 *   sevcheck_check_failed{host,check,waived} one series per failing check id of a host, value 1;
 *                                           waived="true" for a waived one. A check that passes has
 *                                           no series: `sevcheck_check_failed{waived="false"}` lists
 *                                           what fails, `count by (check) (...)` on how many hosts
 *   sevcheck_waiver_expiry_timestamp_seconds{check,hosts}  per live waiver, when it stops applying
 *                                           (the end of its `expires` day, UTC): alert on `- time() < 14 * 86400`
 *   sevcheck_build_info{version}            1, the sevcheck version that wrote the file
 *   and the run: duration, last-run timestamp, complete.
 * 7 series per host; a failing check's series vanishes when it is fixed (Prometheus marks it
 * stale), which is why the per-host totals are there: they never vanish.
 *
 * Pure: FleetResults in, text out.
 */
import { fleetMatrix, rowTally } from './matrix.js';
import { expiryTimestamp } from './waivers.js';
import { VERSION } from '../version.js';
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

/** The order of sevcheck_host_checks' status label (the page's words). */
export const HOST_CHECK_STATUSES = ['failed', 'waived', 'undecided', 'passed', 'skipped'] as const;

export function metricsProm(fleet: FleetResults): string {
  const m = fleetMatrix(fleet);
  const totals: string[] = [];
  const failing: string[] = [];
  for (const h of m.hosts) {
    if (h.error !== undefined) continue;
    const n = rowTally(m, h.name);
    for (const s of HOST_CHECK_STATUSES) totals.push(`sevcheck_host_checks${labels({ host: h.name, status: s })} ${n[s]}`);
    for (const c of m.columns) {
      const s = m.cell(h.name, c.id)?.status;
      if (s === 'failed' || s === 'waived') failing.push(`sevcheck_check_failed${labels({ host: h.name, check: c.id, waived: s === 'waived' ? 'true' : 'false' })} 1`);
    }
  }
  const w = fleet.waivers;
  const live = [...(w?.active ?? []), ...(w?.stale ?? [])];
  const started = Date.parse(fleet.startedAt);
  const finished = (started + fleet.durationMs) / 1000;
  return [
    ...family('sevcheck_host_checks', 'Checks of a host by status in the last sevcheck fleet run, one per check id (the worst of its scenarios), as its report pages count them.', totals),
    ...family(
      'sevcheck_host_up',
      'Whether sevcheck could check the host in the last fleet run (1) or not (0: unreachable, timeout, corrupt results; see index.html).',
      m.hosts.map((h) => `sevcheck_host_up${labels({ host: h.name })} ${h.error === undefined ? 1 : 0}`),
    ),
    ...family(
      'sevcheck_host_duration_seconds',
      'How long the host took in the last sevcheck fleet run.',
      m.hosts.filter((h) => h.durationMs !== undefined).map((h) => `sevcheck_host_duration_seconds${labels({ host: h.name })} ${num((h.durationMs ?? 0) / 1000)}`),
    ),
    ...family('sevcheck_check_failed', 'A check failing on a host in the last sevcheck fleet run (1); waived="true" when a waiver accepts it. Passing checks have no series.', failing),
    ...family(
      'sevcheck_waiver_expiry_timestamp_seconds',
      'When a live sevcheck waiver stops applying (the end of its expires day, UTC), in seconds since the Unix epoch.',
      live.map((x) => `sevcheck_waiver_expiry_timestamp_seconds${labels({ check: x.check, hosts: x.hosts ?? '*' })} ${num(expiryTimestamp(x.expires))}`),
    ),
    ...family('sevcheck_build_info', 'The sevcheck version that wrote this file (value 1).', [`sevcheck_build_info${labels({ version: fleet.version ?? VERSION })} 1`]),
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
