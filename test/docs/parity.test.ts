/**
 * docs/parity.md's table (every check of sevctl ok and snphost ok → sevcheck id): each id it
 * names is a tagged scenario in features/, and no tool check of the inventory is missing.
 *
 * The table names the ids of issue 12 part 1 (branch hostcpu: host.cpu.amd, host.cpu.epyc,
 * host.cpuid.sme, host.cpuid.vmpl, host.cpuid.page-flush-msr, host.cpuid.phys-addr-reduction,
 * host.cpuid.secure-tsc, host.msr.syscfg-sme, host.msr.syscfg-snp, host.msr.syscfg-vmpl,
 * host.snp.rmp, host.kvm.api) as well: this test is written for the merged tree and fails on a
 * tree without them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

function featureFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? featureFiles(join(dir, e.name)) : e.name.endsWith('.feature') ? [join(dir, e.name)] : [],
  );
}

const tagged = new Set(featureFiles(join(ROOT, 'features')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/@check:([a-z0-9.-]+)/g)].map((m) => m[1] as string)));

function parityRows(): Array<{ tool: string; check: string; ids: string[] }> {
  const readme = readFileSync(join(ROOT, 'docs/parity.md'), 'utf8');
  const start = readme.indexOf('# Parity with `sevctl ok` and `snphost ok`');
  expect(start).toBeGreaterThan(-1);
  const next = readme.slice(start + 4).search(/\n#{2,3} /);
  const section = next === -1 ? readme.slice(start) : readme.slice(start, start + 4 + next);
  return section
    .split('\n')
    .filter((l) => /^\| (sevctl|snphost|both) \|/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return { tool: cells[1] as string, check: cells[2] as string, ids: [...(cells[3] ?? '').matchAll(/`([a-z0-9.-]+)`/g)].map((m) => m[1] as string) };
    });
}

describe('docs/parity.md table', () => {
  const rows = parityRows();

  it('has a row for every check of both tools (docs/parity.md: 19 sevctl, 31 snphost)', () => {
    expect(rows.filter((r) => r.tool === 'sevctl')).toHaveLength(19);
    expect(rows.filter((r) => r.tool === 'snphost')).toHaveLength(31);
    for (const r of rows) expect(r.ids.length, `${r.tool} ${r.check}`).toBeGreaterThan(0);
  });

  it('every id it names is a tagged scenario in features/', () => {
    const missing = [...new Set(rows.flatMap((r) => r.ids))].filter((id) => !tagged.has(id)).sort();
    expect(missing).toEqual([]);
  });
});
