/**
 * `sevcheck fleet` (issue 10, docs/fleet.md): the suite over many hosts in one run (a bounded
 * pool of worker threads, cucumber's support code loaded once per thread), or the aggregation of
 * results.json files fetched from the hosts (--from-results); waivers, the comparison with a
 * previous run, and one report directory written atomically (fleet.json, every FLEET_WRITERS
 * entry, hosts/<name>/ with each host's own report set).
 *
 * Exit codes: 0 no unwaived failure; 1 an unwaived failure (with --fail-on new: a new one) or a
 * host that could not be checked (`error`), or an interrupted run; 2 an inventory, waiver or
 * option error, before anything runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import parseTagExpression from '@cucumber/tag-expressions';
import { InputError } from '../errors.js';
import { HarnessError } from '../host/types.js';
import type { SshOptions } from '../host/ssh-host.js';
import type { AmdCertOptions } from '../probes/kds-fetch.js';
import type { LaunchOptions } from '../launch/bundle.js';
import type { Results } from '../report/results.js';
import { readUserJson, readUserText, type ReadKind } from '../input/read.js';
import { resultsFromJson, type IngestedResults } from '../input/results.js';
import { schemaCheck } from '../input/schema.js';
import { hostNameProblem } from '../input/names.js';
import { printable } from '../report/printable.js';
import { ansibleEntries, NAME, parseInventory, type FleetEntry } from '../fleet/inventory.js';
import { applyWaivers, counts, EXPIRING_DAYS, parseWaivers } from '../fleet/waivers.js';
import { compareFleets, fleetExitCode } from '../fleet/compare.js';
import { runPool } from '../fleet/pool.js';
import type { HostDone, HostJob } from '../fleet/host-run.js';
import { hostReportSet, type FleetSide } from '../fleet/host-writers.js';
import { completeRuns, DEFAULT_KEEP, firstSeen, keepRun, nextHistory, runName } from '../fleet/history.js';
import { fleetMatrix, rowTally } from '../fleet/matrix.js';
import { headline, headlineWords } from '../fleet/compare.js';
import { VERSION } from '../version.js';
import type { FleetHost, FleetResults, Waiver } from '../fleet/types.js';
import { FLEET_WRITERS } from '../fleet/writers.js';
import { WRITERS, withFindings } from '../report/writers.js';

/** the file `sevcheck run` writes its results to (report/writers.ts), which --from-results reads */
const RESULTS_FILE = WRITERS['json']?.file ?? '';
import { checkSuiteOptions, parseMinFirmware } from './options.js';
import { excludeReasons, loadConfig, type SiteConfig } from '../site/config.js';
import { checkSiteFeatures, siteFeatureFiles } from '../site/preflight.js';
import type { LoadedSuite } from '../run/suite.js';
import { commitStage, discardStage, openStage, type Stage } from './staging.js';

export interface FleetOptions {
  readonly inventory?: string | undefined;
  readonly ansibleInventory?: string | undefined;
  readonly fromResults?: string | undefined;
  readonly jobs?: string | undefined;
  readonly out?: string | undefined;
  readonly waivers?: string | undefined;
  readonly compare?: string | undefined;
  /** keep each complete run under this directory; compare with and carry the history of its newest */
  readonly history?: string | undefined;
  /** how many runs --history keeps */
  readonly keep?: string | undefined;
  readonly failOn?: 'any' | 'new' | undefined;
  readonly hostTimeout?: string | undefined;
  readonly format?: 'pretty' | 'json' | undefined;
  /** host selection: a tag expression over inventory tags */
  readonly tags?: string | undefined;
  /** scenario selection, as `run --tags` */
  readonly checks?: string | undefined;
  readonly failOnUndecided?: boolean | undefined;
  readonly ssh?: SshOptions | undefined;
  readonly launch?: LaunchOptions | undefined;
  readonly amdCerts?: AmdCertOptions | undefined;
  /** --min-firmware X.Y, as `run` takes it */
  readonly minFirmware?: string | undefined;
  /** --features DIR (repeatable): site feature directories, added to each host's site file's */
  readonly features?: readonly string[] | undefined;
  /** the fleet's site file (--config, or the default the CLI found); an inventory host's `config:` replaces it for that host */
  readonly config?: string | undefined;
}

/** What one host runs with: the command line over its site file (docs/site-policy.md). */
interface HostSettings {
  readonly profile?: string | undefined;
  readonly tags?: string | undefined;
  readonly failOnUndecided: boolean;
  readonly ssh?: SshOptions | undefined;
  readonly launch?: LaunchOptions | undefined;
  readonly amdCerts?: AmdCertOptions | undefined;
  readonly minFirmware?: string | undefined;
  /** site feature files, checked */
  readonly features: readonly string[];
  readonly exclude?: ReadonlyMap<string, string> | undefined;
}

/** The command line's options over a site file's; every option checked as `run` checks it, the site features before any host is opened. */
async function settingsFor(o: FleetOptions, cfg: SiteConfig | undefined, withFeatures = o.fromResults === undefined): Promise<HostSettings> {
  const ssh = { ...o.ssh, options: [...(cfg?.sshOptions ?? []), ...(o.ssh?.options ?? [])], identityFile: o.ssh?.identityFile ?? cfg?.sshIdentity };
  const launch = { ...o.launch, bundle: o.launch?.bundle ?? cfg?.launch, vectors: o.launch?.vectors ?? cfg?.vectors };
  const amdCerts = { ...o.amdCerts, amdCertsDir: o.amdCerts?.amdCertsDir ?? cfg?.amdCerts, kds: o.amdCerts?.kds ?? cfg?.kds, kdsCacheDir: o.amdCerts?.kdsCacheDir ?? cfg?.kdsCache, kdsUrl: o.amdCerts?.kdsUrl ?? cfg?.kdsUrl };
  const tags = o.checks ?? cfg?.tags;
  const minFirmware = o.minFirmware ?? cfg?.minFirmware;
  // the run options `sevcheck run` checks up front (--checks is run's --tags)
  checkSuiteOptions({ tags, launchBundle: launch.bundle, vectors: launch.vectors, amdCerts: amdCerts.amdCertsDir, kdsCache: amdCerts.kdsCacheDir, kdsUrl: amdCerts.kdsUrl, sshIdentity: ssh.identityFile, minFirmware });
  const dirs = [...(cfg?.features ?? []), ...(o.features ?? [])];
  const features = dirs.length && withFeatures ? siteFeatureFiles(dirs) : [];
  if (features.length) {
    // the support code, loaded here once to check the site files (the workers load their own)
    const { loadSuite } = await import('../run/suite.js');
    checkSiteFeatures(features, (await (preflightSuite ??= loadSuite())).support);
  }
  return { profile: cfg?.profile, tags, failOnUndecided: Boolean(o.failOnUndecided || cfg?.failOnUndecided), ssh, launch, amdCerts, minFirmware, features, exclude: excludeReasons(cfg) };
}
let preflightSuite: Promise<LoadedSuite> | undefined;

export interface FleetIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
}

export interface FleetContext {
  /** today, YYYY-MM-DD UTC (waiver expiry); injected by tests */
  readonly today?: string | undefined;
  /** interrupt (SIGINT/SIGTERM): write what finished with complete: false */
  readonly signal?: AbortSignal | undefined;
  /** 0: every host in this thread (tests); default: worker threads */
  readonly threads?: number | undefined;
  /** the `ansible-inventory` program (default: on PATH) */
  readonly ansibleInventory?: string | undefined;
}

/** Default --host-timeout: long enough for a slow ssh host's whole suite, short of a hung night. */
export const DEFAULT_HOST_TIMEOUT_S = 600;
/**
 * Default --jobs: the cores when every host is CPU-bound here (fixture, rootfs, local); with ssh
 * hosts, which mostly wait for their few remote commands (issue 23), 8 per core (16 on 2
 * cores), never more than there are hosts.
 */
export function defaultJobs(hosts: number, sshHosts: number, cores: number): number {
  return Math.max(1, Math.min(hosts, sshHosts ? Math.max(4, 8 * cores) : cores));
}
const ANSIBLE_TIMEOUT_MS = 60_000;

interface Plan {
  readonly entries: FleetEntry[];
  /** --from-results: the results read per host directory (or why not) */
  readonly fromResults?: Map<string, { results?: Results; error?: string; target: string; warnings?: string[] }> | undefined;
  readonly waivers: Waiver[];
  readonly previous?: { fleet: FleetResults; dir: string } | undefined;
  /** --history: the directory, how many runs it keeps, and its newest complete run (the baseline of history and firstSeen) */
  readonly history?: { dir: string; keep: number; last?: { fleet: FleetResults; dir: string } | undefined } | undefined;
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly out: string;
  /** per host name: what it runs with */
  readonly settings: ReadonlyMap<string, HostSettings>;
}

const need = (v: string | undefined, option: string, re: RegExp, what: string): string | undefined => {
  if (v !== undefined && !re.test(v)) throw new InputError(option, `"${v}" is not ${what}`);
  return v;
};

/** A file named by an option, read under the rules for user-supplied files (support/input/read.ts). */
function readText(file: string, option: string, kind: ReadKind): string {
  return readUserText(file, { kind, label: `${option} ${file}` });
}

/** `ansible-inventory -i FILE --list` (argv, a timeout; ansible-core's own inventory parsing). */
async function ansibleList(program: string, file: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(program, ['-i', file, '--list'], { timeout: ANSIBLE_TIMEOUT_MS, maxBuffer: 64 << 20, env: { ...process.env, ANSIBLE_NOCOLOR: '1' } }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${program} not found (install ansible-core)` : (String(stderr).trim().split('\n').pop() ?? err.message);
        rej(new InputError(`--ansible-inventory ${file}`, `ansible-inventory failed: ${why}`));
      } else if (/\[WARNING\]: Unable to parse|No inventory was parsed/.test(String(stderr))) {
        rej(new InputError(`--ansible-inventory ${file}`, `ansible-inventory could not parse it: ${String(stderr).trim().split('\n')[0]}`));
      } else res(String(stdout));
    });
  });
}

/**
 * A results.json as `sevcheck run` writes it (docs/results.md), read from DIR/<host>/ (a regular
 * file, size-capped, inside DIR) and checked against its schema; anything else is why not, in one
 * line that names the file and the field and never quotes the file.
 */
export function loadResults(file: string, dir: string): IngestedResults {
  const label = file;
  const doc = readUserJson(file, { kind: 'results', label, inside: dir });
  try {
    return resultsFromJson(doc);
  } catch (e) {
    throw new InputError(label, (e as Error).message);
  }
}

/** The largest --host-timeout: Node's timers hold at most 2^31-1 ms (a longer one fires at once). */
export const MAX_HOST_TIMEOUT_S = (2 ** 31 - 1) / 1000;

async function plan(o: FleetOptions, ctx: FleetContext): Promise<Plan> {
  const sources = [o.inventory, o.ansibleInventory, o.fromResults].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new InputError('fleet', 'give exactly one of --inventory FILE, --ansible-inventory FILE, --from-results DIR');
  need(o.jobs, '--jobs', /^[1-9][0-9]{0,3}$/, 'a number of hosts at once (1..9999)');
  need(o.hostTimeout, '--host-timeout', /^[0-9]{1,12}(\.[0-9]{1,3})?$/, 'a number of seconds (at most 3 decimals)');
  if (o.hostTimeout !== undefined && Number(o.hostTimeout) < 0.001) throw new InputError('--host-timeout', 'must be at least 0.001 seconds');
  if (o.hostTimeout !== undefined && Number(o.hostTimeout) > MAX_HOST_TIMEOUT_S) {
    throw new InputError('--host-timeout', `must be at most ${MAX_HOST_TIMEOUT_S} seconds (about 24.8 days; Node's timers hold 2^31-1 ms)`);
  }
  if (o.failOn === 'new' && o.compare === undefined) throw new InputError('--fail-on new', 'needs --compare PREV (new since which run?)');
  let hostFilter: ((tags: readonly string[]) => boolean) | undefined;
  if (o.tags !== undefined && o.tags.trim() !== '') {
    try {
      const expr = parseTagExpression(o.tags);
      hostFilter = (tags) => expr.evaluate(tags.flatMap((t) => [t, `@${t}`]));
    } catch (e) {
      throw new InputError('--tags', `"${o.tags}" is not a tag expression over host tags: ${(e as Error).message.split('\n')[0]} (e.g. "rack-a and not milan")`);
    }
  }
  // the fleet's site file, then its run options (and site features) checked up front
  const cfg = o.config !== undefined ? loadConfig(o.config) : undefined;
  const fleetSettings = await settingsFor(o, cfg);

  let entries: FleetEntry[];
  let fromResults: Plan['fromResults'];
  if (o.inventory !== undefined) entries = parseInventory(readText(o.inventory, '--inventory', 'inventory'), o.inventory);
  else if (o.ansibleInventory !== undefined) {
    readText(o.ansibleInventory, '--ansible-inventory', 'inventory');
    entries = ansibleEntries(await ansibleList(ctx.ansibleInventory ?? 'ansible-inventory', o.ansibleInventory), o.ansibleInventory);
  } else {
    const dir = o.fromResults as string;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--from-results ${dir}`, 'no such directory');
    fromResults = new Map();
    entries = [];
    for (const name of readdirSync(dir).sort()) {
      let isDir = false;
      try {
        isDir = statSync(join(dir, name)).isDirectory();
      } catch {
        isDir = false; // a dangling link is no host directory
      }
      if (!isDir) continue;
      const bad = hostNameProblem(name);
      if (bad) throw new InputError(`--from-results ${dir}`, `a host directory ${bad}`);
      const file = join(dir, name, RESULTS_FILE);
      let got: { results?: Results; error?: string; target: string; warnings?: string[] };
      try {
        const { results, ignored } = loadResults(file, dir);
        const warnings = ignored.map((f) => `${file}: ${f} ignored (waivers come only from --waivers)`);
        got = { results, target: results.target, warnings };
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        // one host's file is that host's `error`; the rest of the fleet is reported
        got = { error: `${file}: ${e.problem === 'no such file' ? `no ${RESULTS_FILE}` : `corrupt ${RESULTS_FILE}: ${e.problem}`}`, target: `results:${file}` };
      }
      fromResults.set(name, got);
      entries.push({ name, target: got.target, profile: got.results?.profile, tags: [] });
    }
    if (!entries.length) throw new InputError(`--from-results ${dir}`, `no host directories (DIR/<host name>/${RESULTS_FILE})`);
  }
  if (hostFilter) entries = entries.filter((e) => hostFilter(e.tags));
  if (!entries.length) throw new InputError('--tags', `"${o.tags}" selects no host`);

  // a host's own site file (inventory `config:`): read and checked once per file
  const byFile = new Map<string, HostSettings>();
  const settings = new Map<string, HostSettings>();
  for (const e of entries) {
    let hs = fleetSettings;
    if (e.config !== undefined) {
      let got = byFile.get(e.config);
      if (!got) byFile.set(e.config, (got = await settingsFor(o, loadConfig(e.config, `${e.name}: config`))));
      hs = got;
    }
    settings.set(e.name, hs);
  }
  const waiverFile = o.waivers ?? cfg?.waivers;
  const waivers = waiverFile !== undefined ? parseWaivers(readText(waiverFile, '--waivers', 'waivers'), waiverFile) : [];
  const history = o.history !== undefined ? historyPlan(o.history, o.keep) : undefined;
  if (o.keep !== undefined && history === undefined) throw new InputError('--keep', 'needs --history DIR (keep runs where?)');
  const previous: Plan['previous'] = o.compare !== undefined ? { fleet: readFleetJson(join(o.compare, FLEET_JSON), '--compare', o.compare), dir: o.compare } : history?.last;
  const sshHosts = entries.filter((e) => e.target.startsWith('ssh://')).length;
  const jobs = o.jobs !== undefined ? Number(o.jobs) : defaultJobs(entries.length, sshHosts, availableParallelism());
  const timeoutMs = (o.hostTimeout !== undefined ? Number(o.hostTimeout) : DEFAULT_HOST_TIMEOUT_S) * 1000;
  const out = o.out ?? join(history?.dir ?? join('reports', 'fleet'), runName(new Date().toISOString()));
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new InputError(`--out ${out}`, 'exists and is not a directory');
    const files = readdirSync(out);
    if (files.length && !files.includes('fleet.json')) throw new InputError(`--out ${out}`, 'is a non-empty directory that is not a fleet report (no fleet.json): refusing to replace it');
  }
  return { entries, fromResults, waivers, previous, history, jobs, timeoutMs, out, settings };
}

const FLEET_JSON = FLEET_WRITERS['json']?.file ?? 'fleet.json';

/** A previous run's fleet.json (--compare, --history), or one line saying why not. */
function readFleetJson(file: string, option: string, inside: string): FleetResults {
  const label = `${option} ${file}`;
  const doc = readUserJson(file, { kind: 'fleet', label, inside });
  const problem = schemaCheck('fleet', doc);
  if (problem !== undefined) throw new InputError(label, `not a fleet.json: ${problem}`);
  return doc as FleetResults;
}

/** --history DIR [--keep N]: the directory (created when the run is kept) and its newest complete run. */
function historyPlan(dir: string, keep: string | undefined): NonNullable<Plan['history']> {
  need(keep, '--keep', /^[1-9][0-9]{0,4}$/, 'a number of runs (1..99999)');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`--history ${dir}`, 'exists and is not a directory');
  const runs = completeRuns(dir);
  const newest = runs[runs.length - 1];
  return { dir, keep: keep !== undefined ? Number(keep) : DEFAULT_KEEP, last: newest ? { fleet: readFleetJson(join(newest, FLEET_JSON), '--history', dir), dir: newest } : undefined };
}

/** The progress on stderr: a live line on a terminal, else one line per finished host. */
function progress(io: FleetIo, total: number, waive: (h: FleetHost) => FleetHost): { start(name: string): void; done(d: HostDone, h: FleetHost): void; end(): void } {
  const t0 = performance.now();
  const running = new Map<string, number>();
  let n = 0;
  let failed = 0;
  let errors = 0;
  const tty = Boolean(io.stderr.isTTY);
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const live = (): void => {
    const now = performance.now();
    let slow: [string, number] | undefined;
    for (const [name, t] of running) if (!slow || t < slow[1]) slow = [name, t];
    io.stderr.write(`\r\x1b[K[${n}/${total}] failed ${failed}, errors ${errors}, ${secs(now - t0)}${slow ? `, slowest running: ${printable(slow[0])} (${secs(now - slow[1])})` : ''}`);
  };
  const timer = tty ? setInterval(live, 500) : undefined;
  timer?.unref();
  return {
    start: (name) => void running.set(name, performance.now()),
    done: (d, h) => {
      running.delete(d.name);
      n++;
      // the host's numbers by check id, waivers applied: what its pages and the FAILED line say
      const w = waive(h);
      const t = h.error ? undefined : rowTally(fleetMatrix({ hosts: [w] }), w.name);
      if (h.error) errors++;
      else if (t && t.failed > 0) failed++;
      if (tty) live();
      else {
        const parts = t ? [...(t.failed ? [`${t.failed} failed`] : []), ...(t.waived ? [`${t.waived} waived`] : [])] : [];
        const what = h.error ? `error: ${h.error}` : parts.length ? parts.join(', ') : 'no failure';
        io.stderr.write(`sevcheck: fleet: [${n}/${total}] ${printable(h.name)}: ${printable(what)} (${secs(d.durationMs)})\n`);
      }
    },
    end: () => {
      if (timer) clearInterval(timer);
      if (tty) io.stderr.write('\r\x1b[K');
    },
  };
}

function toHost(e: FleetEntry, d: HostDone): FleetHost {
  const r = d.results;
  return {
    name: e.name,
    target: e.target,
    profile: r?.profile ?? e.profile ?? 'sev',
    tags: e.tags,
    // a host without verdicts could not be checked: `error`, whatever made it so
    exitCode: d.error && !r ? 2 : d.exitCode,
    ...(d.error ? { error: d.error } : {}),
    ...(r?.hostInfo ? { hostInfo: r.hostInfo } : {}),
    durationMs: Math.round(d.durationMs),
    // exactly what `sevcheck run --format json` gives for the host alone (its results.json's checks, with `because`)
    checks: d.error || !r ? [] : (withFindings(r).checks as FleetHost['checks']),
  };
}

/** Run the fleet; returns the exit code. Everything printed goes through `io`. */
export async function fleetMain(o: FleetOptions, io: FleetIo, ctx: FleetContext = {}): Promise<number> {
  let stage: Stage | undefined;
  try {
    const p = await plan(o, ctx);
    stage = await openStage('--out', p.out);
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const byName = new Map(p.entries.map((e) => [e.name, e]));
    const today = ctx.today ?? new Date().toISOString().slice(0, 10);
    // what each host's own report set carries of the fleet: the waivers that apply, the link back
    const side: FleetSide = { page: FLEET_WRITERS['html']?.file ?? 'index.html', startedAt, waivers: p.waivers, today };
    const prog = progress(io, p.entries.length, (h) => applyWaivers([h], p.waivers, today).hosts[0] as FleetHost);
    const hosts: FleetHost[] = [];
    const timings: Array<Pick<HostDone, 'name' | 'durationMs' | 'phases'>> = [];
    const finished = (d: HostDone): void => {
      timings.push({ name: d.name, durationMs: d.durationMs, phases: d.phases });
      const e = byName.get(d.name) as FleetEntry;
      for (const w of d.warnings) io.stderr.write(`sevcheck: warning: ${printable(e.name)}: ${printable(w)}\n`);
      const h = toHost(e, d);
      hosts.push(h);
      prog.done(d, h);
    };
    let peakRss = 0;
    if (p.fromResults) {
      for (const e of p.entries) {
        const got = p.fromResults.get(e.name);
        const r = got?.results;
        const dir = join(stage.dir, 'hosts', e.name);
        if (r) {
          await mkdir(dir, { recursive: true });
          const exit = r.checks.some((c) => c.status === 'failed') ? 1 : 0;
          for (const f of hostReportSet(r, side, { name: e.name, target: e.target, profile: r.profile, tags: e.tags, exitCode: exit })) await writeFile(join(dir, f.file), f.text);
        }
        const exitCode = r ? (r.checks.some((c) => c.status === 'failed') ? 1 : 0) : 2;
        finished({ name: e.name, exitCode, results: r, error: got?.error, durationMs: r?.durationMs ?? 0, phases: { open: 0, suite: 0, collect: 0, write: 0 }, warnings: got?.warnings ?? [] });
      }
    } else {
      const jobs: HostJob[] = p.entries.map((e) => {
        const hs = p.settings.get(e.name) as HostSettings;
        return {
          name: e.name,
          target: e.target,
          profile: e.profile ?? hs.profile,
          reportDir: join(stage?.dir as string, 'hosts', e.name),
          fleet: side,
          hostTags: e.tags,
          timeoutMs: p.timeoutMs,
          tags: hs.tags,
          failOnUndecided: hs.failOnUndecided,
          ssh: hs.ssh,
          launch: hs.launch,
          amdCerts: hs.amdCerts,
          minFirmware: hs.minFirmware !== undefined ? parseMinFirmware(hs.minFirmware) : undefined,
          features: hs.features,
          exclude: hs.exclude,
        };
      });
      const cores = availableParallelism();
      const threads = ctx.threads ?? Math.min(p.jobs, cores);
      const perThread = Math.max(1, Math.ceil(p.jobs / Math.max(1, threads)));
      const ran = await runPool(jobs, { threads, perThread, onStart: (j) => prog.start(j.name), onDone: finished, signal: ctx.signal });
      peakRss = ran.peakRss;
    }
    prog.end();
    const complete = !ctx.signal?.aborted;
    // inventory order, whatever order they finished in
    const order = new Map(p.entries.map((e, i) => [e.name, i]));
    hosts.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
    const waived = applyWaivers(hosts, p.waivers, today);
    const changes = p.previous ? compareFleets(p.previous.fleet, resolve(p.previous.dir), waived.hosts) : undefined;
    const fleet: FleetResults = {
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      complete,
      hosts: waived.hosts,
      ...(changes ? { changes } : {}),
      ...(p.waivers.length ? { waivers: waived.report } : {}),
      ...(p.history ? { history: nextHistory(p.history.last?.fleet, waived.hosts, p.history.keep) } : {}),
      // since when each failure fails: carried over from the run compared with
      ...(p.previous ? { firstSeen: firstSeen(p.previous.fleet, waived.hosts, startedAt) } : {}),
      version: VERSION,
    };
    for (const w of Object.values(FLEET_WRITERS)) await writeFile(join(stage.dir, w.file), w.write(fleet));
    // where each host's time went (open / suite / collect / write, ms), for the benchmark
    // (bench/fleet.bench.ts); not part of the report set
    const timingsFile = process.env.SEVCHECK_FLEET_TIMINGS;
    // cpu: this process's own CPU time (all threads, no child processes), so that the benchmark can
    // tell the child processes' share (xmllint) from the total
    if (timingsFile) await writeFile(timingsFile, `${JSON.stringify({ peakRss, cpu: process.cpuUsage(), hosts: timings })}\n`);
    await commitStage(stage);
    stage = undefined;
    // --history: a complete run is kept (an interrupted one is never a baseline), the oldest beyond --keep go
    if (p.history && complete) {
      await mkdir(p.history.dir, { recursive: true });
      keepRun(p.out, p.history.dir, startedAt, p.history.keep);
    }
    const exitCode = complete ? fleetExitCode(fleet.hosts, o.failOn ?? 'any', changes) : 1;
    if (o.format === 'json') io.stdout.write(FLEET_WRITERS['json']?.write(fleet) ?? '');
    else io.stdout.write(consoleSummary(fleet, p.out, exitCode, peakRss));
    return exitCode;
  } catch (e) {
    if (e instanceof HarnessError) {
      io.stderr.write(`sevcheck: ${printable(e.message)}\n`);
      return 2;
    }
    throw e;
  } finally {
    await discardStage(stage);
  }
}

/** The console after a fleet run (--format pretty): one line per host with a problem, the totals, changes, waivers, where the reports are. */
export function consoleSummary(f: FleetResults, out: string, exitCode: number, peakRss = 0): string {
  const lines: string[] = [];
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  for (const h of f.hosts) {
    if (h.error) lines.push(`ERROR  ${h.name} (${h.target}): ${h.error}`);
    else {
      const fails = h.checks.filter((c) => c.status === 'failed');
      if (!fails.length) continue;
      // one entry per check id (an id has one scenario per profile or machine type: results.ts)
      const open = [...new Set(fails.filter((c) => !c.waived).map((c) => c.id))];
      const waived = [...new Set(fails.filter((c) => c.waived).map((c) => c.id))];
      lines.push(`${open.length ? 'FAILED' : 'WAIVED'} ${h.name}: ${[...open, ...waived.map((id) => `${id} (waived)`)].join(', ')}`);
    }
  }
  const bad = f.hosts.filter((h) => !h.error && h.checks.some(counts)).length;
  const errors = f.hosts.filter((h) => h.error).length;
  lines.push('');
  lines.push(`${f.complete ? '' : 'INTERRUPTED: '}${f.hosts.length} hosts in ${secs(f.durationMs)}: ${f.hosts.length - bad - errors} without unwaived failures, ${bad} failing, ${errors} errors${peakRss ? ` (peak memory ${Math.round(peakRss / 2 ** 20)} MiB)` : ''}`);
  // the page's headline, in the same words
  const n = (x: Readonly<Record<string, readonly string[]>>): number => Object.values(x).reduce((a, b) => a + b.length, 0);
  lines.push(`${headlineWords(headline(f))}${f.changes ? `; ${n(f.changes.stillFailing)} still failing; ${f.changes.newHosts.length} new hosts, ${f.changes.missingHosts.length} missing` : ''}`);
  for (const [host, ids] of Object.entries(f.changes?.new ?? {})) lines.push(`  new on ${host}: ${ids.join(', ')}`);
  for (const w of f.waivers?.expiring ?? []) lines.push(`expiring waiver (within ${EXPIRING_DAYS} days): ${w.check}${w.hosts ? ` on ${w.hosts}` : ''}, expires ${w.expires}: ${w.reason}`);
  for (const w of f.waivers?.expired ?? []) lines.push(`expired waiver (no longer applied): ${w.check}${w.hosts ? ` on ${w.hosts}` : ''}, expired ${w.expires}: ${w.reason}`);
  for (const w of f.waivers?.stale ?? []) lines.push(`stale waiver (matches no failure): ${w.check}${w.hosts ? ` on ${w.hosts}` : ''}: ${w.reason}`);
  lines.push(`reports: ${out}/ (${[...Object.values(FLEET_WRITERS).map((w) => w.file), 'hosts/<name>/'].join(', ')})`);
  lines.push(`exit ${exitCode}`);
  return `${lines.map((l) => printable(l)).join('\n')}\n`;
}
