import type { Results } from '../report/results.js';
import { WRITERS, type Writer } from '../report/writers.js';
import { reportHtml } from '../report/html.js';
import { summaryMarkdown } from '../report/summary.js';

/**
 * A fleet host's report set: run's writers (report/writers.ts WRITERS), the page and the summary
 * without their links to cucumber's own step page, which a fleet does not write per host
 * (CUCUMBER_REPORTS: cucumber's formatters, costlier than the checks).
 */
export const HOST_WRITERS: readonly Writer[] = Object.entries(WRITERS).map(([name, w]) => {
  if (name === 'html') return { file: w.file, write: (r: Results) => reportHtml(r, { links: { results: WRITERS['json']?.file } }) };
  if (name === 'summary') return { file: w.file, write: (r: Results) => summaryMarkdown(r, { page: WRITERS['html']?.file }) };
  return w;
});
