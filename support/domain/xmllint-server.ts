/**
 * One xmllint kept running per process (or fleet worker thread) for the guest definitions read
 * through a Host (issue 23): `xmllint --relaxng domain.rng` compiles libvirt's schema (about
 * 25 ms of CPU here) before it validates anything, and a process per guest made that the largest
 * cost of a fleet host with guests (~1.8 guests per fixture host: ~60 ms of its ~70 ms). The
 * schema is compiled once per process instead, for every host, distinct or not.
 *
 * How: xmllint validates its file arguments in order, compiling the schema once (what the batched
 * validateDomainFiles relies on). Its arguments here are two FIFOs in a private temporary
 * directory, repeated: `doc end doc end ...`. A definition is written into `doc` (xmllint opens it,
 * reads to end of file, validates, prints its lines), then a fixed sentinel (`<end/>`, never valid)
 * into `end`: its "end fails to validate" line closes the definition's output, whatever that was
 * (a document that is not well-formed has no verdict line of its own). The definition's lines are
 * read exactly as validateDomainText reads xmllint's answer for stdin, the FIFO's path written as
 * "-", so a verdict is the same text either way (test/domain/xmllint-server.test.ts). Nothing is
 * written to disk: a FIFO holds no data.
 *
 * The FIFOs are made by the process that becomes xmllint (a fixed sh script, before exec).
 * Anything unexpected (no mkfifo, xmllint exits or dies mid-document) falls back to one xmllint
 * per definition (validateDomainText), so the verdict never depends on this path; a timeout is
 * the same `unavailable` verdict. The process gets SIGKILL when the thread that started it ends
 * (setpriv --pdeathsig, util-linux, when installed), when this process exits, and on close().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, lstatSync, mkdtempSync, openSync, closeSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_XMLLINT_TIMEOUT_MS, parseXmllintOutput, schemaPath, validateDomainText, type SchemaOutcome } from './schema.js';

/**
 * sh -c: make the FIFOs $1 and $2 with one mkfifo (unless both are FIFOs already: a restart; what
 * a start killed between the two left is made again), print a line, become the command that
 * follows them. Exit NO_FIFOS when they cannot be made.
 */
const MAKE_FIFOS_THEN_EXEC =
  'if [ -p "$1" ] && [ -p "$2" ]; then :; else if [ -e "$1" ] || [ -e "$2" ]; then rm -f -- "$1" "$2"; fi; mkfifo -m 600 -- "$1" "$2" || exit 125; fi; echo ready; shift 2; exec "$@"';
const NO_FIFOS = 125;
/** the FIFOs could not be made (no mkfifo, no sh): one xmllint per definition from then on */
class NoFifos extends Error {}

/** documents per xmllint process (two arguments each; argv stays ~100 KiB) */
const DOCUMENTS = 1000;
const SENTINEL = '<end/>\n';

/** What this process's kept xmllint did (tests: the verdicts came from it, not from the fallback). */
export const xmllintServerStats: { processes: number; documents: number; fallbacks: number; pid?: number | undefined } = { processes: 0, documents: 0, fallbacks: 0 };

class XmllintServer {
  private proc: ChildProcess | undefined;
  private dir: string | undefined;
  private used = 0;
  private lines: string[] = [];
  private partial = '';
  /** called on every stderr line and on exit: the waiting request looks */
  private wake: (() => void) | undefined;
  private exited = true;
  private chain: Promise<unknown> = Promise.resolve();
  private broken = false;

  constructor(
    private readonly rng: string,
    private readonly xmllint: string,
  ) {}

  validate(text: string, label: string): Promise<SchemaOutcome> {
    const run = this.chain.then(() => this.one(text, label));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async start(): Promise<void> {
    this.stop();
    if (!this.dir) {
      sweepStaleXmllintDirs();
      this.dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    }
    const doc = join(this.dir, 'doc');
    const end = join(this.dir, 'end');
    const args = ['--nonet', '--noout', '--relaxng', this.rng];
    for (let i = 0; i < DOCUMENTS; i++) args.push(doc, end);
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
    const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', this.xmllint, ...args]] : [this.xmllint, args];
    xmllintServerStats.processes++;
    // one process: a fixed sh script makes the FIFOs (paths as arguments), says so on stdout and
    // becomes xmllint (exec: same pid). Node starts a process by fork(2) of itself, several ms of a
    // run's main thread each; mkfifo as a process of its own was one more, waited for (issue 23).
    const proc = spawn('/bin/sh', ['-c', MAKE_FIFOS_THEN_EXEC, 'sh', doc, end, file, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    this.proc = proc;
    xmllintServerStats.pid = proc.pid;
    this.exited = false;
    this.used = 0;
    this.lines = [];
    this.partial = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.wake?.();
    });
    const gone = (): void => {
      if (this.proc !== proc) return;
      this.exited = true;
      this.unblock();
      this.wake?.();
    };
    // 'close': after its stderr is read to the end (its last lines may come after 'exit')
    proc.on('close', gone);
    proc.on('error', gone);
    // an idle server never keeps the process alive (a request in flight does: its timer)
    proc.unref();
    (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    // the FIFOs exist once the script says so; it fails without them (no mkfifo: the one-process
    // path from then on), or when the process ends first (killed: started again next time)
    await new Promise<void>((res, rej) => {
      const done = (): void => {
        proc.stdout?.off('data', ready);
        proc.off('close', ended);
        proc.off('error', failed);
      };
      const ready = (): void => {
        done();
        (proc.stdout as unknown as { unref?: () => void } | null)?.unref?.();
        res();
      };
      const ended = (code: number | null): void => {
        done();
        rej(code === NO_FIFOS ? new NoFifos() : new Error('xmllint ended before it started'));
      };
      const failed = (): void => {
        done();
        rej(new NoFifos());
      };
      proc.stdout?.once('data', ready);
      proc.once('close', ended);
      proc.once('error', failed);
    });
  }

  /**
   * Write into a FIFO. open(2) waits for xmllint to open its end; should xmllint be gone before or
   * while it waits, the FIFO's other end is opened here (unblock) until the write returns, so a
   * write never waits for a process that is not there.
   */
  private async put(path: string, data: string): Promise<void> {
    if (this.exited) throw new Error('xmllint is gone');
    const write = writeFile(path, data);
    const poll = setInterval(() => {
      if (this.exited) this.unblock();
    }, 20);
    try {
      await write;
    } finally {
      clearInterval(poll);
    }
    if (this.exited) throw new Error('xmllint is gone');
  }

  /** xmllint is gone while a write may wait in open(2) for it: open each FIFO's other end once so that write returns. */
  private unblock(): void {
    if (!this.dir) return;
    for (const f of ['doc', 'end']) {
      try {
        closeSync(openSync(join(this.dir, f), constants.O_RDONLY | constants.O_NONBLOCK));
      } catch {
        // no FIFO, nothing to release
      }
    }
  }

  private async one(text: string, label: string): Promise<SchemaOutcome> {
    const r = await this.kept(text, label);
    if (r) xmllintServerStats.documents++;
    else xmllintServerStats.fallbacks++;
    return r ?? validateDomainText(text, label);
  }

  /** The kept process's verdict; undefined: ask one xmllint of its own instead. */
  private async kept(text: string, label: string): Promise<SchemaOutcome | undefined> {
    if (this.broken) return undefined;
    try {
      if (this.exited || !this.proc || this.used >= DOCUMENTS) await this.start();
    } catch (e) {
      if (e instanceof NoFifos) this.broken = true;
      return undefined;
    }
    const dir = this.dir as string;
    const doc = join(dir, 'doc');
    const end = join(dir, 'end');
    this.used++;
    const from = this.lines.length;
    const timeoutMs = DEFAULT_XMLLINT_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.stop();
    }, timeoutMs);
    try {
      await this.put(doc, text);
      await this.put(end, SENTINEL);
      const closing = (l: string): boolean => l === `${end} fails to validate` || l === `${end} validates`;
      const at = await new Promise<number>((res) => {
        const look = (): void => {
          const i = this.lines.findIndex((l, k) => k >= from && closing(l));
          if (i >= 0 || this.exited) {
            this.wake = undefined;
            res(i);
          }
        };
        this.wake = look;
        look();
      });
      if (timedOut) return { status: 'unavailable', reason: `xmllint timed out after ${timeoutMs} ms` };
      if (at < 0) return undefined;
      const mine = this.lines.slice(from, at).filter((l) => !l.startsWith(`${end}:`) && !l.startsWith(`${end} `));
      this.lines = this.lines.slice(at + 1);
      // exactly validateDomainText's reading of xmllint's answer for stdin ("-")
      const out = mine.map((l) => l.split(doc).join('-')).join('\n');
      const r = parseXmllintOutput(`${out}\n`, [label], ['-']).get(label) as SchemaOutcome;
      return r.status === 'invalid' || r.status === 'unreadable' ? { ...r, errors: r.errors.map((e) => ({ ...e, file: label })) } : r;
    } catch {
      if (timedOut) return { status: 'unavailable', reason: `xmllint timed out after ${timeoutMs} ms` };
      this.stop();
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** End the xmllint process (its writes waiting in open(2) are released). */
  stop(): void {
    const p = this.proc;
    this.proc = undefined;
    if (p && !this.exited) p.kill('SIGKILL');
    this.exited = true;
    this.unblock();
    this.wake?.();
  }

  close(): void {
    this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

let server: XmllintServer | undefined;

/** a kept xmllint's FIFO directory: DIR_PREFIX, the pid of the process that made it, '-', mkdtemp's suffix */
export const DIR_PREFIX = 'sevcheck-xmllint-';
const DIR_NAME = /^sevcheck-xmllint-(\d+)-[A-Za-z0-9]{6}$/;
let swept = false;

/**
 * Remove the FIFO directories of sevcheck processes that are gone (a process killed, or a worker
 * thread terminated, never runs its exit handler), once per process: only this user's own
 * directories (not links) named DIR_NAME whose process no longer exists and that hold nothing but
 * the FIFOs `doc` and `end`. A directory of a live process, of this process (another worker
 * thread's), or with anything else in it is left alone.
 */
export function sweepStaleXmllintDirs(dir = tmpdir()): string[] {
  if (swept && dir === tmpdir()) return [];
  if (dir === tmpdir()) swept = true;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const pid = Number(DIR_NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const inside = readdirSync(path);
      if (!inside.every((f) => (f === 'doc' || f === 'end') && lstatSync(join(path, f)).isFIFO())) continue;
      for (const f of inside) unlinkSync(join(path, f));
      rmdirSync(path);
      removed.push(path);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** Does process `pid` exist? (kill(2) with signal 0: EPERM means it does, as another user's) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * validateDomainText with this process's kept xmllint (the default schema and xmllint only; other
 * options take the one-process path).
 */
export function validateDomainTextKept(text: string, label: string): Promise<SchemaOutcome> {
  const rng = schemaPath();
  if (!existsSync(rng)) return validateDomainText(text, label);
  if (!server) {
    server = new XmllintServer(rng, 'xmllint');
    process.once('exit', closeXmllintServer);
  }
  return server.validate(text, label);
}

/** Stop this process's kept xmllint and remove its FIFOs (a fleet worker before it ends). */
export function closeXmllintServer(): void {
  server?.close();
  server = undefined;
}
