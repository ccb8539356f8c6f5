import { open, lstat, readdir, readFile, access, constants } from 'node:fs/promises';
import { execa } from 'execa';
import {
  DEFAULT_TIMEOUT_MS,
  HarnessError,
  HostError,
  type CpuidRegs,
  type Host,
  type HostDescription,
  type QmpReply,
  type RunOptions,
  type RunResult,
  type StatInfo,
} from './types.js';
import { cpuidDevice, cpuidDeviceError, cpuidRegsFromBytes, fileType, fromErrno, msrDevice, msrDeviceError, msrValueFromBytes } from './errno.js';
import { runResultFromExeca } from './run-result.js';
import { ACL_TIMEOUT_MS, readExtendedAcl } from './acl.js';
import { chooseProbeIdentity, DEFAULT_QEMU_BINARY, HOST_PROBE_COMMANDS, HostQmpProbe, qemuProbeArgv, runQmpProbe, setprivArgv, wrapperNotFound } from '../qemu/qemu-probe.js';

/** This machine, read through node:fs and execa (argv only, never a shell, always a timeout). */
export class LocalHost implements Host {
  readonly target = 'local';
  readonly kind = 'local' as const;
  readonly system = 'running' as const;
  private selinuxEnabled: Promise<boolean> | undefined;
  private qmpProbe: HostQmpProbe | undefined;

  async describe(): Promise<HostDescription> {
    const name = (await readFile('/proc/sys/kernel/hostname', 'utf8').catch(() => 'localhost')).trim();
    return { name, source: 'live' };
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (e) {
      throw fromErrno(e, path);
    }
  }

  async stat(path: string): Promise<StatInfo> {
    let st;
    try {
      st = await lstat(path);
    } catch (e) {
      throw fromErrno(e, path);
    }
    return { path, type: fileType(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, selinux: await this.selinuxLabel(path) };
  }

  /** Node has no xattr API: ask coreutils' stat for the context, only when SELinux is on. */
  private async selinuxLabel(path: string): Promise<string | undefined> {
    this.selinuxEnabled ??= access('/sys/fs/selinux/enforce', constants.R_OK).then(
      () => true,
      () => false,
    );
    if (!(await this.selinuxEnabled)) return undefined;
    const r = await this.run(['stat', '-c', '%C', '--', path]);
    const label = r.stdout.trim();
    return r.exitCode === 0 && label && label !== '?' ? label : undefined;
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return (await readdir(path)).sort();
    } catch (e) {
      throw fromErrno(e, path);
    }
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new HarnessError('local: empty command');
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const r = await execa(argv[0] as string, argv.slice(1), {
      reject: false,
      timeout,
      ...(opts.stdin === undefined ? { stdin: 'ignore' as const } : { input: opts.stdin }),
      stripFinalNewline: false,
      env: { LC_ALL: 'C' },
    });
    return runResultFromExeca('local', argv, r, timeout);
  }

  acl(path: string): Promise<readonly string[] | undefined> {
    return readExtendedAcl((argv) => this.run(argv, { timeoutMs: ACL_TIMEOUT_MS }), path);
  }

  async cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    const dev = cpuidDevice(cpu);
    let fh;
    try {
      fh = await open(dev, 'r');
    } catch (e) {
      throw cpuidDeviceError(fromErrno(e, dev), dev);
    }
    try {
      const buf = Buffer.alloc(16);
      // cpuid.c: the file offset selects the leaf (low 32 bits) and subleaf (high 32 bits).
      const { bytesRead } = await fh.read(buf, 0, 16, leaf >>> 0);
      return cpuidRegsFromBytes(buf.subarray(0, bytesRead), dev);
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw fromErrno(e, dev);
    } finally {
      await fh.close();
    }
  }

  /**
   * /dev/cpu/N/msr opened read-only ('r' = O_RDONLY: msr.c's msr_write() is never reachable
   * through this descriptor), one pread of 8 bytes at position = MSR index (msr.c msr_read(): the
   * file offset is the register number). Not `modprobe msr`: sevcheck never loads modules.
   */
  async readMsr(cpu: number, index: number): Promise<bigint> {
    const dev = msrDevice(cpu);
    let fh;
    try {
      fh = await open(dev, 'r');
    } catch (e) {
      throw msrDeviceError(fromErrno(e, dev), cpu, index);
    }
    try {
      const buf = Buffer.alloc(8);
      const { bytesRead } = await fh.read(buf, 0, 8, index >>> 0);
      return msrValueFromBytes(buf.subarray(0, bytesRead), cpu, index);
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw msrDeviceError(fromErrno(e, dev), cpu, index);
    } finally {
      await fh.close();
    }
  }

  /**
   * QMP from one throw-away QEMU per run (support/qemu/qemu-probe.ts HostQmpProbe): started on
   * the first call, as libvirt's QEMU user when sevcheck is root (setpriv), asked every
   * HOST_PROBE_COMMANDS command, quit and reaped before the first answer is returned.
   */
  async qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    this.qmpProbe ??= new HostQmpProbe(async () => {
      const text = (p: string): Promise<string | undefined> => readFile(p, 'utf8').catch(() => undefined);
      const identity = chooseProbeIdentity({
        selfUid: process.getuid?.() ?? 0,
        qemuConf: await text('/etc/libvirt/qemu.conf'),
        osRelease: await text('/etc/os-release'),
        passwd: await text('/etc/passwd'),
        group: await text('/etc/group'),
      });
      const argv = [...setprivArgv(identity), DEFAULT_QEMU_BINARY, ...qemuProbeArgv('fallback')];
      const result = await runQmpProbe({
        launch: { file: argv[0] as string, args: argv.slice(1), label: DEFAULT_QEMU_BINARY, notFound: wrapperNotFound(DEFAULT_QEMU_BINARY) },
        commands: HOST_PROBE_COMMANDS,
      });
      return { result, identity };
    });
    return this.qmpProbe.reply(command, args);
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}
}
