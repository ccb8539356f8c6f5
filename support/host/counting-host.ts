import type { CpuidRegs, Host, HostDescription, QmpReply, ReadOutcome, ReadRequest, RunOptions, RunResult, StatInfo } from './types.js';
import { readMany } from './read.js';

/**
 * Counts the reads that reach the wrapped host. Placed under the per-run cache, it shows how
 * often each fact was really fetched (the per-run cache promise: at most once). Enabled by
 * SEVCHECK_READ_LOG=<file>, which gets the counts as JSON after the run.
 */
export class CountingHost implements Host {
  readonly target: string;
  readonly kind: Host['kind'];
  readonly system: Host['system'];
  readonly counts = new Map<string, number>();

  constructor(readonly inner: Host) {
    this.target = inner.target;
    this.kind = inner.kind;
    this.system = inner.system;
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  describe(): Promise<HostDescription> {
    return this.inner.describe();
  }
  readFile(path: string): Promise<Buffer> {
    this.count(`readFile ${path}`);
    return this.inner.readFile(path);
  }
  stat(path: string): Promise<StatInfo> {
    this.count(`stat ${path}`);
    return this.inner.stat(path);
  }
  acl(path: string): Promise<readonly string[] | undefined> {
    this.count(`acl ${path}`);
    return this.inner.acl(path);
  }
  listDir(path: string): Promise<string[]> {
    this.count(`listDir ${path}`);
    return this.inner.listDir(path);
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.count(`run ${JSON.stringify(argv)}`);
    return this.inner.run(argv, opts);
  }
  cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    this.count(`cpuid 0x${leaf.toString(16)} cpu${cpu}`);
    return this.inner.cpuid(leaf, cpu);
  }
  readMsr(cpu: number, index: number): Promise<bigint> {
    this.count(`msr 0x${index.toString(16)} cpu${cpu}`);
    return this.inner.readMsr(cpu, index);
  }
  /** Each request of a batch counts as the single read it stands for (the same key). */
  readMany(reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
    for (const r of reads) {
      if (r.op === 'cpuid') this.count(`cpuid 0x${r.leaf.toString(16)} cpu${r.cpu}`);
      else if (r.op === 'msr') this.count(`msr 0x${r.index.toString(16)} cpu${r.cpu}`);
      else this.count(`${r.op} ${r.path}`);
    }
    return readMany(this.inner, reads);
  }
  qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    this.count(`qmp ${command} ${JSON.stringify(args ?? {})}`);
    return this.inner.qmp(command, args);
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
