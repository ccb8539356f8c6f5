/**
 * `sevcheck fleet` end to end (issue 10): a fleet over every bundled fixture host (various
 * profiles) plus `local` in worker threads, each host's checks equal to `sevcheck run --format
 * json` for that host alone; --from-results with a corrupt results.json; a hung ssh host costing
 * only its timeout; waivers, --compare and --fail-on new through the command line; bad input
 * before anything runs; an interrupted run.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../support/cli/main.js';
import { fleetMain } from '../../support/cli/fleet.js';
import type { FleetResults } from '../../support/fleet/types.js';
import { FLEET_WRITERS } from '../../support/fleet/writers.js';
import { WRITERS } from '../../support/report/writers.js';
import { ROOT } from '../helpers.js';
import { expectOneCount } from '../report/one-count.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sevcheck-fleet-'));
const capture = (): { io: { stdout: Writable; stderr: Writable }; out: () => string; err: () => string } => {
  let o = '';
  let e = '';
  const w = (f: (s: string) => void): Writable => new Writable({ write: (c, _x, cb) => (f(String(c)), cb()) });
  return { io: { stdout: w((s) => (o += s)), stderr: w((s) => (e += s)) }, out: () => o, err: () => e };
};
const FIXTURES = join(ROOT, 'fixtures/hosts');
const readFleet = (dir: string): FleetResults => JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as FleetResults;
/**
 * what `sevcheck run --host T [--profile P] --format json` prints for each host, through the
 * CLI's main() in one child process (test/fleet/run-each.ts; one tsx start for all of them: a
 * vitest process cannot run the suite itself, its modules are not the ones cucumber imports)
 */
function runEach(hosts: Array<[string, string | undefined]>): Array<{ checks: unknown[] }> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fleet/run-each.ts'), JSON.stringify(hosts.map(([t, p]) => [t, p ?? null]))], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 500_000,
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out) as Array<{ checks: unknown[] }>;
}

describe('sevcheck fleet over every bundled fixture host plus local', () => {
  const dir = tmp();
  const out = join(dir, 'out');
  // various profiles: some from host.json, some set in the inventory
  const names = readdirSync(FIXTURES).sort();
  const profiles = ['sev-es', undefined, 'sev-snp', undefined, 'sev'];
  const inventory = [
    'hosts:',
    ...names.map((n, i) => `  - {name: ${n}, target: "fixture:${join(FIXTURES, n)}"${profiles[i % 5] ? `, profile: ${profiles[i % 5]}` : ''}, tags: [${i % 2 ? 'odd' : 'even'}]}`),
    '  - {name: this-machine, target: local, tags: [live]}',
  ].join('\n');
  writeFileSync(join(dir, 'inv.yaml'), `${inventory}\n`);
  let fleet: FleetResults;
  /** the first run's progress lines (stderr) */
  let progress = '';
  let code: number;

  it('runs them all in worker threads and writes fleet.json, every fleet writer and hosts/<name>/ report sets', async () => {
    expect(names.length).toBeGreaterThanOrEqual(20);
    const c = capture();
    code = await fleetMain({ inventory: join(dir, 'inv.yaml'), out, format: 'pretty' }, c.io);
    expect(code, c.err()).toBe(1); // the fixture hosts include failing ones
    for (const w of Object.values(FLEET_WRITERS)) expect(existsSync(join(out, w.file))).toBe(true);
    fleet = readFleet(out);
    expect(fleet.complete).toBe(true);
    expect(fleet.hosts.map((h) => h.name)).toEqual([...names, 'this-machine']);
    for (const h of fleet.hosts) {
      expect(h.error, h.name).toBeUndefined();
      for (const w of Object.values(WRITERS)) expect(existsSync(join(out, 'hosts', h.name, w.file)), `${h.name}/${w.file}`).toBe(true);
      // cucumber's own step page is not written per host: nothing links to it
      expect(readFileSync(join(out, 'hosts', h.name, 'report.html'), 'utf8')).not.toContain('cucumber.html');
      expect(readFileSync(join(out, 'hosts', h.name, 'summary.md'), 'utf8')).not.toContain('cucumber.html');
    }
    progress = c.err();
    // not a TTY: one progress line per finished host
    expect(c.err().split('\n').filter((l) => l.startsWith('sevcheck: fleet: ['))).toHaveLength(names.length + 1);
    expect(c.out()).toMatch(/^\d+ hosts in [\d.]+ s: /m);
    // the progress line and the FAILED line count the same checks (by id): "6 failed" where FAILED listed 5 no more
    for (const h of fleet.hosts) {
      const progressLine = c.err().split('\n').find((l) => l.startsWith('sevcheck: fleet: [') && l.includes(`] ${h.name}: `))!;
      const failedLine = c.out().split('\n').find((l) => l.startsWith(`FAILED ${h.name}: `));
      const ids = failedLine ? failedLine.slice(`FAILED ${h.name}: `.length).split(', ') : [];
      expect(progressLine, h.name).toContain(ids.length ? `: ${ids.length} failed (` : ': no failure (');
      expect(ids.length, h.name).toBe(new Set(h.checks.filter((x) => x.status === 'failed').map((x) => x.id)).size);
    }
  }, 600_000);

  it("one count in a fleet: each host's totals, computed from its results.json alone, are what its report set, its row of index.html, metrics.prom, the fleet's junit.xml and its progress line state", async () => {
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const metrics = readFileSync(join(out, 'metrics.prom'), 'utf8');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    let checked = 0;
    for (const h of fleet.hosts) {
      // the host's own report set: results.json totals, report.html, summary.md, junit.xml (test/report/one-count.ts)
      const t = await expectOneCount(join(out, 'hosts', h.name));
      const row = new RegExp(`<tr id="host-${h.name}"[^>]*><th[^]*?</th><td class="t"><span class="[^"]*">(?:<span class="n-new">\\d+ new</span>)?([^<]*)</span>`).exec(index);
      const bad = [t.failed ? `${t.failed} failed` : '', t.undecided ? `${t.undecided} undecided` : ''].filter((x) => x !== '');
      expect(row?.[1], `${h.name}: index.html row`).toBe(bad.length ? bad.join(' · ') : `${t.passed} passed`);
      for (const st of ['failed', 'undecided', 'passed', 'skipped'] as const) expect(metrics, `${h.name}: metrics ${st}`).toContain(`sevcheck_host_checks{host="${h.name}",status="${st}"} ${t[st]}\n`);
      expect(metrics).toContain(`sevcheck_host_checks{host="${h.name}",status="waived"} 0\n`);
      expect(junit, `${h.name}: fleet junit.xml`).toContain(`<testsuite name="${h.name}" tests="${t.checks}" failures="${t.failed}" errors="0" skipped="${t.undecided + t.skipped}"`);
      const line = progress.split('\n').find((l) => l.startsWith('sevcheck: fleet: [') && l.includes(`] ${h.name}: `));
      expect(line, `${h.name}: progress line`).toContain(t.failed ? `] ${h.name}: ${t.failed} failed (` : `] ${h.name}: no failure (`);
      checked++;
    }
    expect(checked).toBe(names.length + 1);
  });

  it("gives each host exactly the checks `sevcheck run --format json` gives for it alone", async () => {
    const alone = runEach([...names.map((n, i): [string, string | undefined] => [`fixture:${join(FIXTURES, n)}`, profiles[i % 5]]), ['local', undefined]]);
    for (const [i, n] of [...names, 'this-machine'].entries()) {
      expect(alone[i]?.checks.length, n).toBeGreaterThan(0);
      expect(fleet.hosts.find((h) => h.name === n)?.checks, n).toEqual(alone[i]?.checks);
    }
  }, 600_000);

  it('--from-results: a corrupt results.json makes that host error, the rest is aggregated', async () => {
    const from = join(dir, 'fetched');
    for (const n of ['reference-milan', 'no-sev-cpu']) {
      mkdirSync(join(from, n), { recursive: true });
      cpSync(join(out, 'hosts', n, 'results.json'), join(from, n, 'results.json'));
    }
    mkdirSync(join(from, 'broken-host'));
    writeFileSync(join(from, 'broken-host', 'results.json'), '{"host": "x", "checks": [');
    const c = capture();
    const agg = join(dir, 'agg');
    expect(await fleetMain({ fromResults: from, out: agg, format: 'json' }, c.io)).toBe(1);
    const f = JSON.parse(c.out()) as FleetResults;
    expect(f).toEqual(readFleet(agg));
    expect(f.hosts.map((h) => [h.name, h.exitCode])).toEqual([['broken-host', 2], ['no-sev-cpu', 1], ['reference-milan', 0]]);
    expect(f.hosts[0]?.error).toMatch(/broken-host\/results\.json: corrupt results\.json: /);
    for (const n of ['reference-milan', 'no-sev-cpu']) {
      expect(f.hosts.find((h) => h.name === n)?.checks).toEqual(fleet.hosts.find((h) => h.name === n)?.checks);
      expect(existsSync(join(agg, 'hosts', n, 'report.html'))).toBe(true);
    }
  }, 120_000);
});

describe('a hung host', () => {
  const sockets: Socket[] = [];
  // accepts the connection and never says a word (an sshd that hangs before its banner)
  const server = createServer((s) => void sockets.push(s));
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('costs only its --host-timeout; the other hosts are checked', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = tmp();
    writeFileSync(join(dir, 'inv.yaml'), `hosts:\n  - {name: hung, target: "ssh://nobody@127.0.0.1:${port}"}\n  - {name: milan, target: "fixture:${join(FIXTURES, 'reference-milan')}"}\n`);
    const c = capture();
    const code = await fleetMain({ inventory: join(dir, 'inv.yaml'), out: join(dir, 'out'), hostTimeout: '3', jobs: '2' }, c.io, { threads: 1 });
    expect(code).toBe(1);
    const f = readFleet(join(dir, 'out'));
    expect(f.hosts[0]).toMatchObject({ name: 'hung', exitCode: 2, error: 'timed out after 3 s', checks: [] });
    expect(f.hosts[1]).toMatchObject({ name: 'milan', exitCode: 0 });
    expect(f.hosts[1]?.checks.length).toBeGreaterThan(20);
    // the hung host cost its --host-timeout, not more (the timer fired; a wall-clock bound on the
    // whole fleet measured the machine's load, not sevcheck: performance is npm run bench fleet's)
    expect(f.hosts[0]?.durationMs).toBeGreaterThanOrEqual(3000);
    expect(f.hosts[0]?.durationMs).toBeLessThan(3000 + 5000);
    expect(c.out()).toMatch(/^ERROR {2}hung \(ssh:\/\/nobody@127\.0\.0\.1:\d+\): timed out after 3 s$/m);
  }, 60_000);
});

describe('waivers, --compare, --fail-on new through the command line', () => {
  const dir = tmp();
  const inv = (hosts: string[]): string => {
    const f = join(dir, `inv-${hosts.length}.yaml`);
    writeFileSync(f, `hosts:\n${hosts.map((h) => `  - {name: ${h}, target: "fixture:${join(FIXTURES, h)}"}`).join('\n')}\n`);
    return f;
  };
  const fleet = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const c = capture();
    const code = await main(['fleet', ...args], c.io);
    return { code, out: c.out(), err: c.err() };
  };

  it('waived failures exit 0; expired and stale waivers are listed; --compare + --fail-on new count only new failures', async () => {
    const first = join(dir, 'night1');
    const r1 = await fleet(['--inventory', inv(['reference-milan', 'kvm-sev-off']), '--out', first, '--format', 'json']);
    expect(r1.code, r1.err).toBe(1);
    const failed = readFleet(first).hosts[1]?.checks.filter((c) => c.status === 'failed').map((c) => c.id) ?? [];
    expect(failed.length).toBeGreaterThan(0);
    const waivers = join(dir, 'waivers.yaml');
    writeFileSync(
      waivers,
      [
        ...failed.map((id) => `- {check: ${id}, hosts: "kvm-*", reason: "BIOS update scheduled", expires: 2999-12-31}`),
        '- {check: host.cpuid.sev, reason: "long gone", expires: 2000-01-01}',
        '- {check: host.kvm-amd.sev, hosts: "nobody-*", reason: "never matches", expires: 2999-12-31}',
      ].join('\n'),
    );
    const r2 = await fleet(['--inventory', inv(['reference-milan', 'kvm-sev-off']), '--out', join(dir, 'waived'), '--waivers', waivers]);
    expect(r2.code, r2.err).toBe(0);
    const w = readFleet(join(dir, 'waived'));
    expect(w.hosts[1]?.checks.filter((c) => c.status === 'failed').every((c) => c.waived?.reason === 'BIOS update scheduled')).toBe(true);
    expect(w.waivers?.expired.map((x) => x.check)).toEqual(['host.cpuid.sev']);
    expect(w.waivers?.stale.map((x) => x.hosts)).toEqual(['nobody-*']);
    expect(r2.out).toMatch(/^expired waiver \(no longer applied\): host\.cpuid\.sev, expired 2000-01-01: long gone$/m);
    expect(r2.out).toMatch(/^stale waiver \(matches no failure\): host\.kvm-amd\.sev on nobody-\*: never matches$/m);

    // the same failures as last night: --fail-on new exits 0, --fail-on any 1
    const same = await fleet(['--inventory', inv(['reference-milan', 'kvm-sev-off']), '--out', join(dir, 'night2'), '--compare', first, '--fail-on', 'new']);
    expect(same.code, same.err).toBe(0);
    const ch = readFleet(join(dir, 'night2')).changes;
    expect(ch?.new).toEqual({});
    expect(ch?.stillFailing).toEqual({ 'kvm-sev-off': [...new Set(failed)].sort() });
    // a failing host that was not there last night: its failures are new
    const more = await fleet(['--inventory', inv(['reference-milan', 'kvm-sev-off', 'no-sev-cpu']), '--out', join(dir, 'night3'), '--compare', first, '--fail-on', 'new']);
    expect(more.code).toBe(1);
    const ch3 = readFleet(join(dir, 'night3')).changes;
    expect(ch3?.newHosts).toEqual(['no-sev-cpu']);
    expect(Object.keys(ch3?.new ?? {})).toEqual(['no-sev-cpu']);
    expect(more.out).toMatch(/^\+\d+ new failures, −0 fixed, 0 newly waived, 0 expiring within 14 days since \S+; \d+ still failing; 1 new hosts, 0 missing$/m);

    // waived tonight: compare says waived, not fixed; the host's own report set carries the waiver
    const tonight = join(dir, 'night4');
    const r4 = await fleet(['--inventory', inv(['reference-milan', 'kvm-sev-off']), '--out', tonight, '--compare', first, '--waivers', waivers]);
    expect(r4.code, r4.err).toBe(0);
    const ch4 = readFleet(tonight).changes;
    expect(ch4?.fixed).toEqual({});
    expect(ch4?.waived).toEqual({ 'kvm-sev-off': [...new Set(failed)].sort() });
    expect(r4.out).toMatch(new RegExp(`^\\+0 new failures, −0 fixed, ${new Set(failed).size} newly waived, 0 expiring within 14 days since `, 'm'));
    const hostDir = join(tonight, 'hosts', 'kvm-sev-off');
    const res = JSON.parse(readFileSync(join(hostDir, 'results.json'), 'utf8')) as { checks: Array<{ status: string; waived?: { reason: string } }>; fleet?: { page: string; waivers: Array<{ check: string }> } };
    expect(res.fleet?.page).toBe('../../index.html#host-kvm-sev-off');
    // the waivers that apply to the host: one per line of the waivers file matching it (not the expired one, not nobody-*)
    expect(res.fleet?.waivers.map((x) => x.check).sort()).toEqual([...failed].sort());
    expect(res.checks.filter((c) => c.status === 'failed').every((c) => c.waived?.reason === 'BIOS update scheduled')).toBe(true);
    const page = readFileSync(join(hostDir, 'report.html'), 'utf8');
    expect(page).toMatch(/<h1>COMPLIANT WITH WAIVERS — \d+ failed checks? waived/);
    expect(page).toContain('<a href="../../index.html#host-kvm-sev-off">back to the fleet page</a>');
    const junit = readFileSync(join(hostDir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<property name="fleet" value="../../index.html#host-kvm-sev-off"/>');
    expect(junit).toMatch(/<property name="waiver" value="[^"]+ on kvm-\* until 2999-12-31: BIOS update scheduled"\/>/);
    expect(junit).toContain('failures="0"');
    expect(junit).toContain('<skipped message="waived until 2999-12-31: BIOS update scheduled; failed: ');
    // the host without a waiver links back too, and says none applies
    const other = readFileSync(join(tonight, 'hosts', 'reference-milan', 'report.html'), 'utf8');
    expect(other).toContain('back to the fleet page</a>. No waiver applies to this host.');
  }, 300_000);

  it.each([
    [['--inventory', 'INV_DUP'], /^sevcheck: .*dup\.yaml: hosts\[1\]\.name: duplicate host name "a" \(also hosts\[0\]\)\n$/],
    [['--inventory', 'INV_OK', '--waivers', 'WAIVERS_BAD'], /^sevcheck: .*bad-waivers\.yaml: \[0\]\.expires: missing \(check, reason and expires are required\)\n$/],
    [['--inventory', 'INV_OK', '--jobs', '0'], /^sevcheck: --jobs: "0" is not a number of hosts at once \(1\.\.9999\)\n$/],
    [['--inventory', 'INV_OK', '--fail-on', 'new'], /^sevcheck: --fail-on new: needs --compare PREV \(new since which run\?\)\n$/],
    [['--inventory', 'INV_OK', '--compare', '/nonexistent'], /^sevcheck: --compare \/nonexistent\/fleet\.json: no such file\n$/],
    [['--inventory', 'INV_OK', '--tags', 'rack-a and'], /^sevcheck: --tags: "rack-a and" is not a tag expression over host tags: /],
    [['--inventory', 'INV_OK', '--from-results', '/tmp'], /^sevcheck: fleet: give exactly one of --inventory FILE, --ansible-inventory FILE, --from-results DIR\n$/],
    [['--inventory', '/nonexistent.yaml'], /^sevcheck: --inventory \/nonexistent\.yaml: no such file\n$/],
  ])('bad input %j: one line, exit 2, nothing written', async (args, message) => {
    writeFileSync(join(dir, 'dup.yaml'), 'hosts:\n  - {name: a, target: local}\n  - {name: a, target: local}\n');
    writeFileSync(join(dir, 'ok.yaml'), 'hosts:\n  - {name: a, target: local}\n');
    writeFileSync(join(dir, 'bad-waivers.yaml'), '- {check: a.b, reason: r}\n');
    const files: Record<string, string> = { INV_DUP: join(dir, 'dup.yaml'), INV_OK: join(dir, 'ok.yaml'), WAIVERS_BAD: join(dir, 'bad-waivers.yaml') };
    const out = join(dir, 'never');
    const r = await fleet([...args.map((a) => files[a] ?? a), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('on a terminal, progress is one live line (done/total, failed, errors, elapsed), cleared at the end', async () => {
    const c = capture();
    let err = '';
    const stderr = Object.assign(new Writable({ write: (s, _e, cb) => ((err += String(s)), cb()) }), { isTTY: true });
    const code = await fleetMain({ inventory: inv(['kvm-sev-off']), out: join(dir, 'tty') }, { stdout: c.io.stdout, stderr }, { threads: 1 });
    expect(code).toBe(1);
    expect(err).toContain('\r\x1b[K[1/1] failed 1, errors 0, ');
    expect(err.endsWith('\r\x1b[K')).toBe(true);
    expect(err).not.toContain('\n');
  }, 120_000);

  it('an interrupted run writes what finished with complete: false and exits 1', async () => {
    const ctl = new AbortController();
    const c = capture();
    const stderr = new Writable({ write: (s, _e, cb) => (String(s).includes('[1/') && ctl.abort('interrupted'), cb()) });
    const out = join(dir, 'interrupted');
    const code = await fleetMain({ inventory: inv(['reference-milan', 'kvm-sev-off', 'no-sev-cpu', 'reference-genoa']), out }, { stdout: c.io.stdout, stderr }, { threads: 1, signal: ctl.signal });
    expect(code).toBe(1);
    const f = readFleet(out);
    expect(f.complete).toBe(false);
    expect(f.hosts.length).toBeGreaterThanOrEqual(1);
    expect(f.hosts.length).toBeLessThan(4);
    for (const h of f.hosts) expect(h.error, h.name).toBeUndefined();
    expect(c.out()).toMatch(/^INTERRUPTED: /m);
  }, 120_000);
});
