/**
 * report.html seen as a person sees it (issue 14, item 3): the real CLI writes the report set of
 * three bundled hosts (the reference, a failing one, the CI machine's recording) and of a crafted
 * host whose name and modprobe.d file carry markup; Debian's headless Chromium renders each page
 * (`--dump-dom`, `--screenshot` at 1400×900) and the test asserts what a reader relies on:
 * - the first failed check's id, found and fix are on the first screen (element geometry);
 * - every check id of results.json is on the page exactly once, as an element id;
 * - every message survives as text, `<...>` included (nothing stripped);
 * - crafted markup from the host renders as text: no element, no script run.
 *
 * The page itself has no script. Geometry is read from a copy of the page, written here, that
 * differs only by a measuring script at the end of <body> (and without the CSP meta that would
 * forbid it); the layout is the page's own.
 *
 * Needs the `chromium` package (.ci/run installs it). Without it the tests are skipped, unless
 * SEVCHECK_REQUIRE_CHROMIUM=1 (set by .ci/run), where its absence fails them.
 * SEVCHECK_SCREENSHOTS=DIR copies the screenshots there (docs/ keeps them: README.md shows one).
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEIGHT, WIDTH, headlessChromium, skipChromium } from '../chromium.js';
import { ROOT, sevcheck } from '../helpers.js';
import { REPORT_CSP } from '../../support/report/html.js';

const work = mkdtempSync(join(tmpdir(), 'sevcheck-html-'));
const skip = skipChromium;

/** One headless Chromium run (test/chromium.ts) with this file's timeout and output bound. */
const chromium = (args: string[]): Promise<string> => headlessChromium(work, args, { timeoutMs: 90_000, maxBuffer: 64 * 1024 * 1024 });

const url = (file: string): string => `file://${file}`;

/** Text of serialized HTML as a reader sees it: tags dropped, character references decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<head>[\s\S]*?<\/head>/, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|lt|gt|amp|quot|apos|nbsp);/gi, (_m, e: string) => {
      const k = e.toLowerCase();
      if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
      if (k.startsWith('#')) return String.fromCodePoint(Number(k.slice(1)));
      return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[k]!;
    })
    .replace(/\s+/g, ' ');
}

const squash = (s: string): string => s.replace(/\s+/g, ' ');

interface Check {
  id: string;
  status: string;
  message: string;
  found?: string;
  expected?: string;
  fix?: string;
  reason?: string;
}
interface Rendered {
  results: { host: string; checks: Check[] };
  page: string;
  dom: string;
}

// hosts are named relative to the project (the CLI runs there), so no machine path reaches the
// screenshots kept in docs/

/** The measuring copy's script: rectangles of the first check, its id link, found and fix. */
const MEASURE = `<script>
(function () {
  var rect = function (el) { if (!el) return null; var r = el.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, height: r.height }; };
  var first = document.querySelector('article.check');
  var out = { innerWidth: innerWidth, innerHeight: innerHeight, scrollHeight: document.documentElement.scrollHeight };
  if (first) {
    out.id = first.id;
    out.failed = first.classList.contains('failed');
    out.idLink = rect(first.querySelector('a.id'));
    out.found = rect(first.querySelector('.found') || first.querySelector('.message'));
    out.fix = rect(first.querySelector('.fix') || first.querySelector('.message'));
  }
  out.banner = rect(document.querySelector('header.banner'));
  document.documentElement.setAttribute('data-measure', JSON.stringify(out));
})();
</script>`;

interface Measure {
  innerWidth: number;
  innerHeight: number;
  scrollHeight: number;
  id?: string;
  failed?: boolean;
  idLink?: { top: number; bottom: number; height: number } | null;
  found?: { top: number; bottom: number; height: number } | null;
  fix?: { top: number; bottom: number; height: number } | null;
  banner: { top: number; bottom: number; height: number } | null;
}

async function measure(page: string, name: string): Promise<Measure> {
  const html = readFileSync(page, 'utf8');
  const csp = `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`;
  expect(html.split(csp)).toHaveLength(2); // the shipped page carries its CSP exactly once
  const copy = join(work, `${name}-measure.html`);
  writeFileSync(copy, html.replace(csp, '').replace('</body>', `${MEASURE}</body>`));
  const dom = await chromium(['--dump-dom', url(copy)]);
  const m = /data-measure="([^"]*)"/.exec(dom);
  expect(m, 'the measuring script ran').not.toBeNull();
  return JSON.parse(m![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Measure;
}

async function render(name: string, hostDir: string): Promise<Rendered> {
  const out = join(work, name);
  const run = await sevcheck(['run', '--host', `fixture:${hostDir}`, '--out', out, '--format', 'json']);
  expect(run.stderr).toBe('');
  expect([0, 1]).toContain(run.code);
  const page = join(out, 'report.html');
  const dom = await chromium(['--dump-dom', url(page)]);
  return { results: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')), page, dom };
}

/** Shared assertions for any host's page. */
function assertEveryCheckOnce(r: Rendered): void {
  const ids = [...new Set(r.results.checks.map((c) => c.id))].sort();
  expect(ids.length).toBeGreaterThan(20);
  const onPage = [...r.dom.matchAll(/<article\b[^>]*\bid="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).sort();
  expect(onPage).toEqual(ids);
  for (const id of ids) expect(r.dom.split(`id="${id}"`), id).toHaveLength(2);
  // each one linkable: its heading links to #<id>
  for (const id of ids) expect(r.dom).toContain(`href="#${id}"`);
}

function assertMessagesAsText(r: Rendered): number {
  const text = visibleText(r.dom);
  let withMarkup = 0;
  for (const c of r.results.checks) {
    // the page shows a verdict's fields where it has them (found / expected / fix, reason), else its message
    const shown = c.found !== undefined || c.reason !== undefined ? [c.found, c.expected, c.fix, c.reason] : [c.message];
    for (const s of shown) {
      if (s === undefined) continue;
      if (/[<>&]/.test(s)) withMarkup++;
      expect(text, `${c.id}: ${s}`).toContain(squash(s));
    }
  }
  expect(r.dom).not.toMatch(/<script/i);
  return withMarkup;
}

/**
 * An undecided group states a reason its checks share once (its headline, or one "why" line), as
 * the console does, not once under each check: the rendered Undecided section (the groups, not
 * the checks listed under a failure) holds each shared reason exactly once.
 */
function assertSharedReasonOnce(r: Rendered): number {
  const all = r.dom.slice(r.dom.indexOf('<section class="status undecided"'));
  const section = visibleText(all.slice(0, Math.max(0, all.indexOf('because of a failure above')) || all.indexOf('</section>')));
  const groups = (r.results as unknown as { undecided: Array<{ checks: string[] }> }).undecided;
  let shared = 0;
  for (const g of groups) {
    const reasons = new Set(r.results.checks.filter((c) => g.checks.includes(c.id) && c.status === 'undecided').map((c) => squash(c.reason ?? c.message)));
    if (reasons.size !== 1) continue;
    const [reason] = [...reasons];
    expect(section.split(reason!).length - 1, `${g.checks.join(', ')}: ${reason}`).toBe(1);
    shared++;
  }
  return shared;
}

async function assertFirstFailedOnFirstScreen(r: Rendered, name: string): Promise<void> {
  const firstFailed = r.results.checks.find((c) => c.status === 'failed');
  expect(firstFailed).toBeDefined();
  const m = await measure(r.page, name);
  // the layout's width is the screenshot's; the height of the first screen is HEIGHT, as the
  // screenshot shows it (--dump-dom's window keeps some of it for browser UI: innerHeight is
  // smaller there, and the page has no height-dependent layout)
  expect(m.innerWidth).toBe(WIDTH);
  expect(m.failed, `the first check on the page (${m.id}) is a failed one`).toBe(true);
  expect(r.results.checks.filter((c) => c.status === 'failed').map((c) => c.id)).toContain(m.id);
  for (const [what, box] of [['id', m.idLink], ['found', m.found], ['fix', m.fix]] as const) {
    expect(box, what).toBeTruthy();
    expect(box!.height, what).toBeGreaterThan(0);
    expect(box!.top, what).toBeGreaterThanOrEqual(0);
    expect(box!.bottom, `${what} of ${m.id} ends at ${box!.bottom}px, below the first screen`).toBeLessThanOrEqual(HEIGHT);
  }
  // and in the DOM: nothing but the banner, the table of contents and headings before it
  const at = r.dom.indexOf(`id="${m.id}"`);
  const before = r.dom.slice(0, r.dom.lastIndexOf('<article', at));
  expect(before).not.toMatch(/<article\b/);
  expect(visibleText(before.slice(before.indexOf('<body'))).length).toBeLessThan(800);
}

async function screenshot(r: Rendered, name: string): Promise<void> {
  const png = join(work, `report-${name}.png`);
  await chromium([`--screenshot=${png}`, url(r.page)]);
  const b = readFileSync(png);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect([b.readUInt32BE(16), b.readUInt32BE(20)]).toEqual([WIDTH, HEIGHT]); // IHDR width, height
  const keep = process.env.SEVCHECK_SCREENSHOTS;
  if (keep) copyFileSync(png, resolve(keep, `report-${name}.png`));
}

describe.skipIf(skip)('report.html in headless Chromium', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('reference-milan (the reference host)', () => {
    let r: Rendered;
    beforeAll(async () => {
      r = await render('reference-milan', 'fixtures/hosts/reference-milan');
    }, 120_000);
    it('every check id once, every message as text with its <...> intact', () => {
      assertEveryCheckOnce(r);
      // the reference host's messages quote libvirt XML (<sev supported='yes'>, <cbitpos>51</cbitpos>)
      expect(assertMessagesAsText(r)).toBeGreaterThan(3);
      expect(visibleText(r.dom)).toContain("<sev supported='yes'>");
    });
    it('the banner, with the verdict, is on the first screen; screenshot', async () => {
      const m = await measure(r.page, 'reference-milan');
      expect(m.banner!.bottom).toBeLessThan(HEIGHT / 3);
      expect(visibleText(r.dom)).toMatch(/\bCOMPLIANT\b/);
      await screenshot(r, 'reference-milan');
    });
  });

  for (const name of ['modprobe-conflict', 'debian12-kvm-guest']) {
    describe(`${name} (a host with failures)`, () => {
      let r: Rendered;
      beforeAll(async () => {
        r = await render(name, `fixtures/hosts/${name}`);
      }, 120_000);
      it('every check id once, every message as text; a reason an undecided group shares, once', () => {
        assertEveryCheckOnce(r);
        assertMessagesAsText(r);
        expect(visibleText(r.dom)).toContain('NOT COMPLIANT');
        if (name === 'debian12-kvm-guest') expect(assertSharedReasonOnce(r)).toBeGreaterThanOrEqual(3);
      });
      it("the first failed check's id, found and fix are on the first screen (1400×900); screenshot", async () => {
        await assertFirstFailedOnFirstScreen(r, name);
        await screenshot(r, name);
      });
    });
  }

  describe('a crafted host: markup in its name and in a modprobe.d file name and line', () => {
    const NAME = "<script>document.title='owned'</script>";
    const FILE = 'zz-<img src=x onerror=document.title=1>.conf';
    const LINE = 'options kvm_amd sev=0 <script>document.title=2</script>';
    let r: Rendered;
    beforeAll(async () => {
      const dir = join(work, 'crafted-host');
      cpSync(resolve(ROOT, 'fixtures/hosts/modprobe-conflict'), dir, { recursive: true });
      const modprobe = join(dir, 'files/etc/modprobe.d');
      renameSync(join(modprobe, 'zz-kvm-tuning.conf'), join(modprobe, FILE));
      appendFileSync(join(modprobe, 'sev.conf'), `${LINE}\n`);
      const host = JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8'));
      writeFileSync(join(dir, 'host.json'), JSON.stringify({ ...host, name: NAME }));
      r = await render('crafted', dir);
    }, 120_000);
    it('renders every crafted string as text: no script or img element, the title unchanged', async () => {
      expect(r.results.host).toBe(NAME);
      const failed = r.results.checks.find((c) => c.id === 'host.modprobe.sev')!;
      const failedMessage = failed.message;
      expect(failedMessage).toContain(FILE); // the crafted file name reaches the verdict
      const text = visibleText(r.dom);
      expect(text).toContain(NAME);
      expect(text).toContain(squash(failed.found ?? failedMessage));
      expect(r.dom).not.toMatch(/<script|<img/i);
      expect(r.dom).toMatch(/<title>sevcheck: &lt;script&gt;document\.title='owned'&lt;\/script&gt; — NOT COMPLIANT<\/title>/);
      // escaping alone, without the CSP: the same page with the CSP meta removed runs nothing either
      const bare = join(work, 'crafted-no-csp.html');
      writeFileSync(bare, readFileSync(r.page, 'utf8').replace(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`, ''));
      const dom = await chromium(['--dump-dom', url(bare)]);
      expect(dom).not.toMatch(/<script|<img/i);
      expect(dom).toMatch(/<title>sevcheck: &lt;script&gt;/);
      assertEveryCheckOnce(r);
    });
  });
});
