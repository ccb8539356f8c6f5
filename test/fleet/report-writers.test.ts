/**
 * The fleet's text reports (support/fleet/writers.ts): metrics.prom, junit.xml and summary.md,
 * written from a FleetResults built from real runs of 22 bundled fixture hosts plus a waived
 * failure, a host that could not be checked, a crafted host, changes and waiver lists
 * (fleet-fixture.ts), and checked by the tools that read them:
 * - metrics.prom by `promtool check metrics` (Debian's prometheus package), and parsed back:
 *   per-host totals by check id, one series per failing check, ≤ 10 series per host at 1,000 hosts;
 * - junit.xml by `xmllint --noout` (libxml2-utils): well-formed, one testsuite per host, one
 *   testcase per check id;
 * - summary.md by what a release ticket needs.
 * promtool and xmllint are installed by .ci/run; without them these checks are skipped, unless
 * SEVCHECK_REQUIRE_TOOLS=1 (set by .ci/run), where their absence fails them.
 */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_WRITERS, hostReportPage } from '../../support/fleet/writers.js';
import { metricsProm, labelValue } from '../../support/fleet/metrics.js';
import { fleetJunitXml } from '../../support/fleet/junit.js';
import { fleetSummaryMarkdown } from '../../support/fleet/summary.js';
import { fleetMatrix, rowTally } from '../../support/fleet/matrix.js';
import { totals as findingsTotals } from '../../support/report/findings.js';
import { VERSION } from '../../support/version.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetResults } from '../../support/fleet/types.js';
import { ROOT, which } from '../helpers.js';
import type { Results } from '../../support/report/results.js';
import { CRAFTED_FOUND, CRAFTED_HOST, ERROR_HOST, ERROR_REASON, WAIVER, fixtureHosts, fleetOf, largeFleet, runFixturesShared } from './fleet-fixture.js';


/** Run a tool with `input` on stdin: an argv array with a timeout. */
function tool(argv: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = execFile(argv[0]!, argv.slice(1), { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
    p.stdin?.end(input);
  });
}

const require = process.env.SEVCHECK_REQUIRE_TOOLS === '1';
const PROMTOOL = which('promtool');
const XMLLINT = which('xmllint');

let runs: Results[];
let fleet: FleetResults;
beforeAll(async () => {
  const names = fixtureHosts().slice(0, 22);
  expect(names.length).toBe(22);
  runs = await runFixturesShared(names);
  fleet = fleetOf(runs);
}, 900_000);

/** `name{labels} value` lines of a family, parsed back (labels unescaped). */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[a-z_]+(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![1] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(m![2]) });
  }
  return out;
}

describe('fleet writers table', () => {
  it('names every file of the fleet report set once, and links hosts to their own report.html', () => {
    expect(Object.values(FLEET_WRITERS).map((w) => w.file).sort()).toEqual(['fleet.json', 'index.html', 'junit.xml', 'metrics.prom', 'summary.md']);
    expect(hostReportPage('epyc-a1')).toBe('hosts/epyc-a1/report.html');
    for (const w of Object.values(FLEET_WRITERS)) expect(w.write(fleet).length, w.file).toBeGreaterThan(100);
  });
});

describe('metrics.prom', () => {
  it.skipIf(!PROMTOOL && !require)('passes `promtool check metrics`', async () => {
    expect(PROMTOOL, 'promtool (Debian package prometheus) is installed').toBeDefined();
    const r = await tool([PROMTOOL!, 'check', 'metrics'], metricsProm(fleet));
    expect(r.stderr + r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('per host: its checks by id per status (the numbers of its pages), up, duration; one series per failing or waived check only', () => {
    const text = metricsProm(fleet);
    const m = fleetMatrix(fleet);
    const totals = samples(text, 'sevcheck_host_checks');
    for (const h of fleet.hosts) {
      const mine = totals.filter((x) => x.labels['host'] === h.name);
      if (h.error !== undefined) {
        expect(mine, h.name).toEqual([]);
        continue;
      }
      const n = rowTally(m, h.name);
      expect(Object.fromEntries(mine.map((x) => [x.labels['status'], x.value])), h.name).toEqual({ failed: n.failed, waived: n.waived, undecided: n.undecided, passed: n.passed, skipped: n.skipped });
      // the same totals as the host's own findings (report/findings.ts): one count everywhere
      const t = findingsTotals(h.checks);
      expect(n.failed + n.waived, h.name).toBe(t.failed);
      expect([n.undecided, n.passed, n.skipped], h.name).toEqual([t.undecided, t.passed, t.skipped]);
    }
    const failing = samples(text, 'sevcheck_check_failed');
    for (const x of failing) expect(x.value).toBe(1);
    const expected = fleet.hosts.flatMap((h) => m.columns.filter((c) => ['failed', 'waived'].includes(m.cell(h.name, c.id)?.status ?? '')).map((c) => `${h.name} ${c.id} ${m.cell(h.name, c.id)!.status === 'waived'}`));
    expect(failing.map((x) => `${x.labels['host']} ${x.labels['check']} ${x.labels['waived']}`).sort()).toEqual(expected.sort());
    expect(failing.filter((x) => x.labels['waived'] === 'true').length).toBeGreaterThanOrEqual(2);
    // and the real runs' failures are there: every host's failed ids, waived or not
    for (const r of runs) {
      const failedIds = new Set(r.checks.filter((c) => c.status === 'failed').map((c) => c.id));
      expect(new Set(failing.filter((x) => x.labels['host'] === r.host).map((x) => x.labels['check'])), r.host).toEqual(failedIds);
    }
    // HELP and TYPE before each family, once
    for (const name of ['sevcheck_host_checks', 'sevcheck_host_up', 'sevcheck_check_failed', 'sevcheck_waiver_expiry_timestamp_seconds', 'sevcheck_build_info', 'sevcheck_run_duration_seconds', 'sevcheck_last_run_timestamp_seconds']) {
      expect(text.split(`# HELP ${name} `)).toHaveLength(2);
      expect(text.split(`# TYPE ${name} gauge\n`)).toHaveLength(2);
    }
  });

  it('waiver expiry (the end of its day, UTC) per live waiver, and the build info', () => {
    const text = metricsProm(fleet);
    const w = samples(text, 'sevcheck_waiver_expiry_timestamp_seconds');
    const live = [...fleet.waivers!.active, ...fleet.waivers!.stale];
    expect(w.map((x) => [x.labels['check'], x.labels['hosts'], x.value])).toEqual(live.map((l) => [l.check, l.hosts ?? '*', Date.parse(`${l.expires}T23:59:59Z`) / 1000 + 1]));
    expect(samples(text, 'sevcheck_build_info')).toEqual([{ labels: { version: VERSION }, value: 1 }]);
    expect(VERSION).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('host_up, duration, last-run timestamp', () => {
    const text = metricsProm(fleet);
    const up = samples(text, 'sevcheck_host_up');
    expect(up.length).toBe(fleet.hosts.length);
    expect(up.find((x) => x.labels['host'] === ERROR_HOST)?.value).toBe(0);
    expect(up.filter((x) => x.value === 1).length).toBe(fleet.hosts.length - 1);
    expect(samples(text, 'sevcheck_run_duration_seconds')[0]?.value).toBe(41.25);
    expect(samples(text, 'sevcheck_last_run_timestamp_seconds')[0]?.value).toBe(Date.parse('2026-12-03T02:17:00.000Z') / 1000 + 41.25);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes label values per the exposition format (\\\\, \\", \\n), and promtool reads them back', async () => {
    expect(labelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const odd = 'we"ird\\host\nname';
    const f: FleetResults = { ...fleet, hosts: [{ ...fleet.hosts[0]!, name: odd }] };
    const text = metricsProm(f);
    expect(samples(text, 'sevcheck_host_up')[0]?.labels['host']).toBe(odd);
    expect(text.split('\n').filter((l) => l.startsWith('sevcheck_host_up{'))).toEqual(['sevcheck_host_up{host="we\\"ird\\\\host\\nname"} 1']);
    if (PROMTOOL) expect((await tool([PROMTOOL, 'check', 'metrics'], text)).code).toBe(0);
  });

  it('1,000 hosts × every check of the catalog: at most 10 series per host + 1 per failing check, promtool-checked', async () => {
    const catalog = new Set(runs.flatMap((r) => r.checks.map((c) => c.id))).size; // 75 today
    const big = largeFleet(runs, 1000, catalog);
    const m = fleetMatrix(big);
    const text = metricsProm(big);
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const failing = big.hosts.reduce((n, h) => n + m.columns.filter((c) => ['failed', 'waived'].includes(m.cell(h.name, c.id)?.status ?? '')).length, 0);
    console.log(`metrics.prom at 1,000 hosts × ${catalog} checks: ${series} series (${(series / 1000).toFixed(1)} per host; ${failing} failing host × check), ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`);
    expect(series).toBeLessThanOrEqual(10 * 1000 + failing + 10);
    expect(series - failing).toBeLessThanOrEqual(7 * 1000 + 10);
    if (PROMTOOL) expect((await tool([PROMTOOL, 'check', 'metrics'], text)).code).toBe(0);
  }, 120_000);
});

describe('junit.xml', () => {
  it.skipIf(!XMLLINT && !require)('is well-formed XML (xmllint)', async () => {
    expect(XMLLINT, 'xmllint (libxml2-utils) is installed').toBeDefined();
    const r = await tool([XMLLINT!, '--noout', '-'], fleetJunitXml(fleet));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('one testsuite per host; failures, waived failures as skipped, the error host as one error testcase', () => {
    const xml = fleetJunitXml(fleet);
    const suites = [...xml.matchAll(/<testsuite name="([^"]*)" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g)];
    expect(suites.map((s) => s[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>'))).toEqual(fleet.hosts.map((h) => h.name));
    for (const r of runs) {
      const s = suites.find((x) => x[1] === r.host)!;
      const host = fleet.hosts.find((h) => h.name === r.host)!;
      // one testcase per check id: the host's numbers on every page
      const n = rowTally(fleetMatrix(fleet), r.host);
      expect(Number(s[2]), r.host).toBe(new Set(r.checks.map((c) => c.id)).size);
      expect(Number(s[3]), r.host).toBe(n.failed);
      expect(Number(s[5]), r.host).toBe(n.waived + n.undecided + n.skipped);
      expect(n.failed, r.host).toBe(new Set(host.checks.filter((c) => c.status === 'failed' && !c.waived).map((c) => c.id)).size);
    }
    const down = xml.slice(xml.indexOf(`<testsuite name="${ERROR_HOST}"`));
    expect(down.slice(0, down.indexOf('</testsuite>'))).toContain(`<error message="${ERROR_REASON}">`);
    expect(xml).toContain(`<skipped message="waived until ${WAIVER.expires}: ${WAIVER.reason}; failed: found `);
    // each suite links back to the fleet page and names the waivers that apply to its host
    const withLinks = fleetJunitXml(fleet, { page: 'index.html', waiversFor: (h) => (h.startsWith('epyc-a') ? [{ check: 'host.kvm-amd.sev', hosts: 'epyc-a*', ...WAIVER }] : []) });
    expect(withLinks).toContain(`<property name="fleet" value="index.html#host-${runs[0]!.host}"/>`);
    // crafted markup is escaped
    expect(xml).not.toContain(CRAFTED_FOUND);
    expect(xml).toContain(CRAFTED_FOUND.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
  });
});

describe('summary.md', () => {
  it('verdict line, a row per host, failures with found and fix, the error, waivers, changes', () => {
    const md = fleetSummaryMarkdown(fleet, { page: 'index.html' });
    expect(md).toMatch(/^# sevcheck fleet\n\n\*\*NOT COMPLIANT\*\* — 24 hosts: \d+ without failures, \d+ failing, 1 could not be checked; \d+ waived failures\./);
    for (const h of fleet.hosts) if (h.name !== CRAFTED_HOST) expect(md).toContain(`| ${h.name.replace(/_/g, '\\_')} | ${h.profile} |`);
    expect(md).toContain('crafted-\\<b\\>host'); // markup escaped
    expect(md).not.toMatch(/(^|[^\\])<img/); // only as \<img, text
    // every unwaived failure's fix is in the summary
    for (const h of fleet.hosts) for (const c of h.checks) if (c.status === 'failed' && !c.waived && c.fix) expect(md).toContain(`\`${c.id}\``);
    expect(md).toContain(`## Could not be checked (1)\n\n- ${ERROR_HOST} (ssh://root@${ERROR_HOST}): ${ERROR_REASON}`);
    expect(md).toContain(`until ${WAIVER.expires}: ${WAIVER.reason}`);
    expect(md).toContain('Expired — no longer applied, renew or fix (1):');
    expect(md).toContain('Stale — matched no failure, remove them (1):');
    expect(md).toContain('## Changes since 2026-12-02T02:14:09.000Z');
    expect(md).toContain('**+1 new failure, −1 fixed, 1 newly waived, 1 expiring within 14 days since 2026-12-02T02:14:09.000Z**');
    expect(md).toMatch(/^- newly waived:$/m);
    expect(md).toContain('- missing hosts: epyc-retired-07');
    expect(md).toContain('[index.html](index.html)');
  });

  it('one entry per check and fix, naming the hosts, however many hosts share it', () => {
    const md = fleetSummaryMarkdown(largeFleet(runs, 300, 44));
    const failedIds = new Set(runs.flatMap((r) => r.checks.filter((c) => c.status === 'failed').map((c) => c.id)));
    expect(md.split('\n').filter((l) => l.startsWith('### ')).length).toBeLessThanOrEqual(failedIds.size);
    expect(md).toMatch(/ and \d+ more — /);
  });
});
