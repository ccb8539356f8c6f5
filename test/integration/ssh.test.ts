/**
 * The ssh backend against a real OpenSSH server on 127.0.0.1, started here with a throwaway host
 * key and user key (test/loopback-sshd.ts). Skipped, with the reason printed, only where sshd
 * cannot start. The server's own log counts the remote commands (sessions) a run costs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sevcheck, type JsonResults } from '../helpers.js';
import { startSshd, type LoopbackSshd } from '../loopback-sshd.js';
import { SshHost } from '../../support/host/ssh-host.js';
import { HarnessError } from '../../support/host/types.js';

let sshd: LoopbackSshd | undefined;
let skipReason: string | undefined;

beforeAll(async () => {
  const s = await startSshd();
  if (typeof s === 'string') skipReason = s;
  else sshd = s;
});

afterAll(() => {
  sshd?.stop();
});

const strip = (s: string) => (JSON.parse(s) as JsonResults).checks.map(({ id, status, message }) => ({ id, status, message }));

/** The pid of the ControlMaster behind `controlPath` (ssh -O check: "Master running (pid=N)" on stderr), if one runs. */
function masterPid(controlPath: string): number | undefined {
  const r = spawnSync('ssh', ['-o', `ControlPath=${controlPath}`, '-O', 'check', 'x'], { encoding: 'utf8', timeout: 10_000 });
  return Number(/pid=(\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1]) || undefined;
}

/**
 * The ControlMaster processes connected to 127.0.0.1:`port` (only this test's server): a master
 * renames itself "ssh: <control path> [mux]" (OpenSSH setproctitle), so it is found by that name
 * and by owning a TCP socket whose peer is the port (/proc/net/tcp, /proc/PID/fd).
 */
function mastersOf(port: number): number[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set(
    readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[2]?.endsWith(`:${hexPort}`))
      .map((f) => f[9]),
  );
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!/^ssh: .* \[mux\]/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) continue;
      const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (fds.some((l) => inodes.has(/^socket:\[(\d+)\]$/.exec(l)?.[1]))) out.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return out;
}

/** Whether a process with exactly this argv runs on this machine (/proc/PID/cmdline). */
function runningHere(argv: readonly string[]): boolean {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === want;
      } catch {
        return false;
      }
    });
}

/** Kill the master (SIGKILL: no clean-up, the socket stays behind stale, as when it crashes). */
function killMaster(controlPath: string): boolean {
  const pid = masterPid(controlPath);
  if (!pid) return false;
  process.kill(pid, 'SIGKILL');
  return true;
}

describe('ssh backend against a real sshd on 127.0.0.1', () => {
  it('gives exactly the verdicts and messages of a local run of the same machine, in one remote command (session)', async (ctx) => {
    if (!sshd) {
      console.log(`skipped: ${skipReason}`);
      return ctx.skip();
    }
    const out = mkdtempSync(join(tmpdir(), 'o-'));
    const before = sshd.sessions();
    const remote = await sevcheck(['run', ...sshd.args(), '--format', 'json', '--out', out], {}, 180_000);
    const sessions = sshd.sessions() - before;
    expect(remote.stderr).toBe('');
    const local = await sevcheck(['run', '--host', 'local', '--format', 'json', '--out', out], {}, 180_000);
    expect(strip(remote.stdout)).toEqual(strip(local.stdout));
    expect(JSON.parse(remote.stdout).target).toBe(sshd.target);
    expect(remote.code).toBe(local.code);
    // issue 23: one session for the whole run (reads, commands, the QEMU probe), whatever the CPUs
    expect(sessions).toBe(1);
  }, 400_000);

  it('batches reads: fifty reads and every CPU of the machine are one batch through the open session (no remote command of their own), and answer as single reads do', async (ctx) => {
    if (!sshd) return ctx.skip();
    const h = new SshHost({ user: 'root', host: '127.0.0.1', port: sshd.port }, sshd.ssh);
    try {
      await h.open();
      const cpus = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
      const n = Number(/(\d+)$/.exec(cpus)?.[1] ?? 0) + 1;
      const before = sshd.sessions();
      const batches = h.batches;
      const files = Array.from({ length: 50 }, (_, i) => (i % 2 ? '/etc/hostname' : `/nonexistent/${i}`));
      const out = await h.readMany([
        ...files.map((path) => ({ op: 'readFile' as const, path })),
        ...Array.from({ length: n }, (_, cpu) => ({ op: 'cpuid' as const, leaf: 0, cpu })),
        { op: 'listDir', path: '/etc' },
        { op: 'stat', path: '/etc/passwd' },
      ]);
      // one batch, through the session open() started: no new remote command
      expect(h.batches - batches).toBe(1);
      expect(sshd.sessions() - before).toBe(0);
      expect(out).toHaveLength(50 + n + 2);
      expect(out[1]).toEqual({ status: 'fulfilled', value: readFileSync('/etc/hostname') });
      expect(out[0]).toMatchObject({ status: 'rejected', reason: { code: 'ENOENT', message: '/nonexistent/0: no such file or directory' } });
      expect(out[50 + n]).toMatchObject({ status: 'fulfilled', value: expect.arrayContaining(['passwd', 'hostname']) });
      expect(out[51 + n]).toMatchObject({ status: 'fulfilled', value: { type: 'file', mode: 0o644, uid: 0 } });
      // each the same as its single read
      expect(await h.readFile('/etc/hostname')).toEqual(readFileSync('/etc/hostname'));
    } finally {
      await h.close();
    }
  }, 120_000);

  it('makes a connection whose master died under a command again once; a second loss is one line, not a hang', async (ctx) => {
    if (!sshd) return ctx.skip();
    const s = sshd;
    const h = new SshHost({ user: 'root', host: '127.0.0.1', port: s.port }, s.ssh);
    /** a command that is running on the host (its process exists here: the host is this machine) when the master is killed */
    const underKill = async (): Promise<unknown> => {
      const secs = String(4 + Math.random()).slice(0, 8);
      const p = h.run(['sleep', secs]).then(
        (r) => r.exitCode,
        (e: unknown) => e,
      );
      while (!runningHere(['sleep', secs])) await new Promise((r) => setTimeout(r, 50));
      expect(killMaster(h.controlPath)).toBe(true);
      return p;
    };
    try {
      await h.open();
      // the first loss: sent again on a new connection, answered
      expect(await underKill()).toBe(0);
      expect((await h.readFile('/etc/hostname')).toString()).toBe(readFileSync('/etc/hostname', 'utf8'));
      const e = await underKill();
      expect(e).toBeInstanceOf(HarnessError);
      expect((e as Error).message).toMatch(/^ssh:\/\/root@127\.0\.0\.1:\d+: connection lost again after it was re-established once: /);
      expect((e as Error).message).not.toContain('\n');
    } finally {
      await h.close();
    }
  }, 120_000);

  it('a fleet whose ssh connections keep dying completes: each such host is `error` with one line, the others are judged', async (ctx) => {
    if (!sshd) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-ssh-fleet-'));
    writeFileSync(
      join(dir, 'inv.yaml'),
      [
        'hosts:',
        `  - {name: a, target: "${sshd.target}"}`,
        `  - {name: b, target: "${sshd.target}"}`,
        `  - {name: fx, target: "fixture:${join(process.cwd(), 'fixtures/hosts/reference-milan')}"}`,
        '',
      ].join('\n'),
    );
    // kill every master of this server's connections as soon as it shows (only this server's)
    const port = sshd.port;
    const killer = setInterval(() => {
      for (const pid of mastersOf(port)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }, 150);
    try {
      const out = join(dir, 'out');
      const r = await sevcheck(['fleet', '--inventory', join(dir, 'inv.yaml'), '--out', out, '--ssh-option', sshd.ssh.options[0] as string, '--ssh-identity', sshd.ssh.identityFile, '--host-timeout', '300'], {}, 360_000);
      expect(r.code).not.toBe(0);
      expect(existsSync(join(out, 'fleet.json'))).toBe(true);
      const fleet = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')) as { hosts: Array<{ name: string; error?: string; checks: unknown[] }> };
      const byName = Object.fromEntries(fleet.hosts.map((h) => [h.name, h]));
      for (const n of ['a', 'b']) {
        // a master killed while the connection is still being set up ends it as unreachable, one killed
        // under a command as 'connection lost': which one depends on when the killer's 150 ms tick lands
        expect(byName[n]?.error).toMatch(/connection lost|unreachable/);
        expect(byName[n]?.error).not.toContain('\n');
      }
      expect(byName.fx?.error).toBeUndefined();
      expect(byName.fx?.checks.length).toBeGreaterThan(0);
    } finally {
      clearInterval(killer);
    }
  }, 400_000);

  it('keeps host-key checking on: a host key that does not match is refused (exit 2, one line)', async (ctx) => {
    if (!sshd) return ctx.skip();
    const r = await sevcheck(['run', ...sshd.args('wrong_known_hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unreachable: .*Host key verification failed/);
  });

  it('records a remote host into a fixture that replays the same verdicts', async (ctx) => {
    if (!sshd) return ctx.skip();
    const fx = join(mkdtempSync(join(tmpdir(), 'rec-')), 'remote');
    const rec = await sevcheck(['record', ...sshd.args(), '--out', fx, '--reports', mkdtempSync(join(tmpdir(), 'o-'))], {}, 180_000);
    expect(rec.code).toBe(0);
    const replay = await sevcheck(['run', '--host', `fixture:${fx}`, '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    const remote = await sevcheck(['run', ...sshd.args(), '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))], {}, 180_000);
    expect(strip(replay.stdout)).toEqual(strip(remote.stdout));
  }, 400_000);
});
