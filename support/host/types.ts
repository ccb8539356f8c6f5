/**
 * The one way sevcheck reaches a host. Backends: local (this machine), ssh (a remote machine via
 * the system ssh client, standard tools only), fixture (a recorded/authored directory), plus
 * wrappers (per-run cache, recorder). Everything here is read-only by construction: there is no
 * write method, and `run` is only ever given read-only argv.
 */
import type { CpuidRegs } from '../sev/cpuid.js';

export type FileType = 'file' | 'dir' | 'char' | 'block' | 'link' | 'fifo' | 'socket';

export interface StatInfo {
  readonly path: string;
  readonly type: FileType;
  /** permission bits only (e.g. 0o600), without the file-type bits */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** SELinux context (security.selinux), when the host has one and it could be read */
  readonly selinux?: string | undefined;
}

export interface RunResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The four registers of one CPUID leaf are defined with their decoding, in the pure sev/cpuid.ts. */
export type { CpuidRegs };

/** A QMP reply as QEMU sends it: exactly one of return / error. */
export type QmpReply =
  | { readonly return: unknown }
  | { readonly error: { readonly class: string; readonly desc: string } };

export interface RunOptions {
  /** milliseconds; every command has one (default DEFAULT_TIMEOUT_MS) */
  readonly timeoutMs?: number;
  /**
   * Text for the command's standard input (default: none, stdin is closed). The local and rootfs
   * backends pass it; a fixture matches on the argv alone; the ssh backend refuses it
   * (HarnessError), so a probe that needs it asks `host.kind` first.
   */
  readonly stdin?: string | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One read of a batch (Host.readMany): the same reads as readFile, stat, listDir, cpuid and
 * readMsr, named so that a backend can answer several in one go (the ssh backend: one remote
 * command for the whole batch).
 */
export type ReadRequest =
  | { readonly op: 'readFile'; readonly path: string }
  | { readonly op: 'stat'; readonly path: string }
  | { readonly op: 'listDir'; readonly path: string }
  | { readonly op: 'cpuid'; readonly leaf: number; readonly cpu: number }
  | { readonly op: 'msr'; readonly cpu: number; readonly index: number };

/** What each read of a batch gave: its value, or the error its single-read method throws. */
export type ReadOutcome = PromiseSettledResult<Buffer | StatInfo | string[] | CpuidRegs | bigint>;

export interface Host {
  /** e.g. "local", "ssh://root@epyc1:22", "fixture:fixtures/hosts/reference-milan" */
  readonly target: string;
  readonly kind: 'local' | 'ssh' | 'fixture' | 'rootfs';
  /**
   * What the target is, whatever the backend: 'rootfs' for a root file system (`rootfs:DIR`, and
   * a fixture recorded from one — host.json "system": "rootfs"), 'running' for a running system.
   * The distro layer judges only root file systems (rules/distro.ts gate).
   */
  readonly system: 'running' | 'rootfs';
  /** Host metadata: fixture host.json, or what a live host says about itself. */
  describe(): Promise<HostDescription>;
  /** Whole file contents. Throws HostError (ENOENT, EACCES, NOT_RECORDED, EIO). */
  readFile(path: string): Promise<Buffer>;
  /** lstat-like metadata. Throws HostError. */
  stat(path: string): Promise<StatInfo>;
  /**
   * The extended POSIX access ACL of a path as getfacl's entries (acl(5) text form, e.g.
   * "user:107:rw-"), or undefined when it has none (mode, owner and group decide alone). Live
   * backends look at `ls -ld`'s "+" and run getfacl only then (host/acl.ts); fixtures read
   * stat.json's optional "acl". Throws HostError.
   */
  acl(path: string): Promise<readonly string[] | undefined>;
  /** Names in a directory (no "." / ".."), sorted. Throws HostError. */
  listDir(path: string): Promise<string[]>;
  /**
   * Run an argv (never a shell string). A command that cannot be found is exitCode 127 with
   * stderr "<argv0>: command not found". Throws HostError NOT_RECORDED (fixture) or
   * HarnessError on timeout/transport failure.
   */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** CPUID leaf (subleaf 0) on logical CPU `cpu`. Throws HostError (EACCES, ENOENT, NOT_RECORDED). */
  cpuid(leaf: number, cpu?: number): Promise<CpuidRegs>;
  /**
   * Model-specific register `index` on logical CPU `cpu`, as the 64-bit value the msr driver
   * returns (Linux arch/x86/kernel/msr.c msr_read(): 8 bytes at file offset = MSR index, EDX:EAX
   * little-endian). Read-only: /dev/cpu/<cpu>/msr is opened O_RDONLY, never written. Throws
   * HostError (ENOENT: no msr module / no such CPU; EACCES: not root; EIO: the CPU refused the
   * read or a short read; NOT_RECORDED).
   */
  readMsr(cpu: number, index: number): Promise<bigint>;
  /**
   * Several reads at once, each settling exactly as its single-read method would (same value,
   * same HostError). Optional: where a read is cheap (local, fixture, rootfs, test hosts) the
   * reads are simply made one by one (call it through read.ts readMany, which does that); the ssh
   * backend sends the whole batch as one remote command. Wrappers treat every request as the
   * single read it stands for (cache, count, record), so batching changes no verdict, no count
   * and no recording.
   */
  readMany?(reads: readonly ReadRequest[]): Promise<ReadOutcome[]>;
  /** One QMP command against the host's QEMU. Throws HostError NOT_RECORDED / UNSUPPORTED. */
  qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply>;
  /**
   * Make the host ready before the first read: the ssh backend connects here (unreachable = a
   * HarnessError, exit 2, before any check runs); local and fixture have nothing to do. Wrappers
   * pass it on. Called once, by openTarget (target.ts).
   */
  open(): Promise<void>;
  /** Release what open() took (the ssh control connection, its socket directory). */
  close(): Promise<void>;
}

export interface HostDescription {
  readonly name: string;
  readonly description?: string | undefined;
  readonly recordedAt?: string | undefined;
  readonly source?: 'recorded' | 'authored' | 'live' | undefined;
  readonly kernel?: string | undefined;
  readonly distro?: string | undefined;
  /** sevcheck extension: the profile this fixture's expected.json was written for */
  readonly profile?: string | undefined;
  /**
   * sevcheck extension (fixtures): the checks the fixture recorded what they read for, as check
   * ids or id prefixes ("host.firmware", "caps"); absent = all. A check outside them that cannot
   * decide is undecided "not recorded in this fixture", one reason for all of them (world.ts).
   */
  readonly covers?: readonly string[] | undefined;
}

/** Whether a check id is within a fixture's "covers" list (an entry is the id or a prefix of it ending at a dot). */
export function coversCheck(covers: readonly string[] | undefined, id: string): boolean {
  return covers === undefined || covers.some((c) => id === c || id.startsWith(`${c}.`));
}

/**
 * NOT_RUNNING: the target is not a running system (a `rootfs:DIR` root file system): what only a
 * running kernel or hardware answers (CPUID, MSRs, /proc, /sys, live devices, QMP, running guests)
 * does not exist there. world.decide turns it into *skipped* with the message, never undecided or
 * failed, and facts.ts's optional()/attempt() let it through (it is not "fact absent").
 */
export type HostErrorCode = 'ENOENT' | 'EACCES' | 'ENOTDIR' | 'EISDIR' | 'EIO' | 'NOT_RECORDED' | 'UNSUPPORTED' | 'NOT_RUNNING';

/**
 * An Error that is an answer, not an accident (a file that is not there: HostError; a check that
 * failed: CheckFailed in world.ts), built without stack frames: V8 captures a stack at every
 * `new Error` (about 4 us each here, a few hundred per host), and none of them is ever shown.
 * `keepStack`: capture one all the same (HostError under SEVCHECK_DEBUG=1, for the
 * internal-error trace in cli/main.ts).
 */
export class AnswerError extends Error {
  constructor(message: string, keepStack = false) {
    const limit = Error.stackTraceLimit;
    if (!keepStack) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** SEVCHECK_DEBUG=1: HostErrors keep their stacks (read once: a host run builds hundreds of them) */
const KEEP_HOST_ERROR_STACKS = Boolean(process.env['SEVCHECK_DEBUG']);

/**
 * A read that did not produce data. Checks turn these into verdicts: ENOENT is a fact about the
 * host (often a failure), the others make a check undecided with `message` as the reason.
 */
export class HostError extends AnswerError {
  constructor(
    readonly code: HostErrorCode,
    readonly what: string,
    message: string,
  ) {
    super(message, KEEP_HOST_ERROR_STACKS);
    this.name = 'HostError';
  }
}

/**
 * The harness or its input is broken (malformed fixture, unreachable ssh host, command timeout,
 * bad CLI argument): the run stops with this one line and exit code 2.
 */
export class HarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HarnessError';
  }
}

/** The reason every check that needs a running system gives on a root file system target. */
export const NOT_RUNNING_REASON = 'not a running system';

/** A read a root file system cannot answer (see HostErrorCode NOT_RUNNING). */
export function notRunning(what: string): HostError {
  return new HostError('NOT_RUNNING', what, `${NOT_RUNNING_REASON}: ${what} needs a running kernel or hardware`);
}

export function isHostError(e: unknown, code?: HostErrorCode): e is HostError {
  return e instanceof HostError && (code === undefined || e.code === code);
}
