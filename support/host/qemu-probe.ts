/**
 * Ask a throw-away QEMU what it knows about SEV, the way libvirt probes capabilities
 * (libvirt src/qemu/qemu_process.c qemuProcessQMPLaunch: `-machine none`, `-nodefaults`, QMP,
 * run as the configured QEMU user): start
 *
 *   qemu-system-x86_64 -machine none -nodefaults -display none -S -qmp stdio [-accel kvm]
 *
 * send `query-sev-capabilities` and `query-sev`, then `quit`. The process never outlives the
 * probe: on any error or timeout it is SIGKILLed and reaped before the promise settles.
 *
 * Replies (QEMU qapi/misc-target.json):
 *   SevCapability { pdh, cert-chain, cpu0-id (since 7.1), cbitpos, reduced-phys-bits }
 *   SevInfo       { enabled, api-major, api-minor, build-id, state, policy, handle } (≤ 9.0) or,
 *                 since 9.1, the same common members plus `sev-type` 'sev' {policy, handle} |
 *                 'sev-snp' {snp-policy}.
 * QEMU target/i386/sev.c sev_get_capabilities() answers with GenericError "KVM not enabled"
 * (no KVM accelerator), "SEV is not enabled in KVM" (KVM_MEMORY_ENCRYPT_OP rejected: kvm_amd
 * without SEV) or "Failed to open /dev/sev: …" before it ever reads the firmware.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { InputError } from '../errors.js';
import { QmpClient, QmpError, type QmpEvent, type QmpGreeting } from './qmp.js';
import { HarnessError, type QmpReply } from './types.js';

export interface SevCapabilities {
  readonly pdh: string;
  readonly certChain: string;
  readonly cpu0Id?: string | undefined;
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
}

export interface SevInfo {
  readonly enabled: boolean;
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly buildId: number;
  readonly state: string;
  /** QEMU ≥ 9.1 only */
  readonly sevType?: string | undefined;
  readonly policy?: number | undefined;
  readonly handle?: number | undefined;
  readonly snpPolicy?: number | undefined;
}

export type QmpOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: { readonly class: string; readonly desc: string } };

export interface QemuProbeOptions {
  /** default "qemu-system-x86_64" (resolved on PATH) */
  readonly binary?: string;
  /** 'auto' (default): `-accel kvm` when the device is usable by the identity QEMU runs as */
  readonly accel?: 'auto' | 'kvm' | 'tcg';
  readonly kvmDevice?: string;
  /** run QEMU as this uid/gid (only possible as root), e.g. libvirt's qemu.conf user/group */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** per QMP exchange, ms (default 10000) */
  readonly timeoutMs?: number;
  /** after `quit`, how long QEMU may take to exit before SIGKILL, ms (default 3000) */
  readonly exitGraceMs?: number;
}

export interface QemuSevProbe {
  readonly binary: string;
  readonly argv: readonly string[];
  readonly accel: 'kvm' | 'tcg';
  readonly pid: number | undefined;
  readonly qemuVersion: QmpGreeting['version'];
  readonly sevCapabilities: QmpOutcome<SevCapabilities>;
  readonly sev: QmpOutcome<SevInfo>;
  readonly events: readonly QmpEvent[];
  /** spawn to reaped exit, ms */
  readonly durationMs: number;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderr: string;
}

/** The probe could not get answers (QEMU missing, crashed, garbage, hung); `cause` has the detail. */
export class QemuProbeError extends HarnessError {
  constructor(
    message: string,
    readonly stderr: string,
    readonly pid: number | undefined,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'QemuProbeError';
  }
}

export const DEFAULT_QEMU_BINARY = 'qemu-system-x86_64';

export function qemuProbeArgv(accel: 'kvm' | 'tcg'): string[] {
  const argv = ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio'];
  if (accel === 'kvm') argv.push('-accel', 'kvm');
  return argv;
}

/**
 * Can `who` (default: this process) open the KVM device read-write? For another uid/gid this is
 * decided from the mode bits (owner, group, other) — supplementary groups of that user are not
 * known here, so a device reachable only through one is reported unusable (QEMU then runs TCG
 * and query-sev-capabilities says "KVM not enabled", which is what that user would see without
 * the group).
 */
export async function kvmUsable(device = '/dev/kvm', who: { uid?: number | undefined; gid?: number | undefined } = {}): Promise<boolean> {
  const self = process.getuid?.();
  if (who.uid === undefined || who.uid === self) {
    try {
      await access(device, fsConstants.R_OK | fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const st = await stat(device);
    if (who.uid === 0) return true;
    const rw = 0o6;
    if (st.uid === who.uid) return ((st.mode >> 6) & rw) === rw;
    if (who.gid !== undefined && st.gid === who.gid) return ((st.mode >> 3) & rw) === rw;
    return (st.mode & rw) === rw;
  } catch {
    return false;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(o: Record<string, unknown>, name: string, type: 'string' | 'number' | 'boolean', source: string, optional: true): T | undefined;
function field<T>(o: Record<string, unknown>, name: string, type: 'string' | 'number' | 'boolean', source: string): T;
function field<T>(o: Record<string, unknown>, name: string, type: 'string' | 'number' | 'boolean', source: string, optional = false): T | undefined {
  const v = o[name];
  if (v === undefined && optional) return undefined;
  // eslint-disable-next-line valid-typeof
  if (typeof v !== type) throw new InputError(source, `"${name}" is ${v === undefined ? 'missing' : JSON.stringify(v)}; expected a ${type}`);
  if (type === 'number' && !Number.isInteger(v)) throw new InputError(source, `"${name}" is ${String(v)}; expected an integer`);
  return v as T;
}

/** Validate a query-sev-capabilities `return` (qapi SevCapability). */
export function parseSevCapabilities(ret: unknown, source = 'query-sev-capabilities'): SevCapabilities {
  if (!isObject(ret)) throw new InputError(source, 'return value is not an object');
  return {
    pdh: field<string>(ret, 'pdh', 'string', source),
    certChain: field<string>(ret, 'cert-chain', 'string', source),
    cpu0Id: field<string>(ret, 'cpu0-id', 'string', source, true),
    cbitpos: field<number>(ret, 'cbitpos', 'number', source),
    reducedPhysBits: field<number>(ret, 'reduced-phys-bits', 'number', source),
  };
}

/** Validate a query-sev `return` (qapi SevInfo, before and after the 9.1 sev-type union). */
export function parseSevInfo(ret: unknown, source = 'query-sev'): SevInfo {
  if (!isObject(ret)) throw new InputError(source, 'return value is not an object');
  return {
    enabled: field<boolean>(ret, 'enabled', 'boolean', source),
    apiMajor: field<number>(ret, 'api-major', 'number', source),
    apiMinor: field<number>(ret, 'api-minor', 'number', source),
    buildId: field<number>(ret, 'build-id', 'number', source),
    state: field<string>(ret, 'state', 'string', source),
    sevType: field<string>(ret, 'sev-type', 'string', source, true),
    policy: field<number>(ret, 'policy', 'number', source, true),
    handle: field<number>(ret, 'handle', 'number', source, true),
    snpPolicy: field<number>(ret, 'snp-policy', 'number', source, true),
  };
}

function outcome<T>(reply: QmpReply, parse: (r: unknown) => T): QmpOutcome<T> {
  if ('error' in reply) return { ok: false, error: reply.error };
  return { ok: true, value: parse(reply.return) };
}

/**
 * Start QEMU, ask about SEV, quit, and reap it. Resolves with both answers (a QMP error reply is
 * an answer); rejects with QemuProbeError when no answer could be had. Either way, no QEMU
 * process is left running when the promise settles.
 */
export async function probeQemuSev(opts: QemuProbeOptions = {}): Promise<QemuSevProbe> {
  const binary = opts.binary ?? DEFAULT_QEMU_BINARY;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const exitGraceMs = opts.exitGraceMs ?? 3_000;
  const wantKvm = opts.accel ?? 'auto';
  const accel: 'kvm' | 'tcg' =
    wantKvm === 'auto' ? ((await kvmUsable(opts.kvmDevice, { uid: opts.uid, gid: opts.gid })) ? 'kvm' : 'tcg') : wantKvm;
  const argv = qemuProbeArgv(accel);

  const t0 = performance.now();
  const proc = execa(binary, argv, {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 256 * 1024 },
    reject: false,
    cleanup: true,
    // backstop only: our own deadlines below kill much earlier
    timeout: 4 * timeoutMs + exitGraceMs,
    forceKillAfterDelay: 1_000,
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const pid = proc.pid;
  const source = `QMP (${binary} pid ${pid ?? '?'})`;
  let client: QmpClient | undefined;
  let failure: unknown;
  let answers: { caps: QmpReply; sev: QmpReply } | undefined;

  try {
    if (!proc.stdout || !proc.stdin) throw new HarnessError(`${binary}: no stdio pipes`);
    client = await QmpClient.connect(proc.stdout, proc.stdin, { source, greetingTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
    const caps = await client.execute('query-sev-capabilities');
    const sev = await client.execute('query-sev');
    answers = { caps, sev };
    try {
      await client.execute('quit');
    } catch (e) {
      // QEMU may close the stream before or right after answering quit; a closed stream here is
      // the expected end, anything else is reported
      if (!(e instanceof QmpError && e.code === 'CLOSED')) throw e;
    }
  } catch (e) {
    failure = e;
  } finally {
    client?.close();
    proc.stdout?.resume();
  }

  // Reap: after quit QEMU exits by itself; otherwise (or if it lingers) SIGKILL it.
  if (failure !== undefined) proc.kill('SIGKILL');
  const exited = await Promise.race([
    proc.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), exitGraceMs).unref()),
  ]);
  if (!exited) proc.kill('SIGKILL');
  const result = await proc;
  const durationMs = performance.now() - t0;
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';

  const version = client?.greeting ?? undefined;
  if (failure !== undefined || !answers || !version) {
    const spawnFailed = (result as { code?: string }).code === 'ENOENT';
    const reason = spawnFailed
      ? `${binary}: command not found`
      : `${failure instanceof Error ? failure.message : String(failure)}${stderr ? ` (QEMU stderr: ${stderr.trim().slice(0, 500)})` : ''}`;
    throw new QemuProbeError(reason, stderr, pid, failure);
  }
  return {
    binary,
    argv,
    accel,
    pid,
    qemuVersion: version.version,
    sevCapabilities: outcome(answers.caps, (r) => parseSevCapabilities(r, `${source}: query-sev-capabilities`)),
    sev: outcome(answers.sev, (r) => parseSevInfo(r, `${source}: query-sev`)),
    events: [...(client?.events ?? [])],
    durationMs,
    exitCode: result.exitCode,
    signal: result.signal,
    stderr,
  };
}
