/**
 * `sevcheck lint-domain FILE...` and `sevcheck lint-pve FILE...` (and `lint-qemu FILE...`):
 * static checks of guest definitions. Exit 0 when nothing failed, 1 when a check failed, 2 when
 * an input could not be read (one line per file naming file and problem), the host given with
 * --host could not be asked, or the arguments are wrong.
 *
 * `--host TARGET` (local, ssh://..., fixture:DIR) takes the C-bit facts from that host through
 * the Host backends: `virsh -c qemu:///system domcapabilities` <sev> when it answers, else CPUID
 * 0x8000001F (support/domain/host-facts.ts). `lint-qemu --host TARGET --pid N` reads
 * /proc/N/cmdline from that host.
 *
 * `lint-domain --out DIR` also writes report.html and results.json of the linted files
 * (support/report/html.ts), staged and put in place whole like run's report set (staging.ts).
 */
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import type { Status, Verdict } from '../verdict.js';
import { parseDomainXml, type DomainModel } from '../domain/model.js';
import { lintDomainModel, type HostSevFacts } from '../domain/rules.js';
import { schemaInfo, schemaVerdict, validateDomainFiles, withInvalidValues } from '../domain/schema.js';
import { firmwareFromDescriptors, hostFactsFromCpuid, hostFactsFromDomcaps } from '../domain/host-facts.js';
import { openTarget as openHostTarget } from '../host/target.js';
import { HostError, type Host } from '../host/types.js';
import { HostProbe } from '../probes/host.js';
import { leafAbsence } from '../rules/host.js';
import { parseDomainCapabilities } from '../parsers/domcaps.js';
import { DistroProbe } from '../probes/distro.js';
import { DeviceProbe } from '../probes/device.js';
import { attempt } from '../facts.js';
import { lintPveConfig, parsePveConfig } from '../domain/proxmox.js';
import { lintQemuCmdline, parseQemuCmdline, QEMU_CMDLINE_MAX_BYTES } from '../domain/qemu-cmdline.js';
import { DEFAULT_MAX_XML_BYTES } from '../domain/xml.js';
import { printable, printableJson } from '../report/printable.js';
import { reportHtml, type ReportResults } from '../report/html.js';
import { withFindings, WRITERS } from '../report/writers.js';
import { checksLine, findings } from '../report/findings.js';
import { VERDICT_FIELDS, type CheckResult } from '../report/results.js';
import { checkDir, checkOutputDir } from './options.js';
import { commitStage, discardStage, openStage } from './staging.js';

export interface Out {
  stdout(s: string): void;
  stderr(s: string): void;
}

export interface FileReport {
  readonly file: string;
  /**
   * a verdict per check; `because` names the check that owns the defect this one also sees (one
   * finding per input defect: only checks without it are findings, each with its own fix)
   */
  readonly checks: { readonly id: string; readonly status: Status; readonly message: string; readonly fix?: string; readonly because?: string }[];
  readonly warnings?: readonly string[];
}

export interface LintResult {
  readonly reports: FileReport[];
  readonly errors: { readonly file: string; readonly problem: string }[];
}

class UsageError extends Error {}

const HOST_ARGS = '[--host local|ssh://[user@]host[:port]|fixture:DIR | --host-cbitpos N --host-reduced-phys-bits N]';
const USAGE_DOMAIN = `usage: sevcheck lint-domain FILE... [--format text|json] [--out DIR] [--schema-dir DIR] [--no-schema] ${HOST_ARGS}`;
const USAGE_PVE = `usage: sevcheck lint-pve FILE... [--format text|json] ${HOST_ARGS}`;
const USAGE_QEMU = `usage: sevcheck lint-qemu FILE... [--format text|json] ${HOST_ARGS}\n       sevcheck lint-qemu --host TARGET --pid N [--format text|json]   (reads /proc/N/cmdline on TARGET)`;

const COMMON = {
  format: { type: 'string', default: 'text' },
  host: { type: 'string' },
  'host-cbitpos': { type: 'string' },
  'host-reduced-phys-bits': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** argv for libvirt's view of the host's SEV parameters (also what the caps layer records) */
export const DOMCAPS_ARGV = ['virsh', '-c', 'qemu:///system', 'domcapabilities'] as const;
const DOMCAPS_TIMEOUT_MS = 30_000;
/** parsePveConfig refuses configs over 1 MiB (domain/proxmox.ts); read no more than that plus UTF-8 slack */
const PVE_MAX_BYTES = 4 * 1024 * 1024;

function parse<T extends Record<string, { type: 'string' | 'boolean'; default?: string; short?: string }>>(
  argv: string[],
  options: T,
  usage: string,
  filesOptional = false,
) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v['help']) return { help: true as const, values: v, files: [] };
  if (v['format'] !== 'text' && v['format'] !== 'json') throw new UsageError(`--format must be text or json, not '${String(v['format'])}'\n${usage}`);
  if (parsed.positionals.length === 0 && !filesOptional) throw new UsageError(`no FILE given\n${usage}`);
  return { help: false as const, values: v, files: parsed.positionals };
}

function hostFacts(v: Record<string, string | boolean | undefined>): HostSevFacts {
  const num = (name: string, max: number): number | undefined => {
    const s = v[name];
    if (s === undefined) return undefined;
    if (typeof s !== 'string' || !/^\d+$/.test(s) || Number(s) > max) throw new UsageError(`--${name} must be an integer 0..${max}, not '${String(s)}'`);
    return Number(s);
  };
  const cbitpos = num('host-cbitpos', 63);
  const reducedPhysBits = num('host-reduced-phys-bits', 63);
  if ((cbitpos === undefined) !== (reducedPhysBits === undefined)) {
    throw new UsageError('give both --host-cbitpos and --host-reduced-phys-bits, or neither');
  }
  if (cbitpos !== undefined && v['host'] !== undefined) throw new UsageError('give --host or --host-cbitpos/--host-reduced-phys-bits, not both');
  return { cbitpos, reducedPhysBits, source: cbitpos !== undefined ? 'given on the command line' : undefined };
}

/** Open --host TARGET (read-only, cached); a HarnessError (bad target, unreachable) becomes exit 2. */
async function openTarget(spec: string): Promise<Host> {
  return (await openHostTarget(spec)).host;
}

/**
 * The C-bit facts of a host: libvirt's domcapabilities <sev> when virsh answers there, else CPUID
 * 0x8000001F through the Host. A host without SEV, or whose facts cannot be read, still gets its
 * files linted: the facts then say why (`unavailable`) and domain.cbitpos.matches-host is failed
 * or undecided with that reason (domain/rules.ts unknownHostCbit).
 */
export async function hostFactsFrom(host: Host, spec: string): Promise<HostSevFacts> {
  try {
    const r = await host.run(DOMCAPS_ARGV, { timeoutMs: DOMCAPS_TIMEOUT_MS });
    if (r.exitCode === 0) {
      const f = hostFactsFromDomcaps(await parseDomainCapabilities(r.stdout, `virsh domcapabilities on ${spec}`), spec);
      if (f) return f;
    }
  } catch (e) {
    if (!(e instanceof HostError) && !(e instanceof InputError)) throw e; // not recorded / garbled: use CPUID
  }
  let caps;
  try {
    caps = await new HostProbe(host).encryptedMemory();
  } catch (e) {
    if (e instanceof HostError) return { source: spec, unavailable: { sevAbsent: false, why: `cannot read its CPUID: ${e.message} (or give --host-cbitpos N --host-reduced-phys-bits N)` } };
    throw e;
  }
  const f = hostFactsFromCpuid(caps, spec);
  if (!f) {
    const cpu = leafAbsence(caps) ?? 'CPUID 0x8000001F EAX bit 1 (SEV) is clear';
    return { source: spec, unavailable: { sevAbsent: true, why: `${cpu}, and virsh domcapabilities gave no <sev>` } };
  }
  return f;
}

/**
 * The QEMU firmware descriptors of a host, read as the distro layer reads them (probes/distro.ts:
 * libvirt's directories, order and masking) and the images they offer for SEV and SEV-SNP guests
 * whose files exist there, so that a fix names a firmware file that host has; descriptors it cannot
 * read are said so (the fix then names no path).
 */
export async function firmwareFrom(host: Host, spec: string): Promise<NonNullable<HostSevFacts['firmware']>> {
  const d = await attempt(() => new DistroProbe(host, new DeviceProbe(host)).descriptors());
  return firmwareFromDescriptors(d.ok ? d.value : { unreadable: d.reason }, spec);
}

/**
 * The host facts the linters compare with: --host TARGET's (C-bit, firmware descriptors), or the
 * ones given on the command line. `firmware`: also read the firmware descriptors, of --host or,
 * without it, of this machine (read-only), so that a loader fix names a file that exists.
 */
async function resolveHostFacts(v: Record<string, string | boolean | undefined>, firmware = false): Promise<HostSevFacts> {
  const given = hostFacts(v);
  const spec = v['host'];
  if (typeof spec !== 'string') {
    if (!firmware) return given;
    const local = await openTarget('local');
    try {
      return { ...given, firmware: await firmwareFrom(local, 'this machine') };
    } finally {
      await local.close();
    }
  }
  const host = await openTarget(spec);
  try {
    const facts = await hostFactsFrom(host, spec);
    return firmware ? { ...facts, firmware: await firmwareFrom(host, spec) } : facts;
  } finally {
    await host.close();
  }
}

/**
 * Read at most `max` bytes of an input file; a longer one is an input error without being read
 * whole (a FIFO or /dev/zero as FILE never ends, and a regular file's size says nothing for
 * /proc files, which stat as 0 bytes).
 */
async function readInput(file: string, max: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(file, `cannot read: ${err.code ?? err.message}`);
  }
  try {
    const st = await fh.stat();
    if (st.isFile() && st.size > max) throw new InputError(file, `${st.size} bytes, over the ${max}-byte input limit`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await fh.read({ buffer: Buffer.alloc(64 * 1024) });
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw new InputError(file, `over the ${max}-byte input limit`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new InputError(file, `cannot read: ${err.code ?? err.message}`);
  } finally {
    await fh.close();
  }
}

function problemOf(e: unknown, file: string): { file: string; problem: string } {
  if (e instanceof InputError) return { file: e.source, problem: e.problem };
  return { file, problem: (e as Error).message ?? String(e) };
}

/** Lint domain XML files; exported for steps and the benchmark. */
export async function lintDomainFiles(
  files: readonly string[],
  opts: { schemaDir?: string | undefined; schema?: boolean; host?: HostSevFacts } = {},
): Promise<LintResult> {
  const models = new Map<string, DomainModel>();
  const errors: { file: string; problem: string }[] = [];
  await Promise.all(
    files.map(async (f) => {
      try {
        models.set(f, parseDomainXml(await readInput(f, DEFAULT_MAX_XML_BYTES), f));
      } catch (e) {
        errors.push(problemOf(e, f));
      }
    }),
  );
  const readable = files.filter((f) => models.has(f));
  const schema = opts.schema === false ? undefined : await validateDomainFiles(readable, { schemaDir: opts.schemaDir });
  const info = schema ? await schemaInfo({ schemaDir: opts.schemaDir }) : undefined;
  const rng = info ? `${info.rng}${info.libvirtVersion ? ` (libvirt ${info.libvirtVersion})` : ''}` : '';
  const reports: FileReport[] = readable.map((f) => {
    const d = models.get(f)!;
    const checks: FileReport['checks'] = [];
    const sv = schema ? schemaVerdict(f, schema.get(f)!, rng, { launchSecurityType: d.launchSecurity?.type, policyText: d.launchSecurity?.policyText, schema: info }) : undefined;
    const schemaCheck = withInvalidValues(f, d.invalid, sv); // well-formed but schema-invalid: failed, exit 1
    if (schemaCheck) checks.push({ id: 'domain.schema-valid', ...schemaCheck });
    for (const [id, v] of Object.entries(lintDomainModel(d, opts.host ?? {}))) checks.push({ id, ...v });
    return { file: f, checks };
  });
  errors.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  return { reports, errors };
}

async function lintSimple(
  files: readonly string[],
  lintOne: (buf: Buffer, file: string) => { checks: Record<string, Verdict>; warnings?: readonly string[] },
  read: (file: string) => Promise<Buffer>,
): Promise<LintResult> {
  const reports: FileReport[] = [];
  const errors: { file: string; problem: string }[] = [];
  for (const f of files) {
    try {
      const r = lintOne(await read(f), f);
      reports.push({ file: f, checks: Object.entries(r.checks).map(([id, v]) => ({ id, ...v })), warnings: r.warnings });
    } catch (e) {
      errors.push(problemOf(e, f));
    }
  }
  return { reports, errors };
}

/**
 * The findings of a lint: the failed checks that own their defect (no `because`), one per input
 * defect, each with its fix. A check that sees a defect another check owns names that check instead.
 */
export function lintFindings(result: Pick<LintResult, 'reports'>): number {
  return result.reports.reduce((a, r) => a + r.checks.filter((c) => c.status === 'failed' && c.because === undefined).length, 0);
}

/** One vocabulary in every command and report: the status words themselves (issue 14). */
const LABEL: Record<Status, string> = { passed: 'passed', failed: 'failed', undecided: 'undecided', skipped: 'skipped' };

/** Every message names files and quotes their content: printable() escapes control bytes in both. */
function emit(result: LintResult, format: string, out: Out, host: HostSevFacts = {}): number {
  for (const e of result.errors) out.stderr(`sevcheck: ${printable(e.file)}: ${printable(e.problem)}\n`);
  const hostShown = host.cbitpos !== undefined || host.unavailable ? host : undefined;
  if (format === 'json') {
    out.stdout(printableJson({ ...(hostShown ? { host: hostShown } : {}), files: result.reports, errors: result.errors }) + '\n');
  } else {
    if (hostShown?.cbitpos !== undefined) out.stdout(`host: cbitpos ${hostShown.cbitpos}, reducedPhysBits ${hostShown.reducedPhysBits} (${printable(hostShown.source ?? 'given')})\n`);
    else if (host.unavailable) out.stdout(`host: ${printable(host.source ?? '')}: ${printable(host.unavailable.why)}\n`);
    for (const r of result.reports) {
      out.stdout(`${printable(r.file)}\n`);
      for (const w of r.warnings ?? []) out.stdout(`  warning: ${printable(w)}\n`);
      for (const c of r.checks) out.stdout(`  ${LABEL[c.status].padEnd(9)} ${c.id}: ${printable(c.message)}\n`);
    }
    // one unit, the check: each counted once, the worst over the files, as report.html and
    // results.json count it (report/findings.ts); the fixes are counted per file and defect
    const f = findings(lintChecks(result));
    const found = lintFindings(result);
    const under = f.checks.filter((c) => c.root !== undefined && (c.status === 'failed' || c.status === 'undecided')).length;
    out.stdout(
      `${result.reports.length} file(s), ${checksLine(f.totals)}` +
        (f.totals.failed ? `; ${found} to fix, one fix each${under ? ` (${under} more ${under === 1 ? 'check fails or is' : 'checks fail or are'} undecided because of them)` : ''}` : '') +
        (result.errors.length ? `; ${result.errors.length} unreadable` : '') +
        '\n',
    );
  }
  if (result.errors.length) return 2;
  return result.reports.some((r) => r.checks.some((c) => c.status === 'failed')) ? 1 : 0;
}

async function guard(out: Out, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      // one line, like every input error; the usage is in --help
      const cmd = /sevcheck (lint-\S+)/.exec(usage)?.[1] ?? 'lint-domain';
      const first = (e.message.split('\n')[0] ?? '').replace(/^(Unknown option '[^']*')\..*$/, '$1'); // node:util parseArgs adds a tutorial
      out.stderr(`sevcheck: ${printable(first)} (see sevcheck ${cmd} --help)\n`);
      return 2;
    }
    if (e instanceof InputError) {
      out.stderr(`sevcheck: ${printable(e.source)}: ${printable(e.problem)}\n`);
      return 2;
    }
    out.stderr(`sevcheck: ${printable((e as Error).message ?? String(e))}\n${usage}\n`);
    return 2;
  }
}

/**
 * The linted files as results.json (docs/results.md): one entry per file and check, the file as
 * `scenario` and `feature`; `host` is what the C-bit facts came from, `profile` is empty (lint
 * holds a file to no profile). report.html reads the same object.
 */
export function lintResults(result: LintResult, meta: { host: string; startedAt: string; durationMs: number }): ReportResults {
  return {
    host: meta.host,
    target: `files: ${result.reports.map((r) => r.file).join(', ')}`,
    profile: '',
    startedAt: meta.startedAt,
    durationMs: meta.durationMs,
    checks: lintChecks(result),
  };
}

/** The linted files' verdicts as results.json's checks: one per file and check, the file as `scenario` and `feature`. */
function lintChecks(result: Pick<LintResult, 'reports'>): CheckResult[] {
  return result.reports.flatMap((r) =>
    r.checks.map(({ id, status, message, because, ...fields }) => ({ id, status, scenario: r.file, feature: r.file, message, ...verdictFields(fields), ...(because !== undefined ? { because: [because] } : {}) })),
  );
}

/** A verdict's parts kept beside its message (results.json: found / expected / fix, reason). */
function verdictFields(c: Record<string, unknown>): Partial<Record<(typeof VERDICT_FIELDS)[number], string>> {
  const out: Partial<Record<(typeof VERDICT_FIELDS)[number], string>> = {};
  for (const k of VERDICT_FIELDS) if (typeof c[k] === 'string') out[k] = c[k];
  return out;
}

export async function lintDomainMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_DOMAIN, async () => {
    const a = parse(argv, { ...COMMON, 'schema-dir': { type: 'string' }, 'no-schema': { type: 'boolean' }, out: { type: 'string' } }, USAGE_DOMAIN);
    if (a.help) {
      out.stdout(USAGE_DOMAIN + '\n');
      return 0;
    }
    const schemaDir = a.values['schema-dir'];
    if (typeof schemaDir === 'string') checkDir('--schema-dir', schemaDir); // before any file is read (options.ts)
    const outDir = a.values['out'];
    if (outDir !== undefined) {
      if (typeof outDir !== 'string' || outDir === '') throw new UsageError('--out needs a directory');
      checkOutputDir('--out', outDir, 'reports'); // a previous report set or a new directory, like run --out
    }
    // --out: report.html + results.json, staged and put in place whole, like run's report set
    const stage = typeof outDir === 'string' ? await openStage('--out', outDir) : undefined;
    try {
      const t0 = Date.now();
      const host = await resolveHostFacts(a.values, true);
      const result = await lintDomainFiles(a.files, {
        schemaDir: a.values['schema-dir'] as string | undefined,
        schema: !a.values['no-schema'],
        host,
      });
      // an unreadable file is exit 2: no report set, the previous one stays (as for run)
      if (stage && result.errors.length === 0) {
        const hostName = typeof a.values['host'] === 'string' ? a.values['host'] : host.cbitpos !== undefined ? 'C-bit facts given on the command line' : 'no host (--host not given)';
        const r = lintResults(result, { host: printable(hostName), startedAt: new Date(t0).toISOString(), durationMs: Date.now() - t0 });
        const json = WRITERS['json']!.file;
        const f = findings(r.checks);
        await writeFile(join(stage.dir, json), `${printableJson(withFindings(r, f))}\n`);
        await writeFile(join(stage.dir, WRITERS['html']!.file), reportHtml(r, { links: { results: json }, command: 'sevcheck lint-domain', parts: 'files' }, f));
        await commitStage(stage);
      }
      const code = emit(result, a.values['format'] as string, out, host);
      if (stage && result.errors.length === 0 && a.values['format'] !== 'json') out.stdout(`reports: ${printable(outDir as string)}\n`);
      return code;
    } finally {
      await discardStage(stage);
    }
  });
}

export async function lintPveMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_PVE, async () => {
    const a = parse(argv, COMMON, USAGE_PVE);
    if (a.help) {
      out.stdout(USAGE_PVE + '\n');
      return 0;
    }
    const host = await resolveHostFacts(a.values, true);
    const result = await lintSimple(
      a.files,
      (buf, f) => {
        const c = parsePveConfig(buf, f);
        return { checks: lintPveConfig(c, host), warnings: c.warnings };
      },
      (f) => readInput(f, PVE_MAX_BYTES),
    );
    return emit(result, a.values['format'] as string, out, host);
  });
}

export async function lintQemuMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_QEMU, async () => {
    const a = parse(argv, { ...COMMON, pid: { type: 'string' } }, USAGE_QEMU, true);
    if (a.help) {
      out.stdout(USAGE_QEMU + '\n');
      return 0;
    }
    const pid = a.values['pid'];
    if (pid !== undefined) {
      if (typeof pid !== 'string' || !/^[1-9]\d{0,9}$/.test(pid)) throw new UsageError(`--pid must be a process id, not '${String(pid)}'`);
      if (typeof a.values['host'] !== 'string') throw new UsageError(`--pid needs --host TARGET (use --host local for this machine)\n${USAGE_QEMU}`);
      if (a.files.length) throw new UsageError(`give FILE... or --pid, not both\n${USAGE_QEMU}`);
    } else if (a.files.length === 0) {
      throw new UsageError(`no FILE given\n${USAGE_QEMU}`);
    }
    hostFacts(a.values); // validates the flag combination
    if (pid === undefined) {
      const host = await resolveHostFacts(a.values, true);
      const result = await lintSimple(a.files, (buf, f) => ({ checks: lintQemuCmdline(parseQemuCmdline(buf, f), host) }), (f) => readInput(f, QEMU_CMDLINE_MAX_BYTES));
      return emit(result, a.values['format'] as string, out, host);
    }
    const spec = a.values['host'] as string;
    const target = await openTarget(spec);
    try {
      const path = `/proc/${pid}/cmdline`;
      const label = `${path} on ${spec}`;
      let buf: Buffer;
      try {
        buf = await target.readFile(path);
      } catch (e) {
        if (e instanceof HostError) throw new InputError(label, `cannot read: ${e.message}`);
        throw e;
      }
      if (buf.length === 0) throw new InputError(label, 'empty: the process is a kernel thread or a zombie, not a running QEMU');
      const host = { ...(await hostFactsFrom(target, spec)), firmware: await firmwareFrom(target, spec) };
      const result = await lintSimple([label], (b, f) => ({ checks: lintQemuCmdline(parseQemuCmdline(b, f), host) }), async () => buf);
      return emit(result, a.values['format'] as string, out, host);
    } finally {
      await target.close();
    }
  });
}
