/**
 * `rootfs:DIR`: a distribution's root file system on disk (an unpacked image, mmdebstrap /
 * debootstrap / `dnf --installroot` output, a mounted container image), issue 11.
 *
 * - Files are read under DIR with every symlink resolved *inside* DIR, component by component
 *   (resolveInside below): an absolute link target is relative to DIR, `..` clamps at DIR as the
 *   kernel clamps it at a chroot's / (fs/namei.c follow_dotdot: ".." of the process root is the
 *   root itself), and more than MAX_SYMLINKS links is ELOOP. Nothing outside DIR is ever opened.
 * - Commands run inside the image with bubblewrap (Debian package bubblewrap, bwrap(1)): DIR bound
 *   read-only as /, a fresh /proc, a minimal /dev, a size-capped tmpfs /tmp, every namespace
 *   unshared (no network; its own host name), killed with sevcheck (--die-with-parent), a clean
 *   environment, argv only. So the image's own binaries answer (its QEMU, its sesearch).
 * - An image command is untrusted code: at its timeout its whole process group gets SIGTERM, then
 *   SIGKILL after KILL_GRACE_MS (and bwrap's death takes the sandbox's PID namespace with it);
 *   output past RUN_MAX_OUTPUT is cut off the same way. Either is a HostError, so the facts the
 *   command was to give are undecided and the run goes on to its report (issue 19: a sesearch
 *   that ignored SIGTERM ended the whole run with exit 2 and no report).
 * - Files larger than READ_CAPS.image are not read (HostError, so undecided): a 1.9 GB
 *   /boot/config-* is no kernel config, and must not take the controller's memory.
 * - What only a running kernel or hardware answers (CPUID, QMP, /proc, /sys, /dev, /run) throws
 *   notRunning(): world.decide makes such a check *skipped* "not a running system".
 */
import { lstat, open as openFile, readdir, readlink, access, constants, stat as statPath } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { execa } from 'execa';
import {
  DEFAULT_TIMEOUT_MS,
  HarnessError,
  HostError,
  notRunning,
  type CpuidRegs,
  type Host,
  type HostDescription,
  type QmpReply,
  type RunOptions,
  type RunResult,
  type StatInfo,
} from './types.js';
import { fileType, fromErrno, hostError } from './errno.js';
import { prettyName } from '../parsers/os-release.js';
import { runResultFromExeca } from './run-result.js';
import { ACL_TIMEOUT_MS, readExtendedAcl } from './acl.js';
import { mib, READ_CAPS } from '../input/read.js';

/**
 * Linux include/linux/namei.h (torvalds/linux v6.12, commit adc218676eef): `#define MAXSYMLINKS 40`,
 * the most symlinks one path walk follows before failing with ELOOP.
 */
export const MAX_SYMLINKS = 40;

/**
 * Top-level directories that exist only on a running system: procfs, sysfs, devtmpfs and the
 * tmpfs /run (systemd file-hierarchy(7): /run is "flushed at boot"; an image has at most empty
 * mount points there). A read under one of them is NOT_RUNNING, never "absent".
 */
export const RUNNING_ONLY = ['/proc', '/sys', '/dev', '/run'] as const;

/**
 * Commands whose answer comes from a running system, not from the image's files: run in the
 * sandbox they would answer about the controller or nothing (no libvirtd socket, no selinuxfs,
 * no /dev/sev, the controller's kernel), so on a root file system they are NOT_RUNNING:
 * virsh (libvirt's client, talks to libvirtd over /run/libvirt), virt-host-validate (/proc, /sys,
 * /dev), getenforce / getsebool / sestatus (libselinux reads /sys/fs/selinux), systemctl (PID 1
 * over D-Bus), dmesg (the kernel ring buffer), lsmod (/proc/modules), sevctl / snphost (virtee:
 * /dev/sev ioctls and MSRs).
 */
export const RUNNING_COMMANDS: ReadonlyMap<string, string> = new Map([
  ['virsh', 'libvirtd'],
  ['virt-host-validate', 'the running kernel and devices'],
  ['getenforce', 'a running SELinux kernel (/sys/fs/selinux)'],
  ['getsebool', 'a running SELinux kernel (/sys/fs/selinux)'],
  ['sestatus', 'a running SELinux kernel (/sys/fs/selinux)'],
  ['systemctl', 'a running systemd'],
  ['dmesg', 'the running kernel'],
  ['lsmod', 'the running kernel'],
  ['sevctl', 'the SEV firmware (/dev/sev)'],
  ['snphost', 'the SEV firmware (/dev/sev) and MSRs'],
]);

/** What `argv` needs from a running system, or undefined when the image's files answer it. */
export function needsRunningSystem(argv: readonly string[]): string | undefined {
  const name = basename(argv[0] ?? '');
  // `virsh --version` (-v, -V) is the client's own version: the installed package answers it
  if (name === 'virsh' && argv.length === 2 && ['--version', '-v', '-V'].includes(argv[1] as string)) return undefined;
  return RUNNING_COMMANDS.get(name);
}

/** The PATH commands see inside the image (Debian's default for root, /etc/login.defs ENV_SUPATH). */
export const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A top-level entry of the image: what bwrap puts at /name. */
export interface TopEntry {
  readonly name: string;
  /** the link's target for a symlink (bin -> usr/bin), undefined for a directory or file */
  readonly link?: string | undefined;
}

/** The host name image commands see (their own UTS namespace: never the controller's name). */
export const SANDBOX_HOSTNAME = 'sevcheck-image';
/** The size of the sandbox's tmpfs /tmp (bwrap --size, bubblewrap >= 0.8.0). */
export const SANDBOX_TMP_BYTES = 64 * 1024 * 1024;
/** After a timeout's SIGTERM, how long an image command has before SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** stdout and stderr of one image command, each, at most (a flood is cut off and the command killed). */
export const RUN_MAX_OUTPUT = 16 * 1024 * 1024;

/** Top-level names the sandbox makes itself (fresh /proc, minimal /dev, tmpfs /tmp) or leaves out (/sys, /run). */
const SANDBOX_OWN = new Set(['proc', 'dev', 'tmp', 'sys', 'run']);

/**
 * The bwrap(1) arguments that show `dir` as / to one command (before "--" and the argv). bwrap's
 * own root is a fresh tmpfs; every top-level entry of the image is bound read-only onto it (a
 * top-level symlink such as Debian's bin -> usr/bin is recreated as the same link), so the image
 * needs no /proc, /dev or /tmp mount points of its own (a read-only `--ro-bind DIR /` fails with
 * "Can't mkdir /dev: Read-only file system" on an image without them); then / is remounted
 * read-only.
 */
export function bwrapArgs(dir: string, entries: readonly TopEntry[]): string[] {
  const binds: string[] = [];
  for (const e of entries) {
    if (SANDBOX_OWN.has(e.name)) continue;
    if (e.link !== undefined) binds.push('--symlink', e.link, `/${e.name}`);
    else binds.push('--ro-bind', `${dir}/${e.name}`, `/${e.name}`);
  }
  return [
    ...binds,
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(SANDBOX_TMP_BYTES), '--tmpfs', '/tmp',
    '--remount-ro', '/',
    '--unshare-all',
    '--hostname', SANDBOX_HOSTNAME,
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--setenv', 'PATH', IMAGE_PATH,
    '--setenv', 'LANG', 'C.UTF-8',
    '--chdir', '/',
  ];
}

/** Signal a detached command's whole process group; it may be gone already. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* ESRCH: the group has ended */
  }
}

/** `path` normalised inside the image (absolute, no ".", ".." clamped at /). */
export function imagePath(path: string): string {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
}

function runningOnly(p: string): string | undefined {
  return RUNNING_ONLY.find((r) => p === r || p.startsWith(`${r}/`));
}

/** The host path of an image path, and the image path it resolved to. */
interface Resolved {
  readonly host: string;
  readonly inside: string;
}

export class RootfsHost implements Host {
  readonly target: string;
  readonly kind = 'rootfs' as const;
  readonly system = 'rootfs' as const;
  /** DIR, absolute (relative specs are taken from the cwd) */
  readonly root: string;
  /** resolved directories: image path → image path with every link followed (the image does not change during a run) */
  private readonly dirCache = new Map<string, string>();
  /** the image's top-level entries, read once by open() */
  private top: TopEntry[] | undefined;

  constructor(
    readonly dir: string,
    private readonly bwrap: string = 'bwrap',
    /** how the target is named in messages (image:FILE judges its extracted tree through this class) */
    target?: string,
  ) {
    this.target = target ?? `rootfs:${dir}`;
    this.root = resolve(dir);
  }

  private hostOf(inside: string): string {
    return inside === '/' ? this.root : this.root + inside;
  }

  /**
   * Resolve `path` inside the image, following every symlink as a chroot at DIR would
   * (path_resolution(7)); `followLast` false leaves a final symlink itself (lstat). Throws ENOENT /
   * ENOTDIR / EACCES for a component, EIO "ELOOP" after MAX_SYMLINKS links.
   */
  async resolveInside(path: string, followLast = true): Promise<Resolved> {
    const pending = path.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      // inside /proc, /sys, /dev or /run the image has (at most) empty mount points: stop here,
      // the caller refuses the path as NOT_RUNNING (e.g. etc/mtab -> /proc/self/mounts)
      if (done.length === 1 && runningOnly(`/${done[0]}`) && pending[0] !== '..') {
        // no host path: nothing under the image's running-only mount points is ever opened
        return { host: '', inside: `/${[...done, ...pending].join('/')}` };
      }
      const c = pending.shift() as string;
      if (c === '..') {
        done.pop(); // ".." of the image's / is / (fs/namei.c follow_dotdot at the root)
        continue;
      }
      const inside = `/${[...done, c].join('/')}`;
      const last = pending.length === 0;
      const cached = last ? undefined : this.dirCache.get(inside);
      if (cached !== undefined) {
        done.splice(0, done.length, ...cached.split('/').filter(Boolean));
        continue;
      }
      let st;
      try {
        st = await lstat(this.hostOf(inside));
      } catch (e) {
        throw fromErrno(e, path);
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_SYMLINKS) {
          throw hostError('EIO', path, `ELOOP: more than ${MAX_SYMLINKS} symbolic links (include/linux/namei.h MAXSYMLINKS)`);
        }
        let target: string;
        try {
          target = await readlink(this.hostOf(inside));
        } catch (e) {
          throw fromErrno(e, path);
        }
        // an absolute target starts again at the image's / (the chroot), a relative one from the link's directory
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/').filter((t) => t !== '' && t !== '.'));
        continue;
      }
      if (!last && !st.isDirectory()) throw hostError('ENOTDIR', path);
      done.push(c);
      if (!last) this.dirCache.set(inside, `/${done.join('/')}`);
    }
    const inside = `/${done.join('/')}`;
    return { host: this.hostOf(inside), inside };
  }

  /** Resolve, refusing what only a running system has (before and after following links). */
  private async locate(what: string, path: string, followLast = true): Promise<Resolved> {
    const asked = runningOnly(imagePath(path));
    if (asked) throw notRunning(`${what} ${path}`);
    const r = await this.resolveInside(path, followLast);
    if (runningOnly(r.inside)) throw notRunning(`${what} ${path} (→ ${r.inside})`);
    return r;
  }

  async describe(): Promise<HostDescription> {
    const text = async (p: string): Promise<string | undefined> => {
      try {
        return (await this.readFile(p)).toString('utf8');
      } catch {
        return undefined;
      }
    };
    const osRelease = (await text('/etc/os-release')) ?? (await text('/usr/lib/os-release'));
    const distro = prettyName(osRelease);
    const kernels = new Set<string>();
    for (const d of ['/lib/modules', '/usr/lib/modules']) {
      for (const k of await this.listDir(d).catch(() => [] as string[])) kernels.add(k);
    }
    return {
      name: basename(this.root),
      description: `root file system ${this.dir}`,
      source: 'live',
      distro,
      kernel: kernels.size ? `${[...kernels].sort().join(', ')} (installed, not running)` : undefined,
    };
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.locate('reading', path);
    // Only a regular file is ever opened: a FIFO in the image would block the run, and a device
    // node in the image would open the *controller's* device with that major:minor.
    let st;
    try {
      st = await lstat(r.host);
    } catch (e) {
      throw fromErrno(e, path);
    }
    if (st.isDirectory()) throw hostError('EISDIR', path);
    if (!st.isFile()) throw hostError('EIO', path, 'not a regular file in the image');
    let fh;
    try {
      // O_NOFOLLOW: the final component was resolved above; O_NONBLOCK: should it have become a FIFO since
      fh = await openFile(r.host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      throw fromErrno(e, path);
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw hostError('EISDIR', path);
      if (!st.isFile()) throw hostError('EIO', path, 'not a regular file in the image');
      if (st.size > READ_CAPS.image) throw hostError('EIO', path, `${st.size} bytes in the image, more than the ${mib(READ_CAPS.image)} sevcheck reads of one file: not read`);
      const data = await fh.readFile();
      if (data.length > READ_CAPS.image) throw hostError('EIO', path, `grew past ${mib(READ_CAPS.image)} while it was read: not read`);
      return data;
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw fromErrno(e, path);
    } finally {
      await fh.close();
    }
  }

  async stat(path: string): Promise<StatInfo> {
    const r = await this.locate('stat', path, false);
    let st;
    try {
      st = await lstat(r.host);
    } catch (e) {
      throw fromErrno(e, path);
    }
    // the image's own numeric ids and permission bits, as its files carry them
    return { path, type: fileType(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  }

  async acl(path: string): Promise<readonly string[] | undefined> {
    const r = await this.locate('ACL of', path, false);
    // coreutils/getfacl of the controller on the resolved path (the final component is not a link)
    return readExtendedAcl(async (argv) => {
      const [cmd, ...args] = argv as [string, ...string[]];
      const res = await execa(cmd, args, { reject: false, timeout: ACL_TIMEOUT_MS, stdin: 'ignore', stripFinalNewline: false, env: { LC_ALL: 'C' } });
      return runResultFromExeca(this.target, argv, res, ACL_TIMEOUT_MS);
    }, r.host).catch((e: unknown) => {
      if (e instanceof HostError) throw new HostError(e.code, path, e.message.split(r.host).join(path));
      throw e;
    });
  }

  async listDir(path: string): Promise<string[]> {
    const r = await this.locate('listing', path);
    try {
      return (await readdir(r.host)).sort();
    } catch (e) {
      throw fromErrno(e, path);
    }
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new HarnessError(`${this.target}: empty command`);
    const needs = needsRunningSystem(argv);
    if (needs) throw notRunning(`${argv.join(' ')} (asks ${needs})`);
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const child = execa(this.bwrap, [...bwrapArgs(this.root, await this.topEntries()), '--', ...argv], {
      reject: false,
      ...(opts.stdin === undefined ? { stdin: 'ignore' as const } : { input: opts.stdin }),
      stripFinalNewline: false,
      // its own process group, so that a timeout reaches everything it started
      detached: true,
      maxBuffer: RUN_MAX_OUTPUT,
      // bwrap itself is found on sevcheck's PATH; the command gets only --setenv's PATH and LANG
      env: { PATH: process.env.PATH ?? IMAGE_PATH },
      extendEnv: false,
    });
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      kill = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, timeout);
    let r;
    try {
      r = await child;
    } finally {
      clearTimeout(timer);
      clearTimeout(kill);
    }
    const cmd = argv.join(' ');
    if (timedOut) {
      throw new HostError('EIO', cmd, `${this.target}: ${cmd}: timed out after ${timeout / 1000} s; killed with its process group`);
    }
    if (r.isMaxBuffer) {
      killGroup(child.pid, 'SIGKILL');
      throw new HostError('EIO', cmd, `${this.target}: ${cmd}: printed more than ${mib(RUN_MAX_OUTPUT)}; killed with its process group`);
    }
    if (r.code === 'ENOENT') throw new HarnessError(`${this.target}: bwrap not found (install bubblewrap)`);
    const res = runResultFromExeca(this.target, argv, r, timeout);
    // containers/bubblewrap bubblewrap.c main() (v0.8.0, Debian 12): `die_with_error ("execvp %s", argv[0])`, i.e.
    // "bwrap: execvp ARGV0: ERROR" and exit 1, when the command cannot be executed; a command killed by
    // a signal is reported by bwrap as exit 128 + the signal, like a shell
    const prefix = `bwrap: execvp ${argv[0]}: `;
    const execErr = res.stderr.startsWith(prefix) ? [res.stderr, res.stderr.slice(prefix.length).split('\n')[0]] : undefined;
    if (res.exitCode === 1 && execErr) {
      if (/No such file or directory/.test(execErr[1] ?? '')) return { argv: [...argv], exitCode: 127, stdout: '', stderr: `${argv[0]}: command not found\n` };
      return { argv: [...argv], exitCode: 126, stdout: '', stderr: `${argv[0]}: ${execErr[1]}\n` };
    }
    return res;
  }

  /** MSRs exist only on a running CPU (/dev/cpu/N/msr). */
  async readMsr(cpu: number, index: number): Promise<bigint> {
    throw notRunning(`MSR 0x${(index >>> 0).toString(16).padStart(8, '0')} on CPU ${cpu}`);
  }

  async cpuid(leaf: number): Promise<CpuidRegs> {
    throw notRunning(`CPUID leaf 0x${(leaf >>> 0).toString(16).padStart(8, '0')}`);
  }

  async qmp(command: string): Promise<QmpReply> {
    throw notRunning(`QMP ${command}`);
  }

  /**
   * Bad input is one line and exit 2 before any check: DIR missing, not a directory, unreadable,
   * not a root file system (no /etc or /usr), bwrap missing or not permitted here.
   */
  async open(): Promise<void> {
    const bad = (problem: string): HarnessError => new HarnessError(`${this.target}: ${problem}`);
    let st;
    try {
      st = await statPath(this.root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw bad(code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : `cannot open (${code})`);
    }
    if (!st.isDirectory()) throw bad('not a directory');
    try {
      await access(this.root, constants.R_OK | constants.X_OK);
      await readdir(this.root);
    } catch {
      throw bad('unreadable (permission denied)');
    }
    for (const d of ['/etc', '/usr']) {
      let ok = false;
      try {
        ok = (await statPath((await this.resolveInside(d)).host)).isDirectory();
      } catch {
        ok = false;
      }
      if (!ok) throw bad(`not a root file system (no ${d} directory)`);
      try {
        await access((await this.resolveInside(d)).host, constants.R_OK | constants.X_OK);
      } catch {
        throw bad(`unreadable ${d} (permission denied)`);
      }
    }
    await this.checkBwrap(bad);
  }

  /** One sandbox start, so that "bwrap not permitted" is exit 2 here and not a wrong verdict later. */
  private async checkBwrap(bad: (p: string) => HarnessError): Promise<void> {
    const r = await execa(this.bwrap, [...bwrapArgs(this.root, await this.topEntries()), '--', 'true'], {
      reject: false,
      timeout: DEFAULT_TIMEOUT_MS,
      stdin: 'ignore',
      env: { PATH: process.env.PATH ?? IMAGE_PATH },
      extendEnv: false,
    });
    if (r.timedOut) throw bad(`bwrap did not start within ${DEFAULT_TIMEOUT_MS / 1000} s`);
    if (r.code === 'ENOENT' || (r.exitCode === undefined && /ENOENT/.test(r.originalMessage ?? ''))) {
      throw bad('bwrap not found on PATH (install bubblewrap: apt-get install bubblewrap)');
    }
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    // the sandbox came up when the command ran, or when only the image's `true` is missing
    if (r.exitCode === 0 || /^bwrap: execvp true:/m.test(stderr)) return;
    const line = stderr.trim().split('\n')[0] || `exit ${r.exitCode ?? '?'}`;
    throw bad(`bwrap cannot run commands in the image: ${line} (needs root or unprivileged user namespaces)`);
  }

  private async topEntries(): Promise<TopEntry[]> {
    if (this.top) return this.top;
    const out: TopEntry[] = [];
    for (const name of (await readdir(this.root)).sort()) {
      const st = await lstat(`${this.root}/${name}`);
      // a link is recreated as a link inside the sandbox, where it resolves against the image's own /
      if (st.isSymbolicLink()) out.push({ name, link: await readlink(`${this.root}/${name}`) });
      else if (st.isDirectory() || st.isFile()) out.push({ name });
    }
    this.top = out;
    return out;
  }

  async close(): Promise<void> {}
}
