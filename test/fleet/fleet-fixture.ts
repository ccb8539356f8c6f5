/**
 * A FleetResults for the fleet report tests, built from real runs: `sevcheck run --format json` on
 * bundled fixture hosts (each host's checks exactly as that command gives them, as fleet.json
 * holds them), two at a time, plus what only a fleet run adds, synthesised here where a real one
 * would need the fleet command (branch fleet): waived failures, a host that could not be checked,
 * expired and stale waivers, changes since a compared run, and a crafted host whose check message
 * and found carry markup.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, existsSync, rmSync, statSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, sevcheck } from '../helpers.js';
import type { FleetCheck, FleetHost, FleetResults, HistoryPoint } from '../../support/fleet/types.js';
import type { Results } from '../../support/report/results.js';

const HOSTS = join(ROOT, 'fixtures/hosts');

/** Bundled fixture hosts (those with an expected.json), in name order. */
export function fixtureHosts(): string[] {
  return readdirSync(HOSTS).filter((h) => existsSync(join(HOSTS, h, 'expected.json'))).sort();
}

/** `sevcheck run --format json` on each host, `jobs` at a time; results in host order. */
export async function runFixtures(names: readonly string[], jobs = 2): Promise<Results[]> {
  const out = mkdtempSync(join(tmpdir(), 'sevcheck-fleet-fixture-'));
  const results: Results[] = new Array(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const name = names[i]!;
      const r = await sevcheck(['run', '--host', `fixture:fixtures/hosts/${name}`, '--format', 'json', '--out', join(out, name)], {}, 120_000);
      if (r.stderr !== '' || (r.code !== 0 && r.code !== 1)) throw new Error(`sevcheck run on ${name}: exit ${r.code}: ${r.stderr}`);
      results[i] = JSON.parse(r.stdout) as Results;
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return results;
}

/** Every file under `dir` with its size and mtime: what the runs' results depend on. */
function stamp(dir: string, into: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) stamp(p, into);
    else if (e.isFile()) {
      const st = statSync(p);
      into.push(`${p}:${st.size}:${st.mtimeMs}`);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * runFixtures once per source state for all the fleet report test files: the first file to ask
 * runs the hosts and leaves the results in the temp directory, keyed by a hash of every source,
 * step, feature and fixture file (path, size, mtime), so an edit anywhere runs them again; a file
 * that asks meanwhile waits for it (a lock directory), or runs them itself after 5 minutes.
 */
export async function runFixturesShared(names: readonly string[]): Promise<Results[]> {
  const files: string[] = [...names];
  for (const d of ['support', 'steps', 'features', 'bin', 'cucumber.json', ...names.map((n) => `fixtures/hosts/${n}`)]) {
    const p = join(ROOT, d);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) stamp(p, files);
    else files.push(`${p}:${statSync(p).mtimeMs}`);
  }
  const key = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), `sevcheck-fleet-fixture-${key}.json`);
  const lock = `${cache}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Results[];
    try {
      mkdirSync(lock);
      break; // ours to run
    } catch {
      if (Date.now() > deadline) return runFixtures(names); // a stale lock: run them here
      await sleep(1000);
    }
  }
  try {
    const results = await runFixtures(names);
    writeFileSync(`${cache}.tmp`, JSON.stringify(results));
    renameSync(`${cache}.tmp`, cache);
    return results;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export const WAIVER = { reason: 'BIOS update scheduled with the vendor (TICKET-4711)', expires: '2027-01-31' } as const;
export const ERROR_HOST = 'epyc-z9-down';
export const ERROR_REASON = 'ssh: connect to host epyc-z9-down port 22: Connection timed out (after 120 s)';
export const CRAFTED_HOST = 'crafted-<b>host';
export const CRAFTED_MESSAGE = "<script>document.title='owned'</script>";
export const CRAFTED_FOUND = '<img src=x onerror="document.title=1"> in /etc/modprobe.d/x.conf';

const tags = (i: number): string[] => [`rack-${'abc'[i % 3]}`, i % 2 ? 'genoa' : 'milan'];

function toHost(r: Results, i: number, name = r.host): FleetHost {
  const failed = r.checks.some((c) => c.status === 'failed');
  return { name, target: r.target, profile: r.profile, tags: tags(i), exitCode: failed ? 1 : 0, hostInfo: r.hostInfo, durationMs: r.durationMs, checks: r.checks };
}

/** Waive every failed scenario of `id` on `host` (what the fleet does for a matching waiver). */
export function waive(h: FleetHost, id: string): FleetHost {
  return { ...h, checks: h.checks.map((c): FleetCheck => (c.id === id && c.status === 'failed' ? { ...c, waived: { ...WAIVER } } : c)) };
}

/**
 * The test fleet: `runs` as hosts (tagged by rack and generation), the first failing check of the
 * first two failing hosts waived, one host that could not be checked, one crafted host, changes
 * and waiver lists.
 */
export function fleetOf(runs: readonly Results[]): FleetResults {
  let hosts = runs.map((r, i) => toHost(r, i));
  const failing = hosts.filter((h) => h.checks.some((c) => c.status === 'failed')).slice(0, 2);
  for (const f of failing) {
    const id = f.checks.find((c) => c.status === 'failed')!.id;
    hosts = hosts.map((h) => (h.name === f.name ? waive(h, id) : h));
  }
  const base = hosts.find((h) => h.checks.some((c) => c.status === 'failed' && !c.waived)) ?? hosts[0]!;
  const firstFailed = base.checks.findIndex((c) => c.status === 'failed' && !c.waived);
  const crafted: FleetHost = {
    ...base,
    name: CRAFTED_HOST,
    tags: ['rack-<x>'],
    checks: base.checks.map((c, i) =>
      i === firstFailed ? { ...c, found: CRAFTED_FOUND, message: `found ${CRAFTED_FOUND}; expected ${c.expected}; fix: ${c.fix}`, scenario: CRAFTED_MESSAGE } : c,
    ),
  };
  const down: FleetHost = { name: ERROR_HOST, target: `ssh://root@${ERROR_HOST}`, profile: 'sev-snp', tags: ['rack-a'], exitCode: 2, error: ERROR_REASON, checks: [] };
  hosts = [...hosts, crafted, down];
  const withFailure = hosts.filter((h) => h.error === undefined && h.checks.some((c) => c.status === 'failed' && !c.waived));
  const firstId = (h: FleetHost): string => h.checks.find((c) => c.status === 'failed' && !c.waived)!.id;
  return {
    startedAt: '2026-12-03T02:17:00.000Z',
    durationMs: 41_250,
    complete: true,
    hosts,
    changes: {
      against: { dir: 'reports/fleet/2026-12-02T02:14:09Z', startedAt: '2026-12-02T02:14:09.000Z' },
      new: withFailure[0] ? { [withFailure[0].name]: [firstId(withFailure[0])] } : {},
      fixed: { [hosts[0]!.name]: ['host.cpuid.sev'] },
      stillFailing: Object.fromEntries(withFailure.slice(1, 4).map((h) => [h.name, [firstId(h)]])),
      waived: failing[0] ? { [failing[0].name]: [failing[0].checks.find((c) => c.status === 'failed')!.id] } : {},
      newHosts: [CRAFTED_HOST],
      missingHosts: ['epyc-retired-07'],
    },
    waivers: {
      active: [{ check: 'host.kvm-amd.sev', hosts: 'epyc-a*', ...WAIVER }],
      expiring: [{ check: 'host.sev.firmware-version', hosts: 'epyc-c*', reason: 'firmware 1.55 rollout (TICKET-4790)', expires: '2026-12-10' }],
      expired: [{ check: 'host.iommu.enabled', hosts: 'epyc-b*', reason: 'IOMMU firmware fix pending', expires: '2026-11-30' }],
      stale: [{ check: 'device.sev.qemu-access', reason: 'old libvirt packaging', expires: '2027-06-30' }],
    },
  };
}

/**
 * `fleet` with what --history adds: 30 earlier runs per host (failed counts that wander), and
 * first-seen dates: every other failing check of a host failing since 2026-11-20, the rest new tonight.
 */
export function withHistory(fleet: FleetResults): FleetResults {
  const day = (i: number): string => new Date(Date.parse(fleet.startedAt) - i * 86_400_000).toISOString();
  const history: Record<string, HistoryPoint[]> = {};
  const firstSeen: Record<string, Record<string, string>> = {};
  fleet.hosts.forEach((h, i) => {
    history[h.name] = Array.from({ length: 30 }, (_, k) => ({ startedAt: day(30 - k), failed: (i + k) % 4, undecided: 2, waived: k > 25 ? 1 : 0 }));
    const ids = [...new Set(h.checks.filter((c) => c.status === 'failed').map((c) => c.id))];
    if (ids.length) firstSeen[h.name] = Object.fromEntries(ids.map((id, k) => [id, k % 2 ? fleet.startedAt : '2026-11-20T02:14:00.000Z']));
  });
  return { ...fleet, history, firstSeen };
}

/**
 * A synthetic fleet of `hosts` × `ids` check ids, for size measurements: host i is a copy of run
 * i mod runs.length, renamed; when the suite has fewer ids than `ids`, copies of its checks under
 * ids with a `-copyN` suffix make up the difference (same messages, so the same weight per cell).
 */
export function largeFleet(runs: readonly Results[], hosts: number, ids: number): FleetResults {
  const base = fleetOf(runs);
  const real = base.hosts.filter((h) => h.error === undefined);
  const widen = (checks: readonly FleetCheck[]): FleetCheck[] => {
    const all = [...new Set(checks.map((c) => c.id))];
    // exactly `ids` columns: the first ones of the catalog when it has more, copies when fewer
    const distinct = all.slice(0, ids);
    const out = checks.filter((c) => distinct.includes(c.id));
    for (let n = 0; distinct.length + n < ids; n++) {
      const id = distinct[n % distinct.length]!;
      out.push(...checks.filter((c) => c.id === id).map((c) => ({ ...c, id: `${id}-copy${Math.floor(n / distinct.length) + 1}` })));
    }
    return out;
  };
  return {
    ...base,
    hosts: Array.from({ length: hosts }, (_, i) => {
      const h = real[i % real.length]!;
      return { ...h, name: `epyc-${String(i).padStart(4, '0')}`, checks: widen(h.checks) };
    }),
    changes: undefined,
  };
}
