/**
 * Wraps any host and remembers every read and its outcome, then writes them as a fixture host
 * (../shared/fixture-format.md plus the listings.json / errors.json extensions documented in
 * fixture-host.ts). What is written is exactly what the probes read: a path that did not exist
 * is simply absent, as the format says.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { HostError, type CpuidRegs, type Host, type HostDescription, type QmpReply, type RunOptions, type RunResult, type StatInfo } from './types.js';
import { hex32 } from '../sev/cpuid.js';

type ErrOp = 'readFile' | 'stat' | 'listDir' | 'cpuid' | 'acl' | 'run' | 'qmp';

export class RecordingHost implements Host {
  readonly target: string;
  readonly kind: Host['kind'];
  private readonly files = new Map<string, Buffer>();
  private readonly stats = new Map<string, StatInfo>();
  /** extended ACL entries of the paths that have one (stat.json "acl") */
  private readonly acls = new Map<string, readonly string[]>();
  private readonly listings = new Map<string, string[]>();
  private readonly commands = new Map<string, RunResult>();
  private readonly leaves = new Map<string, CpuidRegs>();
  private readonly qmpReplies = new Map<string, QmpReply>();
  private readonly errors: Record<ErrOp, Map<string, { code: string; message: string }>> = {
    readFile: new Map(),
    stat: new Map(),
    listDir: new Map(),
    cpuid: new Map(),
    acl: new Map(),
    run: new Map(),
    qmp: new Map(),
  };

  constructor(readonly inner: Host) {
    this.target = inner.target;
    this.kind = inner.kind;
  }

  private async track<T>(op: ErrOp | undefined, key: string, f: () => Promise<T>, keep: (v: T) => void): Promise<T> {
    try {
      const v = await f();
      keep(v);
      return v;
    } catch (e) {
      // ENOENT is recorded by absence, except for CPUID: a leaf missing from cpuid.json replays as
      // "not recorded", so a missing /dev/cpu/N/cpuid is kept as the error it was. NOT_RECORDED
      // can only come from a fixture being re-recorded.
      // A command or QMP call is kept only when it failed as NOT_RUNNING (a root file system target:
      // replayed as the same skip); any other failure of those is a harness error, not a fact.
      const keep = op === 'run' || op === 'qmp' ? e instanceof HostError && e.code === 'NOT_RUNNING' : true;
      if (op && keep && e instanceof HostError && (e.code !== 'ENOENT' || op === 'cpuid') && e.code !== 'NOT_RECORDED') {
        this.errors[op].set(key, { code: e.code, message: e.message });
      }
      throw e;
    }
  }

  describe(): Promise<HostDescription> {
    return this.inner.describe();
  }
  readFile(path: string): Promise<Buffer> {
    return this.track('readFile', path, () => this.inner.readFile(path), (b) => this.files.set(path, b));
  }
  stat(path: string): Promise<StatInfo> {
    return this.track('stat', path, () => this.inner.stat(path), (s) => this.stats.set(path, s));
  }
  acl(path: string): Promise<readonly string[] | undefined> {
    // no "acl" key means no extended ACL (fixture-format.md), so only a found ACL is written
    // an ACL that could not be read (no getfacl) is kept in errors.json: replaying it as "none" would decide what live could not
    return this.track('acl', path, () => this.inner.acl(path), (a) => {
      if (a !== undefined) this.acls.set(path, [...a]);
    });
  }
  listDir(path: string): Promise<string[]> {
    return this.track('listDir', path, () => this.inner.listDir(path), (l) => this.listings.set(path, [...l]));
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.track('run', JSON.stringify(argv), () => this.inner.run(argv, opts), (r) => this.commands.set(JSON.stringify(argv), r));
  }
  cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    const key = hex32(leaf);
    return this.track(cpu === 0 ? 'cpuid' : undefined, key, () => this.inner.cpuid(leaf, cpu), (r) => {
      if (cpu === 0) this.leaves.set(key, r);
    });
  }
  qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    return this.track(args === undefined ? 'qmp' : undefined, command, () => this.inner.qmp(command, args), (r) => {
      if (args === undefined) this.qmpReplies.set(command, r);
    });
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Write everything read so far as a fixture host directory. */
  async writeFixture(dir: string, meta: { name: string; description?: string; profile?: string }): Promise<void> {
    await mkdir(join(dir, 'files'), { recursive: true });
    for (const [path, buf] of this.files) {
      const dest = join(dir, 'files', posix.normalize(path));
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, buf);
    }
    const text = (p: string): string | undefined => this.files.get(p)?.toString('utf8');
    const distro = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text('/etc/os-release') ?? '')?.[1];
    const host: Record<string, string> = {
      name: meta.name,
      description: meta.description ?? `recorded by sevcheck from ${this.inner.target}`,
      recordedAt: new Date().toISOString(),
      source: 'recorded',
    };
    if (meta.profile) host.profile = meta.profile;
    // a root file system has no running kernel: its description names the installed ones
    const inner = this.inner.kind === 'rootfs' ? await this.inner.describe() : undefined;
    const kernel = text('/proc/sys/kernel/osrelease')?.trim() ?? inner?.kernel;
    if (kernel) host.kernel = kernel;
    const shownDistro = distro ?? inner?.distro;
    if (shownDistro) host.distro = shownDistro;
    const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
    await writeFile(join(dir, 'host.json'), json(host));

    const stat: Record<string, unknown> = {};
    for (const [p, s] of [...this.stats].sort(([a], [b]) => a.localeCompare(b))) {
      const e: Record<string, unknown> = { type: s.type, mode: `0${s.mode.toString(8).padStart(3, '0')}`, uid: s.uid, gid: s.gid };
      if (s.selinux) e.selinux = s.selinux;
      const acl = this.acls.get(p);
      if (acl) e.acl = acl;
      stat[p] = e;
    }
    if (Object.keys(stat).length) await writeFile(join(dir, 'stat.json'), json(stat));
    if (this.commands.size) {
      await writeFile(
        join(dir, 'commands.json'),
        json([...this.commands.values()].map((r) => ({ argv: r.argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }))),
      );
    }
    if (this.leaves.size) {
      const c: Record<string, unknown> = {};
      for (const [k, r] of this.leaves) c[k] = { eax: hex32(r.eax), ebx: hex32(r.ebx), ecx: hex32(r.ecx), edx: hex32(r.edx) };
      await writeFile(join(dir, 'cpuid.json'), json(c));
    }
    if (this.qmpReplies.size) await writeFile(join(dir, 'qmp.json'), json(Object.fromEntries(this.qmpReplies)));
    if (this.listings.size) await writeFile(join(dir, 'listings.json'), json(Object.fromEntries(this.listings)));
    const errors: Record<string, unknown> = {};
    for (const [op, m] of Object.entries(this.errors)) if (m.size) errors[op] = Object.fromEntries(m);
    if (Object.keys(errors).length) await writeFile(join(dir, 'errors.json'), json(errors));
  }
}
