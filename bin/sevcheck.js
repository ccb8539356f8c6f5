#!/usr/bin/env node
// sevcheck launcher. Every command runs from a prebuilt plain-JS bundle while every source it was
// built from still has the recorded SHA-256 (content, not mtime): `measure` from dist/measure.mjs
// (scripts/build-measure.mjs), everything else from dist/run/sevcheck.cjs (scripts/build-run.mjs, with
// the cucumber support code prebuilt too; dist/run/load.cjs compiles it with V8's code cache).
// Both are built by npm's prepare. An edited checkout, or
// SEVCHECK_NO_PREBUILT=1, runs the TypeScript sources through tsx's loader instead.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const argv = process.argv.slice(2);
const root = new URL('../', import.meta.url);

/** A prebuilt bundle, if present and built from exactly the current sources. */
function prebuilt(inputsFile, entry) {
  if (process.env.SEVCHECK_NO_PREBUILT) return undefined;
  try {
    const inputs = JSON.parse(readFileSync(new URL(inputsFile, root), 'utf8'));
    for (const [src, sha] of Object.entries(inputs)) {
      // "dir:D": the sorted listing of D (a directory cucumber.json globs for support code)
      const bytes = src.startsWith('dir:') ? readdirSync(new URL(src.slice(4), root), { recursive: true }).map(String).sort().join('\n') : readFileSync(new URL(src, root));
      if (createHash('sha256').update(bytes).digest('hex') !== sha) return undefined;
    }
    return { entry, href: new URL(entry, root).href };
  } catch {
    return undefined;
  }
}

const measure = argv[0] === 'measure';
const fast = measure ? prebuilt('dist/measure.inputs.json', 'dist/measure.mjs') : prebuilt('dist/run.inputs.json', 'dist/run/sevcheck.cjs');
if (process.env.SEVCHECK_LAUNCHER_TRACE) process.stderr.write(`sevcheck: launcher: ${fast ? `prebuilt ${fast.entry}` : 'tsx'}\n`);
if (fast && measure) {
  const { runMeasure } = await import(fast.href);
  process.exitCode = await runMeasure(argv.slice(1));
} else if (fast) {
  const { main } = createRequire(import.meta.url)('../dist/run/load.cjs').load();
  process.exitCode = await main(argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../support/cli/main.ts');
  process.exitCode = await main(argv);
}
