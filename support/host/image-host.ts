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
 *   back) in its own appliance VM, finds the operating system (`-i`: inspection, mounting every
 *   file system of the OS at its mount point, read-only), and streams its file tree out as a tar
 *   (`tar-out / - excludes:...`). The image's bytes are only ever parsed inside that appliance.
 * - The tar is unpacked (GNU tar, numeric owners as the image has them, device nodes dropped) into
 *   a private temporary directory (0700), and RootfsHost judges that directory: the same reads,
 *   the same bubblewrap sandbox for the image's own binaries, the same verdicts as `rootfs:DIR`.
 *   The directory is removed on close.
 * - Left out of the copy, because no check reads them and they are most of an image's size:
 *   kernel modules' object files (/usr/lib/modules/<release>/kernel; `config` next to them stays),
 *   kernel and initrd images (/boot/config-* stays), firmware blobs, the compiled udev hwdb,
 *   documentation, manual pages, locales, apt's caches and logs.
 * - A raw file is first probed with libblkid (`blkid -p`, util-linux: reads signatures only): one
 *   with neither a partition table nor a file system is not a disk image, and a LUKS header means
 *   encrypted — both refused before an appliance is booted.
 * - There is no KVM on many controllers: the appliance then runs under TCG (LIBGUESTFS_BACKEND=
 *   direct, no libvirtd needed), which is why the extraction has a generous timeout.
 */
import { chmod, mkdtemp, rm, stat as statPath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { RootfsHost } from './rootfs-host.js';
import { HarnessError, type CpuidRegs, type Host, type HostDescription, type QmpReply, type RunOptions, type RunResult, type StatInfo } from './types.js';

/** qemu-img info on any image: it reads headers only */
const QEMU_IMG_TIMEOUT_MS = 30_000;
/** the appliance boots under TCG without KVM, then copies the tree out */
export const EXTRACT_TIMEOUT_MS = 600_000;
export const IMAGE_FORMATS = ['raw', 'qcow2'] as const;

/** tar --exclude patterns (GNU tar: matched against member names, which tar-out starts with "./") */
export const EXTRACT_EXCLUDES = [
  './usr/lib/modules/*/kernel',
  './lib/modules/*/kernel',
  './usr/lib/firmware',
  './lib/firmware',
  './usr/share/doc',
  './usr/share/man',
  './usr/share/locale',
  './usr/share/i18n',
  './var/cache/apt',
  './var/lib/apt/lists',
  './var/log',
  './boot/vmlinuz-*',
  './boot/initrd.img-*',
  './boot/System.map-*',
  './usr/lib/udev/hwdb.bin',
  './etc/udev/hwdb.bin',
  './proc',
  './sys',
  './dev',
  './run',
  './tmp',
] as const;

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
  private dir: string | undefined;
  private info: ImageInfo | undefined;

  constructor(readonly spec: string) {
    this.target = `image:${spec}`;
    this.file = resolve(spec);
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
    this.info = await this.inspect();
    this.dir = await mkdtemp(join(tmpdir(), 'sevcheck-image-'));
    await chmod(this.dir, 0o700);
    try {
      await this.extract(this.info.format, this.dir);
      const inner = new RootfsHost(this.dir, 'bwrap', this.target);
      await inner.open();
      this.inner = inner;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** guestfish --ro ... tar-out, piped into tar -x in `dir`; then device nodes are dropped. */
  private async extract(format: string, dir: string): Promise<void> {
    const excludes = `excludes:${EXTRACT_EXCLUDES.join(' ')}`;
    const gf = execa('guestfish', ['--ro', `--format=${format}`, '-a', this.file, '-i', 'tar-out', '/', '-', 'numericowner:true', excludes], {
      reject: false,
      timeout: EXTRACT_TIMEOUT_MS,
      stdin: 'ignore',
      env: { LIBGUESTFS_BACKEND: 'direct', LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) },
      extendEnv: false,
      buffer: { stdout: false, stderr: true },
    });
    const untar = gf.pipe('tar', ['-x', '-C', dir, '--numeric-owner', '--same-permissions', '--same-owner', '--no-overwrite-dir', '--warning=no-unknown-keyword', '-f', '-'], {
      reject: false,
      timeout: EXTRACT_TIMEOUT_MS,
      env: { LC_ALL: 'C' },
    });
    const [g, t] = await Promise.all([gf, untar.catch((e: unknown) => e as { exitCode?: number; stderr?: string })]);
    if (g.code === 'ENOENT' || (g.exitCode === undefined && /ENOENT/.test(g.originalMessage ?? ''))) throw this.bad('guestfish not found (install libguestfs-tools)');
    if (g.timedOut) throw this.bad(`libguestfs did not finish copying the image's files within ${EXTRACT_TIMEOUT_MS / 1000} s`);
    if (g.exitCode !== 0) throw this.bad(guestfishProblem(String(g.stderr ?? '')));
    const te = t as { exitCode?: number; stderr?: unknown };
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
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.host().run(argv, opts);
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
    const dir = this.dir;
    this.dir = undefined;
    this.inner = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
