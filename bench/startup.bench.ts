/**
 * Start-up of `sevcheck run --host fixture:fixtures/hosts/reference-milan`, warm, the whole
 * process as a user starts it (goal ≤ 0.5 s on the 2-core CI machine, and ≤ 5× a bare
 * `node -e 0`, issue 23; `npm run bench startup`): from the prebuilt bundle
 * (dist/run/, what bin/sevcheck.js runs while the sources are unchanged) and through tsx
 * (SEVCHECK_NO_PREBUILT=1), with `node -e 0` as the floor. Uses hyperfine when installed
 * (Debian: apt-get install hyperfine), else its own loop; prints wall and CPU (user + system)
 * times: on a shared machine the CPU time is the steadier number.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

export interface StartupTiming {
  readonly name: string;
  /** median wall time, ms */
  readonly wallMs: number;
  /** median user + system CPU time, ms */
  readonly cpuMs: number;
}

function cases(outDir: string): Array<{ name: string; argv: string[]; env: Record<string, string> }> {
  const run = [join(ROOT, 'bin/sevcheck.js'), 'run', '--host', 'fixture:fixtures/hosts/reference-milan', '--out', outDir];
  return [
    { name: 'run, prebuilt bundle', argv: [process.execPath, ...run], env: {} },
    { name: 'run, through tsx', argv: [process.execPath, ...run], env: { SEVCHECK_NO_PREBUILT: '1' } },
    { name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'], env: {} },
  ];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function withHyperfine(runs: number, outDir: string): StartupTiming[] | undefined {
  if (spawnSync('hyperfine', ['--version']).status !== 0) return undefined;
  const json = join(mkdtempSync(join(tmpdir(), 'sevcheck-hf-')), 'out.json');
  const cs = cases(outDir);
  const cmds = cs.map((c) => [...Object.entries(c.env).map(([k, v]) => `env ${k}=${v}`), ...c.argv].join(' '));
  execFileSync('hyperfine', ['-N', '-i', '-w', '2', '-r', String(runs), '--export-json', json, ...cmds], { cwd: ROOT, stdio: 'ignore' });
  const r = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ median: number; user: number; system: number }> };
  return r.results.map((x, i) => ({ name: cs[i]!.name, wallMs: x.median * 1000, cpuMs: (x.user + x.system) * 1000 }));
}

function withLoop(runs: number, outDir: string): StartupTiming[] {
  const cs = cases(outDir);
  const wall: number[][] = cs.map(() => []);
  const cpu: number[][] = cs.map(() => []);
  // the cases take turns, so that a change in the machine's load falls on all of them alike
  for (let i = 0; i < runs + 2; i++) {
    cs.forEach((c, k) => {
      const t0 = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...c.argv], { cwd: ROOT, env: { ...process.env, ...c.env }, encoding: 'utf8' });
      const t = performance.now() - t0;
      const [u, s] = (r.stderr.trim().split('\n').pop() ?? '0 0').split(' ').map(Number);
      if (i >= 2) {
        wall[k]!.push(t);
        cpu[k]!.push(((u ?? 0) + (s ?? 0)) * 1000);
      }
    });
  }
  return cs.map((c, k) => ({ name: c.name, wallMs: median(wall[k]!), cpuMs: median(cpu[k]!) }));
}

export function benchStartup(runs = 10, log: (s: string) => void = console.log): StartupTiming[] {
  const outDir = mkdtempSync(join(tmpdir(), 'sevcheck-bench-'));
  // wall time on a shared machine depends on the others' load: say what it was
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  const loadBefore = load();
  const timings = withHyperfine(runs, outDir) ?? withLoop(runs, outDir);
  log(`${runs} warm runs each; load average ${loadBefore} before, ${load()} after`);
  for (const t of timings) log(`${t.name.padEnd(32)} warm median ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms CPU`);
  const fast = timings[0]!;
  const floor = timings[timings.length - 1]!;
  log(`sevcheck run (reference fixture, prebuilt): ${fast.wallMs.toFixed(0)} ms warm — goal ≤ 500 ms ${fast.wallMs <= 500 ? 'met' : 'NOT met'}`);
  // issue 23: the run against a bare node start, wall and CPU (on a loaded machine the CPU ratio is the steadier one)
  const ratio = fast.wallMs / floor.wallMs;
  log(
    `sevcheck run / node -e 0: ${ratio.toFixed(1)}× wall, ${(fast.cpuMs / floor.cpuMs).toFixed(1)}× CPU — goal ≤ 5× ${ratio <= 5 ? 'met' : 'NOT met'}`,
  );
  return timings;
}

export default benchStartup;
