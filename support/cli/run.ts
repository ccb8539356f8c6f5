/**
 * `sevcheck run` and `sevcheck record`: one run as a value (support/run/suite.ts) printed as it
 * goes, its reports written, and its verdicts turned into an exit code
 * (0 compliant, 1 compliance failures, 2 harness or input error).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { HarnessError } from '../host/types.js';
import type { SshOptions } from '../host/ssh-host.js';
import type { AmdCertOptions } from '../probes/kds-fetch.js';
import type { LaunchOptions } from '../launch/bundle.js';
import type { CheckResult, Results } from '../report/results.js';
import { findings, type Findings } from '../report/findings.js';
import { loadSuite, runOnce, type LoadedSuite } from '../run/suite.js';
import { CUCUMBER_REPORTS, WRITERS } from '../report/writers.js';
import { checkLine, checkStream, closingLines, headerLine, painter, useColour } from '../report/console.js';
import { printable } from '../report/printable.js';
import { checkSuiteOptions, parseMinFirmware } from './options.js';
import { commitStage, discardStage, openStage, type Stage } from './staging.js';
import type { SiteConfig } from '../site/config.js';
import { checkSiteFeatures, siteFeatureFiles } from '../site/preflight.js';

export interface SuiteOptions {
  readonly host: string;
  readonly profile?: string | undefined;
  readonly tags?: string | undefined;
  /** console output: sevcheck's own lines ('text'), cucumber's pretty formatter ('pretty'), or one report writer's name (report/writers.ts) printed on stdout */
  readonly format: string;
  /** --verbose: the text console prints every check as it completes and cuts nothing */
  readonly verbose?: boolean | undefined;
  readonly outDir: string;
  /** the option that named outDir, for messages (`--out` for run, `--reports` for record) */
  readonly outOption?: string;
  readonly failOnUndecided?: boolean;
  readonly ssh?: SshOptions;
  /** `sevcheck record`: write what was read as a fixture host here; `force` replaces a non-empty dir */
  readonly recordTo?: { dir: string; name: string; force?: boolean | undefined } | undefined;
  /** reports/ files; false for meta-tests that only want results */
  readonly writeReports?: boolean;
  /** --launch DIR, --vectors DIR (launch layer: the guest owner's launch bundle, docs/launch.md) */
  readonly launch?: LaunchOptions;
  /** caps layer: --amd-certs DIR, --kds / --no-kds, --kds-cache DIR, --kds-url URL (docs/caps.md) */
  readonly amdCerts?: AmdCertOptions;
  /** --min-firmware X.Y, validated in checkSuiteOptions */
  readonly minFirmware?: string | undefined;
  /** --features DIR (repeatable): site feature directories, added to the site file's (docs/site-policy.md) */
  readonly features?: readonly string[] | undefined;
  /** the site file to read (--config FILE, or the default the CLI found: site/config.ts configPath); none when undefined */
  readonly config?: string | undefined;
}

/** The site file's values under the command line's (an option given wins; --features adds). */
export function withConfig(o: SuiteOptions, cfg: SiteConfig | undefined): SuiteOptions {
  if (!cfg) return o;
  return {
    ...o,
    profile: o.profile ?? cfg.profile,
    tags: o.tags ?? cfg.tags,
    failOnUndecided: o.failOnUndecided || cfg.failOnUndecided,
    minFirmware: o.minFirmware ?? cfg.minFirmware,
    features: [...cfg.features, ...(o.features ?? [])],
    ssh: { ...o.ssh, options: [...cfg.sshOptions, ...(o.ssh?.options ?? [])], identityFile: o.ssh?.identityFile ?? cfg.sshIdentity },
    launch: { ...o.launch, bundle: o.launch?.bundle ?? cfg.launch, vectors: o.launch?.vectors ?? cfg.vectors },
    amdCerts: { ...o.amdCerts, amdCertsDir: o.amdCerts?.amdCertsDir ?? cfg.amdCerts, kds: o.amdCerts?.kds ?? cfg.kds, kdsCacheDir: o.amdCerts?.kdsCacheDir ?? cfg.kdsCache, kdsUrl: o.amdCerts?.kdsUrl ?? cfg.kdsUrl },
  };
}

export interface SuiteIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
}

export interface SuiteOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly results: Results | undefined;
  readonly error: string | undefined;
}

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
/** `to`, seen as a terminal only when `tty` (what cucumber's formatters decide colour from) */
const forward = (to: Writable, tty: boolean): Writable & { isTTY: boolean } =>
  Object.assign(
    new Writable({
      write: (c, _e, cb) => {
        to.write(c); // at once, in order with what sevcheck writes to `to` after the run
        cb();
      },
    }),
    { isTTY: tty },
  );

export async function runSuite(given: SuiteOptions, io: SuiteIo): Promise<SuiteOutcome> {
  let opts = given;
  const write = opts.writeReports !== false;
  const readLog = process.env.SEVCHECK_READ_LOG;
  let reports: Stage | undefined;
  // the run's findings (report/findings.ts), computed once for its report set and its console
  let computed: { readonly of: Results; readonly f: Findings<CheckResult> } | undefined;
  const findingsOf = (r: Results): Findings<CheckResult> => (computed?.of === r ? computed.f : (computed = { of: r, f: findings(r.checks) }).f);
  let fixture: Stage | undefined;
  try {
    // 0. the site file (support/site/config.ts): its values under the command line's
    // loaded only for a site file: its YAML parser and schema validator are start-up cost otherwise
    const site = given.config !== undefined ? await import('../site/config.js') : undefined;
    const cfg = site && given.config !== undefined ? site.loadConfig(given.config) : undefined;
    opts = withConfig(given, cfg);
    // 1. every option, before anything is opened, run or written
    checkSuiteOptions({
      tags: opts.tags,
      reports: write ? { dir: opts.outDir, option: opts.outOption ?? '--out' } : undefined,
      recordTo: opts.recordTo,
      launchBundle: opts.launch?.bundle,
      vectors: opts.launch?.vectors,
      amdCerts: opts.amdCerts?.amdCertsDir,
      kdsCache: opts.amdCerts?.kdsCacheDir,
      kdsUrl: opts.amdCerts?.kdsUrl,
      sshIdentity: opts.ssh?.identityFile,
      minFirmware: opts.minFirmware,
    });
    // site features: every step known, every value good, every id site.<name> (support/site/preflight.ts)
    const siteFiles = opts.features?.length ? siteFeatureFiles(opts.features) : [];
    if (siteFiles.length) checkSiteFeatures(siteFiles, (await sharedSuite()).support);
    const exclude = site?.excludeReasons(cfg);
    // 2. where the results go: staging directories, which also prove the places are writable
    if (write) reports = await openStage(opts.outOption ?? '--out', opts.outDir);
    if (opts.recordTo) fixture = await openStage('--out', opts.recordTo.dir);
    // 3. the suite on the target (support/run/suite.ts): the console follows it as it goes
    const format: Array<string | [string, string]> = [];
    if (opts.format === 'pretty') format.push('pretty');
    const colour = (opts.format === 'text' || opts.format === 'pretty') && useColour(io.stdout, process.env);
    const paint = painter(colour);
    // sevcheck's own reports (report/writers.ts WRITERS) are written from the verdicts below;
    // cucumber's formatters write only the Gherkin page and the message stream
    const stage = reports;
    if (stage) for (const [formatter, file] of Object.entries(CUCUMBER_REPORTS)) format.push([formatter, resolve(stage.dir, file)]);
    // the default console: the header now, the closing block at the end; --verbose: one line per
    // check as cucumber finishes it (support/report/console.ts)
    const text = opts.format === 'text';
    const checkDone = text && opts.verbose ? checkStream() : undefined;
    const outcome = await runOnce(
      {
        host: opts.host,
        profile: opts.profile,
        tags: opts.tags,
        failOnUndecided: opts.failOnUndecided,
        ssh: opts.ssh,
        launch: opts.launch,
        amdCerts: opts.amdCerts,
        minFirmware: opts.minFirmware !== undefined ? parseMinFirmware(opts.minFirmware) : undefined,
        record: opts.recordTo !== undefined,
        count: Boolean(readLog),
        features: siteFiles,
        exclude,
      },
      {
        warn: (m) => io.stderr.write(`sevcheck: warning: ${printable(m)}\n`),
        formats: format,
        // the pretty formatter colours when its stream is a terminal (supports-color): it sees one
        // only when sevcheck's own colour rule (console.ts useColour, NO_COLOR) says so
        stdout: opts.format === 'pretty' ? forward(io.stdout, colour) : sink(),
        stderr: io.stderr,
        env: { ...process.env, FORCE_COLOR: colour ? '1' : '0' },
        started: (meta) => {
          if (text) io.stdout.write(`${headerLine(meta)}${cfg ? `, config ${printable(cfg.file)}` : ''}\n`);
        },
        envelope: (e) => {
          const c = checkDone?.(e);
          if (c) io.stdout.write(`${checkLine(c, paint)}\n`);
        },
        finish: async (target, profile, { results, error }) => {
          if (target.counter && readLog) await writeFile(readLog, `${JSON.stringify(Object.fromEntries(target.counter.counts), null, 2)}\n`);
          // 4. a finished run replaces the previous report set / recording whole; a harness error
          //    (exit 2) leaves them as they were
          if (reports && results && !error) {
            const shown = cfg ? { ...results, config: cfg.file } : results;
            const f = findingsOf(results);
            for (const w of Object.values(WRITERS)) await writeFile(resolve(reports.dir, w.file), w.write(shown, f));
            await commitStage(reports);
            reports = undefined;
          }
          if (fixture && target.recorder && opts.recordTo && !error) {
            await target.recorder.writeFixture(fixture.dir, { name: opts.recordTo.name, profile });
            await commitStage(fixture);
            fixture = undefined;
          }
        },
      },
      await sharedSuite(),
    );
    const { results, exitCode } = outcome;
    const harness = outcome.error;
    if (!results) return { exitCode: 2, results: undefined, error: harness };
    // an exclude that matched nothing is most likely a mistyped id (with --tags, the check may just not be selected)
    for (const id of opts.tags ? [] : (cfg?.exclude.keys() ?? [])) {
      if (!results.checks.some((c) => c.id === id)) io.stderr.write(`sevcheck: warning: ${printable(cfg?.file ?? '')}: exclude: ${printable(id)} is no check of this run\n`);
    }

    const onStdout = opts.format === 'text' || opts.format === 'pretty' ? undefined : WRITERS[opts.format];
    if (onStdout) io.stdout.write(onStdout.write(cfg ? { ...results, config: cfg.file } : results, findingsOf(results)));
    else {
      // the set as it was renamed into place (report files the writers add are listed too)
      const written = write && !harness ? { dir: opts.outDir, files: await readdir(opts.outDir).catch(() => []) } : undefined;
      const closing = closingLines(
        results,
        {
          paint,
          details: text,
          verbose: opts.verbose,
          failOnUndecided: opts.failOnUndecided,
          harnessError: Boolean(harness),
          reports: written,
          above: 1, // the header
        },
        findingsOf(results),
      );
      io.stdout.write(`${closing.join('\n')}\n`);
    }
    return { exitCode, results, error: harness };
  } catch (e) {
    if (e instanceof HarnessError) return { exitCode: 2, results: undefined, error: e.message };
    throw e;
  } finally {
    await discardStage(reports);
    await discardStage(fixture);
  }
}

let loaded: Promise<LoadedSuite> | undefined;
/** Cucumber's support code, loaded on the first run of this process and reused by the next (tests run many). */
function sharedSuite(): Promise<LoadedSuite> {
  return (loaded ??= loadSuite());
}
