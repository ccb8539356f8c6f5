/** The fleet report set: file name → pure writer (FleetResults → text). The only place fleet report file names appear. */
import type { FleetResults } from './types.js';
export interface FleetWriter { readonly file: string; write(fleet: FleetResults): string }
export const FLEET_WRITERS: Readonly<Record<string, FleetWriter>> = {
  json: { file: 'fleet.json', write: (f) => `${JSON.stringify(f, null, 2)}\n` },
  // the matrix page links each host to its own report set, hosts/<name>/ (issue 10), at that set's page
  html: { file: 'index.html', write: (f) => fleetHtml(f, { hostPage: hostReportPage, files: fleetFiles() }) },
  junit: { file: 'junit.xml', write: fleetJunitXml },
  summary: { file: 'summary.md', write: (f) => fleetSummaryMarkdown(f, { page: FLEET_WRITERS['html']?.file }) },
  metrics: { file: 'metrics.prom', write: metricsProm },
};

/** Where a host's own report set goes inside the fleet's --out directory. */
export const HOSTS_DIR = 'hosts';

/** hosts/<name>/report.html, relative to index.html (host names are [A-Za-z0-9._-]+; encoded anyway). */
export function hostReportPage(host: string): string {
  return `${HOSTS_DIR}/${encodeURIComponent(host)}/${WRITERS['html']?.file ?? ''}`;
}

function fleetFiles(): string[] {
  return Object.values(FLEET_WRITERS).map((w) => w.file).filter((f) => f !== FLEET_WRITERS['html']?.file);
}

// imports below the table: the lines above are the ones the fleet branch starts this file with
// (ES imports are hoisted, so their place changes nothing but the merge)
import { WRITERS } from '../report/writers.js';
import { fleetHtml } from './html.js';
import { fleetJunitXml } from './junit.js';
import { fleetSummaryMarkdown } from './summary.js';
import { metricsProm } from './metrics.js';
