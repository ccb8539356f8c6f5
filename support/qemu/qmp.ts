/**
 * A QMP client over a byte stream pair (a QEMU child's stdio with `-qmp stdio`, or a UNIX socket).
 *
 * Protocol (QEMU docs/interop/qmp-spec.rst): the server sends one JSON object per line. First a
 * greeting `{"QMP": {"version": …, "capabilities": […]}}`; the client must send
 * `{"execute": "qmp_capabilities"}` before anything else; each command may carry an `id` that the
 * reply (`{"return": …}` or `{"error": {"class", "desc"}}`) echoes; asynchronous events
 * (`{"event": …, "timestamp": …}`) may arrive between replies at any time. Without OOB, QEMU
 * answers commands in order, so a reply without `id` (e.g. a JSON parse error report) belongs to
 * the oldest outstanding command.
 *
 * Failure modes become errors that name the stream and the command:
 *  - a line that is not a JSON object, or a greeting without "QMP" -> InputError (garbage)
 *  - the stream ends / errors while a command is outstanding  -> QmpError CLOSED
 *  - no reply within the command's timeout                     -> QmpError TIMEOUT
 */
import type { Readable, Writable } from 'node:stream';
import { InputError } from '../errors.js';
import { HarnessError, type QmpReply } from '../host/types.js';

export type QmpErrorCode = 'CLOSED' | 'TIMEOUT' | 'PROTOCOL';

export class QmpError extends HarnessError {
  constructor(
    readonly code: QmpErrorCode,
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'QmpError';
  }
}

export interface QmpGreeting {
  readonly version: { readonly major: number; readonly minor: number; readonly micro: number; readonly package: string };
  readonly capabilities: readonly string[];
}

export interface QmpEvent {
  readonly event: string;
  readonly data?: unknown;
  readonly timestamp?: { readonly seconds: number; readonly microseconds: number };
}

export interface QmpClientOptions {
  /** names the stream in errors, e.g. "QMP (qemu-system-x86_64 pid 1234)" */
  readonly source?: string;
  /** how long to wait for the greeting and the qmp_capabilities reply (ms, default 10000) */
  readonly greetingTimeoutMs?: number;
  /** default per-command timeout (ms, default 10000) */
  readonly commandTimeoutMs?: number;
  /** lines longer than this are garbage (default 16 MiB; QEMU's replies are far smaller) */
  readonly maxLineBytes?: number;
  /** called for every event received (events never resolve commands) */
  readonly onEvent?: (e: QmpEvent) => void;
}

interface Pending {
  readonly id: string;
  readonly command: string;
  readonly resolve: (r: QmpReply) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_EVENTS_KEPT = 256;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toReply(msg: Record<string, unknown>, source: string): QmpReply {
  if ('return' in msg) return { return: msg.return };
  const err = msg.error;
  if (isObject(err) && typeof err.class === 'string' && typeof err.desc === 'string') {
    return { error: { class: err.class, desc: err.desc } };
  }
  throw new InputError(source, `reply has neither "return" nor a well-formed "error": ${JSON.stringify(msg).slice(0, 200)}`);
}

export class QmpClient {
  readonly source: string;
  /** events seen so far, oldest first (bounded) */
  readonly events: QmpEvent[] = [];
  private greetingValue: QmpGreeting | undefined;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly order: string[] = [];
  private failure: Error | undefined;
  private closed = false;
  private greetingWaiter: { resolve: (g: QmpGreeting) => void; reject: (e: Error) => void } | undefined;
  private readonly commandTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly onEvent: ((e: QmpEvent) => void) | undefined;
  private readonly listeners: Array<() => void> = [];

  private constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    opts: QmpClientOptions,
  ) {
    this.source = opts.source ?? 'QMP';
    this.commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024 * 1024;
    this.onEvent = opts.onEvent;
    const on = (emitter: Readable | Writable, ev: string, fn: (...a: never[]) => void): void => {
      emitter.on(ev, fn as (...a: unknown[]) => void);
      this.listeners.push(() => emitter.off(ev, fn as (...a: unknown[]) => void));
    };
    input.setEncoding('utf8');
    on(input, 'data', (chunk: string) => this.onData(chunk));
    on(input, 'end', () => this.streamClosed('stream ended'));
    on(input, 'close', () => this.streamClosed('stream closed'));
    on(input, 'error', (e: Error) => this.streamClosed(`read error: ${e.message}`));
    // EPIPE when QEMU died: report as a closed stream, never as an unhandled 'error' event
    on(output, 'error', (e: Error) => this.streamClosed(`write error: ${e.message}`));
  }

  /**
   * Read the greeting and negotiate capabilities. Rejects (and detaches from the streams) on
   * garbage, early close or timeout.
   */
  static async connect(input: Readable, output: Writable, opts: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(input, output, opts);
    const timeoutMs = opts.greetingTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      await client.waitGreeting(timeoutMs);
      const reply = await client.execute('qmp_capabilities', undefined, { timeoutMs });
      if ('error' in reply) {
        throw new QmpError('PROTOCOL', client.source, `qmp_capabilities failed: ${reply.error.class}: ${reply.error.desc}`);
      }
      return client;
    } catch (e) {
      client.detach();
      throw e;
    }
  }

  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new QmpError('PROTOCOL', this.source, 'no greeting yet');
    return this.greetingValue;
  }

  /**
   * Send one command and resolve with QEMU's reply (`return` or `error` — a QMP error reply is a
   * normal answer, not an exception). Rejects with QmpError TIMEOUT/CLOSED or InputError.
   */
  execute(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<QmpReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new QmpError('CLOSED', this.source, `client closed; cannot send ${command}`));
    const id = `sevcheck-${this.nextId++}`;
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<QmpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forget(id);
        reject(new QmpError('TIMEOUT', this.source, `no reply to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { id, command, resolve, reject, timer });
      this.order.push(id);
      const msg = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
      this.output.write(`${msg}\n`);
    });
  }

  /** Stop listening and end our side of the stream; outstanding commands reject with CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new QmpError('CLOSED', this.source, 'client closed'));
    this.detach();
    if (!this.output.writableEnded) this.output.end();
  }

  // --- internals ----------------------------------------------------------------------------

  private waitGreeting(timeoutMs: number): Promise<QmpGreeting> {
    if (this.greetingValue) return Promise.resolve(this.greetingValue);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<QmpGreeting>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = undefined;
        reject(new QmpError('TIMEOUT', this.source, `no QMP greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      this.greetingWaiter = {
        resolve: (g) => {
          clearTimeout(timer);
          resolve(g);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private detach(): void {
    for (const off of this.listeners.splice(0)) off();
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  private forget(id: string): void {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
    const i = this.order.indexOf(id);
    if (i >= 0) this.order.splice(i, 1);
  }

  private rejectAll(e: Error): void {
    for (const id of [...this.order]) {
      const p = this.pending.get(id);
      this.forget(id);
      p?.reject(e);
    }
    const w = this.greetingWaiter;
    this.greetingWaiter = undefined;
    w?.reject(e);
  }

  /** The peer went away: name what was still expected. */
  private streamClosed(reason: string): void {
    const first = this.order[0] !== undefined ? this.pending.get(this.order[0]) : undefined;
    const context = !this.greetingValue ? ' before the QMP greeting' : first ? ` before the reply to ${first.command}` : '';
    this.fail(new QmpError('CLOSED', this.source, `${reason}${context}`));
  }

  private fail(e: Error): void {
    if (this.failure || this.closed) return;
    // a stream that ends with nothing outstanding (after `quit`) fails no command, but the client
    // is unusable from now on
    this.failure = e;
    this.rejectAll(e);
  }

  private onData(chunk: string): void {
    if (this.failure) return;
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        this.onLine(line);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
    if (Buffer.byteLength(this.buffer) > this.maxLineBytes) {
      this.fail(new InputError(this.source, `line longer than ${this.maxLineBytes} bytes without a newline`));
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      throw new InputError(this.source, `garbage on the QMP stream (not JSON): ${JSON.stringify(line.slice(0, 120))}`);
    }
    if (!isObject(msg)) throw new InputError(this.source, `garbage on the QMP stream (not a JSON object): ${line.slice(0, 120)}`);

    if (!this.greetingValue) {
      const q = msg.QMP;
      if (!isObject(q)) throw new InputError(this.source, `first message is not a QMP greeting: ${line.slice(0, 120)}`);
      const v = isObject(q.version) ? q.version : {};
      const qv = isObject(v.qemu) ? v.qemu : {};
      const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);
      this.greetingValue = {
        version: { major: num(qv.major), minor: num(qv.minor), micro: num(qv.micro), package: typeof v.package === 'string' ? v.package : '' },
        capabilities: Array.isArray(q.capabilities) ? q.capabilities.filter((c): c is string => typeof c === 'string') : [],
      };
      const w = this.greetingWaiter;
      this.greetingWaiter = undefined;
      w?.resolve(this.greetingValue);
      return;
    }

    if (typeof msg.event === 'string') {
      const ev: QmpEvent = {
        event: msg.event,
        data: msg.data,
        ...(isObject(msg.timestamp) ? { timestamp: msg.timestamp as unknown as QmpEvent['timestamp'] } : {}),
      };
      this.events.push(ev);
      if (this.events.length > MAX_EVENTS_KEPT) this.events.shift();
      this.onEvent?.(ev);
      return;
    }

    if (!('return' in msg) && !('error' in msg)) {
      throw new InputError(this.source, `unexpected QMP message (no return/error/event): ${line.slice(0, 120)}`);
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const target = id !== undefined ? this.pending.get(id) : this.order[0] !== undefined ? this.pending.get(this.order[0]) : undefined;
    if (!target) return; // late reply to a command that already timed out: nothing waits for it
    const reply = toReply(msg, `${this.source}: reply to ${target.command}`);
    this.forget(target.id);
    target.resolve(reply);
  }
}
