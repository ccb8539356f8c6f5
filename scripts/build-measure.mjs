#!/usr/bin/env node
/**
 * Prebuild `sevcheck measure` into one plain-JS ESM file, dist/measure.mjs, with esbuild (installed
 * with tsx), plus dist/measure.inputs.json listing the sources it was built from. bin/sevcheck.js
 * uses the bundle only while every listed source is older than it, so an edited checkout falls back
 * to tsx and never runs stale code. Meant for the npm `prepare` script (npm ci runs it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/measure.mjs');
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.error('build-measure: esbuild not installed; sevcheck measure will run through tsx');
  process.exit(0);
}
mkdirSync(dirname(outfile), { recursive: true });
const result = await build({
  entryPoints: [join(root, 'support/cli/measure-fast.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs).map((p) => relative(root, join(root, p)));
writeFileSync(join(root, 'dist/measure.inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
console.log(`build-measure: dist/measure.mjs from ${inputs.length} sources`);
