#!/usr/bin/env node
// sevcheck launcher: TypeScript runs through tsx's loader, no build step. `sevcheck measure` uses
// the prebuilt dist/measure.mjs (scripts/build-measure.mjs, run by npm's prepare) while every
// source it was built from still has the recorded SHA-256: plain node, no loader, tens of ms.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const root = new URL('../', import.meta.url);

/** The prebuilt measure bundle, if present and built from exactly the current sources. */
function prebuiltMeasure() {
  if (process.env.SEVCHECK_NO_PREBUILT) return undefined;
  try {
    const inputs = JSON.parse(readFileSync(new URL('dist/measure.inputs.json', root), 'utf8'));
    for (const [src, sha] of Object.entries(inputs)) {
      if (createHash('sha256').update(readFileSync(new URL(src, root))).digest('hex') !== sha) return undefined;
    }
    return new URL('dist/measure.mjs', root).href;
  } catch {
    return undefined;
  }
}

const fast = argv[0] === 'measure' ? prebuiltMeasure() : undefined;
if (process.env.SEVCHECK_LAUNCHER_TRACE) process.stderr.write(`sevcheck: launcher: ${fast ? 'prebuilt dist/measure.mjs' : 'tsx'}\n`);
if (fast) {
  const { runMeasure } = await import(fast);
  process.exitCode = await runMeasure(argv.slice(1));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../support/cli/main.ts');
  process.exitCode = await main(argv);
}
