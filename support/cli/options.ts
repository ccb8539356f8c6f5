/**
 * Up-front validation of `sevcheck run` / `sevcheck record` options: every option naming a
 * file, a directory, a URL or a tag expression is checked here, in one place, before any host is
 * opened or any check runs. A problem is an InputError: one line `sevcheck: <option or file>:
 * <problem>`, exit 2, and nothing written.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import parseTagExpression from '@cucumber/tag-expressions';
import { InputError } from '../errors.js';
import { REPORT_FILES } from '../report/writers.js';

export interface OptionsToCheck {
  readonly tags?: string | undefined;
  /** the report directory and the option that named it (`--out` for run, `--reports` for record) */
  readonly reports?: { readonly dir: string; readonly option: string } | undefined;
  /** `record --out DIR [--force]` */
  readonly recordTo?: { readonly dir: string; readonly force?: boolean | undefined } | undefined;
  readonly launchBundle?: string | undefined;
  readonly vectors?: string | undefined;
  readonly amdCerts?: string | undefined;
  readonly kdsCache?: string | undefined;
  readonly kdsUrl?: string | undefined;
  readonly sshIdentity?: string | undefined;
  /** --min-firmware X.Y (host.firmware.version) */
  readonly minFirmware?: string | undefined;
}

/** The launch bundle's manifest (docs/launch.md). */
const BUNDLE_FILE = 'launch.json';

/**
 * Kernel filesystems: never a place for reports or recordings. Measured with Node 20: a recursive
 * fs.mkdir under /proc never settles (the run hung there after the whole suite), and under /sys
 * it fails with EPERM only when the reports are written.
 */
const KERNEL_FS = ['/proc', '/sys'];

/** Throws InputError for the first option that is wrong. */
export function checkSuiteOptions(o: OptionsToCheck): void {
  checkTags(o.tags);
  if (o.reports) checkOutputDir(o.reports.option, o.reports.dir, 'reports');
  if (o.recordTo) checkOutputDir('--out', o.recordTo.dir, o.recordTo.force ? 'replace' : 'empty');
  if (o.reports && o.recordTo && resolve(o.reports.dir) === resolve(o.recordTo.dir)) {
    throw new InputError(`--out ${o.recordTo.dir}`, 'is also the --reports directory: give the recording and the reports a directory each');
  }
  if (o.launchBundle !== undefined) {
    if (!isFile(join(o.launchBundle, BUNDLE_FILE))) {
      throw new InputError(`--launch ${o.launchBundle}`, `no ${BUNDLE_FILE} there (a launch bundle is a directory with ${BUNDLE_FILE}, docs/launch.md)`);
    }
  }
  if (o.vectors !== undefined) checkDir('--vectors', o.vectors);
  if (o.amdCerts !== undefined) checkDir('--amd-certs', o.amdCerts);
  if (o.kdsCache !== undefined) checkOutputDir('--kds-cache', o.kdsCache, 'cache');
  if (o.kdsUrl !== undefined) checkUrl('--kds-url', o.kdsUrl);
  if (o.minFirmware !== undefined) parseMinFirmware(o.minFirmware);
  if (o.sshIdentity !== undefined && !isFile(o.sshIdentity)) {
    throw new InputError(`--ssh-identity ${o.sshIdentity}`, existsSync(o.sshIdentity) ? 'not a file' : 'no such file');
  }
}

/**
 * `--min-firmware X.Y`: a SEV firmware API version as the firmware reports it (PLATFORM_STATUS
 * api_major / api_minor, one byte each: SEV API specification, AMD 55766, PLATFORM_STATUS).
 */
export function parseMinFirmware(s: string): { major: number; minor: number } {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) {
    throw new InputError(`--min-firmware ${s}`, 'not a firmware version major.minor, each 0..255 (e.g. 1.55)');
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Cucumber's own tag-expression grammar (@cucumber/tag-expressions, the parser cucumber-js runs). */
export function checkTags(tags: string | undefined): void {
  if (tags === undefined || tags.trim() === '') return;
  try {
    parseTagExpression(tags);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    const why = /syntax error: (.*?)\.?$/s.exec(m)?.[1] ?? m;
    throw new InputError('--tags', `"${tags}" is not a tag expression: ${why} (e.g. "@check:host.kvm-amd.sev or @layer:caps", "not @sev-snp")`);
  }
}

export function checkUrl(option: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${option} ${text}`, 'not a URL (e.g. https://kds.example.com/path)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(`${option} ${text}`, `not an http:// or https:// URL (scheme "${url.protocol}")`);
  }
  if (!url.hostname) throw new InputError(`${option} ${text}`, 'no host name in the URL');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function checkDir(option: string, dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${option} ${dir}`, code === 'ENOENT' ? 'no such directory' : `cannot read: ${code ?? String(e)}`);
  }
  if (!st.isDirectory()) throw new InputError(`${option} ${dir}`, 'not a directory');
}

function underKernelFs(real: string): string | undefined {
  return KERNEL_FS.find((k) => real === k || real.startsWith(`${k}/`));
}

/**
 * A directory sevcheck will create or replace: it is a directory or does not exist yet, its
 * nearest existing ancestor is a directory, and it is not on a kernel filesystem. `kind` says
 * what may already be in it: `reports` only a previous report set (it is replaced whole),
 * `empty` nothing (record without --force), `replace` a fixture host (record --force: a
 * directory with host.json, so that a mistyped --out never replaces a home directory),
 * `cache` anything.
 * Whether the directory is writable is proven by creating the staging directory next to it
 * (staging.ts), still before anything runs.
 */
export function checkOutputDir(option: string, dir: string, kind: 'reports' | 'empty' | 'replace' | 'cache'): void {
  const label = `${option} ${dir}`;
  const abs = resolve(dir);
  const kernelFs = underKernelFs(abs);
  if (kernelFs) throw new InputError(label, `is under ${kernelFs}, a kernel filesystem: give a directory on a real filesystem`);
  let existing = abs;
  for (;;) {
    if (existsSync(existing)) break;
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  let st;
  try {
    st = statSync(existing);
  } catch (e) {
    throw new InputError(label, `cannot use ${existing}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!st.isDirectory()) {
    throw new InputError(label, existing === abs ? 'is a file, not a directory' : `${existing} is a file, not a directory`);
  }
  const real = realpathSync(existing);
  const realKernelFs = underKernelFs(real);
  if (realKernelFs) throw new InputError(label, `is under ${realKernelFs} (${real}), a kernel filesystem: give a directory on a real filesystem`);
  if (existing !== abs || kind === 'cache') return;
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch (e) {
    throw new InputError(label, `cannot read the directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (kind === 'replace' && names.length > 0 && !names.includes('host.json')) {
    throw new InputError(label, 'not a fixture host directory (no host.json): --force replaces only an earlier recording; give a new or empty directory');
  }
  if (kind === 'empty' && names.length > 0) {
    throw new InputError(label, `not empty (${names.length} entries): a recording replaces the directory whole; add --force to replace it, or give a new directory`);
  }
  if (kind === 'reports') {
    const foreign = names.filter((n) => !REPORT_FILES.includes(n));
    if (foreign.length) {
      const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
      throw new InputError(label, `holds files that are not sevcheck reports (${shown}): a report set replaces the directory whole; give an empty or new directory`);
    }
  }
}
