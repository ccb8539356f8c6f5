/**
 * scripts/gherkin-precompiled.cjs (the prebuilt bundle's GherkinStreams.fromPaths, issue 23): the
 * recorded messages only for the same paths, options, id counter and file texts; a parse otherwise.
 * Run on copies of the module and its id counter in a temporary directory (the recording sits
 * next to the module, as it sits next to the bundle).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

interface Ids {
  threadIds: () => string;
  peekThreadId: () => number;
  skipThreadIdsTo: (n: number) => void;
}
type Parse = (paths: string[], options: Record<string, unknown>) => Readable;
interface Precompiled {
  fromPaths: (paths: string[], options: Record<string, unknown>, parse: Parse) => Readable;
}

/** a fresh copy of the module (its own counter and recording) with one recorded feature file */
function setup(text: string): { pre: Precompiled; ids: Ids; file: string; options: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-gherkin-pre-'));
  copyFileSync(join(ROOT, 'scripts/gherkin-precompiled.cjs'), join(dir, 'gherkin-precompiled.cjs'));
  copyFileSync(join(ROOT, 'scripts/cucumber-thread-ids.cjs'), join(dir, 'cucumber-thread-ids.cjs'));
  const file = join(dir, 'a.feature');
  writeFileSync(file, text);
  const req = createRequire(join(dir, 'x.cjs'));
  const ids = req('./cucumber-thread-ids.cjs') as Ids;
  const options = { newId: ids.threadIds, relativeTo: dir };
  const key = JSON.stringify({ paths: [file], relativeTo: dir });
  const envelopes = [{ source: { uri: 'a.feature', data: text, mediaType: 'text/x.cucumber.gherkin+plain' } }, { pickle: { id: '1', uri: 'a.feature', astNodeIds: ['0'] } }];
  writeFileSync(join(dir, 'gherkin-precompiled.cjs.features.json'), JSON.stringify({ key, from: 0, to: 2, envelopes }));
  return { pre: req('./gherkin-precompiled.cjs') as Precompiled, ids, file, options };
}

const parsed = (): Readable => Readable.from([{ parsed: true }], { objectMode: true });
const all = async (s: Readable): Promise<unknown[]> => {
  const out: unknown[] = [];
  for await (const e of s) out.push(e);
  return out;
};

describe('precompiled feature messages', () => {
  const text = 'Feature: F\n  Scenario: S\n    Then x\n';

  it('are handed out for the same paths, options, counter and text, and the counter moves past their ids', async () => {
    const { pre, ids, file, options } = setup(text);
    const got = await all(pre.fromPaths([file], options, parsed));
    expect(got).toEqual([{ source: { uri: 'a.feature', data: text, mediaType: 'text/x.cucumber.gherkin+plain' } }, { pickle: { id: '1', uri: 'a.feature', astNodeIds: ['0'] } }]);
    expect(ids.threadIds()).toBe('2');
    // once: the objects are the caller's now
    expect(await all(pre.fromPaths([file], options, parsed))).toEqual([{ parsed: true }]);
  });

  it('are not used when a file differs, the counter stands elsewhere, or the options or ids differ', async () => {
    {
      const { pre, ids, file, options } = setup(text);
      writeFileSync(file, text.replace('x', 'y'));
      expect(await all(pre.fromPaths([file], options, parsed))).toEqual([{ parsed: true }]);
      expect(ids.peekThreadId()).toBe(0);
    }
    {
      const { pre, ids, file, options } = setup(text);
      ids.threadIds();
      expect(await all(pre.fromPaths([file], options, parsed))).toEqual([{ parsed: true }]);
    }
    {
      const { pre, file, options } = setup(text);
      expect(await all(pre.fromPaths([file], { ...options, defaultDialect: 'de' }, parsed))).toEqual([{ parsed: true }]);
    }
    {
      const { pre, file, options } = setup(text);
      expect(await all(pre.fromPaths([file], { ...options, newId: () => 'u' }, parsed))).toEqual([{ parsed: true }]);
    }
    {
      const { pre, file, options } = setup(text);
      expect(await all(pre.fromPaths([file, file], options, parsed))).toEqual([{ parsed: true }]);
    }
  });
});
