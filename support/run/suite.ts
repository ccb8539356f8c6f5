/**
 * One run as a value (the project's design notes): the suite on one target with one profile, giving
 * back the verdicts (results.ts `Results`), the exit code `sevcheck run` would exit with and the
 * harness error, if any. It prints nothing, exits nothing and writes no file: `sevcheck run`
 * (cli/run.ts) is this plus the console and the report set, `sevcheck fleet` (cli/fleet.ts) calls
 * it once per host.
 *
 * Cucumber's support code (world, hooks, parameter types, steps) is loaded once per process or
 * worker thread (`loadSuite`) and handed to every runCucumber of that process: the cucumber-js
 * JavaScript API's `loadSupport` then `runCucumber({ ...runConfiguration, support })`
 * (cucumber/cucumber-js docs/javascript_api.md "Complex example", commit
 * 00ca35ca01a773e77d828c4d54a48f85f3e20f47; `loadSources` for the test plan, same page). The run
 * context registry (run-context.ts) keeps concurrent runs apart.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { GherkinStreams } from '@cucumber/gherkin-streams';
import type { Envelope } from '@cucumber/messages';
import { loadConfiguration, loadSources, loadSupport, runCucumber, type IRunConfiguration, type ISupportCodeLibrary } from '@cucumber/cucumber/api';
import { HarnessError, type HostDescription } from '../host/types.js';
import { openTarget, type Target } from '../host/target.js';
import type { SshOptions } from '../host/ssh-host.js';
import { createRunContext, registerRun, releaseRun } from '../run-context.js';
import type { AmdCertOptions } from '../probes/kds-fetch.js';
import type { LaunchOptions } from '../launch/bundle.js';
import { parseProfile, type Profile } from '../profile.js';
import { collectResults, type HostInfo, type Results } from '../report/results.js';
import { ROOT } from './paths.js';
import { forThisBuild } from './prebuilt.js';
import { printable } from '../report/printable.js';
import { prefetchFacts } from '../probes/prefetch.js';

export interface OneRunOptions {
  /** a --host value: local, ssh://[user@]host[:port], fixture:DIR */
  readonly host: string;
  /** absent: the fixture's host.json profile, else sev (as `sevcheck run`) */
  readonly profile?: string | undefined;
  /** cucumber tag expression selecting scenarios (`run --tags`) */
  readonly tags?: string | undefined;
  readonly failOnUndecided?: boolean | undefined;
  readonly ssh?: SshOptions | undefined;
  readonly launch?: LaunchOptions | undefined;
  readonly amdCerts?: AmdCertOptions | undefined;
  /** --min-firmware X.Y (host.firmware.version), already parsed (cli/options.ts parseMinFirmware) */
  readonly minFirmware?: { readonly major: number; readonly minor: number } | undefined;
  /** `sevcheck record`: keep what was read (the recorder is handed to `finish`) */
  readonly record?: boolean | undefined;
  /** count the reads that reach the backend (SEVCHECK_READ_LOG) */
  readonly count?: boolean | undefined;
  /** site feature files (absolute, checked: support/site/preflight.ts), run with the bundled ones */
  readonly features?: readonly string[] | undefined;
  /** check id → why it is skipped (the site file's `exclude`) */
  readonly exclude?: ReadonlyMap<string, string> | undefined;
}

/** What a caller may hang on a run (the `run` command's console, cucumber's own report files). */
export interface OneRunHooks {
  /** fixture-host warnings (the host stays usable) */
  readonly warn?: ((message: string) => void) | undefined;
  /** cucumber formatters: [name] on `stdout`, or [name, file] */
  readonly formats?: ReadonlyArray<string | [string, string]> | undefined;
  readonly stdout?: Writable | undefined;
  readonly stderr?: Writable | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** the target is open and the context ready; cucumber starts next */
  readonly started?: ((meta: RunMeta) => void) | undefined;
  readonly envelope?: ((e: Envelope) => void) | undefined;
  /** after the verdicts, before the target is closed (`record` writes its fixture here) */
  readonly finish?: ((target: Target, profile: Profile, outcome: OneRunOutcome) => Promise<void>) | undefined;
  /** cancel: close the target now (a hung host); the run then ends with a harness error */
  readonly signal?: AbortSignal | undefined;
}

export interface RunMeta {
  readonly host: string;
  readonly target: string;
  readonly profile: Profile;
}

export interface OneRunOutcome {
  readonly exitCode: 0 | 1 | 2;
  /** undefined when the run stopped before any check (unreachable host, bad input) */
  readonly results: Results | undefined;
  /** the harness error (exit 2), one line */
  readonly error: string | undefined;
  /** where the time went, ms: open (target + context), suite (cucumber), collect */
  readonly phases: { open: number; suite: number; collect: number };
}

/** Support code loaded once: what every runCucumber of this process reuses. */
export interface LoadedSuite {
  readonly support: ISupportCodeLibrary;
  /** per profile: cucumber's run configuration (cucumber.json resolved once) */
  readonly configs: Map<string, IRunConfiguration>;
  /** the feature files cucumber.json's globs name, found once, as one brace pattern (featurePattern) */
  readonly featurePaths: readonly string[];
}

const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

let compiling = false;

/** scripts/cucumber-gherkin-once.cjs reads a replay's envelopes under this key */
const COMPILED_FEATURES = Symbol.for('sevcheck.compiledFeatures');

/**
 * Compile the feature files once per process (or worker thread) and hand every later run the
 * same messages (issue 23). runCucumber parses its sources on every call
 * (@cucumber/cucumber lib/api/run_cucumber.js getPicklesAndErrors -> gherkin.js
 * GherkinStreams.fromPaths), and the cucumber-js API takes no parsed pickles, so the one function
 * it calls for them is wrapped: the envelopes (source, gherkinDocument, pickle; parse errors
 * too) of a set of paths are kept and replayed while every file still has the same size and
 * mtime. Their ids were made by the first run's id generator; ids need only be unique within a
 * run's message stream, which they are. A fleet host paid ~30-40 ms of parsing for nothing.
 */
function compileFeaturesOnce(): void {
  if (compiling) return;
  compiling = true;
  const fromPaths = GherkinStreams.fromPaths;
  const compiled = new Map<string, unknown[]>();
  GherkinStreams.fromPaths = (paths, options) => {
    let key: string;
    try {
      const stamps = paths.map((p) => {
        const st = statSync(p);
        return `${p}\0${st.size}\0${st.mtimeMs}`;
      });
      key = JSON.stringify([stamps, options.relativeTo, options.defaultDialect, options.includeSource, options.includeGherkinDocument, options.includePickles]);
    } catch {
      return fromPaths(paths, options);
    }
    const hit = compiled.get(key);
    if (hit) {
      // tagged with the envelopes it replays: the bundle's cucumber-gherkin-once reuses what it derived from them
      const replay = Readable.from(hit, { objectMode: true });
      Object.defineProperty(replay, COMPILED_FEATURES, { value: hit });
      return replay;
    }
    const stream = fromPaths(paths, options);
    const seen: unknown[] = [];
    stream.on('data', (e: unknown) => seen.push(e));
    stream.on('end', () => compiled.set(key, seen));
    return stream;
  };
}

/** Step texts remembered per step definition (bounded: step texts come from the feature files). */
const MATCH_MEMO_MAX = 4096;

/**
 * Every step definition's expression matched once per step text for the process (issue 23): every
 * runCucumber assembles its test cases by matching each pickle step's text against every step
 * definition (@cucumber/cucumber lib/assemble/assemble_test_cases.js: stepDefinitions.filter(
 * sd => sd.matchesStepName(text))) and matches the chosen one again to get its arguments
 * (lib/models/step_definition.js getInvocationParameters: expression.match(step.text)); with ~100
 * definitions and ~90 steps that is ~9,000 regular-expression matches per host on the same texts.
 * A match depends only on the expression (fixed once the support code is loaded) and the step text
 * (from the feature files, never from a host), and its Arguments are immutable (each getValue
 * transforms its groups anew), so the result is remembered per definition and text.
 */
function matchOnce(support: ISupportCodeLibrary): void {
  // the public type is opaque; loadSupport's value is cucumber's SupportCodeLibrary
  const { stepDefinitions } = support as unknown as { stepDefinitions?: ReadonlyArray<{ expression: { match(text: string): unknown } }> };
  for (const sd of stepDefinitions ?? []) {
    const expr = sd.expression;
    const match = expr.match.bind(expr);
    const memo = new Map<string, unknown>();
    expr.match = (text: string) => {
      const hit = memo.get(text);
      if (hit !== undefined) return hit;
      const m = match(text);
      if (memo.size < MATCH_MEMO_MAX) memo.set(text, m);
      return m;
    };
  }
}

/** support/run/no-output-formatter.cjs, as cucumber's formatter specifier (a file: URL, whatever the cwd) */
const NO_OUTPUT = pathToFileURL(join(ROOT, 'support/run/no-output-formatter.cjs')).href;

/** Load cucumber's support code (cucumber.json, this build's files) once for this process. */
export async function loadSuite(): Promise<LoadedSuite> {
  compileFeaturesOnce();
  const rc = forThisBuild(await configuration('sev'));
  const environment = { cwd: ROOT, stdout: quiet(), stderr: process.stderr };
  const support = await loadSupport({ sources: rc.sources, support: rc.support }, environment);
  matchOnce(support);
  const { plan } = await loadSources(rc.sources, environment);
  return { support, configs: new Map(), featurePaths: featurePattern([...new Set(plan.map((p) => p.uri))]) };
}

/**
 * The feature files as one glob cucumber expands cheaply on every run: `{a.feature,b/c.feature}`
 * (cucumber globs each of its paths, glob builds its file-system walker per pattern: measured,
 * one brace pattern over the files costs a third of `features/**\/*.feature`, a pattern per
 * file more than twice as much). Empty (cucumber.json's own globs) when a name would need escaping.
 */
function featurePattern(files: string[]): string[] {
  if (files.length < 2 || files.some((f) => /[{},*?[\]!()@+\\]/.test(f))) return [];
  return [`{${files.join(',')}}`];
}

/** cucumber.json's configuration for `profile`, as this build must run it (prebuilt.ts). */
async function configuration(profile: string): Promise<IRunConfiguration> {
  // relative: cucumber joins it with cwd (ROOT)
  const { runConfiguration } = await loadConfiguration({ file: 'cucumber.json', profiles: [profile] }, { cwd: ROOT, stdout: quiet(), stderr: process.stderr });
  return runConfiguration;
}

/**
 * Run the suite on one target. A harness or input error (unreachable host, broken launch
 * bundle, features and steps disagreeing) is `exitCode: 2` with `error`; other exceptions are
 * defects and propagate.
 */
export async function runOnce(opts: OneRunOptions, hooks: OneRunHooks = {}, suite?: LoadedSuite): Promise<OneRunOutcome> {
  let target: Target | undefined;
  let run: string | undefined;
  const t0 = performance.now();
  const phases = { open: 0, suite: 0, collect: 0 };
  const abort = (): void => void target?.close().catch(() => undefined);
  hooks.signal?.addEventListener('abort', abort, { once: true });
  try {
    target = await openTarget(opts.host, {
      ssh: opts.ssh ?? {},
      fixture: { warn: (m) => hooks.warn?.(m) },
      record: opts.record,
      count: opts.count,
    });
    if (hooks.signal?.aborted) abort();
    const described = await target.host.describe();
    const profile: Profile = parseProfile(opts.profile ?? described.profile ?? 'sev', opts.profile ? '--profile' : `${opts.host} host.json profile`);
    const ctx = createRunContext(target.host, profile, opts.launch, { amdCerts: opts.amdCerts, minFirmware: opts.minFirmware, exclude: opts.exclude });
    // the launch bundle is input: a broken one stops the run here (exit 2), before any check runs
    await ctx.probes.launch.bundle();
    // over ssh, the facts every layer reads asked for at once: a few remote commands instead of
    // one per read (probes/prefetch.ts); a --tags run reads only what its checks ask for
    if (target.backend.kind === 'ssh' && !opts.tags) await prefetchFacts(ctx.probes);
    run = registerRun(ctx);
    const meta: RunMeta = { host: printable(described.name), target: printable(target.host.target), profile };
    hooks.started?.(meta);
    phases.open = performance.now() - t0;

    const environment = { cwd: ROOT, stdout: hooks.stdout ?? quiet(), stderr: hooks.stderr ?? process.stderr, env: hooks.env ?? process.env };
    // cucumber.json resolved once per profile and process; this run's tags, world parameters and
    // formatters set on it (a formatter without a file writes to `stdout`; none: NO_OUTPUT, into
    // `stdout`, which is then a sink: profiled, the "summary" formatter's closing summary cost
    // more per host than several checks, and "rerun"'s list of failed scenarios 1 ms)
    const configs = suite?.configs ?? new Map<string, IRunConfiguration>();
    let base = configs.get(profile);
    if (!base) configs.set(profile, (base = await configuration(profile)));
    const formats = hooks.formats ?? [];
    const rc: IRunConfiguration = forThisBuild({
      ...base,
      sources: { ...base.sources, paths: [...(suite?.featurePaths.length ? suite.featurePaths : base.sources.paths), ...(opts.features ?? [])], tagExpression: opts.tags ?? '' },
      runtime: { ...base.runtime, worldParameters: { ...base.runtime.worldParameters, host: opts.host, profile, run } },
      formats: {
        ...base.formats,
        stdout: formats.find((f): f is string => typeof f === 'string') ?? NO_OUTPUT,
        files: Object.fromEntries(formats.filter((f): f is [string, string] => typeof f !== 'string').map(([name, file]) => [file, name])),
      },
    });
    const envelopes: Envelope[] = [];
    const t1 = performance.now();
    await runCucumber(suite ? { ...rc, support: suite.support } : rc, environment, (e) => {
      envelopes.push(e);
      hooks.envelope?.(e);
    });
    const t2 = performance.now();
    phases.suite = t2 - t1;

    const hostInfo = describeHost(described, await ctx.probes.host.known());
    const { results, problems } = collectResults(envelopes, { ...meta, ...(hostInfo ? { hostInfo } : {}) });
    const harness =
      (hooks.signal?.aborted ? `${String(hooks.signal.reason ?? 'cancelled')}` : undefined) ??
      ctx.fatal?.message ??
      (problems.undefinedSteps.length ? `features and steps disagree: ${problems.undefinedSteps.join('; ')}` : undefined) ??
      (problems.untagged.length ? `scenarios without an @check:<id> tag: ${problems.untagged.join('; ')}` : undefined) ??
      (results.checks.length === 0 ? `no checks ran (tag expression "${opts.tags ?? ''}" matched nothing)` : undefined);
    const failedAny = results.checks.some((c) => c.status === 'failed');
    const undecidedAny = results.checks.some((c) => c.status === 'undecided');
    const exitCode = harness ? 2 : failedAny || (opts.failOnUndecided && undecidedAny) ? 1 : 0;
    phases.collect = performance.now() - t2;
    const outcome: OneRunOutcome = { exitCode, results, error: harness, phases };
    await hooks.finish?.(target, profile, outcome);
    return outcome;
  } catch (e) {
    if (hooks.signal?.aborted) return { exitCode: 2, results: undefined, error: String(hooks.signal.reason ?? 'cancelled'), phases };
    if (e instanceof HarnessError) return { exitCode: 2, results: undefined, error: e.message, phases };
    throw e;
  } finally {
    hooks.signal?.removeEventListener('abort', abort);
    await releaseRun(run);
    await target?.close().catch(() => undefined);
  }
}

/** results.json hostInfo: host.json's distro and kernel, else what the run read; undefined when nothing is known. */
export function describeHost(d: HostDescription, read: { kernel?: string; cpuModel?: string; sevGeneration?: string }): HostInfo | undefined {
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
