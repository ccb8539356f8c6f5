/**
 * index.html, the fleet matrix, seen as a person sees it: written from a FleetResults built from
 * real runs of 22 bundled fixture hosts plus a waived failure, a host that could not be checked,
 * a crafted host and changes (fleet-fixture.ts), rendered in Debian's headless Chromium
 * (`--dump-dom` for assertions, `--screenshot` of a 20-host matrix at 1400×900):
 * - every host row and every check column is on the page; a failed cell's found and fix are in
 *   its <details>; each error cell names why;
 * - the one inline script runs under the page's CSP (its hash is right: the filter form shows),
 *   filters rows by status and tag, and without JavaScript the page still has everything but the form;
 * - crafted markup in a check's scenario / found and a host name renders as text (no element,
 *   the title unchanged), with and without the CSP;
 * - the page size at 300 hosts × 60 checks (measured, bounded).
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
import { fleetMatrix } from '../../support/fleet/matrix.js';
import type { FleetResults } from '../../support/fleet/types.js';
import type { Results } from '../../support/report/results.js';
import { CRAFTED_FOUND, CRAFTED_HOST, CRAFTED_MESSAGE, ERROR_HOST, ERROR_REASON, fixtureHosts, fleetOf, largeFleet, runFixturesShared } from './fleet-fixture.js';

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
  fleet = fleetOf(runs);
  page = join(work, 'index.html');
  writeFileSync(page, FLEET_WRITERS['html']!.write(fleet));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

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

  it('300 hosts × 60 checks: size measured and bounded', () => {
    const big = fleetHtml(largeFleet(runs, 300, 60), { hostPage: hostReportPage });
    const bytes = Buffer.byteLength(big);
    console.log(`index.html at 300 hosts × 60 checks: ${(bytes / 1e6).toFixed(2)} MB (${Math.round(bytes / 18000)} bytes per cell)`);
    expect(bytes).toBeLessThan(8e6);
  });
});

describe.skipIf(skip)('index.html in headless Chromium', () => {
  let dom: string;
  beforeAll(async () => {
    dom = await chromium(['--dump-dom', url(page)]);
  }, 150_000);

  it('every host row and every check column is there, each once', () => {
    const m = fleetMatrix(fleet);
    expect(fleet.hosts.length).toBe(24);
    expect(m.columns.length).toBeGreaterThan(40);
    const rows = [...dom.matchAll(/<tr id="host-([^"]*)"/g)].map((x) => decode(x[1]!));
    expect(rows).toEqual(fleet.hosts.map((h) => h.name));
    const cols = [...dom.matchAll(/<th class="col[^"]*"[^>]*\bid="check-([^"]*)"/g)].map((x) => decode(x[1]!));
    expect(cols).toEqual(m.columns.map((c) => c.id));
    for (const h of fleet.hosts) expect([...row(dom, h.name).matchAll(/<td class="cell /g)].length, h.name).toBe(m.columns.length);
  });

  it("each cell says its status in words; a failed cell's found, expected and fix are in its <details>", () => {
    const m = fleetMatrix(fleet);
    let failedCells = 0;
    for (const r of runs) {
      const tr = row(dom, r.host);
      const cells = [...tr.matchAll(/<td class="cell (\w+)[^"]*"[^>]*>([\s\S]*?)<\/td>/g)];
      expect(cells.map((c) => c[1])).toEqual(m.columns.map((c) => m.cell(r.host, c.id)!.status));
      for (const [, status, body] of cells) expect(visibleText(body!).trim().split(' ')[0]).toBe(status);
      const host = fleet.hosts.find((h) => h.name === r.host)!;
      for (const c of host.checks.filter((x) => x.status === 'failed')) {
        const i = m.columns.findIndex((col) => col.id === c.id);
        const text = visibleText(cells[i]![2]!);
        expect(text).toMatch(/^ ?(failed|waived) /);
        for (const part of [c.found, c.expected, c.fix]) expect(text, `${r.host} ${c.id}`).toContain(squash(part!));
        failedCells++;
      }
    }
    expect(failedCells).toBeGreaterThan(20);
    // the host that could not be checked: every cell `error`, each saying why
    const down = row(dom, ERROR_HOST);
    expect([...down.matchAll(/<td class="cell error/g)].length).toBe(m.columns.length);
    expect(visibleText(down)).toContain(ERROR_REASON);
  });

  it('the script ran under the CSP: the filter form is shown, with every host counted', () => {
    expect(dom).toMatch(/<form class="filters" id="filters">/); // `hidden` removed by the script
    expect(visibleText(dom)).toContain(`${fleet.hosts.length} of ${fleet.hosts.length} hosts shown`);
  });

  it('crafted markup from a check and a host name is text: no element, the title unchanged', () => {
    expect(dom).not.toMatch(/<img|<b>/i);
    expect(dom.split('<script')).toHaveLength(2); // the page's own, nothing else
    expect(dom).toMatch(/<title>sevcheck fleet: 24 hosts — NOT COMPLIANT<\/title>/);
    const text = visibleText(dom);
    for (const s of [CRAFTED_FOUND, CRAFTED_MESSAGE, CRAFTED_HOST]) expect(text).toContain(s);
  });

  it('escaping alone, without the CSP, runs nothing either', async () => {
    const bare = join(work, 'no-csp.html');
    writeFileSync(bare, readFileSync(page, 'utf8').replace(CSP_META, ''));
    const d = await chromium(['--dump-dom', url(bare)]);
    expect(d).not.toMatch(/<img|<b>/i);
    expect(d).toMatch(/<title>sevcheck fleet: 24 hosts — NOT COMPLIANT<\/title>/);
  });

  it('without JavaScript: everything but the filter form', async () => {
    // as a browser with scripts off gets it: the page without its script (--dump-dom itself needs
    // scripting on, so --blink-settings=scriptEnabled=false dumps nothing)
    const noJs = join(work, 'no-js.html');
    writeFileSync(noJs, readFileSync(page, 'utf8').replace(`<script>${FLEET_SCRIPT}</script>`, ''));
    const d = await chromium(['--dump-dom', url(noJs)]);
    expect(d).not.toContain('<script');
    expect(d).toMatch(/<form class="filters" id="filters" hidden="">/);
    expect([...d.matchAll(/<tr id="host-/g)].length).toBe(fleet.hosts.length);
    expect(visibleText(d)).toContain(squash(CRAFTED_FOUND));
  });

  it('filters: status `failed` keeps the hosts with a failed cell; a tag keeps that tag', async () => {
    const m = fleetMatrix(fleet);
    // a copy of the page (without its CSP) that picks the filters and records what is shown
    const pick = (status: string, tag: string): string =>
      `<script>var f=document.getElementById('filters');f.elements.status.value=${JSON.stringify(status)};f.elements.tag.value=${JSON.stringify(tag)};f.dispatchEvent(new Event('change'));` +
      `document.documentElement.setAttribute('data-shown',JSON.stringify([].filter.call(document.querySelector('table.matrix').tBodies[0].rows,function(r){return !r.hidden;}).map(function(r){return r.id.slice(5);})));</script>`;
    const shown = async (status: string, tag: string): Promise<string[]> => {
      const copy = join(work, `filter-${status}-${tag}.html`);
      writeFileSync(copy, readFileSync(page, 'utf8').replace(CSP_META, '').replace('</body>', `${pick(status, tag)}</body>`));
      const d = await chromium(['--dump-dom', url(copy)]);
      const at = /data-shown="([^"]*)"/.exec(d);
      expect(at, 'the filter script ran').not.toBeNull();
      return JSON.parse(decode(at![1]!)) as string[];
    };
    const failing = fleet.hosts.filter((h) => m.columns.some((c) => m.cell(h.name, c.id)?.status === 'failed')).map((h) => h.name);
    expect(await shown('failed', '')).toEqual(failing);
    expect(await shown('', 'rack-b')).toEqual(fleet.hosts.filter((h) => h.tags.includes('rack-b')).map((h) => h.name));
  });

  it('screenshot of a 20-host matrix (1400×900)', async () => {
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
