/**
 * `sevcheck run` and `sevcheck record`: open the host, run the feature suite through cucumber's
 * JavaScript API, write the reports, and turn the verdicts into an exit code
 * (0 compliant, 1 compliance failures, 2 harness or input error).
 */
import { writeFile } from 'node:fs/promises';
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
import { consoleSummary } from '../report/summary.js';
import { CUCUMBER_REPORTS, WRITERS } from '../report/writers.js';
import { ROOT } from './paths.js';
import { forThisBuild } from './prebuilt.js';
import { printable } from '../report/printable.js';
import { checkSuiteOptions } from './options.js';
import { commitStage, discardStage, openStage, type Stage } from './staging.js';

export interface SuiteOptions {
  readonly host: string;
  readonly profile?: string | undefined;
  readonly tags?: string | undefined;
  /** 'pretty': cucumber's pretty formatter and the summary; else a report writer's name (report/writers.ts) printed on stdout */
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
    const ctx = createRunContext(target.host, profile, opts.launch, { amdCerts: opts.amdCerts });
    // the launch bundle is input: a broken one stops the run here (exit 2), before any check runs
    // or any report is committed, never as failed launch checks
    await ctx.probes.launch.bundle();
    run = registerRun(ctx);

    const format: Array<string | [string, string]> = [];
    if (opts.format === 'pretty') format.push('pretty');
    // sevcheck's own reports (report/writers.ts WRITERS) are written from the verdicts below;
    // cucumber's formatters write only the Gherkin page and the message stream
    if (reports) for (const [formatter, file] of Object.entries(CUCUMBER_REPORTS)) format.push([formatter, resolve(reports.dir, file)]);
    const environment = {
      cwd: ROOT,
      stdout: opts.format === 'pretty' ? io.stdout : sink(),
      stderr: io.stderr,
      env: { ...process.env, FORCE_COLOR: io.stdout.isTTY ? '1' : '0' },
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
    await runCucumber(forThisBuild(runConfiguration), environment, (e) => envelopes.push(e));

    const hostInfo = describeHost(described, await ctx.probes.host.known());
    const { results, problems } = collectResults(envelopes, { host: printable(described.name), target: printable(target.host.target), profile, ...(hostInfo ? { hostInfo } : {}) });
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

    const onStdout = opts.format === 'pretty' ? undefined : WRITERS[opts.format];
    if (onStdout) io.stdout.write(onStdout.write(results));
    else io.stdout.write(`\n${consoleSummary(results, Boolean(io.stdout.isTTY))}${write && !harness ? `reports: ${opts.outDir}\n` : ''}`);
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
