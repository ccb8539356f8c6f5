/**
 * Run the suite (or a tag selection) on a root file system and return the verdict per check id.
 * Cucumber loads the steps itself, so this runs in a child process under tsx (`runRootfs`; vitest's
 * module graph would give cucumber's support code a second run-context registry):
 * `node --import tsx test/distro/run-rootfs.ts DIR PROFILE [TAGS]` prints the outcome as JSON. The target is the rootfs backend when this build has one (`openHost
 * ('rootfs:DIR')`, branch rootfs); before that backend is merged, the test-only DirHost.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import type { Envelope } from '@cucumber/messages';
import { openHost } from '../../support/host/target.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { HarnessError, type Host } from '../../support/host/types.js';
import { createRunContext, registerRun, releaseRun } from '../../support/run-context.js';
import { collectResults, verdictsById, type Results } from '../../support/report/results.js';
import { parseProfile, type Profile } from '../../support/profile.js';
import { ROOT } from '../helpers.js';
import { DirHost } from './dir-host.js';

/** The rootfs backend for DIR, or DirHost when this build has none ("unknown host scheme"). */
export function rootfsHost(dir: string): { host: Host; backend: 'rootfs' | 'DirHost' } {
  try {
    return { host: openHost(`rootfs:${dir}`), backend: 'rootfs' };
  } catch (e) {
    if (e instanceof HarnessError && /unknown host scheme "rootfs:"/.test(e.message)) return { host: new DirHost(dir), backend: 'DirHost' };
    throw e;
  }
}

export async function runOn(backend: Host, profile: Profile, tags = ''): Promise<{ results: Results; byId: Record<string, string>; fatal?: string }> {
  await backend.open();
  const host = new CachingHost(backend);
  const ctx = createRunContext(host, profile);
  const run = registerRun(ctx);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  try {
    const environment = { cwd: ROOT, stdout: sink, stderr: sink, env: { ...process.env } };
    const { runConfiguration } = await loadConfiguration(
      { file: 'cucumber.json', profiles: [profile], provided: { format: [], tags, worldParameters: { host: backend.target, profile, run } } },
      environment,
    );
    const envelopes: Envelope[] = [];
    await runCucumber(runConfiguration, environment, (e) => envelopes.push(e));
    const { results } = collectResults(envelopes, { host: backend.target, target: backend.target, profile });
    const byId = Object.fromEntries(verdictsById(results));
    return { results, byId, ...(ctx.fatal ? { fatal: ctx.fatal.message } : {}) };
  } finally {
    await releaseRun(run);
    await host.close();
  }
}

export interface RootfsOutcome {
  readonly backend: 'rootfs' | 'DirHost';
  readonly byId: Record<string, string>;
  readonly messages: Record<string, string[]>;
  readonly fatal?: string | undefined;
  readonly ms: number;
}

/** Run in a child process (see above); rejects when the child fails. */
export function runRootfs(dir: string, profile: Profile, tags = ''): Promise<RootfsOutcome> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), dir, profile, tags],
      { cwd: ROOT, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done(JSON.parse(stdout) as RootfsOutcome)),
    );
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, profile, tags] = process.argv.slice(2);
  if (!dir || !profile) throw new Error('usage: run-rootfs.ts DIR PROFILE [TAGS]');
  const t0 = Date.now();
  const { host, backend } = rootfsHost(dir);
  const r = await runOn(host, parseProfile(profile), tags ?? '');
  const messages: Record<string, string[]> = {};
  for (const c of r.results.checks) (messages[c.id] ??= []).push(`${c.status}: ${c.message}`);
  const out: RootfsOutcome = { backend, byId: r.byId, messages, fatal: r.fatal, ms: Date.now() - t0 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
