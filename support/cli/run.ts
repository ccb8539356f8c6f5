/**
 * `sevcheck run` and `sevcheck record`: open the host, run the feature suite through cucumber's
 * JavaScript API, write the reports, and turn the verdicts into an exit code
 * (0 compliant, 1 compliance failures, 2 harness or input error).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Envelope } from '@cucumber/messages';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { HarnessError, type Host } from '../host/types.js';
import { openHost } from '../host/target.js';
import { SshHost, type SshOptions } from '../host/ssh-host.js';
import { RecordingHost } from '../host/recording-host.js';
import { CountingHost } from '../host/counting-host.js';
import { createRunContext, setRunContext } from '../run-context.js';
import type { AmdCertOptions } from '../host/kds-fetch.js';
import { checkLaunchOptions, type LaunchOptions } from '../launch/bundle.js';
import { parseProfile, type Profile } from '../profile.js';
import { collectResults, type Results } from '../report/results.js';
import { consoleSummary, summaryMarkdown } from '../report/summary.js';
import { junitXml } from '../report/junit.js';
import { ROOT } from './paths.js';
import { forThisBuild } from './prebuilt.js';

export interface SuiteOptions {
  readonly host: string;
  readonly profile?: string | undefined;
  readonly tags?: string | undefined;
  readonly format: 'pretty' | 'json';
  readonly outDir: string;
  readonly failOnUndecided?: boolean;
  readonly ssh?: SshOptions;
  /** `sevcheck record`: write what was read as a fixture host here */
  readonly recordTo?: { dir: string; name: string } | undefined;
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
  let host: Host | undefined;
  try {
    host = openHost(opts.host, { ssh: opts.ssh ?? {}, fixture: { warn: (m) => io.stderr.write(`sevcheck: warning: ${m}\n`) } });
    if (host instanceof SshHost) await host.connect();
    const described = await host.describe();
    const profile: Profile = parseProfile(opts.profile ?? described.profile ?? 'sev', opts.profile ? '--profile' : `${opts.host} host.json profile`);
    const recorder = opts.recordTo ? new RecordingHost(host) : undefined;
    const readLog = process.env.SEVCHECK_READ_LOG;
    const counter = readLog ? new CountingHost(recorder ?? host) : undefined;
    if (opts.launch) checkLaunchOptions(opts.launch);
    const ctx = createRunContext(counter ?? recorder ?? host, profile, opts.launch, { amdCerts: opts.amdCerts });
    // the launch bundle is input: a broken one stops the run here (exit 2), before any check runs
    // or any report is written, never as failed launch checks
    await ctx.probes.launch.bundle();

    const outDir = resolve(opts.outDir);
    const write = opts.writeReports !== false;
    if (write) await mkdir(outDir, { recursive: true });
    const format: Array<string | [string, string]> = [];
    if (opts.format === 'pretty') format.push('pretty');
    if (write) {
      // junit.xml is written from the verdicts below (support/report/junit.ts), not by cucumber
      format.push(['html', resolve(outDir, 'cucumber.html')], ['message', resolve(outDir, 'messages.ndjson')]);
    }
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
          worldParameters: { host: opts.host, profile },
        },
      },
      environment,
    );
    const envelopes: Envelope[] = [];
    await runCucumber(forThisBuild(runConfiguration), environment, (e) => envelopes.push(e));

    const { results, problems } = collectResults(envelopes, { host: described.name, target: host.target, profile });
    if (write) {
      await writeFile(resolve(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
      await writeFile(resolve(outDir, 'summary.md'), summaryMarkdown(results));
      await writeFile(resolve(outDir, 'junit.xml'), junitXml(results));
    }
    if (counter && readLog) await writeFile(readLog, `${JSON.stringify(Object.fromEntries(counter.counts), null, 2)}\n`);
    if (recorder && opts.recordTo) await recorder.writeFixture(opts.recordTo.dir, { name: opts.recordTo.name, profile });

    if (opts.format === 'json') io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else io.stdout.write(`\n${consoleSummary(results, Boolean(io.stdout.isTTY))}${write ? `reports: ${outDir}\n` : ''}`);

    const harness =
      ctx.fatal?.message ??
      (problems.undefinedSteps.length ? `features and steps disagree: ${problems.undefinedSteps.join('; ')}` : undefined) ??
      (problems.untagged.length ? `scenarios without an @check:<id> tag: ${problems.untagged.join('; ')}` : undefined);
    if (harness) return { exitCode: 2, results, error: harness };
    if (results.checks.length === 0) return { exitCode: 2, results, error: `no checks ran (tag expression "${opts.tags ?? ''}" matched nothing)` };
    const failedAny = results.checks.some((c) => c.status === 'failed');
    const undecidedAny = results.checks.some((c) => c.status === 'undecided');
    return { exitCode: failedAny || (opts.failOnUndecided && undecidedAny) ? 1 : 0, results, error: undefined };
  } catch (e) {
    if (e instanceof HarnessError) return { exitCode: 2, results: undefined, error: e.message };
    throw e;
  } finally {
    setRunContext(undefined);
    await host?.close().catch(() => undefined);
  }
}
