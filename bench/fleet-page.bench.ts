/**
 * The fleet's triage page and metrics at 1,000 hosts (issue 20, point 4: index.html ≤ 2 MB,
 * metrics.prom ≤ 10 series per host + 1 per failing check). The hosts are real: one
 * `sevcheck fleet` over every bundled fixture host (their fleet.json), then each copied under new
 * names up to 1,000 (the first fixture failing one more check on every fifth copy, so the page has
 * new failures), with 30 earlier runs of history and a waiver; the fleet writers of this checkout
 * (or of SEVCHECK_BENCH_ROOT, another checkout, for before/after figures) write index.html and
 * metrics.prom. Prints:
 *   - index.html's size (bytes, and per host);
 *   - its open time in Debian's headless Chromium at 1400×900: from navigation start to the
 *     load event with the layout done (a copy of the page without its CSP, with one script that
 *     reads `document.body.offsetHeight` on load and writes performance.now() into the DOM),
 *     the median of 3 opens;
 *   - metrics.prom's series per host (all series / hosts) and its size.
 * Skips the open time when chromium is not installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const TREE = resolve(process.env.SEVCHECK_BENCH_ROOT ?? ROOT);

interface Check { id: string; status: string; [k: string]: unknown }
interface Host { name: string; error?: string; checks: Check[]; [k: string]: unknown }
interface Fleet { startedAt: string; hosts: Host[]; [k: string]: unknown }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** One fleet run over every bundled fixture host: their fleet.json (kept in SEVCHECK_BENCH_FIXTURE_FLEET=FILE when set, and read from it when there). */
function fixtureFleet(work: string): Fleet {
  const cache = process.env.SEVCHECK_BENCH_FIXTURE_FLEET;
  if (cache && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Fleet;
  const hosts = readdirSync(join(ROOT, 'fixtures/hosts')).filter((h) => existsSync(join(ROOT, 'fixtures/hosts', h, 'expected.json'))).sort();
  const inv = join(work, 'inv.yaml');
  writeFileSync(inv, `hosts:\n${hosts.map((h) => `  - {name: ${h}, target: "fixture:${join(ROOT, 'fixtures/hosts', h)}"}`).join('\n')}\n`);
  const out = join(work, 'fixtures-run');
  try {
    execFileSync(process.execPath, [join(ROOT, 'bin/sevcheck.js'), 'fleet', '--inventory', inv, '--out', out, '--format', 'json'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'], timeout: 900_000 });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e; // 1: failures, as expected of the fixtures
  }
  const text = readFileSync(join(out, 'fleet.json'), 'utf8');
  if (cache) writeFileSync(cache, text);
  return JSON.parse(text) as Fleet;
}

/** `n` hosts copied from the fixture fleet, with history and a waiver where this checkout's fleet.json has them. */
function thousand(base: Fleet, n: number): Fleet {
  const real = base.hosts.filter((h) => h.error === undefined);
  const day = (i: number): string => new Date(Date.parse(base.startedAt) - i * 86_400_000).toISOString();
  const hosts: Host[] = [];
  const history: Record<string, Array<{ startedAt: string; failed: number; undecided: number; waived: number }>> = {};
  for (let i = 0; i < n; i++) {
    const h = real[i % real.length] as Host;
    const name = `epyc-${String(i).padStart(4, '0')}`;
    let checks = h.checks;
    if (i % 5 === 0) {
      // a new failure tonight on every fifth host: its first passed check fails
      const at = checks.findIndex((c) => c.status === 'passed');
      checks = checks.map((c, k) => (k === at ? { ...c, status: 'failed', found: 'x', expected: 'y', fix: 'z', message: 'found x; expected y; fix: z' } : c));
    }
    hosts.push({ ...h, name, checks });
    const failed = new Set(checks.filter((c) => c.status === 'failed').map((c) => c.id)).size;
    history[name] = Array.from({ length: 30 }, (_, k) => ({ startedAt: day(30 - k), failed: Math.max(0, failed - (k % 3)), undecided: 2, waived: 0 }));
  }
  return { ...base, hosts, history, changes: undefined };
}

function openTime(chromium: string, work: string, page: string): number {
  const html = readFileSync(page, 'utf8')
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
    .replace('</body>', "<script>addEventListener('load',function(){document.body.offsetHeight;document.documentElement.setAttribute('data-open-ms',String(performance.now()));});</script></body>");
  const copy = join(work, 'open.html');
  writeFileSync(copy, html);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const dom = execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(work, 'profile-'))}`, '--window-size=1400,900', '--dump-dom', pathToFileURL(copy).href], { encoding: 'utf8', maxBuffer: 512 << 20, timeout: 300_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const ms = /data-open-ms="([\d.]+)"/.exec(dom)?.[1];
    if (ms) times.push(Number(ms));
  }
  return times.length ? median(times) : Number.NaN;
}

export async function benchFleetPage(n = 1000, log: (s: string) => void = console.log): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sevcheck-fleet-page-'));
  try {
    const big = thousand(fixtureFleet(work), n);
    const { FLEET_WRITERS } = (await import(pathToFileURL(join(TREE, 'support/fleet/writers.ts')).href)) as { FLEET_WRITERS: Record<string, { file: string; write(f: unknown): string }> };
    const page = join(work, 'index.html');
    const t0 = performance.now();
    writeFileSync(page, FLEET_WRITERS['html']!.write(big));
    const writeMs = performance.now() - t0;
    const bytes = readFileSync(page).length;
    const prom = FLEET_WRITERS['metrics']!.write(big);
    const series = prom.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const failing = big.hosts.reduce((a, h) => a + new Set(h.checks.filter((c) => c.status === 'failed').map((c) => c.id)).size, 0);
    const chromium = ['chromium', 'chromium-browser'].map((c) => { try { return execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim(); } catch { return ''; } }).find((p) => p !== '');
    const open = chromium ? openTime(chromium, work, page) : Number.NaN;
    log(
      `fleet page ${n} hosts (${TREE === ROOT ? 'this checkout' : TREE}): index.html ${(bytes / 1e6).toFixed(2)} MB (${Math.round(bytes / n)} bytes/host, written in ${writeMs.toFixed(0)} ms), ` +
        `open ${Number.isNaN(open) ? 'not measured (no chromium)' : `${open.toFixed(0)} ms`} in headless Chromium; ` +
        `metrics.prom ${series} series (${(series / n).toFixed(1)} per host; ${failing} failing host×check), ${(Buffer.byteLength(prom) / 1e6).toFixed(2)} MB`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export default benchFleetPage;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await benchFleetPage(Number(process.argv[2] ?? 1000));
}
