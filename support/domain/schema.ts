/**
 * domain.schema-valid: validate domain XML against libvirt's RelaxNG schema with xmllint, the way
 * libvirt's own `virt-xml-validate FILE domain` does (`xmllint --noout --relaxng
 * /usr/share/libvirt/schemas/domain.rng FILE`). Many files go to one xmllint process: the schema
 * is compiled once and xmllint reports each file in argument order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { failed, passed, undecided, type Verdict } from '../verdict.js';

/** Debian/Fedora/SUSE install libvirt's schemas here (libvirt-clients / libvirt-libs). */
export const DEFAULT_SCHEMA_DIR = '/usr/share/libvirt/schemas';
export const DEFAULT_XMLLINT_TIMEOUT_MS = 60_000;
/** files per xmllint process; keeps argv far below ARG_MAX */
export const XMLLINT_BATCH = 400;

export interface SchemaOptions {
  readonly schemaDir?: string | undefined;
  readonly xmllint?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /**
   * The schemas are untrusted (an image's, a fixture's): xmllint runs under bubblewrap with no
   * network and nothing of the file system but the schema directory and xmllint's own program
   * files (sandboxArgs). The value is the bwrap program ('bwrap' on PATH).
   */
  readonly sandbox?: string | undefined;
}

/**
 * The bwrap(1) arguments for xmllint over an untrusted schema directory (issue 19: an image's
 * domain.rng whose externalRef / include named http://127.0.0.1:PORT/x or /etc/shadow made the
 * controller fetch the URL and open the file). In the sandbox: a fresh empty root; `dir`
 * read-only at its own path (so xmllint's messages name the same files); the xmllint binary and
 * the shared objects ldd lists for it, read-only at their paths; every namespace unshared (no
 * network at all), a clean environment, killed with sevcheck. No /etc, no /home, no /proc: a
 * reference to any other file fails as "not found". xmllint gets --nonet as well.
 */
export function sandboxArgs(dir: string, programFiles: readonly string[]): string[] {
  const binds = programFiles.flatMap((f) => ['--ro-bind', f, f]);
  return [
    ...binds,
    '--ro-bind', dir, dir,
    '--remount-ro', '/',
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--setenv', 'LC_ALL', 'C',
    '--chdir', dir,
  ];
}

let xmllintFiles: Promise<string[] | string> | undefined;

/** The xmllint program and the shared objects it loads (ldd), or why they cannot be found. */
function programFiles(xmllint: string): Promise<string[] | string> {
  return (xmllintFiles ??= (async () => {
    const which = await execa('sh', ['-c', 'command -v "$1"', 'sh', xmllint], { reject: false, timeout: 10_000, stdin: 'ignore' });
    const bin = String(which.stdout ?? '').trim();
    if (which.exitCode !== 0 || !bin.startsWith('/')) return `${xmllint} not found (install libxml2-utils)`;
    const ldd = await execa('ldd', [bin], { reject: false, timeout: 10_000, stdin: 'ignore', env: { LC_ALL: 'C' } });
    if (ldd.exitCode !== 0) return `ldd ${bin} failed: the files xmllint needs in its sandbox are unknown`;
    const libs = [...String(ldd.stdout).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] as string);
    return [bin, ...new Set(libs)];
  })());
}

/** The command that runs xmllint with `args`: directly, or in the sandbox over `dir`. */
async function xmllintCommand(opts: SchemaOptions, dir: string, args: readonly string[]): Promise<{ file: string; argv: string[] } | { error: string }> {
  const xmllint = opts.xmllint ?? 'xmllint';
  if (opts.sandbox === undefined) return { file: xmllint, argv: ['--nonet', ...args] };
  const files = await programFiles(xmllint);
  if (typeof files === 'string') return { error: files };
  return { file: opts.sandbox, argv: [...sandboxArgs(dir, files), '--', files[0] as string, '--nonet', ...args] };
}

export interface SchemaError {
  readonly file: string;
  readonly line?: number | undefined;
  readonly message: string;
}

export type SchemaOutcome =
  | { readonly status: 'valid' }
  | { readonly status: 'invalid'; readonly errors: readonly SchemaError[] }
  /** not well-formed / unreadable for xmllint */
  | { readonly status: 'unreadable'; readonly errors: readonly SchemaError[] }
  /** the schema or xmllint is not available, or xmllint timed out */
  | { readonly status: 'unavailable'; readonly reason: string };

export function schemaPath(opts: SchemaOptions = {}): string {
  return join(opts.schemaDir ?? DEFAULT_SCHEMA_DIR, 'domain.rng');
}

/** Validate files (paths) against domain.rng; one result per file, in the given order. */
export async function validateDomainFiles(files: readonly string[], opts: SchemaOptions = {}): Promise<Map<string, SchemaOutcome>> {
  const out = new Map<string, SchemaOutcome>();
  const rng = schemaPath(opts);
  if (!existsSync(rng)) {
    const reason = `libvirt schema ${rng} not found (install libvirt-clients / libvirt-daemon, or pass --schema-dir)`;
    for (const f of files) out.set(f, { status: 'unavailable', reason });
    return out;
  }
  for (let i = 0; i < files.length; i += XMLLINT_BATCH) {
    const batch = files.slice(i, i + XMLLINT_BATCH);
    for (const [f, r] of await runBatch(batch, rng, opts)) out.set(f, r);
  }
  return out;
}

/**
 * Validate one document given as text (read through a Host, so there is no local file): xmllint
 * reads it from stdin ("-"). Used by the domain probe for the guests defined on a host.
 */
export async function validateDomainText(text: string, label: string, opts: SchemaOptions = {}): Promise<SchemaOutcome> {
  const rng = schemaPath(opts);
  if (!existsSync(rng)) {
    return { status: 'unavailable', reason: `libvirt schema ${rng} not found on the machine sevcheck runs on (install libvirt-clients)` };
  }
  const res = await execa(opts.xmllint ?? 'xmllint', ['--nonet', '--noout', '--relaxng', rng, '-'], {
    reject: false,
    timeout: opts.timeoutMs ?? DEFAULT_XMLLINT_TIMEOUT_MS,
    input: text,
    env: { LC_ALL: 'C' },
    extendEnv: true,
  });
  if (res.timedOut || (res.failed && res.exitCode === undefined)) {
    return {
      status: 'unavailable',
      reason: res.timedOut
        ? `xmllint timed out after ${opts.timeoutMs ?? DEFAULT_XMLLINT_TIMEOUT_MS} ms`
        : `xmllint could not run on the machine sevcheck runs on: ${res.shortMessage ?? 'unknown error'} (install libxml2-utils)`,
    };
  }
  const r = parseXmllintOutput(String(res.stderr ?? '') + '\n' + String(res.stdout ?? ''), [label], ['-']).get(label)!;
  return r.status === 'invalid' || r.status === 'unreadable'
    ? { ...r, errors: r.errors.map((e) => ({ ...e, file: label })) }
    : r;
}

export interface SchemaInfo {
  readonly rng: string;
  /** does the schema know <launchSecurity type='sev-snp'> (libvirt >= 10.5.0)? undefined: unreadable */
  readonly sevSnp: boolean | undefined;
  /** libvirt version of the schema, when known ("9.0.0") */
  readonly libvirtVersion?: string | undefined;
}

/** libvirt release that added <launchSecurity type='sev-snp'> (NEWS.rst, v10.5.0). */
export const LIBVIRT_SEV_SNP_VERSION = '10.5.0';

/**
 * What the schema on this machine can judge. The version is that of the local `virsh` (the
 * schemas ship in the same package, libvirt-clients / libvirt-libs), asked only for the default
 * schema directory.
 */
export async function schemaInfo(opts: SchemaOptions = {}): Promise<SchemaInfo> {
  const rng = schemaPath(opts);
  let sevSnp: boolean | undefined;
  try {
    sevSnp = readFileSync(join(opts.schemaDir ?? DEFAULT_SCHEMA_DIR, 'domaincommon.rng'), 'utf8').includes('sev-snp');
  } catch {
    sevSnp = undefined;
  }
  let libvirtVersion: string | undefined;
  if (opts.schemaDir === undefined || opts.schemaDir === DEFAULT_SCHEMA_DIR) {
    const v = await execa('virsh', ['--version'], { reject: false, timeout: 5_000, stdin: 'ignore' }).catch(() => undefined);
    const m = v && v.exitCode === 0 ? /^(\d+\.\d+\.\d+)/.exec(String(v.stdout).trim()) : null;
    libvirtVersion = m?.[1];
  }
  return { rng, sevSnp, libvirtVersion };
}

async function runBatch(files: readonly string[], rng: string, opts: SchemaOptions): Promise<Map<string, SchemaOutcome>> {
  const out = new Map<string, SchemaOutcome>();
  const cmd = await xmllintCommand(opts, opts.schemaDir ?? DEFAULT_SCHEMA_DIR, ['--noout', '--relaxng', rng, ...files.map((f) => (f.startsWith('-') ? `./${f}` : f))]);
  if ('error' in cmd) {
    for (const f of files) out.set(f, { status: 'unavailable', reason: cmd.error });
    return out;
  }
  const res = await execa(cmd.file, cmd.argv, {
    reject: false,
    timeout: opts.timeoutMs ?? DEFAULT_XMLLINT_TIMEOUT_MS,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
    extendEnv: true,
  });
  if (opts.sandbox !== undefined && (res.code === 'ENOENT' || /^bwrap: /m.test(String(res.stderr ?? '')))) {
    const why = res.code === 'ENOENT' ? `${opts.sandbox} not found (install bubblewrap)` : String(res.stderr).trim().split('\n')[0];
    for (const f of files) out.set(f, { status: 'unavailable', reason: `the image's schemas are only compiled in a sandbox, and it could not start: ${why}` });
    return out;
  }
  if (res.timedOut || res.failed && res.exitCode === undefined) {
    const reason = res.timedOut
      ? `xmllint timed out after ${opts.timeoutMs ?? DEFAULT_XMLLINT_TIMEOUT_MS} ms`
      : `xmllint could not run: ${res.shortMessage ?? 'unknown error'} (install libxml2-utils)`;
    for (const f of files) out.set(f, { status: 'unavailable', reason });
    return out;
  }
  const shown = files.map((f) => (f.startsWith('-') ? `./${f}` : f));
  return parseXmllintOutput(String(res.stderr ?? '') + '\n' + String(res.stdout ?? ''), files, shown);
}

/**
 * Attribute xmllint's report lines to files. xmllint handles files in argument order; for each it
 * prints its errors ("FILE:LINE: element X: Relax-NG validity error : ...", sometimes without the
 * FILE prefix) and then "FILE validates" or "FILE fails to validate". A file that is not
 * well-formed gets "FILE:LINE: parser error : ..." and no verdict line.
 */
export function parseXmllintOutput(text: string, files: readonly string[], shown: readonly string[] = files): Map<string, SchemaOutcome> {
  const lines: string[][] = files.map(() => []);
  const verdict: ('valid' | 'invalid' | undefined)[] = files.map(() => undefined);
  let cur = 0;
  const findFrom = (pred: (s: string) => boolean): number => {
    for (let j = cur; j < shown.length; j++) if (pred(shown[j]!)) return j;
    return -1;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let j = findFrom((s) => line === `${s} validates`);
    if (j >= 0) {
      verdict[j] = 'valid';
      cur = j + 1;
      continue;
    }
    j = findFrom((s) => line === `${s} fails to validate`);
    if (j >= 0) {
      verdict[j] = 'invalid';
      cur = j + 1;
      continue;
    }
    j = findFrom((s) => line.startsWith(`${s}:`) || line.includes(`"${s}"`));
    if (j >= 0) cur = j;
    if (cur < files.length) lines[cur]!.push(line);
  }
  const out = new Map<string, SchemaOutcome>();
  files.forEach((f, i) => {
    const errors = toErrors(lines[i]!, f, shown[i]!);
    if (verdict[i] === 'valid') out.set(f, { status: 'valid' });
    else if (verdict[i] === 'invalid') out.set(f, { status: 'invalid', errors });
    else out.set(f, { status: 'unreadable', errors: errors.length ? errors : [{ file: f, message: 'xmllint gave no verdict' }] });
  });
  return out;
}

function toErrors(lines: string[], file: string, shown: string): SchemaError[] {
  const errs: SchemaError[] = [];
  for (const raw of lines) {
    let rest = raw;
    let line: number | undefined;
    const m = /^(.*?):(\d+): (.*)$/.exec(raw);
    if (m && m[1] === shown) {
      line = Number(m[2]);
      rest = m[3]!;
    }
    // Skip xmllint's caret/context lines after parser errors ("^" and the echoed source line).
    if (!m && !/error|warning|failed/i.test(raw)) continue;
    rest = rest.replace(/Relax-NG validity error : /, '').replace(/^element (\S+): /, '<$1>: ');
    errs.push({ file, line, message: rest.trim() });
  }
  return errs;
}

/** "file:line: message" lines, as people paste them into bug reports. */
export function formatSchemaErrors(errors: readonly SchemaError[]): string[] {
  return errors.map((e) => `${e.file}${e.line !== undefined ? `:${e.line}` : ''}: ${e.message}`);
}

export interface SchemaHintContext {
  readonly launchSecurityType?: string | undefined;
  readonly policyText?: string | undefined;
  /** what the schema supports; with sevSnp false an SNP guest's launchSecurity error is the schema's gap */
  readonly schema?: SchemaInfo | undefined;
}

/**
 * An SNP guest checked against a schema that predates sev-snp: xmllint rejects its
 * <launchSecurity> whatever the guest says. When every located error is about that element the
 * schema cannot judge the document (undecided, not a wrong FAIL); an error elsewhere is real.
 */
function snpSchemaGap(outcome: SchemaOutcome, ctx: SchemaHintContext): boolean {
  if (ctx.launchSecurityType !== 'sev-snp' || ctx.schema?.sevSnp !== false || outcome.status !== 'invalid') return false;
  return outcome.errors.length > 0 && outcome.errors.every((e) => /launchSecurity/.test(e.message));
}

/** The domain.schema-valid verdict for one file's outcome. */
export function schemaVerdict(file: string, outcome: SchemaOutcome, rng: string, ctx: SchemaHintContext = {}): Verdict {
  if (outcome.status === 'valid') return passed(`${file} validates against ${rng}`);
  if (outcome.status === 'unavailable') return undecided(outcome.reason);
  if (snpSchemaGap(outcome, ctx)) {
    return undecided(
      `${rng} predates <launchSecurity type='sev-snp'> (added in libvirt ${LIBVIRT_SEV_SNP_VERSION}): it rejects every SNP guest, so it cannot judge ${file} (virt-xml-validate with this schema also says "fails to validate"); validate against libvirt >= ${LIBVIRT_SEV_SNP_VERSION} schemas (sevcheck lint-domain --schema-dir DIR)`,
    );
  }
  const lines = formatSchemaErrors(outcome.errors);
  const hints: string[] = [];
  if (ctx.launchSecurityType === 'sev-snp' && ctx.schema?.sevSnp !== true && outcome.errors.some((e) => /launchSecurity/.test(e.message))) {
    hints.push(`${rng} ${ctx.schema?.sevSnp === false ? 'predates' : 'may predate'} <launchSecurity type='sev-snp'> (added in libvirt 10.5.0): upgrade libvirt or pass --schema-dir with a newer schema`);
  }
  if (ctx.policyText && /[A-F]/.test(ctx.policyText) && outcome.errors.some((e) => /<policy>/.test(e.message))) {
    hints.push(`write <policy>${ctx.policyText.toLowerCase()}</policy>: the schema's hexuint type is (0x)?[0-9a-f]+, lowercase only`);
  }
  return failed(
    `${outcome.status === 'unreadable' ? 'xmllint could not parse' : 'schema errors in'} ${file}: ${lines.join(' | ')}`,
    `XML that validates against ${rng} (what virt-xml-validate ${file} domain checks)`,
    hints.length ? hints.join('; ') : `fix the lines above; check with: virt-xml-validate ${file} domain`,
  );
}

/**
 * domain.schema-valid with the values the model itself found invalid (model.ts `invalid`): a
 * failure even when xmllint is not there to say so (or was not asked, --no-schema), as
 * virt-xml-validate would report it. The schema's own failure, when there is one, says more.
 */
export function withInvalidValues(file: string, invalid: readonly string[], v: Verdict | undefined): Verdict | undefined {
  if (invalid.length === 0 || v?.status === 'failed') return v;
  return failed(
    `values libvirt's domain schema rejects in ${file}: ${invalid.join('; ')}`,
    `XML that validates against libvirt's domain schema (domaincommon.rng; what virt-xml-validate ${file} domain checks)`,
    `correct those values; check with: virt-xml-validate ${file} domain`,
  );
}
