import { Memo } from '../memo.js';
import type { CpuidRegs, Host, HostDescription, QmpReply, ReadOutcome, ReadRequest, RunOptions, RunResult, StatInfo } from './types.js';
import { readMany } from './read.js';

/** The cache key of a batch request: the same as its single-read method's. */
export function readKey(r: ReadRequest): string {
  switch (r.op) {
    case 'readFile':
    case 'stat':
    case 'listDir':
      return `${r.op}\0${r.path}`;
    case 'cpuid':
      return `cpuid\0${r.leaf}\0${r.cpu}`;
    case 'msr':
      return `msr\0${r.cpu}\0${r.index}`;
  }
}

/**
 * Per-run fact cache: every distinct read (file, stat, listing, command, CPUID leaf, QMP command)
 * reaches the wrapped host at most once per run; failures are cached too, so an unreadable file
 * is not retried by every check that wants it.
 */
export class CachingHost implements Host {
  readonly target: string;
  readonly kind: Host['kind'];
  readonly system: Host['system'];
  private readonly memo = new Memo();

  constructor(readonly inner: Host) {
    this.target = inner.target;
    this.kind = inner.kind;
    this.system = inner.system;
  }

  describe(): Promise<HostDescription> {
    return this.memo.once('describe', () => this.inner.describe());
  }
  readFile(path: string): Promise<Buffer> {
    return this.memo.once(`readFile\0${path}`, () => this.inner.readFile(path));
  }
  stat(path: string): Promise<StatInfo> {
    return this.memo.once(`stat\0${path}`, () => this.inner.stat(path));
  }
  acl(path: string): Promise<readonly string[] | undefined> {
    return this.memo.once(`acl\0${path}`, () => this.inner.acl(path));
  }
  listDir(path: string): Promise<string[]> {
    return this.memo.once<string[]>(`listDir\0${path}`, () => this.inner.listDir(path)).then((l) => [...l]);
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.memo.once(`run\0${JSON.stringify(argv)}${opts?.stdin === undefined ? '' : `\0${opts.stdin}`}`, () => this.inner.run(argv, opts));
  }
  cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    return this.memo.once(`cpuid\0${leaf}\0${cpu}`, () => this.inner.cpuid(leaf, cpu));
  }
  readMsr(cpu: number, index: number): Promise<bigint> {
    return this.memo.once(`msr\0${cpu}\0${index}`, () => this.inner.readMsr(cpu, index));
  }
  /**
   * The requests not cached yet go to the wrapped host as one batch; each lands in the cache
   * under its single read's key (so a later readFile, stat, ... of it answers from here), and
   * those already cached or in flight are not asked again.
   */
  readMany(reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
    const todo: ReadRequest[] = [];
    let release: (b: Promise<ReadOutcome[]>) => void = () => undefined;
    const batch = new Promise<ReadOutcome[]>((res) => (release = res));
    const promises = reads.map((r) =>
      this.memo.once(readKey(r), () => {
        const i = todo.push(r) - 1;
        return batch.then((outcomes) => {
          const o = outcomes[i];
          if (!o) throw new Error(`harness defect: ${this.target}: readMany answered ${outcomes.length} of ${todo.length} reads`);
          if (o.status === 'rejected') throw o.reason;
          return o.value;
        });
      }),
    );
    release(todo.length ? readMany(this.inner, todo) : Promise.resolve([]));
    // a listing is handed out as a copy, as listDir does
    return Promise.allSettled(promises).then((outcomes) =>
      outcomes.map((o, i) => (o.status === 'fulfilled' && reads[i]?.op === 'listDir' ? { status: 'fulfilled' as const, value: [...(o.value as string[])] } : o)),
    );
  }
  qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    return this.memo.once(`qmp\0${command}\0${JSON.stringify(args ?? {})}`, () => this.inner.qmp(command, args));
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
