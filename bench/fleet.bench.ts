/**
 * `sevcheck fleet` over N fixture hosts generated from the bundled ones (symlinks in a temporary
 * directory, cycling through fixtures/hosts/*), through bin/sevcheck.js as a user runs it (the
 * prebuilt bundle after `npm run prepare`). Goals (issue 10): 200 hosts ≤ 10 s wall on the 2-core
 * machine, peak memory ≤ 1 GiB (resident set of the process, all worker threads: they share it),
 * 1000 hosts ≤ 50 s; issue 23: 1000 hosts ≤ 10 s. Prints the curve and the per-host cost (wall /
 * hosts), where a host's time goes (open / suite / collect / write, from the run's own phase
 * timings) and the CPU spent in child processes (xmllint), which no phase shows. `npm run bench
 * fleet 1000` runs one size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

export interface FleetPoint {
  hosts: number;
  wallMs: number;
  perHostMs: number;
  peakRssMiB: number;
  /** user + system CPU seconds of the whole process (all threads): wall on an idle machine is about this / cores */
  cpuS: number;
  exitCode: number;
  /** the 1-minute load average before the run: the machine is shared, wall time depends on it */
  load: number;
}

/** GNU time's %M (maximum resident set size, KiB) when /usr/bin/time is there, else the fleet's own sampled peak. */
function run(args: string[], env: NodeJS.ProcessEnv): { wallMs: number; rssKiB: number; cpuS: number; code: number; stdout: string } {
  const gnuTime = existsSync('/usr/bin/time');
  const argv = [process.execPath, join(ROOT, 'bin/sevcheck.js'), ...args];
  const t0 = performance.now();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'maxrss=%M cpu=%U+%S', ...argv], { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 256 << 20 })
    : spawnSync(argv[0] as string, argv.slice(1), { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 256 << 20 });
  const wallMs = performance.now() - t0;
  const fromTime = /maxrss=(\d+)/.exec(r.stderr ?? '')?.[1];
  const fromFleet = /peak memory (\d+) MiB/.exec(r.stdout ?? '')?.[1];
  const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(r.stderr ?? '');
  return { wallMs, rssKiB: fromTime ? Number(fromTime) : Number(fromFleet ?? 0) * 1024, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN, code: r.status ?? -1, stdout: r.stdout ?? '' };
}

export function benchFleet(sizes = [50, 100, 200, 1000], log: (s: string) => void = console.log): FleetPoint[] {
  const fixtures = readdirSync(join(ROOT, 'fixtures/hosts')).sort();
  const points: FleetPoint[] = [];
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-fleet-bench-'));
    const lines = ['hosts:'];
    for (let i = 0; i < n; i++) {
      const from = fixtures[i % fixtures.length] as string;
      const name = `h${String(i).padStart(4, '0')}-${from}`;
      symlinkSync(join(ROOT, 'fixtures/hosts', from), join(dir, name));
      lines.push(`  - {name: ${name}, target: "fixture:${name}"}`);
    }
    writeFileSync(join(dir, 'inv.yaml'), `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    const load = loadavg()[0] ?? 0;
    const timings = join(dir, 'timings.json');
    const r = run(['fleet', '--inventory', join(dir, 'inv.yaml'), '--out', out], { ...process.env, SEVCHECK_FLEET_TIMINGS: timings });
    const point = { hosts: n, wallMs: r.wallMs, perHostMs: r.wallMs / n, peakRssMiB: r.rssKiB / 1024, cpuS: r.cpuS, exitCode: r.code, load };
    points.push(point);
    let phases = '';
    if (existsSync(join(out, 'fleet.json'))) {
      const f = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')) as { durationMs: number; hosts: Array<{ durationMs?: number; error?: string }> };
      const errors = f.hosts.filter((h) => h.error).length;
      const mean = f.hosts.reduce((a, h) => a + (h.durationMs ?? 0), 0) / f.hosts.length;
      phases = `, fleet ${f.durationMs} ms, mean host ${mean.toFixed(0)} ms in its thread, ${errors} errors`;
    }
    if (existsSync(timings)) {
      const t = JSON.parse(readFileSync(timings, 'utf8')) as { cpu?: { user: number; system: number }; hosts: Array<{ phases: Record<string, number> }> };
      const sum: Record<string, number> = {};
      for (const h of t.hosts) for (const [k, v] of Object.entries(h.phases)) sum[k] = (sum[k] ?? 0) + v;
      phases += `; per host: ${Object.entries(sum).map(([k, v]) => `${k} ${(v / t.hosts.length).toFixed(0)} ms`).join(', ')}`;
      // the CPU column counts child processes too (xmllint for guest definitions): their share,
      // which no phase above shows (it is spent outside the process)
      if (t.cpu && Number.isFinite(r.cpuS)) {
        const own = (t.cpu.user + t.cpu.system) / 1e6;
        phases += `; CPU in child processes ${(((r.cpuS - own) * 1000) / n).toFixed(1)} ms/host`;
      }
    }
    log(
      `fleet ${String(n).padStart(5)} hosts: ${(r.wallMs / 1000).toFixed(1).padStart(5)} s wall, ${point.perHostMs.toFixed(1)} ms/host, ` +
        `CPU ${r.cpuS.toFixed(1)} s (${((r.cpuS * 1000) / n).toFixed(0)} ms/host), peak RSS ${point.peakRssMiB.toFixed(0)} MiB, load ${load.toFixed(1)} on ${availableParallelism()} cores, exit ${r.code}${phases}`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
  return points;
}

export default benchFleet;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-run.mjs')], { cwd: ROOT, stdio: 'inherit' });
  benchFleet(process.argv.slice(2).map(Number).filter((n) => n > 0).length ? process.argv.slice(2).map(Number) : undefined);
}
