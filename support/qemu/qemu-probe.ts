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
import { PassThrough, type Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { InputError } from '../errors.js';
import { QmpClient, QmpError, type QmpEvent, type QmpGreeting } from './qmp.js';
import { HarnessError, HostError, type QmpReply } from '../host/types.js';
import { resolveQemuIdentity } from '../device/identity.js';
import type { ParseResult } from '../parsers/parse-result.js';
import { findUser, parseGroup, parsePasswd } from '../parsers/passwd.js';
import { parseQemuConf } from '../parsers/qemu-conf.js';
import { parseOsRelease } from '../parsers/os-release.js';

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
  readonly accel?: 'auto' | 'kvm' | 'tcg' | 'fallback';
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

export function qemuProbeArgv(accel: 'kvm' | 'tcg' | 'fallback'): string[] {
  const argv = ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio'];
  if (accel === 'kvm') argv.push('-accel', 'kvm');
  // QEMU ≥ 5.0 (qemu-options.hx "-accel"): several -accel options are tried in order, so
  // "kvm then tcg" starts whatever identity QEMU runs as can use, and query-kvm tells which
  if (accel === 'fallback') argv.push('-accel', 'kvm', '-accel', 'tcg');
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

/** How to start the QEMU process: a local binary, or a wrapper (setpriv, ssh) around its argv. */
export interface QemuLaunch {
  readonly file: string;
  readonly args: readonly string[];
  /** names the process in errors, e.g. "qemu-system-x86_64" or "ssh root@epyc1 qemu-system-x86_64" */
  readonly label?: string;
  /** after the process ends, what "command not found" looks like (execa ENOENT is always one) */
  readonly notFound?: (exitCode: number | undefined, stderr: string) => string | undefined;
}

export interface QmpProbeOptions {
  readonly launch: QemuLaunch;
  /** QMP commands to send, in order, each without arguments */
  readonly commands: readonly string[];
  readonly timeoutMs?: number;
  readonly exitGraceMs?: number;
  /** run the process as this uid/gid (only for a local launch as root) */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

export interface QmpProbeResult {
  readonly launch: QemuLaunch;
  readonly pid: number | undefined;
  readonly qemuVersion: QmpGreeting['version'];
  /** every command's reply, as QEMU sent it (return or error) */
  readonly replies: ReadonlyMap<string, QmpReply>;
  readonly events: readonly QmpEvent[];
  readonly durationMs: number;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderr: string;
}

/**
 * Start a QEMU (through `launch`), negotiate QMP, send `commands`, `quit`, and reap it.
 * Resolves with every reply; rejects with QemuProbeError when no answers could be had (missing
 * binary, crash, garbage, early close, timeout). Either way the process has exited (SIGKILL
 * after `exitGraceMs` if it lingers) and been reaped when the promise settles.
 */
export async function runQmpProbe(opts: QmpProbeOptions): Promise<QmpProbeResult> {
  const { launch } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const exitGraceMs = opts.exitGraceMs ?? 3_000;
  const label = launch.label ?? launch.file;

  const t0 = performance.now();
  const proc = execa(launch.file, [...launch.args], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 256 * 1024 },
    reject: false,
    cleanup: true,
    // backstop only: our own deadlines below kill much earlier
    timeout: (opts.commands.length + 3) * timeoutMs + exitGraceMs,
    forceKillAfterDelay: 1_000,
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const pid = proc.pid;
  const source = `QMP (${label} pid ${pid ?? '?'})`;
  const talk =
    proc.stdout && proc.stdin
      ? await converse(proc.stdout, proc.stdin, source, timeoutMs, opts.commands)
      : { failure: new HarnessError(`${label}: no stdio pipes`) };
  proc.stdout?.resume();

  // Reap: after quit QEMU exits by itself; otherwise (or if it lingers) SIGKILL it.
  if (talk.failure !== undefined) proc.kill('SIGKILL');
  const exited = await Promise.race([
    proc.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), exitGraceMs).unref()),
  ]);
  if (!exited) proc.kill('SIGKILL');
  const result = await proc;
  const durationMs = performance.now() - t0;
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';

  const spawnFailed = (result as { code?: string }).code === 'ENOENT';
  const notFound = spawnFailed ? `${launch.file}: command not found` : launch.notFound?.(result.exitCode, stderr);
  return probeResult(launch, talk, { pid, durationMs, exitCode: result.exitCode, signal: result.signal, stderr, notFound });
}

/** A QMP conversation's outcome: the client (its greeting and events), every reply, or what ended it. */
interface Conversation {
  readonly client?: QmpClient | undefined;
  readonly replies?: Map<string, QmpReply> | undefined;
  readonly failure?: unknown;
}

/**
 * The probe's conversation, live or played from a transcript: negotiate QMP, send each of
 * `commands`, then quit. QEMU may close the stream before or right after answering quit; a closed
 * stream there is the expected end, anything else is reported.
 */
async function converse(from: Readable, to: Writable, source: string, timeoutMs: number, commands: readonly string[]): Promise<Conversation> {
  let client: QmpClient | undefined;
  try {
    client = await QmpClient.connect(from, to, { source, greetingTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
    const replies = new Map<string, QmpReply>();
    for (const c of commands) replies.set(c, await client.execute(c));
    try {
      await client.execute('quit');
    } catch (e) {
      if (!(e instanceof QmpError && e.code === 'CLOSED')) throw e;
    }
    return { client, replies };
  } catch (e) {
    return { client, failure: e };
  } finally {
    client?.close();
  }
}

/** The probe's result from its conversation and its QEMU's end, or QemuProbeError when it got no answers. */
function probeResult(
  launch: QemuLaunch,
  talk: Conversation,
  run: { pid: number | undefined; durationMs: number; exitCode: number | undefined; signal: string | undefined; stderr: string; notFound: string | undefined },
): QmpProbeResult {
  const { client, replies, failure } = talk;
  const version = client?.greeting ?? undefined;
  if (failure !== undefined || !replies || !version) {
    const { stderr } = run;
    const reason = run.notFound ?? `${failure instanceof Error ? failure.message : String(failure)}${stderr ? ` (QEMU stderr: ${stderr.trim().slice(0, 500)})` : ''}`;
    throw new QemuProbeError(reason, stderr, run.pid, failure);
  }
  return {
    launch,
    pid: run.pid,
    qemuVersion: version.version,
    replies,
    events: [...(client?.events ?? [])],
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    signal: run.signal,
    stderr: run.stderr,
  };
}

/**
 * The probe's QMP input written all at once (issue 23: a remote QEMU is run through the ssh
 * session's batch, with this on its stdin, instead of over a session of its own): the lines
 * QmpClient sends, with the ids it gives them (sevcheck-1, -2, ...): qmp_capabilities, each of
 * `commands`, quit. Without OOB QEMU reads and answers them in order (qmp-spec.rst).
 */
export function pipelinedQmpInput(commands: readonly string[]): string {
  return ['qmp_capabilities', ...commands, 'quit'].map((c, i) => `${JSON.stringify({ execute: c, id: `sevcheck-${i + 1}` })}\n`).join('');
}

/**
 * The probe's result from what a QEMU given pipelinedQmpInput(commands) wrote: the transcript
 * is played to the same QmpClient a live probe talks to (each command's lines released when the
 * client sends it), so greeting, replies, events and every failure (garbage, a stream that ends
 * early, a missing binary) read exactly as in runQmpProbe.
 */
export async function qmpProbeFromTranscript(opts: {
  readonly launch: QemuLaunch;
  readonly commands: readonly string[];
  readonly transcript: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
  readonly durationMs: number;
  readonly timeoutMs?: number;
}): Promise<QmpProbeResult> {
  const { launch } = opts;
  const label = launch.label ?? launch.file;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const lines = opts.transcript.split('\n').filter((l) => l.trim() !== '');
  const from = new PassThrough({ encoding: 'utf8' });
  let next = 0;
  const release = (id: string | undefined): void => {
    while (next < lines.length) {
      const line = lines[next++] as string;
      from.write(`${line}\n`);
      let msgId: unknown;
      try {
        msgId = (JSON.parse(line) as { id?: unknown }).id;
      } catch {
        return; // garbage: the client reports it
      }
      if (id === undefined || msgId === id) return;
    }
    from.end(); // nothing more: the client sees the stream close
  };
  const to = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      let id: string | undefined;
      try {
        id = String((JSON.parse(String(chunk)) as { id?: unknown }).id);
      } catch {
        id = undefined;
      }
      release(id);
      done();
    },
  });
  release(undefined); // the greeting
  const talk = await converse(from, to, `QMP (${label})`, timeoutMs, opts.commands);
  const notFound = launch.notFound?.(opts.exitCode, opts.stderr);
  return probeResult(launch, talk, { pid: undefined, durationMs: opts.durationMs, exitCode: opts.exitCode, signal: undefined, stderr: opts.stderr, notFound });
}

/**
 * Start QEMU, ask about SEV, quit, and reap it. Resolves with both answers (a QMP error reply is
 * an answer); rejects with QemuProbeError when no answer could be had. Either way, no QEMU
 * process is left running when the promise settles.
 */
export async function probeQemuSev(opts: QemuProbeOptions = {}): Promise<QemuSevProbe> {
  const binary = opts.binary ?? DEFAULT_QEMU_BINARY;
  const wantKvm = opts.accel ?? 'auto';
  const accel: 'kvm' | 'tcg' | 'fallback' =
    wantKvm === 'auto' ? ((await kvmUsable(opts.kvmDevice, { uid: opts.uid, gid: opts.gid })) ? 'kvm' : 'tcg') : wantKvm;
  const argv = qemuProbeArgv(accel);
  const r = await runQmpProbe({
    launch: { file: binary, args: argv },
    commands: ['query-sev-capabilities', 'query-sev', ...(accel === 'fallback' ? ['query-kvm'] : [])],
    timeoutMs: opts.timeoutMs,
    exitGraceMs: opts.exitGraceMs,
    uid: opts.uid,
    gid: opts.gid,
  });
  const source = `QMP (${binary} pid ${r.pid ?? '?'})`;
  const reply = (c: string): QmpReply => r.replies.get(c) as QmpReply;
  const kvm = accel === 'fallback' ? reply('query-kvm') : undefined;
  const usedKvm = kvm && 'return' in kvm && isObject(kvm.return) ? kvm.return.enabled === true : accel === 'kvm';
  return {
    binary,
    argv,
    accel: usedKvm ? 'kvm' : 'tcg',
    pid: r.pid,
    qemuVersion: r.qemuVersion,
    sevCapabilities: outcome(reply('query-sev-capabilities'), (x) => parseSevCapabilities(x, `${source}: query-sev-capabilities`)),
    sev: outcome(reply('query-sev'), (x) => parseSevInfo(x, `${source}: query-sev`)),
    events: r.events,
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    signal: r.signal,
    stderr: r.stderr,
  };
}

// ---------------------------------------------------------------------------------------------
// The per-run probe behind Host.qmp() (local and ssh backends)
// ---------------------------------------------------------------------------------------------

/**
 * What a host backend asks its one throw-away QEMU, in this order. `query-kvm` says whether QEMU
 * ended up with KVM or fell back to TCG (qapi/accelerator.json KvmInfo {enabled, present}).
 * Other commands need a running guest (query-sev-launch-measure, …) and are not answered.
 */
export const HOST_PROBE_COMMANDS = ['query-sev-capabilities', 'query-sev', 'query-kvm'] as const;

/**
 * Extra member sevcheck adds to each probe reply (QMP replies may carry members besides
 * return/error, e.g. `id`): how the answering QEMU was started. Recorded into qmp.json with the
 * reply, so a replayed fixture says the same thing as the live run. Never timing-dependent text
 * in messages: `durationMs` is informational.
 */
export const PROBE_CONTEXT_KEY = 'sevcheck-probe';

export interface QmpProbeContext {
  /** e.g. "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" */
  readonly qemu: string;
  /** who QEMU ran as, and why that identity */
  readonly ranAs: string;
  /** QEMU ran as the user libvirt would run it as (false: a stand-in, or sevcheck's own user) */
  readonly asLibvirtUser: boolean;
  /** what QEMU's stderr said (e.g. why KVM could not be used), trimmed */
  readonly stderr?: string | undefined;
  readonly durationMs?: number | undefined;
}

export function probeContextOf(reply: QmpReply): QmpProbeContext | undefined {
  const c = (reply as unknown as Record<string, unknown>)[PROBE_CONTEXT_KEY];
  if (!isObject(c) || typeof c.qemu !== 'string' || typeof c.ranAs !== 'string') return undefined;
  return {
    qemu: c.qemu,
    ranAs: c.ranAs,
    asLibvirtUser: c.asLibvirtUser === true,
    stderr: typeof c.stderr === 'string' ? c.stderr : undefined,
    durationMs: typeof c.durationMs === 'number' ? c.durationMs : undefined,
  };
}

/** The identity the probe QEMU runs as; no uid means "as the caller" (sevcheck is not root). */
export interface ProbeIdentity {
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  readonly groups?: readonly number[] | undefined;
  /** root QEMU under libvirt runs with its capabilities cleared; so does the probe */
  readonly dropCaps?: boolean | undefined;
  readonly description: string;
  /** the probe runs as the QEMU user libvirt would use (false: a stand-in or the caller) */
  readonly asLibvirtUser: boolean;
}

export interface IdentityFiles {
  readonly selfUid: number;
  /** file texts; undefined when the file does not exist */
  readonly qemuConf?: string | undefined;
  readonly osRelease?: string | undefined;
  readonly passwd?: string | undefined;
  readonly group?: string | undefined;
}

/**
 * Who runs the probe QEMU. As root, like libvirt: the qemu.conf user/group (or libvirt's
 * compiled-in default for the distribution) with its supplementary groups
 * (support/device/identity.ts resolveQemuIdentity, which cites libvirt's rules). When that user
 * does not exist (libvirt not installed) QEMU still never runs as root: it runs as `nobody`, and
 * the description says it is a stand-in. Not root: as the caller (no way to switch).
 */
export function chooseProbeIdentity(f: IdentityFiles): ProbeIdentity {
  if (f.selfUid !== 0) {
    return { description: `sevcheck's own user (uid ${f.selfUid}; not root, so not libvirt's QEMU user)`, asLibvirtUser: false };
  }
  const parsed = <T>(r: ParseResult<T> | undefined): T | undefined => (r && r.ok ? r.value : undefined);
  const passwd = parsed(f.passwd !== undefined ? parsePasswd(f.passwd) : undefined);
  const group = parsed(f.group !== undefined ? parseGroup(f.group) : undefined);
  const qemuConf = parsed(f.qemuConf !== undefined ? parseQemuConf(f.qemuConf) : undefined);
  const osRelease = parsed(f.osRelease !== undefined ? parseOsRelease(f.osRelease) : undefined);
  let why = '/etc/passwd or /etc/group could not be read';
  if (passwd && group) {
    const r = resolveQemuIdentity({ qemuConf, osRelease, passwd, group });
    if (r.ok) {
      const id = r.identity;
      return {
        uid: id.uid,
        gid: id.gid,
        groups: id.groups,
        dropCaps: !id.capDacOverride,
        description: `libvirt's QEMU user ${id.description} (user from ${id.userSource})`,
        asLibvirtUser: true,
      };
    }
    why = r.reason;
  }
  const nobody = passwd ? findUser(passwd, 'nobody') : undefined;
  const uid = nobody?.uid ?? 65534;
  const gid = nobody?.gid ?? 65534;
  return {
    uid,
    gid,
    groups: [],
    dropCaps: true,
    description: `nobody (uid ${uid}, gid ${gid}) as a stand-in, because libvirt's QEMU user could not be used: ${why}`,
    asLibvirtUser: false,
  };
}

/** util-linux setpriv(1) prefix that switches to `id` (empty when no switch is needed). */
export function setprivArgv(id: ProbeIdentity): string[] {
  if (id.uid === undefined) return [];
  const groups = id.groups && id.groups.length ? [`--groups=${id.groups.join(',')}`] : ['--clear-groups'];
  return [
    'setpriv',
    `--reuid=${id.uid}`,
    `--regid=${id.gid ?? id.uid}`,
    ...groups,
    // libvirt virCommandClearCaps: the emulator runs without capabilities, root or not
    ...(id.dropCaps ? ['--inh-caps=-all', '--bounding-set=-all'] : []),
    '--',
  ];
}

/** "command not found" from setpriv(1)/the remote shell: exit 127 with a "No such file" message */
export function wrapperNotFound(binary: string): (exitCode: number | undefined, stderr: string) => string | undefined {
  return (exitCode, stderr) =>
    exitCode === 127 || /failed to execute .*No such file|command not found/.test(stderr)
      ? `${/setpriv: (command )?not found|failed to run command .setpriv/.test(stderr) ? 'setpriv' : binary}: command not found`
      : undefined;
}

/**
 * One lazily started probe per host and run: the first qmp() call starts QEMU, asks every
 * HOST_PROBE_COMMANDS command, quits; later calls are answered from those replies. A probe that
 * could not get answers makes every qmp() call throw the same HostError (the checks are then
 * undecided with that reason), never a pass and never a second QEMU.
 */
export class HostQmpProbe {
  private result: Promise<Map<string, QmpReply>> | undefined;
  /** the probe's duration, for `npm run bench` and the docs; undefined before it ran */
  durationMs: number | undefined;

  constructor(
    private readonly start: () => Promise<{ result: QmpProbeResult; identity: ProbeIdentity }>,
    private readonly binary = DEFAULT_QEMU_BINARY,
  ) {}

  async reply(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    if ((args !== undefined && Object.keys(args).length > 0) || !(HOST_PROBE_COMMANDS as readonly string[]).includes(command)) {
      throw new HostError(
        'UNSUPPORTED',
        `QMP ${command}`,
        `QMP ${command}${args ? ' with arguments' : ''}: sevcheck's QEMU probe (-machine none, no guest) answers only ${HOST_PROBE_COMMANDS.join(', ')}`,
      );
    }
    this.result ??= this.run();
    const replies = await this.result;
    return replies.get(command) as QmpReply;
  }

  private async run(): Promise<Map<string, QmpReply>> {
    let got: { result: QmpProbeResult; identity: ProbeIdentity };
    try {
      got = await this.start();
    } catch (e) {
      if (e instanceof HostError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new HostError('EIO', 'QEMU probe', `the QEMU probe (${this.binary} -machine none -qmp stdio) got no answer: ${why}`);
    }
    const { result, identity } = got;
    this.durationMs = result.durationMs;
    const v = result.qemuVersion;
    const context: QmpProbeContext = {
      qemu: `${v.major}.${v.minor}.${v.micro}${v.package ? ` (${v.package.trim()})` : ''}`,
      ranAs: identity.description,
      asLibvirtUser: identity.asLibvirtUser,
      ...(result.stderr.trim() ? { stderr: result.stderr.trim().split('\n').map((l) => l.trim()).join('; ').slice(0, 500) } : {}),
      durationMs: Math.round(result.durationMs),
    };
    const out = new Map<string, QmpReply>();
    for (const [c, r] of result.replies) out.set(c, { ...r, [PROBE_CONTEXT_KEY]: context } as unknown as QmpReply);
    return out;
  }
}
