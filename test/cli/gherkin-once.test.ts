/**
 * scripts/cucumber-gherkin-once.cjs, the bundle's stand-in for cucumber's lib/api/gherkin.js:
 * for a stream that replays compiled features (support/run/suite.ts compileFeaturesOnce tags it
 * with its envelopes), the same pickles, documents, locations and envelopes as cucumber's own
 * getPicklesAndErrors, on every run, and what it derived kept only for the same compiled set.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { IdGenerator } from '@cucumber/messages';

const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
type Get = (o: object) => Promise<{ filterablePickles: Array<{ pickle: { id: string }; gherkinDocument: { uri?: string }; location: unknown }>; parseErrors: unknown[] }>;
const original = (require(join(ROOT, 'node_modules/@cucumber/cucumber/lib/api/gherkin.js')) as { getPicklesAndErrors: Get }).getPicklesAndErrors;
const standIn = (require(join(ROOT, 'scripts/cucumber-gherkin-once.cjs')) as { getPicklesAndErrors: Get }).getPicklesAndErrors;
// the module object both gherkin.js files require (CommonJS cache): its fromPaths is replaced below
const { GherkinStreams } = require('@cucumber/gherkin-streams') as typeof import('@cucumber/gherkin-streams');
const COMPILED = Symbol.for('sevcheck.compiledFeatures');
const fromPaths = GherkinStreams.fromPaths;
afterEach(() => void (GherkinStreams.fromPaths = fromPaths));

/** the envelopes of two real feature files, compiled once */
async function compile(): Promise<unknown[]> {
  const out: unknown[] = [];
  const s = fromPaths(['features/host/cpu.feature', 'features/host/cpus.feature'], { newId: IdGenerator.incrementing(), relativeTo: ROOT });
  for await (const e of s) out.push(e);
  return out;
}

/** GherkinStreams.fromPaths answering with a replay of `envelopes`, tagged as compileFeaturesOnce tags it (or not) */
function replaying(envelopes: unknown[], tagged: boolean): void {
  GherkinStreams.fromPaths = () => {
    const r = Readable.from(envelopes, { objectMode: true });
    if (tagged) Object.defineProperty(r, COMPILED, { value: envelopes });
    return r;
  };
}

async function call(get: Get): Promise<{ result: Awaited<ReturnType<Get>>; seen: unknown[] }> {
  const seen: unknown[] = [];
  const result = await get({ newId: IdGenerator.incrementing(), cwd: ROOT, sourcePaths: ['x.feature'], coordinates: { defaultDialect: 'en' }, onEnvelope: (e: unknown) => seen.push(e) });
  return { result, seen };
}

describe('cucumber-gherkin-once (the bundle\'s lib/api/gherkin.js)', () => {
  it('gives what cucumber gives, on the first replay and every later one, with the envelopes in order', async () => {
    const envelopes = await compile();
    expect(envelopes.length).toBeGreaterThan(10);
    replaying(envelopes, false);
    const want = await call(original);
    expect(want.result.filterablePickles.length).toBeGreaterThan(3);
    replaying(envelopes, true);
    for (let run = 0; run < 3; run++) {
      const got = await call(standIn);
      expect(got.seen).toEqual(want.seen);
      expect(got.seen.every((e, i) => e === envelopes[i])).toBe(true);
      expect(got.result).toEqual(want.result);
    }
  });

  it('returns fresh arrays (cucumber filters and orders them) and derives anew for another compiled set', async () => {
    const a = await compile();
    replaying(a, true);
    const first = await call(standIn);
    first.result.filterablePickles.reverse().pop();
    const again = await call(standIn);
    replaying(a, false);
    expect(again.result).toEqual((await call(original)).result);
    // a changed feature file: compileFeaturesOnce compiles it again, into a new set (here: one scenario fewer)
    const b = await compile();
    const c = b.filter((e) => e !== b.find((x) => (x as { pickle?: unknown }).pickle !== undefined));
    replaying(c, true);
    const other = await call(standIn);
    replaying(c, false);
    expect(other.result).toEqual((await call(original)).result);
    expect(other.result.filterablePickles.length).toBe(again.result.filterablePickles.length - 1);
  });

  it('goes cucumber\'s way for a stream that is not a replay', async () => {
    const envelopes = await compile();
    replaying(envelopes, false);
    const want = await call(original);
    expect((await call(standIn)).result).toEqual(want.result);
    expect((await call(standIn)).result).toEqual(want.result);
  });
});
