/**
 * A recorded or authored host: a directory in the format of docs/fixture-format.md.
 * Everything but files/ is loaded and validated up front, so a malformed fixture stops the run
 * before any check (exit 2, one line naming the file and key).
 *
 * sevcheck extensions (optional files, written by `sevcheck record`):
 * - listings.json  {"<dir>": ["name", ...]}: exact directory listings, for directories whose
 *                  entries were not all read.
 * - errors.json    {"readFile"|"stat"|"listDir"|"cpuid"|"acl"|"msr"|"run"|"qmp": {"<path, leaf, cpu:msr, JSON argv or QMP command>": {"code", "message"}}}:
 *                  reads that failed on the recorded host other than "does not exist"
 *                  (permission denied, I/O error), replayed as the same error.
 * - msr.json       {"<cpu>"|"*": {"0xc0010010": "0x0000000003f40000"}}: MSR values (16 hex digits)
 *                  per logical CPU; "*" = every CPU without its own entry for that MSR.
 * - cpuid.json may hold "cpuN" maps beside the flat leaves (flat = every CPU).
 * Per-CPU entries must name CPUs of the fixture's CPU list, files/sys/devices/system/cpu/online.
 */
import { readFileSync, statSync, readdirSync, existsSync, realpathSync } from 'node:fs';
import { parseJsonText, readUserBytes, readUserText } from '../input/read.js';
import { InputError } from '../errors.js';
import { join, posix, resolve } from 'node:path';
import {
  HarnessError,
  HostError,
  type CpuidRegs,
  type FileType,
  type Host,
  type HostDescription,
  type HostErrorCode,
  type QmpReply,
  type RunResult,
  type StatInfo,
} from './types.js';
import { hostError, msrWhat } from './errno.js';
import { parseCpuList } from '../parsers/cpulist.js';
import { hex32 } from '../sev/cpuid.js';
import { parseGetfacl } from '../parsers/getfacl.js';
import { formatParseError } from '../parsers/parse-result.js';

const FILE_TYPES: readonly FileType[] = ['file', 'dir', 'char', 'block', 'link', 'fifo', 'socket'];
const HOST_KEYS = ['name', 'description', 'recordedAt', 'source', 'kernel', 'distro', 'profile', 'system', 'covers'];
/** host.json "covers": check ids or their prefixes (a layer "caps", a group "host.firmware"), lower-case words joined by dots or dashes */
const COVERS_ENTRY = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;
const ERROR_CODES: readonly HostErrorCode[] = ['ENOENT', 'EACCES', 'ENOTDIR', 'EISDIR', 'EIO', 'NOT_RECORDED', 'UNSUPPORTED', 'NOT_RUNNING'];

interface StatEntry {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  selinux?: string | undefined;
  /** extended POSIX ACL entries (getfacl's text form); absent = no extended ACL */
  acl?: readonly string[] | undefined;
}

type ErrorTable = Record<'readFile' | 'stat' | 'listDir' | 'cpuid' | 'acl' | 'msr' | 'run' | 'qmp', Map<string, { code: HostErrorCode; message: string }>>;

export interface FixtureHostOptions {
  /** called for unknown keys (the format says: ignored with a warning) */
  warn?: (message: string) => void;
}

export class FixtureHost implements Host {
  readonly kind = 'fixture' as const;
  /** host.json "system" (sevcheck extension): "rootfs" when recorded from a root file system */
  readonly system: 'running' | 'rootfs';
  readonly target: string;
  readonly dir: string;
  readonly description: HostDescription;
  readonly expected: Readonly<Record<string, string>> | undefined;
  private readonly stats = new Map<string, StatEntry>();
  private readonly commands = new Map<string, RunResult>();
  private readonly cpuidLeaves = new Map<number, CpuidRegs>();
  /** cpuid.json "cpuN" maps: CPU → leaf → registers */
  private readonly cpuidPerCpu = new Map<number, Map<number, CpuidRegs>>();
  /** msr.json: "<cpu>" or "*" → MSR index → value */
  private readonly msrs = new Map<string, Map<number, bigint>>();
  /** files/sys/devices/system/cpu/online, when the fixture has it (validation of per-CPU maps) */
  private cpuList: readonly number[] | undefined;
  private readonly qmpReplies = new Map<string, QmpReply>();
  private readonly listings = new Map<string, string[]>();
  private readonly errors: ErrorTable = {
    readFile: new Map(),
    stat: new Map(),
    listDir: new Map(),
    cpuid: new Map(),
    acl: new Map(),
    msr: new Map(),
    run: new Map(),
    qmp: new Map(),
  };

  /** realpath(3) of the fixture directory and of its files/, resolved once per host (undefined: not resolvable, each read says why) */
  private readonly real = new Map<string, string | undefined>();

  private realOf(dir: string): string | undefined {
    if (!this.real.has(dir)) {
      let r: string | undefined;
      try {
        r = realpathSync.native(dir);
      } catch {
        r = undefined;
      }
      this.real.set(dir, r);
    }
    return this.real.get(dir);
  }

  constructor(dir: string, opts: FixtureHostOptions = {}) {
    this.dir = resolve(dir);
    this.target = `fixture:${dir}`;
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`sevcheck: warning: ${m}\n`));
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) {
      throw new HarnessError(`${dir}: fixture host directory does not exist`);
    }
    const hostJson = this.json('host.json', true) as Record<string, unknown>;
    this.description = this.parseHost(hostJson, warn);
    const system = hostJson.system;
    if (system !== undefined && system !== 'running' && system !== 'rootfs') {
      this.bad('host.json', 'system', `must be "running" or "rootfs", not ${JSON.stringify(system)}`);
    }
    this.system = system ?? 'running';
    this.loadStats(this.json('stat.json'));
    this.loadCommands(this.json('commands.json'));
    this.cpuList = this.loadCpuList();
    this.loadCpuid(this.json('cpuid.json'));
    this.loadMsr(this.json('msr.json'));
    this.loadQmp(this.json('qmp.json'));
    this.loadListings(this.json('listings.json'));
    this.loadErrors(this.json('errors.json'));
    const expected = this.json('expected.json');
    if (expected !== undefined) {
      const obj = this.object('expected.json', expected);
      for (const [k, v] of Object.entries(obj)) {
        if (!['passed', 'failed', 'undecided', 'skipped'].includes(v as string)) {
          this.bad('expected.json', k, `status ${JSON.stringify(v)} is not passed, failed, undecided or skipped`);
        }
      }
      this.expected = obj as Record<string, string>;
    }
  }

  // ---------------------------------------------------------------- loading and validation

  private bad(file: string, key: string, problem: string): never {
    throw new HarnessError(`${join(this.dir, file)}: key "${key}": ${problem}`);
  }

  private json(file: string, required = false): unknown {
    const p = join(this.dir, file);
    if (!existsSync(p)) {
      if (required) throw new HarnessError(`${p}: missing (every fixture host needs host.json)`);
      return undefined;
    }
    try {
      // a regular file inside the fixture, size-capped; a syntax error says where, never quotes the file
      return parseJsonText(readUserText(p, { kind: 'fixture', inside: this.dir, insideReal: this.realOf(this.dir) }), p);
    } catch (e) {
      if (e instanceof InputError) throw new HarnessError(`${p}: malformed JSON: ${e.problem}`);
      throw e;
    }
  }

  private object(file: string, v: unknown): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new HarnessError(`${join(this.dir, file)}: expected a JSON object at the top level`);
    }
    return v as Record<string, unknown>;
  }

  private parseHost(raw: unknown, warn: (m: string) => void): HostDescription {
    const o = this.object('host.json', raw);
    for (const k of Object.keys(o)) if (!HOST_KEYS.includes(k)) warn(`${join(this.dir, 'host.json')}: unknown key "${k}" ignored`);
    const str = (k: string): string | undefined => {
      const v = o[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') this.bad('host.json', k, 'must be a string');
      return v;
    };
    const name = str('name');
    if (!name) this.bad('host.json', 'name', 'required');
    const source = str('source');
    if (source !== undefined && source !== 'recorded' && source !== 'authored') {
      this.bad('host.json', 'source', `must be "recorded" or "authored", not ${JSON.stringify(source)}`);
    }
    return {
      name,
      description: str('description'),
      recordedAt: str('recordedAt'),
      source: source as 'recorded' | 'authored' | undefined,
      kernel: str('kernel'),
      distro: str('distro'),
      profile: str('profile'),
      covers: this.covers(o.covers),
    };
  }

  /** host.json "covers": what the fixture recorded, as check ids or prefixes of them (docs/fixture-format.md). */
  private covers(v: unknown): readonly string[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) this.bad('host.json', 'covers', 'must be a non-empty array of check ids or id prefixes');
    return (v as unknown[]).map((e, i) => {
      if (typeof e !== 'string' || !COVERS_ENTRY.test(e)) this.bad('host.json', `covers[${i}]`, 'must be a check id or id prefix such as "host.firmware"');
      return e as string;
    });
  }

  private loadStats(raw: unknown): void {
    if (raw === undefined) return;
    for (const [path, v] of Object.entries(this.object('stat.json', raw))) {
      if (!path.startsWith('/')) this.bad('stat.json', path, 'paths must be absolute');
      const e = this.object('stat.json', v);
      const type = (e.type ?? 'file') as FileType;
      if (!FILE_TYPES.includes(type)) this.bad('stat.json', `${path}.type`, `unknown type ${JSON.stringify(e.type)}`);
      const modeStr = e.mode ?? (type === 'dir' ? '0755' : '0644');
      if (typeof modeStr !== 'string' || !/^0?[0-7]{3,4}$/.test(modeStr)) {
        this.bad('stat.json', `${path}.mode`, `${JSON.stringify(e.mode)} is not an octal mode like "0600"`);
      }
      const id = (k: 'uid' | 'gid'): number => {
        const n = e[k] ?? 0;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) this.bad('stat.json', `${path}.${k}`, 'must be a non-negative integer');
        return n;
      };
      if (e.selinux !== undefined && typeof e.selinux !== 'string') this.bad('stat.json', `${path}.selinux`, 'must be a string');
      let acl: string[] | undefined;
      if (e.acl !== undefined) {
        if (!Array.isArray(e.acl) || e.acl.some((x) => typeof x !== 'string')) this.bad('stat.json', `${path}.acl`, 'must be a list of getfacl entries like "user:qemu:rw-"');
        acl = e.acl as string[];
        const parsed = parseGetfacl(acl.join('\n'), 'acl');
        if (!parsed.ok) this.bad('stat.json', `${path}.acl`, formatParseError(parsed.error));
      }
      this.stats.set(posix.normalize(path), {
        type,
        mode: parseInt(modeStr, 8),
        uid: id('uid'),
        gid: id('gid'),
        selinux: e.selinux as string | undefined,
        acl,
      });
    }
  }

  private loadCommands(raw: unknown): void {
    if (raw === undefined) return;
    if (!Array.isArray(raw)) throw new HarnessError(`${join(this.dir, 'commands.json')}: expected a JSON array of commands`);
    raw.forEach((c, i) => {
      const o = this.object('commands.json', c);
      const key = `[${i}]`;
      if (!Array.isArray(o.argv) || o.argv.length === 0 || !o.argv.every((a) => typeof a === 'string')) {
        this.bad('commands.json', `${key}.argv`, 'must be a non-empty array of strings');
      }
      const exitCode = o.exitCode ?? 0;
      if (typeof exitCode !== 'number' || !Number.isInteger(exitCode)) this.bad('commands.json', `${key}.exitCode`, 'must be an integer');
      for (const s of ['stdout', 'stderr'] as const) {
        if (o[s] !== undefined && typeof o[s] !== 'string') this.bad('commands.json', `${key}.${s}`, 'must be a string');
      }
      const argv = o.argv as string[];
      this.commands.set(JSON.stringify(argv), {
        argv,
        exitCode,
        stdout: (o.stdout as string | undefined) ?? '',
        stderr: (o.stderr as string | undefined) ?? '',
      });
    });
  }

  /** The fixture's logical CPUs, from files/sys/devices/system/cpu/online (cpulist format). */
  private loadCpuList(): readonly number[] | undefined {
    const p = join(this.dir, 'files/sys/devices/system/cpu/online');
    if (!existsSync(p)) return undefined;
    const parsed = parseCpuList(readFileSync(p, 'utf8'));
    if (!parsed.ok) throw new HarnessError(`${p}: ${parsed.problem}`);
    return parsed.cpus;
  }

  /** A per-CPU key names a CPU of the fixture's CPU list. */
  private checkCpu(file: string, key: string, cpu: number): void {
    if (this.cpuList === undefined) {
      this.bad(file, key, `names CPU ${cpu}, but the fixture has no CPU list (files/sys/devices/system/cpu/online)`);
    }
    if (!this.cpuList.includes(cpu)) this.bad(file, key, `names CPU ${cpu}, which is not in the fixture's CPU list (files/sys/devices/system/cpu/online)`);
  }

  private loadCpuid(raw: unknown): void {
    if (raw === undefined) return;
    const leaves = (into: Map<number, CpuidRegs>, obj: Record<string, unknown>, prefix: string): void => {
      for (const [leaf, v] of Object.entries(obj)) {
        const key = prefix + leaf;
        if (!/^0x[0-9a-f]{1,8}$/i.test(leaf)) this.bad('cpuid.json', key, 'leaf must be a hex number like "0x8000001f" (or a per-CPU map "cpu12")');
        const regs = this.object('cpuid.json', v);
        const reg = (r: 'eax' | 'ebx' | 'ecx' | 'edx'): number => {
          const s = regs[r];
          if (typeof s !== 'string' || !/^0x[0-9a-f]{1,8}$/i.test(s)) {
            this.bad('cpuid.json', `${key}.${r}`, `${JSON.stringify(s)} is not a 32-bit hex number like "0x0000412f"`);
          }
          return parseInt(s, 16) >>> 0;
        };
        into.set(parseInt(leaf, 16) >>> 0, { eax: reg('eax'), ebx: reg('ebx'), ecx: reg('ecx'), edx: reg('edx') });
      }
    };
    const top = this.object('cpuid.json', raw);
    const flat: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(top)) {
      const m = /^cpu(\d{1,5})$/.exec(k);
      if (!m) {
        flat[k] = v;
        continue;
      }
      const cpu = Number(m[1]);
      if (cpu !== 0 || this.cpuList !== undefined) this.checkCpu('cpuid.json', k, cpu);
      const map = new Map<number, CpuidRegs>();
      leaves(map, this.object('cpuid.json', v), `${k}.`);
      this.cpuidPerCpu.set(cpu, map);
    }
    leaves(this.cpuidLeaves, flat, '');
  }

  /** msr.json: {"<cpu>"|"*": {"0x<index>": "0x<16 hex digits>"}} (issue 12; docs/fixture-format.md). */
  private loadMsr(raw: unknown): void {
    if (raw === undefined) return;
    for (const [cpuKey, v] of Object.entries(this.object('msr.json', raw))) {
      if (cpuKey !== '*') {
        if (!/^\d{1,5}$/.test(cpuKey)) this.bad('msr.json', cpuKey, 'must be a CPU number like "0" or "*" (all CPUs)');
        this.checkCpuOrZero(cpuKey);
      }
      const map = new Map<number, bigint>();
      for (const [index, value] of Object.entries(this.object('msr.json', v))) {
        const key = `${cpuKey}.${index}`;
        if (!/^0x[0-9a-f]{1,8}$/i.test(index)) this.bad('msr.json', key, 'MSR index must be a hex number like "0xc0010010"');
        if (typeof value !== 'string' || !/^0x[0-9a-f]{16}$/i.test(value)) {
          this.bad('msr.json', key, `${JSON.stringify(value)} is not a 64-bit value of 16 hex digits like "0x0000000003f40000"`);
        }
        map.set(parseInt(index, 16) >>> 0, BigInt(value));
      }
      this.msrs.set(cpuKey, map);
    }
  }

  /** CPU 0 always exists; any other CPU must be in the fixture's CPU list. */
  private checkCpuOrZero(cpuKey: string): void {
    const cpu = Number(cpuKey);
    if (cpu === 0 && this.cpuList === undefined) return;
    this.checkCpu('msr.json', cpuKey, cpu);
  }

  private loadQmp(raw: unknown): void {
    if (raw === undefined) return;
    for (const [cmd, v] of Object.entries(this.object('qmp.json', raw))) {
      const o = this.object('qmp.json', v);
      const hasReturn = 'return' in o;
      const err = o.error as Record<string, unknown> | undefined;
      if (hasReturn === (err !== undefined)) this.bad('qmp.json', cmd, 'a reply has exactly one of "return" or "error"');
      if (err !== undefined && (typeof err.class !== 'string' || typeof err.desc !== 'string')) {
        this.bad('qmp.json', `${cmd}.error`, 'needs string "class" and "desc"');
      }
      this.qmpReplies.set(cmd, o as QmpReply);
    }
  }

  private loadListings(raw: unknown): void {
    if (raw === undefined) return;
    for (const [dir, v] of Object.entries(this.object('listings.json', raw))) {
      if (!Array.isArray(v) || !v.every((n) => typeof n === 'string')) this.bad('listings.json', dir, 'must be an array of names');
      this.listings.set(posix.normalize(dir), [...(v as string[])].sort());
    }
  }

  private loadErrors(raw: unknown): void {
    if (raw === undefined) return;
    const o = this.object('errors.json', raw);
    for (const [op, table] of Object.entries(o)) {
      if (!(op in this.errors)) this.bad('errors.json', op, 'must be readFile, stat, listDir, cpuid, acl, msr, run or qmp');
      for (const [key, v] of Object.entries(this.object('errors.json', table))) {
        const e = this.object('errors.json', v);
        if (!ERROR_CODES.includes(e.code as HostErrorCode)) this.bad('errors.json', `${op}.${key}.code`, `unknown code ${JSON.stringify(e.code)}`);
        if (typeof e.message !== 'string') this.bad('errors.json', `${op}.${key}.message`, 'must be a string');
        this.errors[op as keyof ErrorTable].set(key, { code: e.code as HostErrorCode, message: e.message });
      }
    }
  }

  // ---------------------------------------------------------------- Host

  private recordedError(op: keyof ErrorTable, key: string): HostError | undefined {
    const e = this.errors[op].get(key);
    return e ? new HostError(e.code, key, e.message) : undefined;
  }

  /** files/<path>, refusing paths that escape files/. */
  private mirror(path: string): string {
    const norm = posix.normalize(path);
    if (!norm.startsWith('/') || norm.split('/').includes('..')) throw hostError('ENOENT', path);
    return join(this.dir, 'files', norm);
  }

  private local(path: string): { kind: 'file' | 'dir' } | undefined {
    try {
      // most paths a run asks for are absent from a fixture: no exception built for those
      const st = statSync(this.mirror(path), { throwIfNoEntry: false });
      return st === undefined ? undefined : { kind: st.isDirectory() ? 'dir' : 'file' };
    } catch {
      return undefined;
    }
  }

  /**
   * A path the fixture does not hold: absent from the host, or, in a fixture whose host.json
   * "covers" says it recorded only some checks' reads, not recorded (a thread that pasted dmesg
   * says nothing about /dev/sev).
   */
  private absent(p: string): HostError {
    return this.description.covers ? hostError('NOT_RECORDED', p) : hostError('ENOENT', p);
  }

  async describe(): Promise<HostDescription> {
    return this.description;
  }

  async readFile(path: string): Promise<Buffer> {
    const p = posix.normalize(path);
    const rec = this.recordedError('readFile', p);
    if (rec) throw rec;
    const local = this.local(p);
    if (local?.kind === 'file') {
      // a regular file that stays inside files/ (a link out of the fixture, a FIFO or a huge
      // file is a malformed fixture: one line, exit 2), size-capped
      try {
        const files = join(this.dir, 'files');
        return readUserBytes(this.mirror(p), { kind: 'fixture', inside: files, insideReal: this.realOf(files) });
      } catch (e) {
        if (e instanceof InputError) throw new HarnessError(e.message);
        throw e;
      }
    }
    if (local?.kind === 'dir') throw hostError('EISDIR', p);
    const st = this.stats.get(p);
    if (st === undefined) throw this.absent(p);
    if (st.type === 'dir') throw hostError('EISDIR', p);
    throw hostError('NOT_RECORDED', p, 'metadata recorded, content not');
  }

  async stat(path: string): Promise<StatInfo> {
    const p = posix.normalize(path);
    const rec = this.recordedError('stat', p);
    if (rec) throw rec;
    const st = this.stats.get(p);
    if (st) return { path: p, type: st.type, mode: st.mode, uid: st.uid, gid: st.gid, selinux: st.selinux };
    const local = this.local(p);
    if (local === undefined) throw this.absent(p);
    // fixture-format.md: a path under files/ with no entry is a regular file, 0644, root:root.
    return local.kind === 'dir'
      ? { path: p, type: 'dir', mode: 0o755, uid: 0, gid: 0 }
      : { path: p, type: 'file', mode: 0o644, uid: 0, gid: 0 };
  }

  /** stat.json's optional "acl"; no key (or no entry) means no extended ACL (fixture-format.md). */
  async acl(path: string): Promise<readonly string[] | undefined> {
    const p = posix.normalize(path);
    await this.stat(p); // ENOENT (or the recorded stat error) for a path that is not there
    const rec = this.recordedError('acl', p); // e.g. an ACL getfacl was not installed to read
    if (rec) throw rec;
    return this.stats.get(p)?.acl;
  }

  async listDir(path: string): Promise<string[]> {
    const p = posix.normalize(path);
    const rec = this.recordedError('listDir', p);
    if (rec) throw rec;
    const listed = this.listings.get(p);
    if (listed) return [...listed];
    const names = new Set<string>();
    const local = this.local(p);
    if (local?.kind === 'file') throw hostError('ENOTDIR', p);
    if (local?.kind === 'dir') for (const n of readdirSync(this.mirror(p))) names.add(n);
    let known = local !== undefined;
    const prefix = p === '/' ? '/' : `${p}/`;
    for (const [sp, st] of this.stats) {
      if (sp === p) {
        if (st.type !== 'dir') throw hostError('ENOTDIR', p);
        known = true;
      } else if (sp.startsWith(prefix) && !sp.slice(prefix.length).includes('/')) {
        names.add(sp.slice(prefix.length));
        known = true;
      }
    }
    if (!known) throw this.absent(p);
    return [...names].sort();
  }

  async run(argv: readonly string[]): Promise<RunResult> {
    const rec = this.recordedError('run', JSON.stringify(argv));
    if (rec) throw rec;
    const r = this.commands.get(JSON.stringify(argv));
    if (!r) throw hostError('NOT_RECORDED', `command "${argv.join(' ')}"`);
    return r;
  }

  async cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    const key = hex32(leaf);
    // a failure on another CPU is recorded as "cpuN:<leaf>" (recording-host.ts)
    const rec = cpu === 0 ? this.recordedError('cpuid', key) : this.recordedError('cpuid', `cpu${cpu}:${key}`) ?? this.recordedError('cpuid', key);
    if (rec) throw rec;
    if (cpu !== 0 && this.cpuList !== undefined && !this.cpuList.includes(cpu)) throw hostError('ENOENT', `/dev/cpu/${cpu}/cpuid`);
    // a "cpuN" map overrides the flat leaves, which hold for every CPU (docs/fixture-format.md)
    const r = this.cpuidPerCpu.get(cpu)?.get(leaf >>> 0) ?? this.cpuidLeaves.get(leaf >>> 0);
    if (!r) throw hostError('NOT_RECORDED', `CPUID leaf ${key}${cpu ? ` on CPU ${cpu}` : ''}`);
    return r;
  }

  async readMsr(cpu: number, index: number): Promise<bigint> {
    const idx = `0x${(index >>> 0).toString(16).padStart(8, '0')}`;
    const rec = this.recordedError('msr', `${cpu}:${idx}`) ?? this.recordedError('msr', `*:${idx}`);
    if (rec) throw rec;
    if (cpu !== 0 && this.cpuList !== undefined && !this.cpuList.includes(cpu)) throw hostError('ENOENT', `/dev/cpu/${cpu}/msr`);
    const v = this.msrs.get(String(cpu))?.get(index >>> 0) ?? this.msrs.get('*')?.get(index >>> 0);
    if (v === undefined) throw hostError('NOT_RECORDED', msrWhat(cpu, index));
    return v;
  }

  async qmp(command: string): Promise<QmpReply> {
    const rec = this.recordedError('qmp', command);
    if (rec) throw rec;
    const r = this.qmpReplies.get(command);
    if (!r) throw hostError('NOT_RECORDED', `QMP command ${command}`);
    return r;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}
}
