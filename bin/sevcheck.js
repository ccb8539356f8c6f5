#!/usr/bin/env node
// sevcheck launcher: TypeScript runs through tsx's loader, no build step. `sevcheck measure` uses
// the prebuilt dist/measure.mjs (scripts/build-measure.mjs, run by npm's prepare) while it is
// newer than every source it was built from: plain node, no loader, so it starts in tens of ms.
import { readFileSync, statSync } from 'node:fs';

const argv = process.argv.slice(2);
const root = new URL('../', import.meta.url);

/** The prebuilt measure bundle, if present and not older than any of its sources. */
function prebuiltMeasure() {
  if (process.env.SEVCHECK_NO_PREBUILT) return undefined;
  try {
    const bundle = new URL('dist/measure.mjs', root);
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/measure.inputs.json', root), 'utf8'));
    for (const src of inputs) if (statSync(new URL(src, root)).mtimeMs > built) return undefined;
    return bundle.href;
  } catch {
    return undefined;
  }
}

const fast = argv[0] === 'measure' ? prebuiltMeasure() : undefined;
if (fast) {
  const { runMeasure } = await import(fast);
  process.exitCode = await runMeasure(argv.slice(1));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../support/cli/main.ts');
  process.exitCode = await main(argv);
}
