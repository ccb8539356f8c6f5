/**
 * `npm run bench ssh` (issue 23): the ssh backend against a real OpenSSH server on 127.0.0.1 that
 * the benchmark starts itself (test/loopback-sshd.ts; needs root and openssh-server), the remote
 * side being this same machine.
 *
 *   1. one host: `sevcheck run` over ssh against `--host local` of the same machine (goal: ≤ 2×),
 *      the verdicts compared, and the remote commands the run cost (goal: ≤ 10 for a 2-CPU host,
 *      independent of the CPU count) — the sessions the server started (its log);
 *   2. `sevcheck fleet` over N ssh targets, all this server (goal: 100 targets ≤ 60 s, none in
 *      error), the curve for 25/50/100/200.
 *
 * On a shared machine wall times depend on the load: the 1-minute load average is printed with
 * every number.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSshd, type LoopbackSshd } from '../test/loopback-sshd.js';
import { loadSuite, runOnce, type OneRunOutcome } from '../support/run/suite.js';

const ROOT = resolve(import.meta.dirname, '..');
const load = (): string => `load ${(loadavg()[0] ?? 0).toFixed(1)} on ${availableParallelism()} cores`;

export interface SshPoint {
  readonly targets: number;
  readonly wallMs: number;
  readonly errors: number;
  readonly exitCode: number;
}

const verdicts = (o: OneRunOutcome): string => JSON.stringify(o.results?.checks.map((c) => [c.id, c.status, c.message]) ?? o.error);

/** One host over ssh and locally, in this process (support code loaded once, as a fleet worker does). */
async function oneHost(sshd: LoopbackSshd, log: (s: string) => void): Promise<void> {
  const suite = await loadSuite();
  // warm: the first run of a process pays for module and feature loading
  await runOnce({ host: 'local' }, {}, suite);
  const times: Record<string, number[]> = { local: [], ssh: [] };
  let commands = 0;
  let same = true;
  let localV = '';
  const runs = Number(process.env.SEVCHECK_BENCH_RUNS) || 3;
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    const local = await runOnce({ host: 'local' }, {}, suite);
    times.local?.push(performance.now() - t0);
    t0 = performance.now();
    const sessions = sshd.sessions();
    const ssh = await runOnce({ host: sshd.target, ssh: sshd.ssh }, {}, suite);
    times.ssh?.push(performance.now() - t0);
    // as the server saw them (its log), whatever the client's version
    await new Promise((r) => setTimeout(r, 200));
    commands = sshd.sessions() - sessions;
    if (ssh.error) log(`ssh run: ${ssh.error}`);
    localV = verdicts(local);
    same &&= localV === verdicts(ssh);
  }
  const med = (xs: number[] = []): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const l = med(times.local);
  const s = med(times.ssh);
  const cpus = (readFileSync('/sys/devices/system/cpu/online', 'utf8').trim());
  log(`one host: local ${l.toFixed(0)} ms, ssh ${s.toFixed(0)} ms (${(s / l).toFixed(1)}×, goal ≤ 2×), median of ${runs}, ${load()}`);
  log(`one host: ${commands} remote commands over ssh (CPUs ${cpus}; goal ≤ 10), verdicts ${same ? 'identical to' : 'DIFFERENT from'} --host local`);
}

/**
 * `sevcheck fleet` over n ssh targets (all this server), through bin/sevcheck.js as a user runs it.
 * Started asynchronously: this process must go on reading the server's log (its stderr pipe), or
 * the server blocks writing it once the pipe is full and stops accepting connections.
 */
async function fleet(sshd: LoopbackSshd, n: number, log: (s: string) => void): Promise<SshPoint> {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-ssh-bench-'));
  const lines = ['hosts:'];
  for (let i = 0; i < n; i++) lines.push(`  - {name: h${String(i).padStart(3, '0')}, target: "${sshd.target}"}`);
  writeFileSync(join(dir, 'inv.yaml'), `${lines.join('\n')}\n`);
  const out = join(dir, 'out');
  const before = load();
  const sessions = sshd.sessions();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/sevcheck.js'), 'fleet', '--inventory', join(dir, 'inv.yaml'), '--out', out, '--ssh-option', sshd.ssh.options[0] as string, '--ssh-identity', sshd.ssh.identityFile],
    { cwd: ROOT, stdio: 'ignore', timeout: 900_000 },
  );
  const r = await new Promise<{ status: number | null }>((res) => child.on('close', (status) => res({ status })));
  const wallMs = performance.now() - t0;
  // the server's last log lines
  await new Promise((res) => setTimeout(res, 500));
  let errors = -1;
  let firstError = '';
  if (existsSync(join(out, 'fleet.json'))) {
    const f = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')) as { hosts: Array<{ name: string; error?: string }> };
    const bad = f.hosts.filter((h) => h.error);
    errors = bad.length;
    firstError = bad[0] ? ` (first: ${bad[0].name}: ${bad[0].error})` : '';
  }
  const perHost = (sshd.sessions() - sessions) / n;
  log(`fleet ${String(n).padStart(4)} ssh targets: ${(wallMs / 1000).toFixed(1).padStart(6)} s wall, ${(wallMs / n).toFixed(0)} ms/host, ${perHost.toFixed(1)} remote commands/host, ${errors} in error${firstError}, exit ${r.status}, ${before} before${n === 100 ? ` — goal ≤ 60 s, none in error: ${wallMs <= 60_000 && errors === 0 ? 'met' : 'NOT met'}` : ''}`);
  rmSync(dir, { recursive: true, force: true });
  return { targets: n, wallMs, errors, exitCode: r.status ?? -1 };
}

export async function benchSsh(sizes = [25, 50, 100, 200], log: (s: string) => void = console.log): Promise<SshPoint[]> {
  const sshd = await startSshd({ maxStartups: 400, maxSessions: 64 });
  if (typeof sshd === 'string') {
    log(`ssh bench skipped: ${sshd}`);
    return [];
  }
  try {
    await oneHost(sshd, log);
    const points: SshPoint[] = [];
    for (const n of sizes) points.push(await fleet(sshd, n, log));
    return points;
  } finally {
    sshd.stop();
  }
}

export default benchSsh;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-run.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const sizes = process.argv.slice(2).map(Number).filter((n) => n >= 0);
  await benchSsh(sizes.length ? sizes.filter((n) => n > 0) : undefined);
}
