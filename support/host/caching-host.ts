import { Memo } from '../memo.js';
import type { CpuidRegs, Host, HostDescription, QmpReply, RunOptions, RunResult, StatInfo } from './types.js';

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
    return this.memo.once(`listDir\0${path}`, () => this.inner.listDir(path)).then((l) => [...l]);
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
