#!/usr/bin/env node
/**
 * Prebuild `sevcheck measure` into one plain-JS ESM file, dist/measure.mjs, with esbuild (installed
 * with tsx), plus dist/measure.inputs.json: the SHA-256 of every source it was built from.
 * bin/sevcheck.js uses the bundle only while every source still has that hash (content, not mtime:
 * a checkout sets mtimes arbitrarily), so an edited checkout falls back to tsx, never stale code. Meant for the npm `prepare` script (npm ci runs it).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
const inputs = Object.fromEntries(
  Object.keys(result.metafile.inputs).map((p) => {
    const rel = relative(root, join(root, p));
    return [rel, createHash('sha256').update(readFileSync(join(root, rel))).digest('hex')];
  }),
);
writeFileSync(join(root, 'dist/measure.inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
console.log(`build-measure: dist/measure.mjs from ${Object.keys(inputs).length} sources`);
