/**
 * index.html, the fleet's triage page, seen as a person sees it: written from a FleetResults built
 * from real runs of 22 bundled fixture hosts plus a waived failure, a host that could not be
 * checked, a crafted host, changes, history and first-seen dates (fleet-fixture.ts), rendered in
 * Debian's headless Chromium (`--dump-dom` for assertions, copies with a probe script for what
 * the layout does, `--screenshot` of a 20-host page at 1400×900, docs/fleet-matrix.png):
 * - it opens on "+N new failures, −N fixed, N newly waived, N expiring within 14 days since <run>";
 * - hosts in triage order (new failures first, then error, failing, waived, undecided, clean);
 *   every host row and check column is there; each cell's class is its status;
 * - the by-cause view names every failing check with its host count (the matrix's, by id);
 * - the matrix fits 1,400 px with the layers collapsed; a layer opens with a click (no script);
 *   the header row stays in view when the matrix scrolls;
 * - the one inline script runs under the page's CSP and filters rows; without JavaScript the
 *   page has everything but the filter form;
 * - crafted markup in a check's scenario / found and a host name renders as text;
 * - the page size at 1,000 hosts × every check of the catalog (≤ 2 MB).
 *
 * Needs the `chromium` package (.ci/run installs it). Without it the Chromium tests are skipped,
 * unless SEVCHECK_REQUIRE_CHROMIUM=1 (set by .ci/run), where its absence fails them.
 * SEVCHECK_SCREENSHOTS=DIR copies the screenshot there as fleet-matrix.png (docs/ keeps it).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEIGHT, WIDTH, headlessChromium, skipChromium } from '../chromium.js';
import { FLEET_CSP, FLEET_SCRIPT, fleetHtml } from '../../support/fleet/html.js';
import { FLEET_WRITERS, hostReportPage } from '../../support/fleet/writers.js';
import { byCheck, fleetMatrix, rowTally, triageOrder } from '../../support/fleet/matrix.js';
import { headline, headlineWords } from '../../support/fleet/compare.js';
import { when } from '../../support/report/html.js';
import type { FleetResults } from '../../support/fleet/types.js';
import type { Results } from '../../support/report/results.js';
import { CRAFTED_FOUND, CRAFTED_HOST, CRAFTED_MESSAGE, ERROR_HOST, ERROR_REASON, fixtureHosts, fleetOf, largeFleet, runFixturesShared, withHistory } from './fleet-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'sevcheck-fleet-html-'));
const skip = skipChromium;

/** One headless Chromium run (test/chromium.ts) with this file's timeout and output bound. */
const chromium = (args: string[]): Promise<string> => headlessChromium(work, args, { timeoutMs: 120_000, maxBuffer: 128 * 1024 * 1024 });

const url = (file: string): string => `file://${file}`;

function decode(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-f]+|lt|gt|amp|quot|apos|nbsp);/gi, (_m, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(Number(k.slice(1)));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[k]!;
  });
}

/** Text of serialized HTML as a reader sees it: tags dropped, character references decoded. */
const visibleText = (html: string): string => decode(html.replace(/<head>[\s\S]*?<\/head>/, '').replace(/<script>[\s\S]*?<\/script>/g, '').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
const squash = (s: string): string => s.replace(/\s+/g, ' ');

/** The serialized <tr> of a host in a dumped DOM. */
function row(dom: string, host: string): string {
  const at = dom.indexOf(`<tr id="host-${host.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}"`);
  expect(at, `row of ${host}`).toBeGreaterThan(0);
  return dom.slice(at, dom.indexOf('</tr>', at));
}

const CSP_META = `<meta http-equiv="Content-Security-Policy" content="${FLEET_CSP}">`;

let runs: Results[];
let fleet: FleetResults;
let page: string;
beforeAll(async () => {
  runs = await runFixturesShared(fixtureHosts().slice(0, 22));
  fleet = withHistory(fleetOf(runs));
  page = join(work, 'index.html');
  writeFileSync(page, FLEET_WRITERS['html']!.write(fleet));
}, 900_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the page without its CSP, with a script that runs `probe` on load and writes its JSON result into the DOM. */
async function probe(html: string, name: string, body: string): Promise<unknown> {
  const copy = join(work, `${name}.html`);
  const script = `<script>addEventListener('load',function(){var out=(function(){${body}})();document.documentElement.setAttribute('data-probe',JSON.stringify(out));});</script>`;
  writeFileSync(copy, html.replace(CSP_META, '').replace('</body>', `${script}</body>`));
  const d = await chromium(['--dump-dom', url(copy)]);
  const at = /data-probe="([^"]*)"/.exec(d);
  expect(at, `the probe of ${name} ran`).not.toBeNull();
  return JSON.parse(decode(at![1]!));
}

describe('index.html, as text', () => {
  it('allows exactly its own script by hash; loads nothing', () => {
    const html = readFileSync(page, 'utf8');
    const hash = createHash('sha256').update(FLEET_SCRIPT).digest('base64');
    expect(FLEET_CSP).toContain(`script-src 'sha256-${hash}'`);
    expect(FLEET_CSP).toMatch(/^default-src 'none';/);
    expect(html.split(CSP_META)).toHaveLength(2);
    expect(html.split('<script>')).toHaveLength(2);
    expect(html).toContain(`<script>${FLEET_SCRIPT}</script>`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//); // nothing from the network
  });

  it('links every checked host to hosts/<name>/report.html, not the one that could not be checked', () => {
    const html = readFileSync(page, 'utf8');
    for (const r of runs) expect(html).toContain(`<a href="${hostReportPage(r.host)}">`);
    expect(html).not.toContain(`href="${hostReportPage(ERROR_HOST)}"`);
  });

  it('1,000 hosts × every check of the catalog: at most 2 MB (details are on the host pages)', () => {
    const catalog = new Set(runs.flatMap((r) => r.checks.map((c) => c.id))).size; // 75 today
    expect(catalog).toBeGreaterThanOrEqual(75);
    const big = withHistory(largeFleet(runs, 1000, catalog));
    const bytes = Buffer.byteLength(fleetHtml(big, { hostPage: hostReportPage }));
    console.log(`index.html at 1,000 hosts × ${catalog} checks with 30 runs of history: ${(bytes / 1e6).toFixed(2)} MB (${Math.round(bytes / 1000)} bytes per host)`);
    expect(bytes).toBeLessThanOrEqual(2e6);
  });
});

describe.skipIf(skip)('index.html in headless Chromium', () => {
  let dom: string;
  beforeAll(async () => {
    dom = await chromium(['--dump-dom', url(page)]);
  }, 150_000);

  it('opens on the changes since the last run, in the words every output uses', () => {
    const h = headline(fleet);
    expect(h).toMatchObject({ new: 1, fixed: 1, waived: 1, expiring: 1 });
    const words = headlineWords(h, when);
    expect(words).toBe('+1 new failure, −1 fixed, 1 newly waived, 1 expiring within 14 days since 2026-12-02 02:14:09 UTC');
    const header = dom.slice(dom.indexOf('<header'), dom.indexOf('</header>'));
    const line = /<p class="headline">([\s\S]*?)<\/p>/.exec(header)?.[1] ?? '';
    expect(decode(line.replace(/<[^>]*>/g, ''))).toBe(words);
    // the headline comes first after the verdict, before the totals
    expect(header.indexOf('class="headline"')).toBeLessThan(header.indexOf('hosts without failures'));
    expect(header.indexOf('<h1>')).toBeLessThan(header.indexOf('class="headline"'));
  });

  it('hosts in triage order: new failures first, then could not be checked, failing, waived, undecided, clean; every column once', () => {
    const m = fleetMatrix(fleet);
    const rows = [...dom.matchAll(/<tr id="host-([^"]*)"/g)].map((x) => decode(x[1]!));
    expect(rows).toEqual(triageOrder(m, fleet.changes?.new).map((h) => h.name));
    expect(rows[0]).toBe(Object.keys(fleet.changes!.new)[0]);
    expect(rows[1]).toBe(ERROR_HOST);
    const rank = (name: string): number => {
      const n = rowTally(m, name);
      return name === rows[0] ? 0 : name === ERROR_HOST ? 1 : n.failed ? 2 : n.waived ? 3 : n.undecided ? 4 : 5;
    };
    expect(rows.map(rank)).toEqual([...rows.map(rank)].sort((a, b) => a - b));
    const cols = [...dom.matchAll(/<th class="c"[^>]*\bid="check-([^"]*)"/g)].map((x) => decode(x[1]!));
    expect(cols).toEqual(m.layers.flatMap((l) => m.columns.filter((c) => c.layer === l).map((c) => c.id)));
    // each check cell's class is its status (passed: none)
    const letter: Record<string, string> = { failed: 'f', waived: 'w', undecided: 'u', skipped: 's', error: 'e', passed: '' };
    for (const h of fleet.hosts) {
      const tr = row(dom, h.name);
      const cells = [...tr.matchAll(/<td(?: class="([^"]*)")?[^>]*>/g)].map((x) => x[1] ?? '').filter((c) => c !== 't' && !c.startsWith('L '));
      expect(cells.map((c) => c.split(' ')[0] ?? ''), h.name).toEqual(m.layers.flatMap((l) => m.columns.filter((c) => c.layer === l).map((c) => { const cell = m.cell(h.name, c.id); return cell ? letter[cell.status] : 'a'; })));
    }
  });

  it('by cause and by check: every failing check with its host count, the same as the matrix', () => {
    const m = fleetMatrix(fleet);
    const aside = dom.slice(dom.indexOf('<aside'), dom.indexOf('</aside>'));
    const table = [...aside.matchAll(/<tr><td><code>([^<]*)<\/code><\/td><td class="num">(\d+)<\/td><td class="num">(\d*)<\/td><\/tr>/g)].map((x) => [decode(x[1]!), Number(x[2]), Number(x[3] || 0)]);
    expect(table).toEqual(byCheck(m).map((c) => [c.id, c.failed.length, c.waived.length]));
    expect(table.length).toBeGreaterThan(10);
    // causes lead: a check another failure explains on every host where it fails is not a cause
    expect(visibleText(aside)).toMatch(/By cause \(\d+; hosts\)/);
    expect(aside).toMatch(/explains <code>/);
  });

  it('fits 1,400 px with the layers collapsed; a layer opens with a click on its name, without script; the header row is sticky', async () => {
    const html = readFileSync(page, 'utf8');
    const got = (await probe(
      html.replace(`<script>${FLEET_SCRIPT}</script>`, ''),
      'layout',
      `var t=document.querySelector('table.matrix'), w=document.querySelector('.mw');
       var first=document.querySelector('th.c'), before=t.getBoundingClientRect().width, hidden=getComputedStyle(first).display;
       var page=document.documentElement.scrollWidth;
       document.querySelector('th.L label').click();
       var shown=getComputedStyle(first).display, after=t.getBoundingClientRect().width;
       w.scrollTop=400; var head=document.querySelector('thead th.host').getBoundingClientRect().top-w.getBoundingClientRect().top;
       return {before:before, page:page, hidden:hidden, shown:shown, after:after, head:head};`,
    )) as { before: number; page: number; hidden: string; shown: string; after: number; head: number };
    expect(got.hidden).toBe('none');
    expect(got.page).toBeLessThanOrEqual(WIDTH);
    expect(got.before).toBeLessThan(WIDTH - 300); // the by-cause view beside it
    expect(got.shown).toBe('table-cell');
    expect(got.after).toBeGreaterThan(got.before);
    expect(Math.abs(got.head)).toBeLessThan(2);
  });

  it('the script ran under the CSP: the filter form is shown, with every host counted', () => {
    expect(dom).toMatch(/<form class="filters" id="filters">/); // `hidden` removed by the script
    expect(visibleText(dom)).toContain(`${fleet.hosts.length} of ${fleet.hosts.length} hosts shown`);
  });

  it('crafted markup from a check and a host name is text: no element, the title unchanged', () => {
    expect(dom).not.toMatch(/<img|<b>/i);
    expect(dom.split('<script')).toHaveLength(2); // the page's own, nothing else
    expect(dom).toMatch(/<title>sevcheck fleet: 24 hosts — NOT COMPLIANT<\/title>/);
    expect(visibleText(dom)).toContain(CRAFTED_HOST);
  });

  it('escaping alone, without the CSP, runs nothing either', async () => {
    const bare = join(work, 'no-csp.html');
    writeFileSync(bare, readFileSync(page, 'utf8').replace(CSP_META, ''));
    const d = await chromium(['--dump-dom', url(bare)]);
    expect(d).not.toMatch(/<img|<b>/i);
    expect(d).toMatch(/<title>sevcheck fleet: 24 hosts — NOT COMPLIANT<\/title>/);
  });

  it('without JavaScript: everything but the filter form', async () => {
    const noJs = join(work, 'no-js.html');
    writeFileSync(noJs, readFileSync(page, 'utf8').replace(`<script>${FLEET_SCRIPT}</script>`, ''));
    const d = await chromium(['--dump-dom', url(noJs)]);
    expect(d).not.toContain('<script');
    expect(d).toMatch(/<form class="filters" id="filters" hidden="">/);
    expect([...d.matchAll(/<tr id="host-/g)].length).toBe(fleet.hosts.length);
  });

  it('filters: failing hosts, hosts with a new failure, a tag, a failing check', async () => {
    const m = fleetMatrix(fleet);
    const shown = async (status: string, tag: string, check: string): Promise<string[]> =>
      (await probe(
        readFileSync(page, 'utf8'),
        `filter-${status}-${tag}-${check.replace(/[^a-z0-9]/gi, '_')}`,
        `var f=document.getElementById('filters');f.elements.status.value=${JSON.stringify(status)};f.elements.tag.value=${JSON.stringify(tag)};f.elements.check.value=${JSON.stringify(check)};f.dispatchEvent(new Event('change'));
         return [].filter.call(document.querySelector('table.matrix').tBodies[0].rows,function(r){return !r.hidden;}).map(function(r){return r.id.slice(5);});`,
      )) as string[];
    const order = triageOrder(m, fleet.changes?.new).map((h) => h.name);
    const failing = order.filter((h) => rowTally(m, h).failed > 0);
    expect(await shown('failed', '', '')).toEqual(failing);
    expect(await shown('new', '', '')).toEqual(Object.keys(fleet.changes!.new));
    expect(await shown('', 'rack-b', '')).toEqual(order.filter((h) => fleet.hosts.find((x) => x.name === h)!.tags.includes('rack-b')));
    const top = byCheck(m)[0]!;
    expect(await shown('', '', top.id)).toEqual(order.filter((h) => top.failed.includes(h) || top.waived.includes(h)));
  }, 300_000);

  it('screenshot of a 20-host page (1400×900)', async () => {
    // 18 real hosts, the crafted one and the one that could not be checked
    const twenty: FleetResults = { ...fleet, hosts: [...fleet.hosts.slice(0, 18), ...fleet.hosts.slice(-2)] };
    const file = join(work, 'fleet-20.html');
    writeFileSync(file, FLEET_WRITERS['html']!.write(twenty));
    const png = join(work, 'fleet-matrix.png');
    await chromium([`--screenshot=${png}`, url(file)]);
    const b = readFileSync(png);
    expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([b.readUInt32BE(16), b.readUInt32BE(20)]).toEqual([WIDTH, HEIGHT]);
    const keep = process.env.SEVCHECK_SCREENSHOTS;
    if (keep) copyFileSync(png, resolve(keep, 'fleet-matrix.png'));
  });
});
