/**
 * A fleet host's report set (hosts/<name>/): run's writers (report/writers.ts WRITERS), the page
 * and the summary without their links to cucumber's own step page, which a fleet does not write per
 * host (CUCUMBER_REPORTS: cucumber's formatters, costlier than the checks). In a fleet the set
 * also carries what the fleet decided about the host (issue 20): the waivers that apply to it and
 * a link back to the fleet page —
 *   report.html  its banner counts waived failures apart ("COMPLIANT WITH WAIVERS" when nothing
 *                else fails), each waived check says until when and why, and the header links
 *                back to the fleet page and lists the host's waivers;
 *   results.json each waived failed check carries `waived: {reason, expires}`, and a `fleet`
 *                object gives the page, the run's start and the waivers (docs/results.md);
 *   junit.xml    the host's suite of the fleet's junit.xml (fleet/junit.ts): one testcase per
 *                check, a waived failure <skipped>, the fleet page and waivers as properties.
 * Pure.
 */
import type { Results } from '../report/results.js';
import { WRITERS, withFindings } from '../report/writers.js';
import { findings } from '../report/findings.js';
import { reportHtml } from '../report/html.js';
import { summaryMarkdown } from '../report/summary.js';
import { printableJson } from '../report/printable.js';
import { hostJunitXml } from './junit.js';
import { waiveChecks, waiversFor } from './waivers.js';
import type { FleetHost, HostInFleet, Waiver } from './types.js';

/** Where the fleet page is from a host's report set: hosts/<name>/ → ../../index.html, at the host's row. */
export function fleetPageFromHost(host: string, page: string): string {
  return `../../${page}#host-${encodeURIComponent(host)}`;
}

/** What a fleet host's report set needs to know of the fleet. */
export interface FleetSide {
  /** the fleet page's file name (index.html) */
  readonly page: string;
  readonly startedAt: string;
  /** the fleet's waivers (all of them: those that apply to the host are picked here) */
  readonly waivers: readonly Waiver[];
  /** YYYY-MM-DD, UTC: which waivers are live */
  readonly today: string;
}

/** A host's report set in a fleet: file name → text. */
export function hostReportSet(results: Results, fleet: FleetSide, host: Pick<FleetHost, 'name' | 'target' | 'profile' | 'tags' | 'exitCode'> = { name: results.host, target: results.target, profile: results.profile, tags: [], exitCode: 0 }): Array<{ file: string; text: string }> {
  const waivers = waiversFor(host.name, fleet.waivers, fleet.today);
  const checks = waiveChecks(host.name, results.checks, waivers, fleet.today);
  const inFleet: HostInFleet = { page: fleetPageFromHost(host.name, fleet.page), startedAt: fleet.startedAt, waivers };
  const marked = { ...results, checks, fleet: inFleet };
  // the host's findings, once for its whole set (report/findings.ts)
  const f = findings(checks);
  return Object.entries(WRITERS).map(([name, w]) => {
    if (name === 'html') return { file: w.file, text: reportHtml(marked, { links: { results: WRITERS['json']?.file }, fleet: inFleet }, f) };
    if (name === 'summary') return { file: w.file, text: summaryMarkdown(marked, { page: WRITERS['html']?.file }, f) };
    if (name === 'json') return { file: w.file, text: `${printableJson(withFindings(marked, f))}\n` };
    if (name === 'junit') {
      const h: FleetHost = { ...host, checks, durationMs: results.durationMs };
      return { file: w.file, text: hostJunitXml(h, { startedAt: results.startedAt, page: inFleet.page, waivers }) };
    }
    return { file: w.file, text: w.write(marked, f) };
  });
}
