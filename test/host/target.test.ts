/**
 * One place makes a target (issue 13 §5): openTarget opens the backend (ssh connects there) and
 * stacks backend → recording → counting → caching; the run context is found through the id in
 * worldParameters, never through module-level "current run" state.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget } from '../../support/host/target.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { CountingHost } from '../../support/host/counting-host.js';
import { RecordingHost } from '../../support/host/recording-host.js';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { HarnessError } from '../../support/host/types.js';
import { createRunContext, ownsTarget, registerRun, releaseRun, runContext } from '../../support/run-context.js';
import * as runContextModule from '../../support/run-context.js';
import { ROOT } from '../helpers.js';

const REF = 'fixture:fixtures/hosts/reference-milan';

describe('openTarget', () => {
  it('stacks backend → recording → counting → caching, each wrapping the one below', async () => {
    const t = await openTarget(REF, { record: true, count: true });
    expect(t.host).toBeInstanceOf(CachingHost);
    expect(t.host.inner).toBe(t.counter);
    expect(t.counter).toBeInstanceOf(CountingHost);
    expect(t.counter!.inner).toBe(t.recorder);
    expect(t.recorder).toBeInstanceOf(RecordingHost);
    expect(t.recorder!.inner).toBeInstanceOf(FixtureHost);
    // a read through the top reaches the counter once, however often it is asked
    await t.host.readFile('/proc/cpuinfo');
    await t.host.readFile('/proc/cpuinfo');
    expect(t.counter!.counts.get('readFile /proc/cpuinfo')).toBe(1);
    await t.close();
    await t.close(); // idempotent
  });

  it('without record/count the cache sits right on the backend', async () => {
    const t = await openTarget(REF);
    expect(t.recorder).toBeUndefined();
    expect(t.counter).toBeUndefined();
    expect(t.host.inner).toBeInstanceOf(FixtureHost);
    await t.close();
  });

  it('opens the backend: an unreachable ssh host fails in openTarget, before any read', async () => {
    const started = Date.now();
    const e = await openTarget('ssh://nobody@127.0.0.1:1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HarnessError);
    expect((e as Error).message).toMatch(/^ssh:\/\/nobody@127\.0\.0\.1:1: unreachable/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('every backend and wrapper has open() and close()', async () => {
    const t = await openTarget(REF, { record: true, count: true });
    for (const h of [t.host, t.counter!, t.recorder!, t.recorder!.inner]) {
      expect(typeof h.open).toBe('function');
      expect(typeof h.close).toBe('function');
    }
    await t.close();
  });
});

describe('run context registry', () => {
  it('keeps two runs apart: each World finds its own run by the id in its worldParameters', async () => {
    const a = await openTarget(REF);
    const b = await openTarget('fixture:fixtures/hosts/kvm-sev-off');
    const idA = registerRun(createRunContext(a.host, 'sev-snp'));
    const idB = registerRun(createRunContext(b.host, 'sev'));
    expect(idA).not.toBe(idB);
    expect(runContext({ run: idA }).profile).toBe('sev-snp');
    expect(runContext({ run: idB }).profile).toBe('sev');
    expect(runContext({ run: idA }).host.target).toMatch(/reference-milan/);
    await releaseRun(idA);
    expect(() => runContext({ run: idA })).toThrow(HarnessError);
    expect(runContext({ run: idB }).profile).toBe('sev'); // releasing one run leaves the other
    await releaseRun(idB);
    await a.close();
    await b.close();
  });

  it('without a run id there is no context to fall back on', () => {
    expect(() => runContext({})).toThrow(/no run/);
    expect(() => runContext(undefined)).toThrow(HarnessError);
  });

  it('a run registered with its target closes it on release; one without does not', async () => {
    const t = await openTarget(REF);
    let closed = 0;
    const owned = registerRun(createRunContext(t.host, 'sev'), async () => void closed++);
    const borrowed = registerRun(createRunContext(t.host, 'sev'));
    expect(ownsTarget(owned)).toBe(true);
    expect(ownsTarget(borrowed)).toBe(false);
    await releaseRun(owned);
    await releaseRun(borrowed);
    expect(closed).toBe(1);
    await t.close();
  });

  it('has no module-level "current run" to set', () => {
    expect(Object.keys(runContextModule).sort()).toEqual(['createRunContext', 'ownsTarget', 'registerRun', 'releaseRun', 'runContext']);
  });
});

describe('plain cucumber-js (no sevcheck run around it)', () => {
  const cucumber = (params: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'node_modules/@cucumber/cucumber/bin/cucumber.js'), '-p', 'sev', '--world-parameters', JSON.stringify(params), '--tags', '@check:host.cpuid.sev', '--format', 'summary'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });

  it('the BeforeAll hook makes the run context from worldParameters.host', () => {
    const r = cucumber({ host: REF });
    expect(r.stdout + r.stderr).toMatch(/1 passed/);
    expect(r.status).toBe(0);
  });

  it('an unreachable host stops the run in BeforeAll, no scenario runs', () => {
    const r = cucumber({ host: 'ssh://nobody@127.0.0.1:1' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/unreachable/);
    expect(r.stdout + r.stderr).not.toMatch(/\d+ passed/);
  });
});
