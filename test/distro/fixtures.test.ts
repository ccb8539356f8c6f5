/**
 * Meta-test for the authored root file systems (fixtures/rootfs/<name>/tree, verdicts in
 * <name>/expected.json, profile sev-snp): the distro layer gives exactly the expected verdict for
 * every distro id. These trees have no binaries, so everything the image's own programs would
 * answer is absent here (QEMU missing, sesearch missing); the real Debian images cover those
 * (images.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { runRootfs } from './run-rootfs.js';

const DIR = join(ROOT, 'fixtures/rootfs');

describe('authored root file systems give their expected distro verdicts (profile sev-snp)', () => {
  for (const name of readdirSync(DIR).sort()) {
    it(name, async () => {
      const expected = JSON.parse(readFileSync(join(DIR, name, 'expected.json'), 'utf8')) as Record<string, string>;
      const r = await runRootfs(join(DIR, name, 'tree'), 'sev-snp', '@layer:distro');
      expect(r.stderr).toBe('');
      expect(r.byId).toEqual(expected);
      // exit 1: compliance failures (every fixture fails some check), never 2 (harness / input)
      expect(r.code).toBe(1);
    }, 60_000);
  }
});
