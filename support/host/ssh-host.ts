/**
 * A remote host through the system `ssh` client. The remote side needs only POSIX tools and GNU
 * coreutils (cat, stat, ls, dd): no Node, no agent, nothing written there. Host keys are checked
 * as the user's ssh configuration says (never disabled); BatchMode makes a missing key fail at
 * once instead of prompting. One multiplexed connection (ControlMaster, socket in a private
 * local temp dir) serves all reads of a run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  DEFAULT_TIMEOUT_MS,
  HarnessError,
  type CpuidRegs,
  type FileType,
  type Host,
  type HostDescription,
  type QmpReply,
  type RunOptions,
  type RunResult,
  type StatInfo,
} from './types.js';
import { cpuidDevice, cpuidDeviceError, cpuidRegsFromBytes, fromToolStderr, hostError, msrDevice, msrDeviceError, msrValueFromBytes } from './errno.js';
import { CommandTimedOut, runResultFromExeca } from './run-result.js';
import { ACL_TIMEOUT_MS, readExtendedAcl } from './acl.js';
import { chooseProbeIdentity, DEFAULT_QEMU_BINARY, HOST_PROBE_COMMANDS, HostQmpProbe, qemuProbeArgv, runQmpProbe, setprivArgv, wrapperNotFound } from './qemu-probe.js';

/** upper bound on the remote probe QEMU's life, seconds (it normally quits within a second) */
const REMOTE_QEMU_LIMIT_S = 60;

export interface SshTarget {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

export interface SshOptions {
  /** extra `-o Key=Value` options (refused: anything that turns off host-key checking) */
  readonly options?: readonly string[];
  readonly identityFile?: string | undefined;
  readonly connectTimeoutS?: number;
}

const EXEC_MARK = '<<sevcheck-exec>>';

/** What the remote command itself wrote: everything after EXEC_MARK (all of it when absent). */
function afterMark<T extends string | Uint8Array | unknown>(out: T): T {
  if (typeof out === 'string') {
    const i = out.indexOf(EXEC_MARK);
    return (i < 0 ? out : out.slice(i + EXEC_MARK.length)) as T;
  }
  if (out instanceof Uint8Array) {
    const b = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    const i = b.indexOf(EXEC_MARK);
    return (i < 0 ? out : b.subarray(i + EXEC_MARK.length)) as T;
  }
  return out;
}

/** POSIX sh single-quoting: the remote shell sees each argv element as one literal word. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const FORBIDDEN = [/^stricthostkeychecking=(no|off|accept-new)$/i, /^userknownhostsfile=\/dev\/null$/i];

const STAT_TYPES: Record<string, FileType> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'dir',
  'character special file': 'char',
  'block special file': 'block',
  'symbolic link': 'link',
  fifo: 'fifo',
  socket: 'socket',
};

export class SshHost implements Host {
  readonly kind = 'ssh' as const;
  readonly system = 'running' as const;
  readonly target: string;
  private readonly base: string[];
  private readonly controlDir: string;
  private connected: Promise<void> | undefined;
  private qmpProbe: HostQmpProbe | undefined;

  constructor(
    readonly dest: SshTarget,
    opts: SshOptions = {},
  ) {
    this.target = `ssh://${dest.user ? `${dest.user}@` : ''}${dest.host}${dest.port ? `:${dest.port}` : ''}`;
    for (const o of opts.options ?? []) {
      if (FORBIDDEN.some((re) => re.test(o.replace(/\s+/g, '')))) {
        throw new HarnessError(`${this.target}: refusing ssh option "${o}": sevcheck never disables host-key checking`);
      }
    }
    this.controlDir = mkdtempSync(join(tmpdir(), 'sevcheck-ssh-'));
    this.base = [
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${opts.connectTimeoutS ?? 10}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(this.controlDir, 'cm')}`,
      '-o', 'ControlPersist=60',
      ...(opts.options ?? []).flatMap((o) => ['-o', o]),
      ...(opts.identityFile ? ['-i', opts.identityFile] : []),
      ...(dest.port ? ['-p', String(dest.port)] : []),
      '--',
      dest.user ? `${dest.user}@${dest.host}` : dest.host,
    ];
  }

  /**
   * Run argv remotely; exit 255 is ssh's own failure (unreachable, auth, host key). sshd runs the
   * command through the user's shell, which may print from its startup files first (a .bashrc
   * that runs `pyenv init` does, and bash sources .bashrc for ssh commands): a marker written
   * just before `exec` separates that from the command's own stdout and stderr.
   */
  private async remote(argv: readonly string[], timeoutMs: number, binary = false) {
    const command = `printf '%s' '${EXEC_MARK}'; printf '%s' '${EXEC_MARK}' >&2; exec ${argv.map(shellQuote).join(' ')}`;
    const raw = await execa('ssh', [...this.base, command], {
      reject: false,
      timeout: timeoutMs,
      stdin: 'ignore',
      encoding: binary ? 'buffer' : 'utf8',
      stripFinalNewline: false,
    });
    const r = { ...raw, stdout: afterMark(raw.stdout), stderr: afterMark(raw.stderr) };
    if (r.timedOut) throw new CommandTimedOut(`${this.target}: command timed out after ${timeoutMs / 1000} s: ${argv.join(' ')}`);
    if (r.exitCode === 255) {
      const why = String(r.stderr).trim().split('\n').pop() || 'ssh failed';
      throw new HarnessError(`${this.target}: unreachable: ${why}`);
    }
    if (r.exitCode === undefined) throw new HarnessError(`${this.target}: could not start ssh: ${r.originalMessage ?? ''}`);
    return r;
  }

  /** Fail fast (exit 2) when the host cannot be reached, before any check runs. */
  open(): Promise<void> {
    return this.connect();
  }

  /** The multiplexed connection every read goes through, made once (by open(), or the first read). */
  private connect(): Promise<void> {
    this.connected ??= this.remote(['true'], 20_000).then(() => undefined);
    return this.connected;
  }

  async describe(): Promise<HostDescription> {
    const r = await this.remote(['cat', '/proc/sys/kernel/hostname'], DEFAULT_TIMEOUT_MS);
    return { name: String(r.stdout).trim() || this.dest.host, source: 'live' };
  }

  async readFile(path: string): Promise<Buffer> {
    await this.connect();
    const r = await this.remote(['cat', '--', path], DEFAULT_TIMEOUT_MS, true);
    if (r.exitCode !== 0) throw fromToolStderr(Buffer.from(r.stderr as Uint8Array).toString('utf8'), path);
    return Buffer.from(r.stdout as Uint8Array);
  }

  async stat(path: string): Promise<StatInfo> {
    await this.connect();
    const r = await this.remote(['stat', '-c', '%F|%a|%u|%g|%C', '--', path], DEFAULT_TIMEOUT_MS);
    if (r.exitCode !== 0) {
      // stat without SELinux support may reject %C; retry without it
      const r2 = await this.remote(['stat', '-c', '%F|%a|%u|%g|?', '--', path], DEFAULT_TIMEOUT_MS);
      if (r2.exitCode !== 0) throw fromToolStderr(String(r2.stderr), path);
      return this.parseStat(path, String(r2.stdout));
    }
    return this.parseStat(path, String(r.stdout));
  }

  private parseStat(path: string, out: string): StatInfo {
    const [ftype, mode, uid, gid, label] = out.trim().split('|');
    const type = STAT_TYPES[ftype ?? ''];
    if (!type || !mode || !/^[0-7]+$/.test(mode)) throw hostError('EIO', path, `unexpected stat output "${out.trim()}"`);
    return {
      path,
      type,
      mode: parseInt(mode, 8) & 0o7777,
      uid: Number(uid),
      gid: Number(gid),
      selinux: label && label !== '?' ? label : undefined,
    };
  }

  async listDir(path: string): Promise<string[]> {
    await this.connect();
    const r = await this.remote(['ls', '-1A', '--', path], DEFAULT_TIMEOUT_MS);
    if (r.exitCode !== 0) throw fromToolStderr(String(r.stderr), path);
    const names = String(r.stdout).split('\n').filter(Boolean);
    // `ls` of a non-directory prints the path itself
    if (names.length === 1 && names[0] === path) throw hostError('ENOTDIR', path);
    return names.sort();
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (opts.stdin !== undefined) throw new HarnessError(`${this.target}: cannot give ${argv[0] ?? 'a command'} standard input over ssh`);
    await this.connect();
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // `command -v` first would cost a round trip; a shell reports a missing program as 127.
    const r = await this.remote(argv, timeout);
    const res = runResultFromExeca(this.target, argv, r, timeout);
    if (res.exitCode === 127 && /not found/.test(res.stderr)) {
      return { ...res, stdout: '', stderr: `${argv[0]}: command not found\n` };
    }
    return res;
  }

  /** `ls -ld`, then getfacl only when it shows "+" (host/acl.ts): one round trip for most nodes. */
  acl(path: string): Promise<readonly string[] | undefined> {
    return readExtendedAcl((argv) => this.run(argv, { timeoutMs: ACL_TIMEOUT_MS }), path);
  }

  async cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    await this.connect();
    const dev = cpuidDevice(cpu);
    // GNU dd: iflag=skip_bytes lets skip= be the byte offset (= the leaf, arch/x86/kernel/cpuid.c)
    const r = await this.remote(
      ['dd', `if=${dev}`, 'bs=16', 'count=1', `skip=${leaf >>> 0}`, 'iflag=skip_bytes', 'status=none'],
      DEFAULT_TIMEOUT_MS,
      true,
    );
    if (r.exitCode !== 0) throw cpuidDeviceError(fromToolStderr(Buffer.from(r.stderr as Uint8Array).toString('utf8'), dev), dev);
    return cpuidRegsFromBytes(Buffer.from(r.stdout as Uint8Array), dev);
  }

  /**
   * GNU coreutils dd with only `if=` and no `of=` opens the input O_RDONLY and writes to stdout
   * (coreutils dd.c: the input is opened with O_RDONLY unless conv/oflag ask otherwise; nothing is
   * written to the device). `iflag=skip_bytes` makes skip= a byte offset (= the MSR index,
   * msr.c msr_read()); bs=8 count=1 is one 8-byte read, the only size msr_read() accepts.
   */
  async readMsr(cpu: number, index: number): Promise<bigint> {
    await this.connect();
    const dev = msrDevice(cpu);
    const r = await this.remote(
      ['dd', `if=${dev}`, 'bs=8', 'count=1', `skip=${index >>> 0}`, 'iflag=skip_bytes', 'status=none'],
      DEFAULT_TIMEOUT_MS,
      true,
    );
    if (r.exitCode !== 0) throw msrDeviceError(fromToolStderr(Buffer.from(r.stderr as Uint8Array).toString('utf8'), dev), cpu, index);
    return msrValueFromBytes(Buffer.from(r.stdout as Uint8Array), cpu, index);
  }

  /**
   * QMP from one throw-away QEMU on the remote host per run, spoken over the ssh child's stdio
   * (`-qmp stdio`): same identity rules and commands as the local backend
   * (qemu-probe.ts HostQmpProbe). QEMU -machine none -S writes nothing. QEMU does not exit when
   * its stdin closes, so the remote command is bounded by coreutils `timeout -s KILL`: even if
   * the ssh session dies before `quit`, the remote QEMU is gone within REMOTE_QEMU_LIMIT_S.
   */
  async qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    this.qmpProbe ??= new HostQmpProbe(async () => {
      await this.connect();
      const text = async (p: string): Promise<string | undefined> => {
        try {
          return (await this.readFile(p)).toString('utf8');
        } catch {
          return undefined;
        }
      };
      const idu = await this.remote(['id', '-u'], DEFAULT_TIMEOUT_MS);
      const selfUid = /^\d+$/.test(String(idu.stdout).trim()) ? Number(String(idu.stdout).trim()) : -1;
      const identity = chooseProbeIdentity({
        selfUid,
        qemuConf: await text('/etc/libvirt/qemu.conf'),
        osRelease: await text('/etc/os-release'),
        passwd: await text('/etc/passwd'),
        group: await text('/etc/group'),
      });
      const remoteArgv = ['timeout', '-s', 'KILL', String(REMOTE_QEMU_LIMIT_S), ...setprivArgv(identity), DEFAULT_QEMU_BINARY, ...qemuProbeArgv('fallback')];
      const result = await runQmpProbe({
        launch: {
          file: 'ssh',
          args: [...this.base, remoteArgv.map(shellQuote).join(' ')],
          label: `${this.target} ${DEFAULT_QEMU_BINARY}`,
          notFound: wrapperNotFound(DEFAULT_QEMU_BINARY),
        },
        commands: HOST_PROBE_COMMANDS,
      });
      return { result, identity };
    });
    return this.qmpProbe.reply(command, args);
  }

  async close(): Promise<void> {
    if (this.connected) {
      await execa('ssh', ['-o', `ControlPath=${join(this.controlDir, 'cm')}`, '-O', 'exit', 'x'], {
        reject: false,
        timeout: 5000,
        stdin: 'ignore',
      });
    }
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}
