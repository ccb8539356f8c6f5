/**
 * Benchmark: lint 1,000 domain XML files (parse + schema via batched xmllint + all rules).
 * Goal: <= 10 s on 2 cores. Run: npx tsx bench/lint-domain.bench.ts
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintDomainFiles } from '../support/cli/lint.js';

export interface BenchResult {
  readonly files: number;
  readonly ms: number;
  readonly failedChecks: number;
}

export async function benchLintDomain(count = 1000, log: (s: string) => void = console.log): Promise<BenchResult> {
  const template = await readFile(fileURLToPath(new URL('../fixtures/domains/good-sev-q35.xml', import.meta.url)), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'sevcheck-bench-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < count; i++) {
      const f = join(dir, `guest-${String(i).padStart(4, '0')}.xml`);
      // vary the content a little so every file is its own document; every 10th lacks rng iommu
      let xml = template.replaceAll('good-sev-q35', `guest-${i}`);
      if (i % 10 === 0) xml = xml.replace(/(<rng model='virtio'>[\s\S]*?)<driver iommu='on'\/>/, '$1');
      files.push(f);
      await writeFile(f, xml);
    }
    const t0 = performance.now();
    const res = await lintDomainFiles(files, { host: { cbitpos: 51, reducedPhysBits: 1 } });
    const ms = performance.now() - t0;
    const failedChecks = res.reports.reduce((a, r) => a + r.checks.filter((c) => c.status === 'failed').length, 0);
    const schemaOk = res.reports.filter((r) => r.checks[0]?.id === 'domain.schema-valid' && r.checks[0].status === 'passed').length;
    if (res.errors.length || schemaOk !== count || failedChecks !== Math.ceil(count / 10)) {
      throw new Error(`unexpected bench result: ${res.errors.length} errors, ${schemaOk} schema-valid, ${failedChecks} failed checks`);
    }
    log(`lint-domain: ${count} files in ${(ms / 1000).toFixed(2)} s (${(ms / count).toFixed(2)} ms/file; goal <= 10 s)`);
    return { files: count, ms, failedChecks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default benchLintDomain;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchLintDomain();
}
