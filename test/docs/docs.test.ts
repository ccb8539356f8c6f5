/**
 * docs/checks.md is the check catalog: every check id a scenario carries (`@check:<id>` in
 * features/) is documented there with its layer and profile, and every id documented there is
 * carried by a scenario. Tags are read as cucumber applies them: a scenario's check, layer and
 * profile tags are those of its feature, the scenario, and (for an outline) each Examples block.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const PROFILES = ['sev', 'sev-es', 'sev-snp'];

function features(dir = 'features'): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? features(join(dir, e.name)) : e.name.endsWith('.feature') ? [join(dir, e.name)] : [],
  );
}

/** The tag sets of every scenario (one per Examples block of an outline). */
function scenarioTags(text: string): string[][] {
  const out: string[][] = [];
  let pending: string[] = [];
  let feature: string[] = [];
  let scenario: string[] | undefined;
  let outlineWithExamples = false;
  const flush = (): void => {
    if (scenario && !outlineWithExamples) out.push([...feature, ...scenario]);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    if (line.startsWith('@')) pending.push(...line.split(/\s+/).filter((t) => t.startsWith('@')));
    else if (/^Feature:/.test(line)) [feature, pending] = [pending, []];
    else if (/^(Scenario|Scenario Outline|Scenario Template|Example):/.test(line)) {
      flush();
      [scenario, pending, outlineWithExamples] = [pending, [], false];
    } else if (/^(Examples|Scenarios):/.test(line) && scenario) {
      out.push([...feature, ...scenario, ...pending]);
      [pending, outlineWithExamples] = [[], true];
    } else if (/^(Background|Rule):/.test(line)) {
      flush();
      [scenario, pending] = [undefined, []];
    }
  }
  flush();
  return out;
}

/** id → layer and profiles, as the features tag them. */
function fromFeatures(): Map<string, { layers: Set<string>; profiles: Set<string> }> {
  const ids = new Map<string, { layers: Set<string>; profiles: Set<string> }>();
  for (const f of features()) {
    for (const tags of scenarioTags(readFileSync(join(ROOT, f), 'utf8'))) {
      for (const id of tags.filter((t) => t.startsWith('@check:')).map((t) => t.slice(7))) {
        const e = ids.get(id) ?? { layers: new Set(), profiles: new Set() };
        for (const t of tags) {
          if (t.startsWith('@layer:')) e.layers.add(t.slice(7));
          if (PROFILES.includes(t.slice(1))) e.profiles.add(t.slice(1));
        }
        ids.set(id, e);
      }
    }
  }
  return ids;
}

/** id → layer (its "## <layer>" section) and profiles (the table's profile column). */
function fromDoc(): Map<string, { layer: string; profiles: Set<string> }> {
  const ids = new Map<string, { layer: string; profiles: Set<string> }>();
  let layer = '';
  for (const line of readFileSync(join(ROOT, 'docs/checks.md'), 'utf8').split('\n')) {
    const h = /^## (\w+)\b/.exec(line);
    if (h) layer = h[1] as string;
    const row = /^\| `([a-z0-9.-]+)` \| ([^|]+) \|/.exec(line);
    if (row) {
      expect(ids.has(row[1] as string), `${row[1]} documented twice`).toBe(false);
      ids.set(row[1] as string, { layer, profiles: new Set((row[2] as string).split(',').map((p) => p.trim())) });
    }
  }
  return ids;
}

describe('docs/checks.md', () => {
  const tagged = fromFeatures();
  const documented = fromDoc();

  it('the features carry checks (the parser found them)', () => {
    expect(tagged.size).toBeGreaterThan(30);
    expect(tagged.get('device.kvm.qemu-access')).toEqual({ layers: new Set(['device']), profiles: new Set(['sev']) });
    expect(tagged.get('host.cpuid.sev')?.profiles).toEqual(new Set(PROFILES));
  });

  it('documents every check id the features carry, and no other', () => {
    expect([...documented.keys()].sort()).toEqual([...tagged.keys()].sort());
  });

  it('gives each check the layer and profiles its scenarios are tagged with', () => {
    for (const [id, t] of tagged) {
      const d = documented.get(id);
      if (!d) continue;
      expect([id, [...t.layers]]).toEqual([id, [d.layer]]);
      expect([id, [...d.profiles].sort()]).toEqual([id, [...t.profiles].sort()]);
    }
  });
});

describe('README points to documentation the project has', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('every docs/*.md it names exists, and the three reference pages are named', () => {
    const named = [...new Set([...readme.matchAll(/docs\/[\w-]+\.md/g)].map((m) => m[0]))];
    expect(named).toEqual(expect.arrayContaining(['docs/fixture-format.md', 'docs/results.md', 'docs/checks.md']));
    for (const d of named) expect(readdirSync(join(ROOT, 'docs')), d).toContain(d.slice('docs/'.length));
  });
  it('is a front page: at most 150 lines, with what it is, who it is for, first commands, one screenshot that exists, and where the docs are', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
    for (const h of ['## First commands', '## Sample output', '## Command line', '## Documentation']) expect(readme).toContain(h);
    expect(readme).toMatch(/^\*\*For\*\* /m);
    const images = [...readme.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(images).toHaveLength(1);
    for (const i of images) expect(readdirSync(join(ROOT, 'docs')), i).toContain(i.slice('docs/'.length));
    // every page in docs/ is listed
    const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    for (const p of pages) expect(readme, p).toContain(`(docs/${p})`);
  });
  it('names no file users do not get (DEVELOPERS.md, the sibling shared/*.md)', () => {
    expect(readme).not.toMatch(/DEVELOPERS\.md|\.\.\/shared\/[\w-]+\.md/);
  });
});
