/**
 * `sevcheck lint-domain FILE...` and `sevcheck lint-pve FILE...` (and `lint-qemu FILE...`):
 * static checks of guest definitions, no host access. Exit 0 when nothing failed, 1 when a check
 * failed, 2 when an input could not be read (one line per file naming file and problem) or the
 * arguments are wrong.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import type { Status, Verdict } from '../verdict.js';
import { parseDomainXml, type DomainModel } from '../domain/model.js';
import { lintDomainModel, type HostSevFacts } from '../domain/rules.js';
import { schemaPath, schemaVerdict, validateDomainFiles } from '../domain/schema.js';
import { lintPveConfig, parsePveConfig } from '../domain/proxmox.js';
import { lintQemuCmdline, parseQemuCmdline } from '../domain/qemu-cmdline.js';

export interface Out {
  stdout(s: string): void;
  stderr(s: string): void;
}

export interface FileReport {
  readonly file: string;
  readonly checks: { readonly id: string; readonly status: Status; readonly message: string }[];
  readonly warnings?: readonly string[];
}

export interface LintResult {
  readonly reports: FileReport[];
  readonly errors: { readonly file: string; readonly problem: string }[];
}

class UsageError extends Error {}

const USAGE_DOMAIN =
  'usage: sevcheck lint-domain FILE... [--format text|json] [--schema-dir DIR] [--no-schema] [--host-cbitpos N --host-reduced-phys-bits N]';
const USAGE_PVE = 'usage: sevcheck lint-pve FILE... [--format text|json] [--host-cbitpos N --host-reduced-phys-bits N]';
const USAGE_QEMU = 'usage: sevcheck lint-qemu FILE... [--format text|json] [--host-cbitpos N --host-reduced-phys-bits N]';

const COMMON = {
  format: { type: 'string', default: 'text' },
  'host-cbitpos': { type: 'string' },
  'host-reduced-phys-bits': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse<T extends Record<string, { type: 'string' | 'boolean'; default?: string; short?: string }>>(argv: string[], options: T, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v['help']) return { help: true as const, values: v, files: [] };
  if (v['format'] !== 'text' && v['format'] !== 'json') throw new UsageError(`--format must be text or json, not '${String(v['format'])}'\n${usage}`);
  if (parsed.positionals.length === 0) throw new UsageError(`no FILE given\n${usage}`);
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
  return { cbitpos, reducedPhysBits, source: cbitpos !== undefined ? 'given on the command line' : undefined };
}

async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(file, `cannot read: ${err.code ?? err.message}`);
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
        models.set(f, parseDomainXml(await readInput(f), f));
      } catch (e) {
        errors.push(problemOf(e, f));
      }
    }),
  );
  const readable = files.filter((f) => models.has(f));
  const schema = opts.schema === false ? undefined : await validateDomainFiles(readable, { schemaDir: opts.schemaDir });
  const rng = schemaPath({ schemaDir: opts.schemaDir });
  const reports: FileReport[] = readable.map((f) => {
    const d = models.get(f)!;
    const checks: FileReport['checks'] = [];
    if (schema) {
      const outcome = schema.get(f)!;
      checks.push({
        id: 'domain.schema-valid',
        ...schemaVerdict(f, outcome, rng, { launchSecurityType: d.launchSecurity?.type, policyText: d.launchSecurity?.policyText }),
      });
    }
    for (const [id, v] of Object.entries(lintDomainModel(d, opts.host ?? {}))) checks.push({ id, ...v });
    return { file: f, checks };
  });
  errors.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  return { reports, errors };
}

async function lintSimple(
  files: readonly string[],
  lintOne: (buf: Buffer, file: string) => { checks: Record<string, Verdict>; warnings?: readonly string[] },
): Promise<LintResult> {
  const reports: FileReport[] = [];
  const errors: { file: string; problem: string }[] = [];
  for (const f of files) {
    try {
      const r = lintOne(await readInput(f), f);
      reports.push({ file: f, checks: Object.entries(r.checks).map(([id, v]) => ({ id, ...v })), warnings: r.warnings });
    } catch (e) {
      errors.push(problemOf(e, f));
    }
  }
  return { reports, errors };
}

const LABEL: Record<Status, string> = { passed: 'pass', failed: 'FAIL', undecided: 'undecided', skipped: 'skip' };

function emit(result: LintResult, format: string, out: Out): number {
  for (const e of result.errors) out.stderr(`sevcheck: ${e.file}: ${e.problem}\n`);
  if (format === 'json') {
    out.stdout(JSON.stringify({ files: result.reports, errors: result.errors }, null, 2) + '\n');
  } else {
    for (const r of result.reports) {
      out.stdout(`${r.file}\n`);
      for (const w of r.warnings ?? []) out.stdout(`  warning: ${w}\n`);
      for (const c of r.checks) out.stdout(`  ${LABEL[c.status].padEnd(9)} ${c.id}: ${c.message}\n`);
    }
    const n = (s: Status) => result.reports.reduce((a, r) => a + r.checks.filter((c) => c.status === s).length, 0);
    out.stdout(
      `${result.reports.length} file(s): ${n('passed')} passed, ${n('failed')} failed, ${n('undecided')} undecided, ${n('skipped')} skipped` +
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
      out.stderr(`sevcheck: ${e.message}\n`);
      return 2;
    }
    if (e instanceof InputError) {
      out.stderr(`sevcheck: ${e.source}: ${e.problem}\n`);
      return 2;
    }
    out.stderr(`sevcheck: ${(e as Error).message ?? String(e)}\n${usage}\n`);
    return 2;
  }
}

export async function lintDomainMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_DOMAIN, async () => {
    const a = parse(argv, { ...COMMON, 'schema-dir': { type: 'string' }, 'no-schema': { type: 'boolean' } }, USAGE_DOMAIN);
    if (a.help) {
      out.stdout(USAGE_DOMAIN + '\n');
      return 0;
    }
    const host = hostFacts(a.values);
    const result = await lintDomainFiles(a.files, {
      schemaDir: a.values['schema-dir'] as string | undefined,
      schema: !a.values['no-schema'],
      host,
    });
    return emit(result, a.values['format'] as string, out);
  });
}

export async function lintPveMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_PVE, async () => {
    const a = parse(argv, COMMON, USAGE_PVE);
    if (a.help) {
      out.stdout(USAGE_PVE + '\n');
      return 0;
    }
    const host = hostFacts(a.values);
    const result = await lintSimple(a.files, (buf, f) => {
      const c = parsePveConfig(buf, f);
      return { checks: lintPveConfig(c, host), warnings: c.warnings };
    });
    return emit(result, a.values['format'] as string, out);
  });
}

export async function lintQemuMain(argv: string[], out: Out): Promise<number> {
  return guard(out, USAGE_QEMU, async () => {
    const a = parse(argv, COMMON, USAGE_QEMU);
    if (a.help) {
      out.stdout(USAGE_QEMU + '\n');
      return 0;
    }
    const host = hostFacts(a.values);
    const result = await lintSimple(a.files, (buf, f) => ({ checks: lintQemuCmdline(parseQemuCmdline(buf, f), host) }));
    return emit(result, a.values['format'] as string, out);
  });
}
