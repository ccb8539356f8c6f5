/**
 * Wraps any host and remembers every read and its outcome, then writes them as a fixture host
 * (docs/fixture-format.md plus the listings.json / errors.json extensions documented in
 * fixture-host.ts). What is written is exactly what the probes read: a path that did not exist
 * is simply absent, as the format says.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { HostError, type CpuidRegs, type Host, type HostDescription, type QmpReply, type ReadOutcome, type ReadRequest, type RunOptions, type RunResult, type StatInfo } from './types.js';
import { readMany } from './read.js';
import { hex32 } from '../sev/cpuid.js';
import { prettyName } from '../parsers/os-release.js';

type ErrOp = 'readFile' | 'stat' | 'listDir' | 'cpuid' | 'acl' | 'msr' | 'run' | 'qmp';

export class RecordingHost implements Host {
  readonly target: string;
  readonly kind: Host['kind'];
  readonly system: Host['system'];
  private readonly files = new Map<string, Buffer>();
  private readonly stats = new Map<string, StatInfo>();
  /** extended ACL entries of the paths that have one (stat.json "acl") */
  private readonly acls = new Map<string, readonly string[]>();
  private readonly listings = new Map<string, string[]>();
  private readonly commands = new Map<string, RunResult>();
  private readonly leaves = new Map<string, CpuidRegs>();
  /** CPUID leaves read on CPUs other than 0: CPU → leaf → registers */
  private readonly cpuLeaves = new Map<number, Map<string, CpuidRegs>>();
  /** MSR values read: CPU → MSR index (hex) → value */
  private readonly msrs = new Map<number, Map<string, bigint>>();
  private readonly qmpReplies = new Map<string, QmpReply>();
  private readonly errors: Record<ErrOp, Map<string, { code: string; message: string }>> = {
    readFile: new Map(),
    stat: new Map(),
    listDir: new Map(),
    cpuid: new Map(),
    acl: new Map(),
    msr: new Map(),
    run: new Map(),
    qmp: new Map(),
  };

  constructor(readonly inner: Host) {
    this.target = inner.target;
    this.kind = inner.kind;
    this.system = inner.system;
  }

  private async track<T>(op: ErrOp | undefined, key: string, f: () => Promise<T>, keep: (v: T) => void): Promise<T> {
    try {
      const v = await f();
      keep(v);
      return v;
    } catch (e) {
      this.failed(op, key, e);
      throw e;
    }
  }

  /** Remember a read that failed, when its failure is a fact a replay must give again. */
  private failed(op: ErrOp | undefined, key: string, e: unknown): void {
    // ENOENT is recorded by absence, except for CPUID: a leaf missing from cpuid.json replays as
    // "not recorded", so a missing /dev/cpu/N/cpuid is kept as the error it was. NOT_RECORDED
    // can only come from a fixture being re-recorded.
    // A command or QMP call is kept only when it failed as NOT_RUNNING (a root file system target:
    // replayed as the same skip); any other failure of those is a harness error, not a fact.
    const keep = op === 'run' || op === 'qmp' ? e instanceof HostError && e.code === 'NOT_RUNNING' : true;
    if (op && keep && e instanceof HostError && (e.code !== 'ENOENT' || op === 'cpuid' || op === 'msr') && e.code !== 'NOT_RECORDED') {
      this.errors[op].set(key, { code: e.code, message: e.message });
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
  /** Each request of a batch is remembered as the single read it stands for (same key, same file). */
  async readMany(reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
    const outcomes = await readMany(this.inner, reads);
    reads.forEach((r, i) => {
      const o = outcomes[i];
      if (!o) return;
      const k = this.keeper(r);
      if (o.status === 'fulfilled') k.keep(o.value);
      else this.failed(k.op, k.key, o.reason);
    });
    return outcomes;
  }
  /** Where a batch request's outcome goes: the same op, key and store as its single-read method. */
  private keeper(r: ReadRequest): { op: ErrOp; key: string; keep: (v: unknown) => void } {
    switch (r.op) {
      case 'readFile':
        return { op: 'readFile', key: r.path, keep: (v) => this.files.set(r.path, v as Buffer) };
      case 'stat':
        return { op: 'stat', key: r.path, keep: (v) => this.stats.set(r.path, v as StatInfo) };
      case 'listDir':
        return { op: 'listDir', key: r.path, keep: (v) => this.listings.set(r.path, [...(v as string[])]) };
      case 'cpuid':
        return { op: 'cpuid', key: this.cpuidKey(r.leaf, r.cpu), keep: (v) => this.keepCpuid(r.leaf, r.cpu, v as CpuidRegs) };
      case 'msr':
        return { op: 'msr', key: `${r.cpu}:${hex32(r.index)}`, keep: (v) => this.keepMsr(r.cpu, r.index, v as bigint) };
    }
  }
  /** CPU 0's failures under the leaf, other CPUs' as "cpuN:<leaf>" (fixture-host.ts replays both) */
  private cpuidKey(leaf: number, cpu: number): string {
    return cpu === 0 ? hex32(leaf) : `cpu${cpu}:${hex32(leaf)}`;
  }
  private keepCpuid(leaf: number, cpu: number, r: CpuidRegs): void {
    const key = hex32(leaf);
    if (cpu === 0) this.leaves.set(key, r);
    else {
      const m = this.cpuLeaves.get(cpu) ?? new Map<string, CpuidRegs>();
      m.set(key, r);
      this.cpuLeaves.set(cpu, m);
    }
  }
  private keepMsr(cpu: number, index: number, v: bigint): void {
    const m = this.msrs.get(cpu) ?? new Map<string, bigint>();
    m.set(hex32(index), v);
    this.msrs.set(cpu, m);
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
    return this.track('cpuid', this.cpuidKey(leaf, cpu), () => this.inner.cpuid(leaf, cpu), (r) => this.keepCpuid(leaf, cpu, r));
  }
  readMsr(cpu: number, index: number): Promise<bigint> {
    return this.track('msr', `${cpu}:${hex32(index)}`, () => this.inner.readMsr(cpu, index), (v) => this.keepMsr(cpu, index, v));
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
    const distro = prettyName(text('/etc/os-release'));
    const host: Record<string, string> = {
      name: meta.name,
      description: meta.description ?? `recorded by sevcheck from ${this.inner.target}`,
      recordedAt: new Date().toISOString(),
      source: 'recorded',
    };
    if (meta.profile) host.profile = meta.profile;
    if (this.inner.system === 'rootfs') host.system = 'rootfs';
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
    const regsJson = (r: CpuidRegs): Record<string, string> => ({ eax: hex32(r.eax), ebx: hex32(r.ebx), ecx: hex32(r.ecx), edx: hex32(r.edx) });
    const sameRegs = (a: CpuidRegs | undefined, b: CpuidRegs): boolean =>
      a !== undefined && a.eax === b.eax && a.ebx === b.ebx && a.ecx === b.ecx && a.edx === b.edx;
    if (this.leaves.size || this.cpuLeaves.size) {
      // flat leaves = CPU 0's, which hold for every CPU; a "cpuN" map only for a CPU that differed
      const c: Record<string, unknown> = {};
      for (const [k, r] of this.leaves) c[k] = regsJson(r);
      for (const [cpu, m] of [...this.cpuLeaves].sort(([a], [b]) => a - b)) {
        const diff: Record<string, unknown> = {};
        for (const [k, r] of m) if (!sameRegs(this.leaves.get(k), r)) diff[k] = regsJson(r);
        if (Object.keys(diff).length) c[`cpu${cpu}`] = diff;
      }
      await writeFile(join(dir, 'cpuid.json'), json(c));
    }
    const msr = msrJson(this.msrs);
    if (msr) await writeFile(join(dir, 'msr.json'), json(msr));
    if (this.qmpReplies.size) await writeFile(join(dir, 'qmp.json'), json(Object.fromEntries(this.qmpReplies)));
    if (this.listings.size) await writeFile(join(dir, 'listings.json'), json(Object.fromEntries(this.listings)));
    const errors: Record<string, unknown> = {};
    for (const [op, m] of Object.entries(this.errors)) if (m.size) errors[op] = Object.fromEntries(m);
    if (Object.keys(errors).length) await writeFile(join(dir, 'errors.json'), json(errors));
  }
}

const msrHex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/**
 * msr.json from what was read: CPU 0's values, and for every other CPU read only the MSRs whose
 * value differs from CPU 0's (issue 12). When CPUs besides 0 were read, CPU 0's map is written as
 * "*" (every CPU without its own entry had that value); with CPU 0 alone it stays "0", so that a
 * replay never answers for a CPU nobody read.
 */
export function msrJson(msrs: ReadonlyMap<number, ReadonlyMap<string, bigint>>): Record<string, Record<string, string>> | undefined {
  if (msrs.size === 0) return undefined;
  const cpu0 = msrs.get(0) ?? new Map<string, bigint>();
  const others = [...msrs].filter(([cpu]) => cpu !== 0).sort(([a], [b]) => a - b);
  const out: Record<string, Record<string, string>> = {};
  const base: Record<string, string> = {};
  for (const [k, v] of cpu0) base[k] = msrHex(v);
  if (Object.keys(base).length) out[others.length ? '*' : '0'] = base;
  for (const [cpu, m] of others) {
    const diff: Record<string, string> = {};
    for (const [k, v] of m) if (cpu0.get(k) !== v) diff[k] = msrHex(v);
    if (Object.keys(diff).length) out[String(cpu)] = diff;
  }
  return Object.keys(out).length ? out : undefined;
}
