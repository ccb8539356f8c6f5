/**
 * The fleet's summary.md, for a release ticket: the verdict line, one row per host, every failure
 * with what was found and the fix (grouped by check, then by identical found / fix, so 300 hosts
 * with one problem read as one entry naming 300 hosts), the waivers (applied, expired, stale), the
 * changes since the compared run, and where the matrix page is. Host text is escaped as in a
 * single run's summary.md (support/report/summary.ts `md`).
 *
 * Pure: FleetResults in, text out.
 */
import { md, mdCode } from '../report/summary.js';
import { fleetMatrix, fleetVerdict, rowTally } from './matrix.js';
import { headline, headlineWords } from './compare.js';
import type { FleetCheck, FleetResults, PerHost, Waiver } from './types.js';

const code = mdCode;

/** Hosts as a list that stays one readable line: the first `max`, then how many more. */
function hostList(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map(md).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function waiverLine(w: Waiver): string {
  return `- ${code(w.check)} on ${w.hosts !== undefined ? code(w.hosts) : 'every host'}, until ${md(w.expires)}: ${md(w.reason)}`;
}

function perHost(title: string, p: PerHost): string[] {
  const rows = Object.entries(p).filter(([, ids]) => ids.length > 0);
  if (rows.length === 0) return [`- ${title}: none`];
  return [`- ${title}:`, ...rows.map(([host, ids]) => `  - ${md(host)}: ${ids.map(code).join(', ')}`)];
}

export interface FleetSummaryLinks {
  /** the matrix page beside this file */
  readonly page?: string | undefined;
}

export function fleetSummaryMarkdown(fleet: FleetResults, links: FleetSummaryLinks = {}): string {
  const m = fleetMatrix(fleet);
  const v = fleetVerdict(m);
  const errors = fleet.hosts.filter((h) => h.error !== undefined);
  const failingHosts = fleet.hosts.filter((h) => h.error === undefined && rowTally(m, h.name).failed > 0).length;
  const waivedCells = fleet.hosts.reduce((n, h) => n + rowTally(m, h.name).waived, 0);
  const out = [
    '# sevcheck fleet',
    '',
    `**${v.words}** — ${fleet.hosts.length} hosts: ${fleet.hosts.length - failingHosts - errors.length} without failures, ${failingHosts} failing, ${errors.length} could not be checked; ${waivedCells} waived failures.`,
    '',
    `**${md(headlineWords(headline(fleet)))}**`,
    '',
    `Started ${md(fleet.startedAt)}, ${Number.isFinite(fleet.durationMs) ? (fleet.durationMs / 1000).toFixed(1) : '?'} s${fleet.complete ? '' : ', **interrupted: only the hosts that finished are listed**'}.${links.page ? ` The host × check matrix is [${md(links.page)}](${links.page}).` : ''}`,
    '',
    '## Hosts',
    '',
    '| Host | Profile | Result | Failed | Waived | Undecided | Passed | Skipped |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const h of fleet.hosts) {
    const n = rowTally(m, h.name);
    const result: string = h.error !== undefined ? `error: ${md(h.error)}` : n.failed > 0 ? 'failed' : n.undecided > 0 ? 'undecided' : 'passed';
    out.push(`| ${md(h.name)} | ${md(h.profile)} | ${result} | ${n.failed} | ${n.waived} | ${n.undecided} | ${n.passed} | ${n.skipped} |`);
  }
  out.push('');

  // failures: check id → (found / expected / fix) → hosts
  const failures = new Map<string, Map<string, { c: FleetCheck; hosts: string[] }>>();
  for (const h of fleet.hosts) {
    for (const c of h.checks) {
      if (c.status !== 'failed' || c.waived) continue;
      const byFix = failures.get(c.id) ?? new Map<string, { c: FleetCheck; hosts: string[] }>();
      const key = JSON.stringify([c.scenario, c.found ?? c.message, c.expected, c.fix]);
      const entry = byFix.get(key) ?? { c, hosts: [] };
      if (!entry.hosts.includes(h.name)) entry.hosts.push(h.name);
      byFix.set(key, entry);
      failures.set(c.id, byFix);
    }
  }
  if (failures.size > 0) {
    out.push(`## Failed (${failures.size} checks)`, '');
    for (const [id, byFix] of failures) {
      const hosts = new Set([...byFix.values()].flatMap((e) => e.hosts));
      out.push(`### ${code(id)} — ${hosts.size} host${hosts.size === 1 ? '' : 's'}`, '');
      for (const { c, hosts: on } of byFix.values()) {
        out.push(`- on ${hostList(on)} — ${md(c.scenario)}`);
        if (c.found !== undefined && c.expected !== undefined && c.fix !== undefined) {
          out.push(`  - **found:** ${md(c.found)}`, `  - **expected:** ${md(c.expected)}`, `  - **fix:** ${md(c.fix)}`);
        } else out.push(`  - ${md(c.message)}`);
      }
      out.push('');
    }
  }
  if (errors.length > 0) {
    out.push(`## Could not be checked (${errors.length})`, '', ...errors.map((h) => `- ${md(h.name)} (${md(h.target)}): ${md(h.error ?? '')}`), '');
  }

  const waived = fleet.hosts.flatMap((h) => h.checks.filter((c) => c.status === 'failed' && c.waived).map((c) => ({ host: h.name, c })));
  const expired = fleet.waivers?.expired ?? [];
  const stale = fleet.waivers?.stale ?? [];
  if (waived.length + expired.length + stale.length > 0) {
    out.push('## Waivers', '');
    if (waived.length) {
      out.push(`Accepted failures (${waived.length}):`, '');
      const byWaiver = new Map<string, { id: string; reason: string; expires: string; hosts: string[] }>();
      for (const { host, c } of waived) {
        const key = JSON.stringify([c.id, c.waived!.reason, c.waived!.expires]);
        const e = byWaiver.get(key) ?? { id: c.id, reason: c.waived!.reason, expires: c.waived!.expires, hosts: [] };
        if (!e.hosts.includes(host)) e.hosts.push(host);
        byWaiver.set(key, e);
      }
      for (const e of byWaiver.values()) out.push(`- ${code(e.id)} on ${hostList(e.hosts)}, until ${md(e.expires)}: ${md(e.reason)}`);
      out.push('');
    }
    if (expired.length) out.push(`Expired — no longer applied, renew or fix (${expired.length}):`, '', ...expired.map(waiverLine), '');
    if (stale.length) out.push(`Stale — matched no failure, remove them (${stale.length}):`, '', ...stale.map(waiverLine), '');
  }

  const ch = fleet.changes;
  if (ch) {
    out.push(
      `## Changes since ${md(ch.against.startedAt)} (${md(ch.against.dir)})`,
      '',
      ...perHost('new failures', ch.new),
      ...perHost('fixed', ch.fixed),
      ...perHost('newly waived', ch.waived ?? {}),
      ...perHost('still failing', ch.stillFailing),
      `- new hosts: ${ch.newHosts.length ? hostList(ch.newHosts, 50) : 'none'}`,
      `- missing hosts: ${ch.missingHosts.length ? hostList(ch.missingHosts, 50) : 'none'}`,
      '',
    );
  }
  return out.join('\n');
}
