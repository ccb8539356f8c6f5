/**
 * Whole-process timings of the suite, as a user sees them (cucumber loading included):
 * - `npm start` equivalent on the reference fixture (goal ≤ 2 s)
 * - `sevcheck run --host local` on this machine (goal ≤ 1.5 s)
 * The first run is "cold" (fresh tsx cache directory); the rest are warm.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

function timeRun(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, [join(ROOT, 'bin/sevcheck.js'), ...args], { cwd: ROOT, env, stdio: 'ignore' });
  } catch {
    // exit 1 (compliance failures) is a normal outcome here
  }
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchSuite(runs = 5, log: (s: string) => void = console.log): Promise<Record<string, { cold: number; median: number }>> {
  const out: Record<string, { cold: number; median: number }> = {};
  const cases: Record<string, string[]> = {
    'npm start (reference fixture)': ['run', '--host', 'fixture:fixtures/hosts/reference-milan'],
    'run --host local': ['run', '--host', 'local'],
  };
  for (const [name, args] of Object.entries(cases)) {
    const outDir = mkdtempSync(join(tmpdir(), 'sevcheck-bench-'));
    const full = [...args, '--out', outDir];
    const cold = timeRun(full, { ...process.env, TSX_TSCONFIG_PATH: undefined, TMPDIR: mkdtempSync(join(tmpdir(), 'cold-')) });
    const warm = Array.from({ length: runs }, () => timeRun(full, process.env));
    out[name] = { cold, median: median(warm) };
    log(`${name.padEnd(32)} cold ${cold.toFixed(0)} ms, warm median ${median(warm).toFixed(0)} ms over ${runs} runs`);
  }
  return out;
}

export default benchSuite;
