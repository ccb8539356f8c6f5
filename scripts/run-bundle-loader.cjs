/**
 * Loads the prebuilt `sevcheck` bundle, dist/run/sevcheck.cjs (scripts/build-run.mjs copies this
 * file to dist/run/load.cjs), once per thread, with V8's code cache (issue 23).
 *
 * Node 20's ES module loader compiles every module from its text at every start and cannot take
 * a code cache (module.enableCompileCache arrived in Node 22.1); a script compiled through
 * vm.Script can (`cachedData`). So the bundle is one CommonJS file, written by the build as a
 * function expression `(function (exports, require, module, __filename, __dirname, import) {...})` and
 * compiled here with the code cache the build made from a training run
 * (dist/run/sevcheck.cjs.cache: the bytecode of the top-level code and of every function that run
 * called, so those are neither parsed again nor compiled lazily).
 *
 * The cache file starts with the SHA-256 of the bundle text it was made from and the bundle's
 * path (V8 itself only checks the text's length, its own version and its flags, and Node 20's V8
 * takes the script's name from the cache, not from the `filename` given here: a cache made for
 * another path would name every stack frame, and so every step's definition site, at that
 * path). A cache that does not match, or one V8 rejects (another Node or V8 version, other V8
 * flags), is not used: the bundle is then compiled from its text as any script, with the same
 * behaviour, only slower.
 * SEVCHECK_CODE_CACHE=off never reads it; SEVCHECK_CODE_CACHE_TRACE=1 says on stderr whether it
 * was used; SEVCHECK_CODE_CACHE_WRITE=FILE writes a new cache when the process exits (the build's
 * training run).
 */
'use strict';

const { createHash } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

// one bundle per thread (its support-code registry and run contexts are per thread anyway) and
// per file (another checkout's bundle in the same process is another bundle)
const FILE = path.join(__dirname, 'sevcheck.cjs');
const KEY = Symbol.for(`sevcheck.run-bundle:${FILE}`);

/** what a cache file starts with: the bundle's SHA-256, its path's length (4 bytes) and its path */
function header(bytes, file) {
  const name = Buffer.from(file);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(name.length);
  return Buffer.concat([createHash('sha256').update(bytes).digest(), length, name]);
}

/** The bundle's exports: main(argv), support(), pretty(), worker(). */
function load() {
  const loaded = globalThis[KEY];
  if (loaded) return loaded;
  const file = FILE;
  const bytes = readFileSync(file);
  // the build writes it ASCII-only (a one-byte string for V8, no UTF-8 decode)
  const source = bytes.latin1Slice(0, bytes.length);
  let cachedData;
  let state = 'off';
  if (process.env.SEVCHECK_CODE_CACHE !== 'off' && !process.env.SEVCHECK_CODE_CACHE_WRITE) {
    try {
      const cache = readFileSync(`${file}.cache`);
      const head = header(bytes, file);
      if (cache.length > head.length && head.equals(cache.subarray(0, head.length))) {
        cachedData = cache.subarray(head.length);
        state = 'used';
      } else state = 'stale';
    } catch {
      state = 'absent';
    }
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  if (cachedData && script.cachedDataRejected) state = 'rejected';
  if (process.env.SEVCHECK_CODE_CACHE_TRACE) process.stderr.write(`sevcheck: code cache ${state}\n`);
  const module = { exports: {} };
  // the bundle's import() (cucumber loads support code and formatters with it: file URLs) is this file's
  const dynamicImport = (specifier) => import(specifier);
  script.runInThisContext()(module.exports, createRequire(file), module, file, __dirname, dynamicImport);
  globalThis[KEY] = module.exports;
  const out = process.env.SEVCHECK_CODE_CACHE_WRITE;
  if (out) {
    // after the run, so that the functions it called are compiled and go into the cache too
    process.once('exit', () => {
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([header(bytes, file), script.createCachedData()]));
      renameSync(tmp, out);
    });
  }
  return module.exports;
}

exports.load = load;
