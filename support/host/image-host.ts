/**
 * `image:FILE`: a disk image (raw or qcow2, partitioned or not, any file system libguestfs reads:
 * ext4, xfs, btrfs, ...), judged exactly as `rootfs:DIR` (issue 22).
 *
 * How, and why this way:
 * - `qemu-img info --output=json` (qemu-utils) names the format; the image is refused when it is
 *   encrypted (qcow2/LUKS encryption), has a backing file or an external data file (those name
 *   *other* files on this machine, which the image must not make sevcheck read), or is neither
 *   raw nor qcow2. The format found is then given explicitly to libguestfs (no probing:
 *   guestfs(3) "SECURITY": a raw image that looks like qcow2 could otherwise name a backing file).
 * - libguestfs (Debian package libguestfs-tools; guestfish(1)) opens the image strictly read-only
 *   (`--ro`: the drive is added with readonly=true, qemu's snapshot layer; nothing is ever written
 *   back) in its own appliance VM, in one session driven command by command (guestfish.ts): the
 *   only Linux file system holding /etc and /usr is mounted read-only directly, otherwise
 *   inspection finds the operating system and mounts its file systems read-only. The image's
 *   bytes are only ever parsed inside that appliance.
 * - What a check can read is copied out: `tar-out /` without EXTRACT_EXCLUDES, and the large
 *   regular files of DOWNLOAD_DIRS with `download` (faster than the appliance's tar under TCG);
 *   Python's libraries only when an image command needs them (PYTHON_COMMANDS, a second session).
 *   Measured and broken down by `npm run bench image`.
 * - The tar is unpacked (GNU tar, numeric owners as the image has them, device nodes dropped) into
 *   a private temporary directory (0700), and RootfsHost judges that directory: the same reads,
 *   the same bubblewrap sandbox for the image's own binaries, the same verdicts as `rootfs:DIR`.
 *   The directory is removed on close.
 * - A raw file is first probed with libblkid (`blkid -p`, util-linux: reads signatures only): one
 *   with neither a partition table nor a file system is not a disk image, and a LUKS header means
 *   encrypted — both refused before an appliance is booted.
 * - There is no KVM on many controllers: the appliance then runs under TCG (LIBGUESTFS_BACKEND=
 *   direct, no libvirtd needed), which is why the extraction has a generous timeout.
 */
import { chmod, chown, link, lstat, mkdir, mkdtemp, rm, stat as statPath, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { RootfsHost } from './rootfs-host.js';
import { DEVICE, Guestfish, GuestfishError, hypervisorFailure, parseFilesystems, parseMountpoints } from './guestfish.js';
import { HarnessError, type CpuidRegs, type Host, type HostDescription, type QmpReply, type RunOptions, type RunResult, type StatInfo } from './types.js';
import { fnmatchRegExp } from '../parsers/fnmatch.js';

/** qemu-img info on any image: it reads headers only */
const QEMU_IMG_TIMEOUT_MS = 30_000;
/** the appliance boots under TCG without KVM: 15 s on a quiet 2-core machine, 35 s loaded */
const LAUNCH_TIMEOUT_MS = 300_000;
/** KVM could not start the appliance once in this process (ImageHost.launch): later sessions start under TCG */
let kvmUnusable = false;
/** inspection mounts and reads every file system of the image */
const INSPECT_TIMEOUT_MS = 300_000;
const CMD_TIMEOUT_MS = 60_000;
/** the copy of the files the checks read (about 250 MB of a Debian image with QEMU and libvirt) */
export const EXTRACT_TIMEOUT_MS = 600_000;
/** file systems a Linux root can be (a single one of them is mounted without inspection) */
export const LINUX_ROOT_TYPES: readonly string[] = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'f2fs', 'jfs', 'reiserfs'];
/**
 * Directories whose large regular files are copied with `download` rather than in the tar: under
 * TCG the appliance's tar (10 KiB records through a pipe) moves 3-7 MB/s, a plain `download`
 * 15-25 MB/s, and these hold most of the bytes (the emulator, the shared libraries, OVMF images).
 * A directory that is a symbolic link (merged /usr: /lib -> usr/lib) is skipped (is-dir does not
 * follow links), so each file is copied once.
 */
export const DOWNLOAD_DIRS: readonly string[] = [
  '/usr/bin',
  '/usr/sbin',
  '/usr/libexec',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib/x86_64-linux-gnu/qemu',
  '/usr/lib64/qemu',
  '/usr/lib/libvirt',
  '/usr/share/OVMF',
  '/usr/share/ovmf',
  '/usr/share/qemu',
  '/usr/share/edk2/ovmf',
  '/bin',
  '/sbin',
  '/lib/x86_64-linux-gnu',
  '/lib64',
];
/** files at least this large in DOWNLOAD_DIRS are downloaded (smaller ones cost more in round trips than in bytes) */
export const DOWNLOAD_MIN_BYTES = 256 * 1024;
/** guestfish(1) reads script lines into an 8 KiB buffer: a longer command is cut ("unterminated double quote") */
const GUESTFISH_LINE_MAX = 8000;
/** names sevcheck writes into a guestfish command: nothing guestfish's parser treats specially, nothing tar's exclude treats as a wildcard */
const PLAIN_NAME = /^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*$/;

export interface ImageTimings {
  check?: number;
  launch?: number;
  find?: number;
  tar?: number;
  list?: number;
  download?: number;
  downloaded?: { files: number; bytes: number };
  shutdown?: number;
  unpack?: number;
  open?: number;
  /** the second session for Python, when an image command needed it */
  python?: number;
  via?: string | undefined;
}

export interface GuestStat {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
}

/** `lstatnslist` output: one "[i] = { st_mode: N ... }" block per name, in order; undefined when the shape is not that. */
export function parseLstatnsList(out: string, count: number): GuestStat[] | undefined {
  const blocks = out.split(/^\[\d+\] = \{$/m).slice(1);
  if (blocks.length !== count) return undefined;
  const stats: GuestStat[] = [];
  for (const b of blocks) {
    const get = (k: string): number | undefined => {
      const m = new RegExp(`^\\s*${k}: (\\d+)$`, 'm').exec(b);
      return m?.[1] === undefined ? undefined : Number(m[1]);
    };
    const [dev, ino, mode, uid, gid, size, mtime] = ['st_dev', 'st_ino', 'st_mode', 'st_uid', 'st_gid', 'st_size', 'st_mtime_sec'].map(get);
    if (dev === undefined || ino === undefined || mode === undefined || uid === undefined || gid === undefined || size === undefined || mtime === undefined) return undefined;
    stats.push({ dev, ino, mode, uid, gid, size, mtime });
  }
  return stats;
}

/** GNU tar's exclusion match (fnmatch, `*` and `?` match "/" too; `[!...]`), of a member or any directory above it. */
export function excluded(member: string, patterns: readonly string[]): boolean {
  // no pattern of ours has a backslash: read as a literal one, as before fnmatch.ts
  const res = patterns.map((p) => fnmatchRegExp(p, { noescape: true }));
  const parts = member.split('/');
  for (let n = 2; n <= parts.length; n++) {
    const prefix = parts.slice(0, n).join('/');
    if (res.some((re) => re.test(prefix))) return true;
  }
  return false;
}
export const IMAGE_FORMATS = ['raw', 'qcow2'] as const;

/**
 * What the distro layer reads in /usr/share (support/probes/distro.ts: OVMF_DIRS, the firmware
 * descriptors of parsers/firmware-descriptor.ts, LIBVIRT_SCHEMA_DIR; Debian's /usr/share/ovmf
 * holds the descriptors' targets on some releases): the rest of /usr/share (documentation,
 * icons, locales, Java, fonts, ...) is never read by a check and is left in the image.
 */
export const USR_SHARE_KEPT = ['OVMF', 'edk2', 'libvirt', 'ovmf', 'qemu'] as const;
/** in /usr/share/qemu, the names (prefixes) kept: descriptors, upstream's bundled x86 EDK2, Ubuntu's OVMF links */
export const QEMU_SHARE_KEPT = ['firmware', 'edk2-x86_64', 'edk2-i386', 'OVMF', 'ovmf'] as const;
/** x86_64 is the only emulator a check runs (probes/distro.ts QEMU_BINARIES); the others are 30 MB each */
export const QEMU_SYSTEM_KEPT = ['qemu-system-x86_64'] as const;

/**
 * GNU tar --exclude patterns (tar-out's `excludes`; for exclusion `*` also matches "/", and a
 * pattern starting with "./" matches whole member names only) for every entry of `dir` whose
 * name starts with `scope` except the names in `keep`: tar has no "all but", so the complement is
 * spelt as a prefix tree (`[!/...]` never matches the "/" that would reach into a kept directory).
 */
export function excludeAllBut(dir: string, keep: readonly string[], scope = '', keepPrefixes = false): string[] {
  const out: string[] = [];
  const cls = (chars: string[]): string => {
    const sorted = [...new Set(chars)].sort();
    // a "-" is literal only last in a bracket expression
    return [...sorted.filter((c) => c !== '-'), ...sorted.filter((c) => c === '-')].join('');
  };
  const walk = (prefix: string, names: readonly string[]): void => {
    // keepPrefixes: every name beginning with a kept one is kept ("python3" keeps python3.13)
    if (keepPrefixes && names.includes(prefix)) return;
    const longer = names.filter((n) => n.length > prefix.length);
    // a name that is only a kept name's beginning ("qem" for "qemu") is not kept either
    if (prefix !== '' && !names.includes(prefix)) out.push(`${dir}/${prefix}`);
    const next = longer.map((n) => n[prefix.length] as string);
    out.push(`${dir}/${prefix}[!/${cls(next)}]*`);
    for (const c of new Set(next)) walk(prefix + c, longer.filter((n) => n[prefix.length] === c));
  };
  walk(scope, keep.filter((k) => k.startsWith(scope)));
  return out;
}

/** where Python's libraries live (Debian/Ubuntu: /usr/lib/python3*; Fedora/RHEL: also /usr/lib64) */
export const PYTHON_DIRS: readonly string[] = ['/usr/lib', '/usr/lib64', '/usr/local/lib', '/usr/bin'];
/** the image's commands that are Python programs (setools 4: sesearch, seinfo, sedta, seinfoflow) */
export const PYTHON_COMMANDS: ReadonlySet<string> = new Set(['sesearch', 'seinfo', 'sedta', 'seinfoflow']);

/**
 * tar --exclude patterns (GNU tar: matched against member names, which tar-out starts with "./"):
 * what no check reads, and most of an image's size — every byte the appliance copies costs time
 * under TCG (about 6 MB/s without KVM on the CI machine).
 */
export const EXTRACT_EXCLUDES: readonly string[] = [
  // kernels: /boot/config-* and /usr/lib/modules/<release>/config stay
  './usr/lib/modules/*/kernel',
  './lib/modules/*/kernel',
  './usr/lib/modules/*/updates',
  './lib/modules/*/updates',
  './usr/lib/modules/*/extra',
  './lib/modules/*/extra',
  './boot/vmlinuz*',
  './boot/initrd*',
  './boot/initramfs*',
  './boot/System.map*',
  './boot/efi',
  './boot/grub',
  './boot/loader',
  './usr/lib/firmware',
  './lib/firmware',
  ...excludeAllBut('./usr/share', USR_SHARE_KEPT),
  ...excludeAllBut('./usr/bin', QEMU_SYSTEM_KEPT, 'qemu-system-'),
  // QEMU's data: the firmware descriptors and the x86 EDK2 images they may name stay; the option
  // ROMs, VGA BIOSes and other machines' firmware go (a check never reads them)
  ...excludeAllBut('./usr/share/qemu', QEMU_SHARE_KEPT, '', true),
  './usr/bin/perl*',
  './usr/lib/udev/hwdb.bin',
  './usr/lib/udev/hwdb.d',
  './lib/udev/hwdb.d',
  './etc/udev/hwdb.bin',
  // compilers, debug symbols, headers, other language runtimes, graphics drivers
  './usr/include',
  './usr/src',
  './usr/lib/debug',
  './usr/lib/gcc',
  './usr/libexec/gcc',
  './usr/lib/jvm',
  './usr/lib/llvm-*',
  './usr/lib/x86_64-linux-gnu/dri',
  './usr/lib64/dri',
  './usr/lib/x86_64-linux-gnu/perl*',
  './usr/libexec/valgrind',
  './usr/lib/x86_64-linux-gnu/valgrind',
  './usr/local/share',
  // Python (its standard library is thousands of small files): only setools' sesearch needs it,
  // and only on an image that boots SELinux; copied then (ImageHost.run, PYTHON_COMMANDS)
  ...PYTHON_DIRS.map((d) => `.${d}/python3*`),
  './usr/bin/python3*',
  // data: users', services', package managers' caches, other guests' disks
  './home',
  './root',
  './srv',
  './mnt',
  './media',
  './opt',
  './lost+found',
  './swapfile',
  './swap.img',
  './var/cache/apt',
  './var/cache/dnf',
  './var/cache/yum',
  './var/cache/PackageKit',
  './var/lib/apt/lists',
  './var/lib/dpkg/info',
  './var/lib/selinux',
  './var/lib/libvirt/images',
  './var/lib/docker',
  './var/lib/containers',
  './var/lib/flatpak',
  './var/lib/snapd',
  './var/lib/systemd/coredump',
  './var/log',
  './var/tmp',
  './var/spool',
  './var/mail',
  './var/backups',
  './proc',
  './sys',
  './dev',
  './run',
  './tmp',
];

export interface ImageInfo {
  readonly format: string;
  readonly virtualSize?: number | undefined;
  readonly encrypted: boolean;
  readonly backingFile?: string | undefined;
  readonly dataFile?: string | undefined;
}

/** The fields sevcheck needs from `qemu-img info --output=json` (qemu/qemu qapi/block-core.json ImageInfo). */
export function parseQemuImgInfo(json: string): ImageInfo | string {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return 'qemu-img info printed no JSON';
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'qemu-img info printed no JSON object';
  const r = o as Record<string, unknown>;
  if (typeof r.format !== 'string') return 'qemu-img info names no format';
  const spec = r['format-specific'] as { data?: Record<string, unknown> } | undefined;
  const data = typeof spec === 'object' && spec !== null && typeof spec.data === 'object' && spec.data !== null ? spec.data : {};
  return {
    format: r.format,
    virtualSize: typeof r['virtual-size'] === 'number' ? r['virtual-size'] : undefined,
    encrypted: r.encrypted === true || typeof data.encrypt === 'object',
    backingFile: typeof r['backing-filename'] === 'string' ? r['backing-filename'] : undefined,
    dataFile: typeof data['data-file'] === 'string' ? data['data-file'] : undefined,
  };
}

/** TYPE and PTTYPE from `blkid -p -o export` (KEY=value lines). */
export function parseBlkidExport(out: string): { type?: string | undefined; ptType?: string | undefined } {
  const get = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1];
  return { type: get('TYPE'), ptType: get('PTTYPE') };
}

/** One line for what guestfish said when it could not open the image's operating system. */
export function guestfishProblem(stderr: string): string {
  const s = stderr.toLowerCase();
  if (/no operating system (was )?found|no root device found/.test(s)) return 'no operating system found in the disk image (libguestfs inspection found no root file system)';
  if (/passphrase|luks|crypt|enter key/.test(s)) return 'the disk image holds an encrypted file system (LUKS): sevcheck does not unlock images';
  if (/multi-boot|multiboot|multiple operating systems/.test(s)) return 'the disk image holds more than one operating system: sevcheck judges one root file system';
  const first = stderr.trim().split('\n').find((l) => l.trim() !== '') ?? 'no output';
  // guestfish quotes the image's own labels in some errors: keep it to one short line
  return `libguestfs cannot open the disk image: ${first.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}`;
}

export class ImageHost implements Host {
  readonly target: string;
  readonly kind = 'rootfs' as const;
  readonly system = 'rootfs' as const;
  readonly file: string;
  private inner: RootfsHost | undefined;
  private work: string | undefined;
  private dir: string | undefined;
  private info: ImageInfo | undefined;
  private python: Promise<void> | undefined;
  /** where open() spent its time, in ms (npm run bench image) */
  readonly timings: ImageTimings = {};

  constructor(
    readonly spec: string,
    private readonly opts: { readonly warn?: ((message: string) => void) | undefined } = {},
  ) {
    this.target = `image:${spec}`;
    this.file = resolve(spec);
  }

  /**
   * A guestfish session whose appliance is up (`run` answered). When KVM cannot start it (the
   * hypervisor died: hypervisorFailed) and the user set no LIBGUESTFS_BACKEND_SETTINGS, once more
   * under TCG, with a warning; the process remembers it for later sessions.
   */
  private async launch(format: string): Promise<Guestfish> {
    const start = async (tcg: boolean): Promise<Guestfish> => {
      const gf = new Guestfish(this.file, format, { tcg });
      try {
        await gf.cmd('run', LAUNCH_TIMEOUT_MS);
        return gf;
      } catch (e) {
        await gf.close();
        throw e;
      }
    };
    try {
      return await start(kvmUnusable);
    } catch (e) {
      const died = e instanceof GuestfishError && !e.timedOut ? hypervisorFailure(e.stderr) : undefined;
      if (died === undefined || kvmUnusable || process.env.LIBGUESTFS_BACKEND_SETTINGS !== undefined) throw e;
      kvmUnusable = true;
      this.opts.warn?.(`${this.target}: KVM could not start libguestfs's appliance (${died}); it runs under TCG instead (slower; LIBGUESTFS_BACKEND_SETTINGS=force_tcg says so from the start)`);
      return await start(true);
    }
  }

  private bad(problem: string): HarnessError {
    return new HarnessError(`${this.target}: ${problem}`);
  }

  private host(): RootfsHost {
    if (!this.inner) throw new HarnessError(`${this.target}: not opened`);
    return this.inner;
  }

  /** Refuse what is not a plain raw/qcow2 image file; the format qemu-img found. */
  private async inspect(): Promise<ImageInfo> {
    let st;
    try {
      st = await statPath(this.file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw this.bad(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot open (${code})`);
    }
    if (st.isDirectory()) throw this.bad('is a directory (a root file system is --host rootfs:DIR)');
    if (!st.isFile() && !st.isBlockDevice()) throw this.bad('not a regular file or block device');
    if (st.isFile() && st.size === 0) throw this.bad('empty file: not a disk image');
    const r = await execa('qemu-img', ['info', '--force-share', '--output=json', '--', this.file], { reject: false, timeout: QEMU_IMG_TIMEOUT_MS, stdin: 'ignore', env: { LC_ALL: 'C' } });
    if (r.code === 'ENOENT' || (r.exitCode === undefined && /ENOENT/.test(r.originalMessage ?? ''))) throw this.bad('qemu-img not found (install qemu-utils)');
    if (r.timedOut) throw this.bad(`qemu-img info did not answer within ${QEMU_IMG_TIMEOUT_MS / 1000} s`);
    if (r.exitCode !== 0) throw this.bad(`not a disk image qemu-img can read (qemu-img info exited ${r.exitCode})`);
    const info = parseQemuImgInfo(String(r.stdout));
    if (typeof info === 'string') throw this.bad(info);
    if (info.encrypted) throw this.bad(`the ${info.format} image is encrypted: sevcheck does not unlock images`);
    if (info.backingFile !== undefined) throw this.bad(`the ${info.format} image has a backing file: give sevcheck a self-contained image (qemu-img convert -O qcow2 ...)`);
    if (info.dataFile !== undefined) throw this.bad(`the ${info.format} image has an external data file: give sevcheck a self-contained image`);
    if (!(IMAGE_FORMATS as readonly string[]).includes(info.format)) throw this.bad(`format ${info.format} is not supported (raw or qcow2; qemu-img convert -O qcow2 converts others)`);
    if (info.format === 'raw') {
      const b = await execa('blkid', ['-p', '-o', 'export', '--', this.file], { reject: false, timeout: QEMU_IMG_TIMEOUT_MS, stdin: 'ignore', env: { LC_ALL: 'C' } });
      if (b.code === 'ENOENT') throw this.bad('blkid not found (install util-linux)');
      const probe = parseBlkidExport(String(b.stdout ?? ''));
      if (probe.type === 'crypto_LUKS') throw this.bad('the disk image is a LUKS-encrypted volume: sevcheck does not unlock images');
      // blkid(8): exit 2 when nothing was found
      if (probe.type === undefined && probe.ptType === undefined) throw this.bad('not a disk image: no partition table and no file system signature (blkid -p)');
    }
    return info;
  }

  async open(): Promise<void> {
    const t0 = Date.now();
    this.info = await this.inspect();
    this.timings.check = Date.now() - t0;
    this.work = await mkdtemp(join(tmpdir(), 'sevcheck-image-'));
    await chmod(this.work, 0o700);
    this.dir = join(this.work, 'root');
    await mkdir(this.dir, { mode: 0o700 });
    try {
      await this.extract(this.info.format, this.dir);
      const t1 = Date.now();
      const inner = new RootfsHost(this.dir, 'bwrap', this.target);
      await inner.open();
      this.inner = inner;
      this.timings.open = Date.now() - t1;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /**
   * One guestfish session: boot the appliance, find the root file system (the only Linux file
   * system holding /etc and /usr, mounted directly; otherwise libguestfs inspection and every
   * mount point it names), copy the regular file of the x86_64 emulator with `download` (a plain
   * read, 2-3 times faster than tar under TCG) and the rest with `tar-out` (EXTRACT_EXCLUDES left
   * out) into a file in the private work directory, unpacked there by GNU tar.
   */
  private async extract(format: string, dir: string): Promise<void> {
    const work = this.work as string;
    if (/["\\\s]/.test(work)) throw this.bad(`the temporary directory ${JSON.stringify(work)} has a quote, backslash or space: set TMPDIR to a plain path`);
    const tarFile = join(work, 'image.tar');
    let t = Date.now();
    let gf: Guestfish;
    try {
      gf = await this.launch(format);
    } catch (e) {
      if (e instanceof GuestfishError) throw this.bad(e.timedOut ? `libguestfs: ${e.message}` : e.message.startsWith('guestfish not found') ? e.message : guestfishProblem(e.stderr));
      throw e;
    }
    const lap = (k: Exclude<keyof ImageTimings, 'via' | 'downloaded' | 'python'>): void => {
      const now = Date.now();
      this.timings[k] = (this.timings[k] ?? 0) + now - t;
      t = now;
    };
    try {
      await this.mountRoot(gf, lap);
      lap('find');
      const direct: Array<{ path: string } & GuestStat> = [];
      for (const d of DOWNLOAD_DIRS) {
        // only a directory whose path has no link in it (merged /usr: /lib -> usr/lib): each file
        // is copied once, and written on this machine where tar made real directories
        if ((await gf.cmd(`is-dir ${d}`, CMD_TIMEOUT_MS)).trim() !== 'true' || (await gf.cmd(`realpath ${d}`, CMD_TIMEOUT_MS)).trim() !== d) continue;
        const names = (await gf.cmd(`ls ${d}`, CMD_TIMEOUT_MS)).split('\n').filter((n) => PLAIN_NAME.test(n) && !excluded(`.${d}/${n}`, EXTRACT_EXCLUDES));
        for (let i = 0; i < names.length; i += 200) {
          const batch = names.slice(i, i + 200);
          const stats = parseLstatnsList(await gf.cmd(`lstatnslist ${d} "${batch.join(' ')}"`, CMD_TIMEOUT_MS), batch.length);
          if (!stats) continue; // left to tar
          batch.forEach((n, j) => {
            const st = stats[j] as GuestStat;
            // S_IFREG (stat(2)): a link stays a link, in the tar
            if ((st.mode & 0o170000) === 0o100000 && st.size >= DOWNLOAD_MIN_BYTES) direct.push({ path: `${d}/${n}`, ...st });
          });
        }
      }
      lap('list');
      // guestfish reads a command line of at most 8 KiB: the largest files fill what is left of it
      direct.sort((a, b) => b.size - a.size);
      let room = GUESTFISH_LINE_MAX - 200 - tarFile.length - EXTRACT_EXCLUDES.reduce((n, e) => n + e.length + 1, 0);
      const fits = direct.filter((d) => (room -= d.path.length + 2) >= 0);
      direct.length = 0;
      direct.push(...fits);
      const excludes = [...EXTRACT_EXCLUDES, ...direct.map((d) => `.${d.path}`)];
      await gf.cmd(`tar-out / ${tarFile} numericowner:true "excludes:${excludes.join(' ')}"`, EXTRACT_TIMEOUT_MS);
      lap('tar');
      await this.untar(tarFile, dir);
      lap('unpack');
      const copied = new Map<string, string>();
      for (const d of direct) {
        const local = join(dir, d.path);
        // never written through a link: each directory above it is a directory tar made
        for (let p = dirname(local); p !== dir && p.startsWith(`${dir}/`); p = dirname(p)) {
          if (!(await lstat(p)).isDirectory()) throw this.bad(`unexpected link on the way to ${d.path} in the copy of the image`);
        }
        // a hard link is copied once (st_dev and st_ino name the file)
        const same = copied.get(`${d.dev}:${d.ino}`);
        if (same !== undefined) {
          await link(same, local);
          continue;
        }
        await gf.cmd(`download ${d.path} ${local}`, EXTRACT_TIMEOUT_MS);
        copied.set(`${d.dev}:${d.ino}`, local);
        await chmod(local, d.mode & 0o7777);
        await chown(local, d.uid, d.gid).catch(() => undefined);
        await utimes(local, d.mtime, d.mtime);
      }
      this.timings.downloaded = { files: direct.length, bytes: direct.reduce((a, d) => a + d.size, 0) };
      lap('download');
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      if (e instanceof GuestfishError) throw this.bad(e.timedOut ? `libguestfs: ${e.message}` : e.message.startsWith('guestfish not found') ? e.message : guestfishProblem(e.stderr));
      throw e;
    } finally {
      await gf.close();
      lap('shutdown');
    }
  }

  /** Boot the appliance and mount the image's root file system (and its other mount points) read-only at /. */
  private async mountRoot(gf: Guestfish, lap: (k: 'launch') => void): Promise<void> {
    lap('launch');
    const fss = parseFilesystems(await gf.cmd('list-filesystems', CMD_TIMEOUT_MS));
    const linux = fss.filter((f) => LINUX_ROOT_TYPES.includes(f.type));
    let luks = fss.some((f) => f.type === 'crypto_LUKS');
    let mounted = false;
    if (linux.length === 1) {
      const only = linux[0] as { device: string };
      await gf.cmd(`mount-ro ${only.device} /`, CMD_TIMEOUT_MS);
      mounted = (await gf.cmd('is-dir /etc', CMD_TIMEOUT_MS)).trim() === 'true' && (await gf.cmd('is-dir /usr', CMD_TIMEOUT_MS)).trim() === 'true';
      if (!mounted) await gf.cmd('umount-all', CMD_TIMEOUT_MS);
      this.timings.via = mounted ? `the only Linux file system (${only.device})` : undefined;
    }
    if (!mounted) {
      const roots = (await gf.cmd('inspect-os', INSPECT_TIMEOUT_MS)).split('\n').filter((l) => DEVICE.test(l));
      if (roots.length === 0 && !luks) {
        // list-filesystems leaves LUKS volumes out (libguestfs 1.48): ask each partition and disk
        const blocks = [...(await gf.cmd('list-partitions', CMD_TIMEOUT_MS)).split('\n'), ...(await gf.cmd('list-devices', CMD_TIMEOUT_MS)).split('\n')].filter((d) => DEVICE.test(d));
        for (const b of blocks) if (!luks && (await gf.cmd(`-vfs-type ${b}`, CMD_TIMEOUT_MS)).trim() === 'crypto_LUKS') luks = true;
      }
      if (roots.length === 0) throw this.bad(luks ? 'the disk image holds an encrypted file system (LUKS) and no other operating system: sevcheck does not unlock images' : 'no operating system found in the disk image (libguestfs inspection found no root file system)');
      if (roots.length > 1) throw this.bad('the disk image holds more than one operating system: sevcheck judges one root file system');
      for (const mp of parseMountpoints(await gf.cmd(`inspect-get-mountpoints ${roots[0] as string}`, CMD_TIMEOUT_MS))) {
        // a mount point inspection names but cannot mount (a swap, an encrypted /home) stays out
        await gf.cmd(`-mount-ro ${mp.device} ${mp.mountpoint}`, CMD_TIMEOUT_MS);
      }
      if ((await gf.cmd('is-dir /etc', CMD_TIMEOUT_MS)).trim() !== 'true') throw this.bad('no operating system found in the disk image (its root file system has no /etc)');
      this.timings.via = `libguestfs inspection (root ${roots[0] as string})`;
    }
  }

  /** GNU tar unpacks the appliance's tar into `dir`; device nodes are dropped. */
  private async untar(tarFile: string, dir: string): Promise<void> {
    const te = await execa('tar', ['-x', '-C', dir, '--numeric-owner', '--same-permissions', '--same-owner', '--no-overwrite-dir', '--warning=no-unknown-keyword', '-f', tarFile], { reject: false, timeout: EXTRACT_TIMEOUT_MS, env: { LC_ALL: 'C' } });
    await rm(tarFile, { force: true });
    if (te.exitCode !== 0) throw this.bad(`cannot unpack the image's files (tar exited ${te.exitCode ?? '?'}: ${String(te.stderr ?? '').trim().split('\n')[0]?.slice(0, 200) ?? ''})`);
    // block and character devices in the image are never recreated on this machine as usable nodes
    await execa('find', [dir, '-xdev', '(', '-type', 'b', '-o', '-type', 'c', ')', '-delete'], { reject: false, timeout: 60_000, env: { LC_ALL: 'C' } });
  }

  async describe(): Promise<HostDescription> {
    const d = await this.host().describe();
    return { ...d, name: basename(this.file), description: `disk image ${this.spec} (${this.info?.format ?? '?'}, opened read-only with libguestfs)` };
  }
  readFile(path: string): Promise<Buffer> {
    return this.host().readFile(path);
  }
  stat(path: string): Promise<StatInfo> {
    return this.host().stat(path);
  }
  acl(path: string): Promise<readonly string[] | undefined> {
    return this.host().acl(path);
  }
  listDir(path: string): Promise<string[]> {
    return this.host().listDir(path);
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const host = this.host();
    if (PYTHON_COMMANDS.has(basename(argv[0] ?? ''))) await (this.python ??= this.copyPython());
    return host.run(argv, opts);
  }

  /** A second session copies the image's Python libraries (left out of the first copy: EXTRACT_EXCLUDES). */
  private async copyPython(): Promise<void> {
    const work = this.work as string;
    const dir = this.dir as string;
    const t = Date.now();
    let gf: Guestfish;
    try {
      gf = await this.launch(this.info?.format ?? 'raw');
    } catch (e) {
      if (e instanceof GuestfishError) throw this.bad(e.timedOut ? `libguestfs: ${e.message}` : guestfishProblem(e.stderr));
      throw e;
    }
    try {
      await this.mountRoot(gf, () => undefined);
      for (const d of PYTHON_DIRS) {
        if ((await gf.cmd(`is-dir ${d}`, CMD_TIMEOUT_MS)).trim() !== 'true' || (await gf.cmd(`realpath ${d}`, CMD_TIMEOUT_MS)).trim() !== d) continue;
        const tarFile = join(work, 'python.tar');
        await gf.cmd(`tar-out ${d} ${tarFile} numericowner:true "excludes:${excludeAllBut('.', ['python3'], '', true).join(' ')}"`, EXTRACT_TIMEOUT_MS);
        const into = join(dir, d);
        for (let p = into; p !== dir && p.startsWith(`${dir}/`); p = dirname(p)) {
          if (!(await lstat(p)).isDirectory()) throw this.bad(`unexpected link at ${d} in the copy of the image`);
        }
        await this.untar(tarFile, into);
      }
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      if (e instanceof GuestfishError) throw this.bad(e.timedOut ? `libguestfs: ${e.message}` : guestfishProblem(e.stderr));
      throw e;
    } finally {
      await gf.close();
      this.timings.python = Date.now() - t;
    }
  }
  readMsr(cpu: number, index: number): Promise<bigint> {
    return this.host().readMsr(cpu, index);
  }
  cpuid(leaf: number): Promise<CpuidRegs> {
    return this.host().cpuid(leaf);
  }
  qmp(command: string): Promise<QmpReply> {
    return this.host().qmp(command);
  }
  async close(): Promise<void> {
    const work = this.work;
    this.work = undefined;
    this.dir = undefined;
    this.inner = undefined;
    if (work) await rm(work, { recursive: true, force: true });
  }
}
