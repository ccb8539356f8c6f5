/**
 * The module layout as the layers mean it: support/sev/ is pure (it imports only other pure
 * modules, never the host, probe, rule or cli layers), and no two modules import each other
 * (directly or round a longer cycle), type-only imports included: a type shared by two modules
 * lives in the one below both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a source file (static `import`/`export ... from`, type-only included), as project paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    out.push(relative(ROOT, resolve(ROOT, dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))));
  }
  return out;
}

const files = [...sources('support'), ...sources('steps')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('module layout', () => {
  it('support/sev/ imports only pure modules (sev/, parsers/, errors.ts, verdict.ts)', () => {
    const impure = [...graph].flatMap(([f, deps]) =>
      f.startsWith('support/sev/') ? deps.filter((d) => !/^support\/(sev|parsers)\/|^support\/(errors|verdict)\.ts$/.test(d)).map((d) => `${f} → ${d}`) : [],
    );
    expect(impure).toEqual([]);
  });

  /** Imports that break a floor rule and are still to move: none (issue 23 moved the last ones); a new one fails the tests below. */
  const KNOWN: ReadonlySet<string> = new Set([]);
  const breaking = (test: (f: string, d: string) => boolean): string[] =>
    [...graph].flatMap(([f, deps]) => deps.filter((d) => test(f, d)).map((d) => `${f} → ${d}`)).filter((e) => !KNOWN.has(e));

  it('support/host/ holds the Host backends and their plumbing only (no KDS client, no QEMU process)', () => {
    const files = [...graph.keys()].filter((f) => f.startsWith('support/host/'));
    expect(files.filter((f) => /kds|qemu|qmp/.test(f))).toEqual([]);
  });

  it('run/ and fleet/ never import from cli/', () => {
    expect(breaking((f, d) => /^support\/(run|fleet)\//.test(f) && d.startsWith('support/cli/'))).toEqual([]);
  });

  it('probes never import from rules/ (rules import probe types, never the reverse)', () => {
    expect(breaking((f, d) => f.startsWith('support/probes/') && d.startsWith('support/rules/'))).toEqual([]);
  });

  it('parsers/ import nothing from device/ (a grammar knows no access semantics)', () => {
    expect(breaking((f, d) => f.startsWith('support/parsers/') && d.startsWith('support/device/'))).toEqual([]);
  });

  it('no import cycles between modules', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
