/**
 * A real OpenSSH server on 127.0.0.1 for the ssh backend's tests and `npm run bench ssh`: its own
 * port, a throwaway host key and user key, a known_hosts that names it (and a wrong one).
 * `start()` says why not (not root, no sshd) instead of failing, so tests can skip with a reason.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

export interface LoopbackSshd {
  readonly port: number;
  readonly dir: string;
  /** the server's process id (its CPU time, with its reaped children's: the remote side's work) */
  readonly pid: number | undefined;
  /** the remote account's startup files: as this machine has them, or a stock account's */
  readonly account: 'stock' | 'as-is';
  /** `--host` value for root on this server */
  readonly target: string;
  /** the `sevcheck run` options that trust this server's key and use the user key */
  args(known?: 'known_hosts' | 'wrong_known_hosts'): string[];
  /** the same as SshOptions (support/host/ssh-host.ts) */
  readonly ssh: { options: string[]; identityFile: string };
  /** sessions the server started so far (sshd LogLevel VERBOSE "Starting session: command ..."): remote commands as the host saw them */
  sessions(): number;
  stop(): void;
}

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

/**
 * The login account's startup files and what a stock account has instead: Debian's base-files
 * root dot files (/usr/share/base-files, what a fresh root account gets), /dev/null (empty) for
 * the files a fresh account does not have.
 */
const STOCK_RC: ReadonlyArray<readonly [string, string]> = [
  ['.bashrc', '/usr/share/base-files/dot.bashrc'],
  ['.profile', '/usr/share/base-files/dot.profile'],
  ['.bash_profile', '/dev/null'],
  ['.bash_login', '/dev/null'],
  ['.bash_logout', '/dev/null'],
];

/** binds each SOURCE over TARGET (pairs up to "--"), then runs the rest: sshd's private mount namespace */
const MASK_SCRIPT = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; shift; exec "$@"';

/**
 * The argv that starts sshd: as it is, or (`account: 'stock'`) in a private mount namespace
 * (unshare -m, propagation private: nothing leaks to the machine's mounts) where the remote
 * account's startup files (~/.bashrc, ~/.profile, ...) are those of a stock account. The files
 * themselves are never written. Root's home from the passwd database.
 */
function sshdArgv(account: 'stock' | 'as-is', args: readonly string[]): { file: string; args: string[] } | string {
  if (account === 'as-is') return { file: SSHD, args: [...args] };
  const home = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'root')?.[5];
  if (!home) return 'no root account in /etc/passwd';
  const binds: string[] = [];
  for (const [name, stock] of STOCK_RC) {
    const file = join(home, name);
    if (existsSync(file)) binds.push(existsSync(stock) ? stock : '/dev/null', file);
  }
  return { file: 'unshare', args: ['-m', '--propagation', 'private', '--', '/bin/sh', '-c', MASK_SCRIPT, 'mask', ...binds, '--', SSHD, ...args] };
}

/**
 * Start the server; a string is why it cannot run here. `account`: the remote account as this
 * machine has it (default), or a stock one (its startup files masked, see sshdArgv): the ssh
 * benchmark's goal figures, since the remote side of every "host" here is this machine, whose
 * root account runs `pyenv init` for every login.
 */
export async function startSshd(opts: { maxStartups?: number; maxSessions?: number; account?: 'stock' | 'as-is' } = {}): Promise<LoopbackSshd | string> {
  if (!existsSync(SSHD)) return `${SSHD} not installed (Debian openssh-server)`;
  if (process.getuid?.() !== 0) return 'sshd needs root here (privilege separation directory /run/sshd)';
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-sshd-'));
  for (const k of ['hostkey', 'userkey', 'otherkey']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'userkey.pub')));
  const port = await freePort();
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
      `MaxStartups ${opts.maxStartups ?? 50}`,
      `MaxSessions ${opts.maxSessions ?? 50}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const argv = sshdArgv(opts.account ?? 'as-is', ['-D', '-e', '-f', join(dir, 'sshd_config')]);
  if (typeof argv === 'string') return argv;
  // unshare and sh exec: the child is sshd itself (stop() signals it)
  const sshd: ChildProcess = spawn(argv.file, argv.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let sessions = 0;
  sshd.stderr?.on('data', (d) => {
    const text = String(d);
    sessions += text.match(/Starting session: command/g)?.length ?? 0;
    if (err.length < 65536) err += text;
  });
  if (!(await listening(port, 5000))) {
    sshd.kill();
    return `sshd did not start: ${err.trim().split('\n').pop() ?? 'no output'}`;
  }
  const ssh = { options: [`UserKnownHostsFile=${join(dir, 'known_hosts')}`], identityFile: join(dir, 'userkey') };
  return {
    port,
    dir,
    account: opts.account ?? 'as-is',
    pid: sshd.pid,
    target: `ssh://root@127.0.0.1:${port}`,
    ssh,
    sessions: () => sessions,
    args: (known = 'known_hosts') => ['--host', `ssh://root@127.0.0.1:${port}`, '--ssh-option', `UserKnownHostsFile=${join(dir, known)}`, '--ssh-identity', join(dir, 'userkey')],
    stop: () => {
      sshd.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
