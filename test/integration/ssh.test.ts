/**
 * The ssh backend against a real OpenSSH server on 127.0.0.1, started here with a throwaway host
 * key and user key. Skipped, with the reason printed, only where sshd cannot start.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sevcheck, type JsonResults } from '../helpers.js';

const SSHD = '/usr/sbin/sshd';
let sshd: ChildProcess | undefined;
let dir = '';
let port = 0;
let skipReason: string | undefined;

const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });

const listening = async (p: number, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((res) => {
      const c = connect(p, '127.0.0.1', () => (c.end(), res(true)));
      c.on('error', () => res(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

beforeAll(async () => {
  if (!existsSync(SSHD)) return void (skipReason = `${SSHD} not installed (Debian openssh-server)`);
  if (process.getuid?.() !== 0) return void (skipReason = 'sshd needs root here (privilege separation directory /run/sshd)');
  dir = mkdtempSync(join(tmpdir(), 'sevcheck-sshd-'));
  for (const k of ['hostkey', 'userkey', 'otherkey']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'userkey.pub')));
  port = await freePort();
  const hostPub = readFileSync(join(dir, 'hostkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const otherPub = readFileSync(join(dir, 'otherkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  writeFileSync(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${otherPub}\n`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'hostkey')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 50',
      'MaxSessions 50',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  sshd.stderr?.on('data', (d) => (err += d));
  if (!(await listening(port, 5000))) {
    skipReason = `sshd did not start: ${err.trim().split('\n').pop() ?? 'no output'}`;
    sshd.kill();
  }
});

afterAll(() => {
  sshd?.kill('SIGTERM');
});

const sshArgs = (known = 'known_hosts'): string[] => [
  '--host',
  `ssh://root@127.0.0.1:${port}`,
  '--ssh-option',
  `UserKnownHostsFile=${join(dir, known)}`,
  '--ssh-identity',
  join(dir, 'userkey'),
];

describe('ssh backend against a real sshd on 127.0.0.1', () => {
  it('gives exactly the verdicts and messages of a local run of the same machine', async (ctx) => {
    if (skipReason) {
      console.log(`skipped: ${skipReason}`);
      return ctx.skip();
    }
    const out = mkdtempSync(join(tmpdir(), 'o-'));
    const remote = await sevcheck(['run', ...sshArgs(), '--format', 'json', '--out', out]);
    expect(remote.stderr).toBe('');
    const local = await sevcheck(['run', '--host', 'local', '--format', 'json', '--out', out]);
    const strip = (s: string) => (JSON.parse(s) as JsonResults).checks.map(({ id, status, message }) => ({ id, status, message }));
    expect(strip(remote.stdout)).toEqual(strip(local.stdout));
    expect(JSON.parse(remote.stdout).target).toBe(`ssh://root@127.0.0.1:${port}`);
    expect(remote.code).toBe(local.code);
  });

  it('keeps host-key checking on: a host key that does not match is refused (exit 2, one line)', async (ctx) => {
    if (skipReason) return ctx.skip();
    const r = await sevcheck(['run', ...sshArgs('wrong_known_hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unreachable: .*Host key verification failed/);
  });

  it('records a remote host into a fixture that replays the same verdicts', async (ctx) => {
    if (skipReason) return ctx.skip();
    const fx = join(mkdtempSync(join(tmpdir(), 'rec-')), 'remote');
    const rec = await sevcheck(['record', ...sshArgs(), '--out', fx, '--reports', mkdtempSync(join(tmpdir(), 'o-'))]);
    expect(rec.code).toBe(0);
    const replay = await sevcheck(['run', '--host', `fixture:${fx}`, '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    const remote = await sevcheck(['run', ...sshArgs(), '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    const strip = (s: string) => (JSON.parse(s) as JsonResults).checks.map(({ id, status, message }) => ({ id, status, message }));
    expect(strip(replay.stdout)).toEqual(strip(remote.stdout));
  });
});
