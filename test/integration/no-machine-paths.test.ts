/**
 * No path of the development machine in the project (issue 13 §3): tests, benchmarks, scripts,
 * docs and support code must run and read the same on any machine, so none of them may name the
 * workspace the project was developed in (/work/...), a local git mirror, or a home directory.
 * Vectors come from test/vectors through test/helpers.ts VECTORS; tools the benchmarks compare against
 * come from an option or an environment variable.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const DIRS = ['test', 'bench', 'scripts', 'docs', 'support', 'steps', 'features', 'bin', '.ci'];
const TEXT = /\.(ts|mjs|js|md|feature|json)$|^run$/;
/** Absolute paths of the machine sevcheck was written on. */
const MACHINE_PATH = /(?<![\w.~-])\/work\/|\/\.mirror\/|\/home\/[a-z_][\w-]*\/|(?<![\w:])\/root\//;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (TEXT.test(name)) yield p;
  }
}

describe('no path of the development machine', () => {
  it('appears in tests, benchmarks, scripts, docs or support code', () => {
    const hits: string[] = [];
    for (const d of DIRS) {
      let list: string[];
      try {
        list = [...files(join(ROOT, d))];
      } catch {
        continue; // a directory this checkout does not have
      }
      for (const f of list) {
        const rel = relative(ROOT, f);
        if (rel === 'test/integration/no-machine-paths.test.ts') continue;
        readFileSync(f, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (MACHINE_PATH.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    for (const rel of ['README.md', 'package.json', 'cucumber.json']) {
      readFileSync(join(ROOT, rel), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (MACHINE_PATH.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('the pattern catches what it is for, and not passwd lines or ssh targets', () => {
    for (const bad of ["const mirror = '/work/.mirror/virtee+sev-snp-measure/repo';", 'reports: /work/main/reports', 'see /home/dev/sev/x', 'cd /root/src']) {
      expect(MACHINE_PATH.test(bad)).toBe(true);
    }
    for (const ok of ['root:x:0:0::/root:/bin/bash', 'ssh://root@epyc1', '/usr/share/OVMF/OVMF_CODE_4M.fd', 'network/work/']) {
      expect(MACHINE_PATH.test(ok)).toBe(false);
    }
  });
});

describe('the SNP bench takes its comparison tool from an option or the environment', () => {
  it('--sev-snp-measure PATH (or =PATH) wins over SEV_SNP_MEASURE; neither: none', async () => {
    const { sevSnpMeasureArg } = await import('../../bench/snp-digest.bench.js');
    expect(sevSnpMeasureArg(['measure', '--sev-snp-measure', '/opt/ssm'], { SEV_SNP_MEASURE: '/env/ssm' })).toBe('/opt/ssm');
    expect(sevSnpMeasureArg(['--sev-snp-measure=/opt/ssm/sev-snp-measure.py'], {})).toBe('/opt/ssm/sev-snp-measure.py');
    expect(sevSnpMeasureArg(['measure'], { SEV_SNP_MEASURE: '/env/ssm' })).toBe('/env/ssm');
    expect(sevSnpMeasureArg(['measure'], {})).toBeUndefined();
  });
  it('says it skips the comparison, and why, when no tool is given or none is where given', async () => {
    const { findSevSnpMeasure } = await import('../../bench/snp-digest.bench.js');
    expect(findSevSnpMeasure(undefined)).toEqual({
      skipped: "not given: pass --sev-snp-measure PATH or set SEV_SNP_MEASURE=PATH (virtee/sev-snp-measure's sev-snp-measure.py or a checkout holding it)",
    });
    expect(findSevSnpMeasure(ROOT)).toEqual({ skipped: `${ROOT}: no sev-snp-measure.py there` });
    const checkout = mkdtempSync(join(tmpdir(), 'sev-snp-measure-'));
    writeFileSync(join(checkout, 'sev-snp-measure.py'), '');
    expect(findSevSnpMeasure(checkout)).toEqual({ dir: checkout });
    expect(findSevSnpMeasure(join(checkout, 'sev-snp-measure.py'))).toEqual({ dir: checkout });
  });
});
