/**
 * Benchmark: SNP launch digest of Debian's OVMF_CODE_4M.fd.
 *  - in-process: snpLaunchDigest (1 vCPU, EPYC-v4) vs one SHA-384 pass over the same bytes
 *    (goal: digest ≤ 2× that pass: per page it hashes the page plus a 112-byte PAGE_INFO);
 *  - whole process: `node --import tsx support/cli/measure-entry.ts --mode snp …` vs
 *    `python3 sev-snp-measure.py …` when you name virtee/sev-snp-measure's script (or a checkout
 *    holding it) with `--sev-snp-measure PATH` or SEV_SNP_MEASURE=PATH; without one that
 *    comparison is skipped and the bench says so.
 *
 * Run: node --import tsx bench/snp-digest.bench.ts [FIRMWARE] [--sev-snp-measure PATH]
 *      npm run bench -- measure --sev-snp-measure PATH      (or import { benchSnpDigest }).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOvmf } from '../support/sev/ovmf.js';
import { snpLaunchDigest } from '../support/sev/snp-digest.js';
import { CPU_SIGS } from '../support/sev/vmsa.js';

export interface SnpDigestBench {
  firmware: string;
  bytes: number;
  sha384PassMs: number;
  digestMs: number;
  ratio: number;
  processMs?: number;
  /** `node --import tsx` on an empty module: the loader's share of processMs. */
  tsxBaselineMs?: number;
  /** The same entry bundled to plain JS with esbuild (what a compiled release would cost). */
  bundledProcessMs?: number;
  /** `node bin/sevcheck.js measure …` as users run it: dist/measure.mjs when prebuilt (scripts/build-measure.mjs). */
  launcherProcessMs?: number;
  launcherPrebuilt?: boolean;
  pythonProcessMs?: number;
  sameOutput?: boolean;
  /** Why the sev-snp-measure comparison did not run (no tool given, or not found where given). */
  pythonSkipped?: string;
}

/** Where the comparison tool comes from: an option, else this environment variable. */
export const SEV_SNP_MEASURE_ENV = 'SEV_SNP_MEASURE';
export const SEV_SNP_MEASURE_OPTION = '--sev-snp-measure';

/** `--sev-snp-measure PATH` from argv, else $SEV_SNP_MEASURE; undefined when neither is given. */
export function sevSnpMeasureArg(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const i = argv.findIndex((a) => a === SEV_SNP_MEASURE_OPTION || a.startsWith(`${SEV_SNP_MEASURE_OPTION}=`));
  if (i >= 0) {
    const a = argv[i] ?? '';
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  }
  return env[SEV_SNP_MEASURE_ENV] || undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timeMs(fn: () => void, runs: number): number {
  fn(); // warm up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

/**
 * The sev-snp-measure script named by the user: PATH is sev-snp-measure.py itself or a checkout
 * directory holding it. Returns the script's directory (it imports its package from there), or
 * why the comparison cannot run.
 */
export function findSevSnpMeasure(given: string | undefined): { dir: string } | { skipped: string } {
  if (!given) {
    return { skipped: `not given: pass ${SEV_SNP_MEASURE_OPTION} PATH or set ${SEV_SNP_MEASURE_ENV}=PATH (virtee/sev-snp-measure's sev-snp-measure.py or a checkout holding it)` };
  }
  const script = existsSync(join(given, 'sev-snp-measure.py')) ? join(given, 'sev-snp-measure.py') : given;
  if (!existsSync(script) || !script.endsWith('.py')) return { skipped: `${given}: no sev-snp-measure.py there` };
  return { dir: dirname(resolve(script)) };
}

function timeProcess(cmd: string, args: string[], cwd: string, runs: number): { ms: number; stdout: string } {
  let stdout = '';
  const ms = timeMs(() => {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
    stdout = r.stdout;
  }, runs);
  return { ms, stdout };
}

export async function benchSnpDigest(
  firmware = '/usr/share/OVMF/OVMF_CODE_4M.fd',
  runs = 15,
  sevSnpMeasure: string | undefined = sevSnpMeasureArg(process.argv.slice(2)),
): Promise<SnpDigestBench> {
  const data = readFileSync(firmware);
  const ovmf = parseOvmf(data, firmware);
  const vcpuSig = CPU_SIGS['EPYC-v4'] ?? 0;
  const sha384PassMs = timeMs(() => createHash('sha384').update(data).digest(), runs);
  const digestMs = timeMs(() => snpLaunchDigest({ ovmf, vcpus: 1, vcpuSig, guestFeatures: 1n }), runs);
  const result: SnpDigestBench = { firmware, bytes: data.length, sha384PassMs, digestMs, ratio: digestMs / sha384PassMs };

  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const args = ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', firmware];
  const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const ours = timeProcess(process.execPath, ['--import', tsx, join(root, 'support/cli/measure-entry.ts'), ...args], root, 7);
  result.processMs = ours.ms;
  const tmp = mkdtempSync(join(tmpdir(), 'sevcheck-bench-'));
  const empty = join(tmp, 'empty.ts');
  writeFileSync(empty, 'export {};\n');
  result.tsxBaselineMs = timeProcess(process.execPath, ['--import', tsx, empty], root, 7).ms;
  try {
    const { build } = await import('esbuild');
    const outfile = join(tmp, 'measure.mjs');
    await build({ entryPoints: [join(root, 'support/cli/measure-entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent' });
    const bundled = timeProcess(process.execPath, [outfile, ...args], root, 7);
    if (bundled.stdout === ours.stdout) result.bundledProcessMs = bundled.ms;
  } catch {
    // esbuild not installed: skip the bundled measurement
  }
  const launcher = timeProcess(process.execPath, [join(root, 'bin/sevcheck.js'), 'measure', ...args], root, 7);
  if (launcher.stdout === ours.stdout) result.launcherProcessMs = launcher.ms;
  result.launcherPrebuilt = existsSync(join(root, 'dist/measure.mjs'));
  const ssm = findSevSnpMeasure(sevSnpMeasure);
  if ('dir' in ssm) {
    const theirs = timeProcess('python3', ['sev-snp-measure.py', ...args], ssm.dir, 7);
    result.pythonProcessMs = theirs.ms;
    result.sameOutput = theirs.stdout === ours.stdout;
  } else {
    result.pythonSkipped = ssm.skipped;
  }
  return result;
}

export default benchSnpDigest;

/** Print a benchmark result as `npm run bench` shows it. */
export function printSnpDigestBench(r: SnpDigestBench, log: (s: string) => void = console.log): void {
  const f = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(2)} ms`);
  log(`firmware              ${r.firmware} (${r.bytes} bytes, ${r.bytes / 4096} pages)`);
  log(`one SHA-384 pass      ${f(r.sha384PassMs)}`);
  log(`SNP launch digest     ${f(r.digestMs)}  (${r.ratio.toFixed(2)}× one pass; goal ≤ 2×)`);
  log(`sevcheck measure      ${f(r.processMs)}  (whole process, node --import tsx)`);
  log(`  of which tsx loader ${f(r.tsxBaselineMs)}  (node --import tsx on an empty module)`);
  log(`measure, bundled JS   ${f(r.bundledProcessMs)}  (esbuild bundle of measure-entry.ts, plain node)`);
  log(`bin/sevcheck.js measure ${f(r.launcherProcessMs)}  (${r.launcherPrebuilt ? 'prebuilt dist/measure.mjs' : 'no dist/measure.mjs: through tsx; run node scripts/build-measure.mjs'})`);
  if (r.pythonSkipped !== undefined) log(`sev-snp-measure.py    skipping this comparison: ${r.pythonSkipped}`);
  else log(`sev-snp-measure.py    ${f(r.pythonProcessMs)}${r.sameOutput ? '  (same output)' : '  (OUTPUT DIFFERS)'}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const firmware = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== SEV_SNP_MEASURE_OPTION);
  printSnpDigestBench(await benchSnpDigest(firmware, 15, sevSnpMeasureArg(args)));
}
