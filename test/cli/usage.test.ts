/**
 * README/--help usage from one source (issue 20 item 5): support/cli/usage.ts USAGE is the
 * README's "Command line" block and part of `sevcheck --help`, and every option run, record and
 * fleet accept (as their own --help lists them) is in it (README usage once lacked --min-firmware).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../support/cli/usage.js';
import { ROOT, sevcheck } from '../helpers.js';

describe('usage: one source for README and --help', () => {
  it("README's Command line block is USAGE, verbatim", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Command line\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBe(USAGE);
  });

  it('sevcheck --help prints USAGE', async () => {
    const r = await sevcheck(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(USAGE.split('\n').map((l) => `  ${l}`).join('\n'));
  });

  it.each(['run', 'record', 'fleet'])('every option of sevcheck %s is in USAGE', async (cmd) => {
    const r = await sevcheck([cmd, '--help']);
    expect(r.code).toBe(0);
    const options = [...r.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((o) => o !== '--help');
    expect(options.length).toBeGreaterThan(5);
    const missing = options.filter((o) => !new RegExp(`${o}(?![a-z-])`).test(USAGE));
    expect(missing, `${cmd} options missing from support/cli/usage.ts`).toEqual([]);
  });
});
