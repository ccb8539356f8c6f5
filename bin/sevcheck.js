#!/usr/bin/env node
// sevcheck launcher. Every command runs from a prebuilt plain-JS bundle while every source it was
// built from still has the recorded SHA-256 (content, not mtime): `measure` from dist/measure.mjs
// (scripts/build-measure.mjs), everything else from dist/run/sevcheck.cjs (scripts/build-run.mjs, with
// the cucumber support code prebuilt too; dist/run/load.cjs compiles it with V8's code cache).
// Both are built by npm's prepare. An edited checkout, or
// SEVCHECK_NO_PREBUILT=1, runs the TypeScript sources through tsx's loader instead.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const root = new URL('../', import.meta.url);
const rootDir = fileURLToPath(root);

/**
 * A file's identity and last change as the kernel keeps them: device, inode, size, and mtime and
 * ctime in ns. Every write to a file sets its ctime to the current time, and nothing but the
 * kernel sets ctime (utimes(2) and touch set mtime only), so a file whose stamp is what the build
 * recorded has not been written since (scripts/build-run.mjs records a stamp only for a file
 * unchanged while it was read and last changed well before the build, so a write after the
 * build always gets another ctime). git, editors and npm replace or rewrite the file: another
 * inode or ctime.
 */
const stampOf = (st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/**
 * A prebuilt bundle, if present and built from exactly the current sources: each source's SHA-256
 * is the recorded one. A source whose stamp (dist/run.stamps.json, made by the build as it hashed
 * it) is unchanged still has the content that was hashed and is not read again (a stat instead of
 * reading and hashing ~1.7 MB at every start, issue 23); any other source is read and hashed.
 */
function prebuilt(inputsFile, stampsFile, entry) {
  if (process.env.SEVCHECK_NO_PREBUILT) return undefined;
  try {
    const inputs = JSON.parse(readFileSync(rootDir + inputsFile, 'utf8'));
    let stamps = {};
    try {
      if (stampsFile) stamps = JSON.parse(readFileSync(rootDir + stampsFile, 'utf8'));
    } catch {
      // none: every source is hashed
    }
    for (const [src, sha] of Object.entries(inputs)) {
      if (src.startsWith('dir:')) {
        // "dir:D": the sorted listing of D (a directory cucumber.json globs for support code)
        const listing = readdirSync(rootDir + src.slice(4), { recursive: true }).map(String).sort().join('\n');
        if (createHash('sha256').update(listing).digest('hex') !== sha) return undefined;
        continue;
      }
      const file = rootDir + src;
      const stamp = stamps[src];
      if (stamp !== undefined && stamp === `${stampOf(statSync(file, { bigint: true }))} ${sha}`) continue;
      if (createHash('sha256').update(readFileSync(file)).digest('hex') !== sha) return undefined;
    }
    return { entry, href: new URL(entry, root).href };
  } catch {
    return undefined;
  }
}

const measure = argv[0] === 'measure';
const fast = measure ? prebuilt('dist/measure.inputs.json', undefined, 'dist/measure.mjs') : prebuilt('dist/run.inputs.json', 'dist/run.stamps.json', 'dist/run/sevcheck.cjs');
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
