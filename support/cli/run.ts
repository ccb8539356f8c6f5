/**
 * `sevcheck run` and `sevcheck record`: open the host, run the feature suite through cucumber's
 * JavaScript API, write the reports, and turn the verdicts into an exit code
 * (0 compliant, 1 compliance failures, 2 harness or input error).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Envelope } from '@cucumber/messages';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { HarnessError, type HostDescription } from '../host/types.js';
import { openTarget, type Target } from '../host/target.js';
import type { SshOptions } from '../host/ssh-host.js';
import { createRunContext, registerRun, releaseRun } from '../run-context.js';
import type { AmdCertOptions } from '../host/kds-fetch.js';
import type { LaunchOptions } from '../launch/bundle.js';
import { parseProfile, type Profile } from '../profile.js';
import { collectResults, type HostInfo, type Results } from '../report/results.js';
import { CUCUMBER_REPORTS, WRITERS } from '../report/writers.js';
import { checkLine, checkStream, closingLines, headerLine, painter, useColour } from '../report/console.js';
import { ROOT } from './paths.js';
import { forThisBuild } from './prebuilt.js';
import { printable } from '../report/printable.js';
import { checkSuiteOptions, parseMinFirmware } from './options.js';
import { commitStage, discardStage, openStage, type Stage } from './staging.js';

export interface SuiteOptions {
  readonly host: string;
  readonly profile?: string | undefined;
  readonly tags?: string | undefined;
  /** console output: sevcheck's own lines ('text'), cucumber's pretty formatter ('pretty'), or one report writer's name (report/writers.ts) printed on stdout */
  readonly format: string;
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

export async function runSuite(opts: SuiteOptions, io: SuiteIo): Promise<SuiteOutcome> {
  const write = opts.writeReports !== false;
  const readLog = process.env.SEVCHECK_READ_LOG;
  let target: Target | undefined;
  let reports: Stage | undefined;
  let fixture: Stage | undefined;
  let run: string | undefined;
  try {
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
    // 2. where the results go: staging directories, which also prove the places are writable
    if (write) reports = await openStage(opts.outOption ?? '--out', opts.outDir);
    if (opts.recordTo) fixture = await openStage('--out', opts.recordTo.dir);
    // 3. the target, opened (an unreachable host stops here)
    target = await openTarget(opts.host, {
      ssh: opts.ssh ?? {},
      fixture: { warn: (m) => io.stderr.write(`sevcheck: warning: ${printable(m)}\n`) },
      record: opts.recordTo !== undefined,
      count: Boolean(readLog),
    });
    const described = await target.host.describe();
    const profile: Profile = parseProfile(opts.profile ?? described.profile ?? 'sev', opts.profile ? '--profile' : `${opts.host} host.json profile`);
    const ctx = createRunContext(target.host, profile, opts.launch, {
      amdCerts: opts.amdCerts,
      minFirmware: opts.minFirmware !== undefined ? parseMinFirmware(opts.minFirmware) : undefined,
    });
    // the launch bundle is input: a broken one stops the run here (exit 2), before any check runs
    // or any report is committed, never as failed launch checks
    await ctx.probes.launch.bundle();
    run = registerRun(ctx);

    const format: Array<string | [string, string]> = [];
    if (opts.format === 'pretty') format.push('pretty');
    const colour = (opts.format === 'text' || opts.format === 'pretty') && useColour(io.stdout, process.env);
    const paint = painter(colour);
    // sevcheck's own reports (report/writers.ts WRITERS) are written from the verdicts below;
    // cucumber's formatters write only the Gherkin page and the message stream
    if (reports) for (const [formatter, file] of Object.entries(CUCUMBER_REPORTS)) format.push([formatter, resolve(reports.dir, file)]);
    const environment = {
      cwd: ROOT,
      // the pretty formatter colours when its stream is a terminal (supports-color): it sees one
      // only when sevcheck's own colour rule (console.ts useColour, NO_COLOR) says so
      stdout: opts.format === 'pretty' ? forward(io.stdout, colour) : sink(),
      stderr: io.stderr,
      env: { ...process.env, FORCE_COLOR: colour ? '1' : '0' },
    };
    const { runConfiguration } = await loadConfiguration(
      {
        file: 'cucumber.json', // relative: cucumber joins it with cwd (ROOT)
        profiles: [profile],
        provided: {
          format,
          tags: opts.tags ?? '',
          worldParameters: { host: opts.host, profile, run },
        },
      },
      environment,
    );
    const envelopes: Envelope[] = [];
    const meta = { host: printable(described.name), target: printable(target.host.target), profile };
    // the default console: one line per check as cucumber finishes it (support/report/console.ts)
    const checkDone = opts.format === 'text' ? checkStream() : undefined;
    if (checkDone) io.stdout.write(`${headerLine(meta)}\n`);
    await runCucumber(forThisBuild(runConfiguration), environment, (e) => {
      envelopes.push(e);
      const c = checkDone?.(e);
      if (c) io.stdout.write(`${checkLine(c, paint)}\n`);
    });

    const hostInfo = describeHost(described, await ctx.probes.host.known());
    const { results, problems } = collectResults(envelopes, { ...meta, ...(hostInfo ? { hostInfo } : {}) });
    const harness =
      ctx.fatal?.message ??
      (problems.undefinedSteps.length ? `features and steps disagree: ${problems.undefinedSteps.join('; ')}` : undefined) ??
      (problems.untagged.length ? `scenarios without an @check:<id> tag: ${problems.untagged.join('; ')}` : undefined) ??
      (results.checks.length === 0 ? `no checks ran (tag expression "${opts.tags ?? ''}" matched nothing)` : undefined);
    const failedAny = results.checks.some((c) => c.status === 'failed');
    const undecidedAny = results.checks.some((c) => c.status === 'undecided');
    const exitCode = harness ? 2 : failedAny || (opts.failOnUndecided && undecidedAny) ? 1 : 0;

    if (target.counter && readLog) await writeFile(readLog, `${JSON.stringify(Object.fromEntries(target.counter.counts), null, 2)}\n`);
    // 4. a finished run replaces the previous report set / recording whole; a harness error
    //    (exit 2) leaves them as they were
    if (reports && !harness) {
      for (const w of Object.values(WRITERS)) await writeFile(resolve(reports.dir, w.file), w.write(results));
      await commitStage(reports);
      reports = undefined;
    }
    if (fixture && target.recorder && opts.recordTo && !harness) {
      await target.recorder.writeFixture(fixture.dir, { name: opts.recordTo.name, profile });
      await commitStage(fixture);
      fixture = undefined;
    }

    const onStdout = opts.format === 'text' || opts.format === 'pretty' ? undefined : WRITERS[opts.format];
    if (onStdout) io.stdout.write(onStdout.write(results));
    else {
      // the set as it was renamed into place (report files the writers add are listed too)
      const written = write && !harness ? { dir: opts.outDir, files: await readdir(opts.outDir).catch(() => []) } : undefined;
      const closing = closingLines(results, { paint, details: opts.format === 'text', failOnUndecided: opts.failOnUndecided, harnessError: Boolean(harness), reports: written });
      io.stdout.write(`${closing.join('\n')}\n`);
    }
    return { exitCode, results, error: harness };
  } catch (e) {
    if (e instanceof HarnessError) return { exitCode: 2, results: undefined, error: e.message };
    throw e;
  } finally {
    await releaseRun(run);
    await discardStage(reports);
    await discardStage(fixture);
    await target?.close().catch(() => undefined);
  }
}

/** results.json hostInfo: host.json's distro and kernel, else what the run read; undefined when nothing is known. */
function describeHost(d: HostDescription, read: { kernel?: string; cpuModel?: string; sevGeneration?: string }): HostInfo | undefined {
  const info: Record<string, string> = {};
  const set = (k: keyof HostInfo, v: string | undefined): void => {
    if (v) info[k] = printable(v);
  };
  set('distro', d.distro);
  set('kernel', d.kernel ?? read.kernel);
  set('cpuModel', read.cpuModel);
  set('sevGeneration', read.sevGeneration);
  return Object.keys(info).length ? (info as HostInfo) : undefined;
}
