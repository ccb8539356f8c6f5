/**
 * Mistakes in site feature files (issue 21): each is one line `FILE:LINE: …` (an InputError, exit 2)
 * found before any host is opened: unknown step with the nearest known one, ambiguous step, bad
 * parameter value, ids outside `site.`, scenarios without one deciding Then step, Gherkin errors.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSuite, type LoadedSuite } from '../../support/run/suite.js';
import { checkSiteFeatures, distance, siteFeatureFiles } from '../../support/site/preflight.js';
import { definitionsOf, entryOf, type Definition } from '../../support/site/vocabulary.js';
import { stepDocOf } from '../../support/site/step-doc.js';
import { InputError } from '../../support/errors.js';
import { runSuite } from '../../support/cli/run.js';
import { Writable } from 'node:stream';

let suite: LoadedSuite;
beforeAll(async () => {
  // cucumber imports the step files itself (node's loader): let it read TypeScript as the CLI does
  const { register } = await import('tsx/esm/api');
  register();
  suite = await loadSuite();
}, 60_000);

function site(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-site-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** The InputError message of checking one feature file (with `extra` files beside it). */
function problem(feature: string, extra: Record<string, string> = {}): string {
  const dir = site({ 'f/x.feature': feature, ...extra });
  try {
    checkSiteFeatures(siteFeatureFiles([join(dir, 'f')]), suite.support);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message.replace(`${dir}/`, '');
  }
  return 'no problem';
}

const scenario = (step: string, tag = '@check:site.x') => `Feature: F\n\n  ${tag}\n  Scenario: S\n    ${step}\n`;

describe('site feature files are checked before any host is opened', () => {
  it('a good file passes and gives its site check ids', () => {
    const dir = site({ 'a.feature': scenario('Then the kernel is at least 6.11', '@check:site.kernel.min') });
    expect(checkSiteFeatures(siteFeatureFiles([dir]), suite.support)).toEqual([{ id: 'site.kernel.min', file: expect.stringMatching(/a\.feature$/), line: 4 }]);
  });

  it('unknown step: FILE:LINE, the step, the nearest known one with an example', () => {
    expect(problem(scenario('Then the SEV firmwre is at leest 1.55'))).toBe(
      'f/x.feature:5: unknown step "the SEV firmwre is at leest 1.55" (nearest: "the SEV firmware is at least {firmware}", e.g. "Then the SEV firmware is at least 1.55"); sevcheck steps lists every step',
    );
    expect(problem(scenario('Then the kernel is at most 6.11'))).toMatch(/^f\/x\.feature:5: unknown step .*nearest: "the kernel is at least \{version\}"/);
  });

  it('bad parameter values: by the parameter type and by the step', () => {
    expect(problem(scenario('Then the SEV firmware is at least 1.256'))).toMatch(/^f\/x\.feature:5: bad value in "the SEV firmware is at least 1\.256": "1\.256": not a SEV firmware version major\.minor, each 0\.\.255/);
    expect(problem(scenario("Then the reported TCB's SNP SPL is at least 300"))).toMatch(/^f\/x\.feature:5: bad value .*SPL .* from 0 to 255, not 300/);
    expect(problem(scenario('Then the kernel command line contains "a b"'))).toMatch(/^f\/x\.feature:5: bad value .*not one kernel command-line argument/);
    expect(problem(scenario('Then the host offers at least -3 ASIDs to SEV guests'))).toMatch(/^f\/x\.feature:5: bad value .*ASID count must be a whole number from 0/);
    expect(problem(scenario('Then the kernel is at least 6.1.2.3.4'))).toMatch(/^f\/x\.feature:5: bad value .*1 to 4 numbers/);
  });

  it('an allow-list must exist and be one, relative to the feature file', () => {
    expect(problem(scenario("Then every SEV guest's firmware is on the allow-list \"ok.sha256\""), { 'f/ok.sha256': `${'a'.repeat(64)}  ovmf\n` })).toBe('no problem');
    expect(problem(scenario("Then every SEV guest's firmware is on the allow-list \"nope.sha256\""))).toMatch(/^f\/x\.feature:5: bad value .*nope\.sha256: no such file/);
    expect(problem(scenario("Then every SEV guest's firmware is on the allow-list \"bad.sha256\""), { 'f/bad.sha256': 'zzz\n' })).toMatch(/bad\.sha256: line 1: not "<sha256 or sha384 hex digest>/);
  });

  it('check ids: one per scenario, inside site.', () => {
    expect(problem(scenario('Then the kernel is at least 6.11', '@check:host.kernel.min'))).toMatch(/^f\/x\.feature:4: @check:host\.kernel\.min: a site file's check ids start with "site\." .*e\.g\. @check:site\.host\.kernel\.min/);
    expect(problem(scenario('Then the kernel is at least 6.11', '@smoke'))).toMatch(/^f\/x\.feature:4: scenario "S" has no @check:site\.<name> tag/);
    expect(problem(scenario('Then the kernel is at least 6.11', '@check:site.A'))).toMatch(/site\.<name> with a name of a-z/);
    expect(problem(scenario('Then the kernel is at least 6.11', '@check:site.a @check:site.b'))).toMatch(/several check ids/);
  });

  it('one deciding Then step per scenario', () => {
    expect(problem('Feature: F\n  @check:site.x\n  Scenario: S\n    Then the kernel is at least 6.11\n    And QEMU is at least 9.1\n')).toMatch(/^f\/x\.feature:3: scenario "S" has 2 Then steps: .*its own scenario/);
    expect(problem("Feature: F\n  @check:site.x\n  Scenario: S\n    Given the guest owner's launch bundle describes an SEV launch\n")).toMatch(/has no Then step/);
  });

  it('scenario outlines: each example row checked, at its line', () => {
    const outline = 'Feature: F\n  @check:site.k\n  Scenario Outline: S\n    Then the kernel is at least <v>\n    Examples:\n      | v |\n      | 6.11 |\n      | 6.x |\n';
    expect(problem(outline)).toMatch(/^f\/x\.feature:4: unknown step "the kernel is at least 6\.x"/);
  });

  it('Gherkin that does not parse, and no scenario', () => {
    expect(problem('Feature: F\n  Scenario: S\n    Then x\n  Bogus line here\n')).toMatch(/^f\/x\.feature:4: /);
    expect(problem('# nothing\n')).toMatch(/no "Feature:"/);
    expect(problem('Feature: F\n')).toMatch(/^f\/x\.feature:1: the feature has no scenario/);
  });

  it('directories: missing, a file, or without .feature files', () => {
    const dir = site({ 'readme.txt': 'x' });
    expect(() => siteFeatureFiles([join(dir, 'nope')])).toThrow(/--features .*nope: no such directory/);
    expect(() => siteFeatureFiles([join(dir, 'readme.txt')])).toThrow(/not a directory/);
    expect(() => siteFeatureFiles([dir])).toThrow(/has no \.feature file/);
  });

  it('ambiguous: a step two definitions match names both', () => {
    const defs = definitionsOf(suite.support);
    const twin = { ...defs.find((d) => d.pattern === 'the kernel is at least {version}') } as Definition;
    expect(() => checkSiteFeatures(siteFeatureFiles([site({ 'a.feature': scenario('Then the kernel is at least 6.11') })]), { stepDefinitions: [...defs, twin] })).toThrow(
      /a\.feature:5: ambiguous step "the kernel is at least 6\.11": 2 steps match/,
    );
  });

  it('every documented step: its example is accepted, matches only it, and its text has a parameter per documented one', () => {
    const defs = definitionsOf(suite.support);
    const documented = defs.filter((d) => stepDocOf(d.options));
    expect(documented.length).toBeGreaterThanOrEqual(10);
    for (const d of defs) {
      const e = entryOf(d);
      const bare = e.example.replace(/^\S+\s+/, '');
      expect(defs.filter((x) => x.expression.match(bare) !== null), e.example).toEqual([d]);
      expect(e.parameters.length, e.text).toBe((e.text.match(/\{[^}]*\}/g) ?? []).length);
    }
  });

  it('distance is the edit distance', () => {
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('', 'abc')).toBe(3);
  });
});

describe('sevcheck run with a bad site file stops before the host is opened', () => {
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  it('exit 2 with FILE:LINE, although the host does not even exist', async () => {
    const dir = site({ 'a.feature': scenario('Then the kernel is at lest 6.11') });
    const r = await runSuite({ host: 'fixture:/nonexistent-host', format: 'text', outDir: join(dir, 'out'), writeReports: false, features: [dir] }, { stdout: sink(), stderr: sink() });
    expect(r.exitCode).toBe(2);
    expect(r.error).toMatch(/a\.feature:5: unknown step "the kernel is at lest 6\.11"/);
  });
});
