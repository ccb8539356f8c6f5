#!/usr/bin/env node
/**
 * Prebuild `sevcheck` (every command but `measure`, which has dist/measure.mjs) and the cucumber
 * support code into plain-JS ESM under dist/run/ with esbuild (installed with tsx):
 *   dist/run/main.mjs     support/cli/main.ts (bin/sevcheck.js calls its main(argv))
 *   dist/run/support.mjs  what cucumber.json's "import" names (world, hooks, parameter types,
 *                         steps), expanded with cucumber's own glob; runSuite hands this file to
 *                         cucumber instead of the .ts files (support/run/prebuilt.ts)
 *   dist/run/pretty.mjs   cucumber's built-in "pretty" formatter
 *   dist/run/worker.mjs   a `sevcheck fleet` worker thread (support/fleet/worker.ts; fleet/pool.ts starts it)
 *   dist/run/chunk-*.mjs  modules both share (one run context, one @cucumber/cucumber)
 * plus dist/run.inputs.json: the SHA-256 of every source they were built from. bin/sevcheck.js
 * uses the bundle only while every source still has that hash (content, not mtime), so an edited
 * checkout falls back to tsx, never stale code. Packages stay in node_modules (imported at run
 * time), so cucumber's support-code registry is the one instance all entries see.
 * Meant for the npm `prepare` script (npm ci runs it).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const finaldir = join(root, 'dist/run');
// built next to dist/run and renamed into place, so that a sevcheck started meanwhile never finds half a bundle
const outdir = join(root, `dist/run.${process.pid}.tmp`);
let build;
let glob;
try {
  ({ build } = await import('esbuild'));
  ({ glob } = await import('glob'));
} catch {
  console.error('build-run: esbuild or glob not installed; sevcheck will run through tsx');
  process.exit(0);
}

/** cucumber.json's default profile "import" list, expanded as cucumber expands it (glob, sorted per pattern). */
async function supportFiles() {
  const config = JSON.parse(readFileSync(join(root, 'cucumber.json'), 'utf8'));
  const files = [];
  for (const pattern of config.default.import) {
    for (const f of (await glob(pattern, { cwd: root, absolute: true })).sort()) if (!files.includes(f)) files.push(f);
  }
  if (files.length === 0) throw new Error('build-run: cucumber.json imports no support code');
  return files;
}

const EXTERNAL = ['@cucumber/html-formatter', 'esbuild', 'tsx', 'tsx/*'];
// cucumber's "pretty" formatter, the package cucumber itself loads by name (its own nested copy):
// bundled as dist/run/pretty.mjs so that its require("@cucumber/cucumber") is the bundled cucumber,
// not a second, unbundled one (that alone cost more than the rest of the start)
const { createRequire } = await import('node:module');
const prettyFormatter = createRequire(createRequire(join(root, 'package.json')).resolve('@cucumber/cucumber/package.json')).resolve('@cucumber/pretty-formatter');
const support = await supportFiles();
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { main: join(root, 'support/cli/main.ts'), support: 'sevcheck:support', pretty: prettyFormatter, worker: join(root, 'support/fleet/worker.ts') },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  chunkNames: 'chunk-[hash]',
  outExtension: { '.js': '.mjs' },
  // Packages are bundled too (loading ~900 small CommonJS files one by one was most of the start
  // time); these stay in node_modules: they read files next to their own sources (__dirname) or
  // are loaded by name at run time (cucumber's "pretty" formatter is @cucumber/pretty-formatter).
  external: EXTERNAL,
  // CommonJS packages inside an ES module: give them require, __filename and __dirname (dist/run)
  banner: {
    js: [
      "import { createRequire as __sevcheckRequire } from 'node:module';",
      "import { fileURLToPath as __sevcheckPath } from 'node:url';",
      'const require = __sevcheckRequire(import.meta.url);',
      'const __filename = __sevcheckPath(import.meta.url);',
      "const __dirname = __sevcheckPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  define: { SEVCHECK_PREBUILT: 'true' },
  metafile: true,
  sourcemap: 'external',
  // the map only names files and lines (cucumber's definition sites, mapped error stacks); Node
  // parses it whole when support.mjs loads, so it carries no copy of the sources
  sourcesContent: false,
  legalComments: 'none',
  // less text for V8 to decode and parse at every start (4.4 MB -> 3.1 MB). Identifiers keep their
  // names (no --keep-names wrappers needed, messages that name a class stay the same).
  // SEVCHECK_BUILD_READABLE=1 builds it unminified, for reading a CPU profile of a run.
  minifyWhitespace: !process.env.SEVCHECK_BUILD_READABLE,
  minifySyntax: !process.env.SEVCHECK_BUILD_READABLE,
  logLevel: 'warning',
  plugins: [
    {
      // regexp-match-indices → the native `d` flag (see that file)
      name: 'native-match-indices',
      setup(b) {
        b.onResolve({ filter: /^regexp-match-indices$/ }, () => ({ path: join(root, 'scripts/regexp-match-indices-native.cjs') }));
      },
    },
    {
      // cucumber finds where a step, hook or parameter type is defined from the first stack frame
      // outside its own files, parsed from the text of `new Error().stack`; with source maps on,
      // Node maps every frame of every such stack. scripts/cucumber-definition-line.cjs reads the
      // same frames as V8 CallSites and maps only the one it needs (same result, a fraction of the time)
      name: 'cucumber-definition-line',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]support_code_library_builder[\\/]get_definition_line_and_uri\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          // the stand-in follows this version's rule; a changed original must be looked at again
          for (const expected of ['error_stack_parser_1.default.parse(new Error())', 'frame.fileName !== __filename && !isExcluded(frame.fileName)', 'node_path_1.default.relative(cwd, uri)']) {
            if (!text.includes(expected)) throw new Error(`build-run: ${args.path} changed: "${expected}" not found (see scripts/cucumber-definition-line.cjs)`);
          }
          return { contents: readFileSync(join(root, 'scripts/cucumber-definition-line.cjs'), 'utf8'), resolveDir: dirname(args.path), loader: 'js' };
        });
      },
    },
    {
      // one message-id counter per thread for every run, instead of a random-UUID generator per
      // run (see scripts/cucumber-thread-ids.cjs): run_cucumber.js and load_sources.js
      name: 'cucumber-thread-ids',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]api[\\/](run_cucumber|load_sources)\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'const newId = messages_1.IdGenerator.uuid();';
          if (text.split(from).length !== 2) throw new Error(`build-run: ${args.path} changed: ${JSON.stringify(from)} not found once`);
          const ids = JSON.stringify(join(root, 'scripts/cucumber-thread-ids.cjs'));
          return { contents: text.replace(from, `const newId = require(${ids}).threadIds;`), loader: 'js' };
        });
      },
    },
    {
      // Cucumber runs every step and hook inside an AsyncLocalStorage (runtime/scope/) only so that
      // its `worldProxy` and `contextProxy` exports can find the current World; sevcheck's steps use
      // `this`, never those proxies. An AsyncLocalStorage in use turns on Node 20's promise hooks
      // for the whole thread: every promise of every check paid for them (measured, issue 23: 4-5%
      // of a fleet worker's CPU in node:internal/async_hooks). In the bundle the scopes run their
      // callback directly, and the proxies throw, saying why, if anything ever uses them.
      name: 'cucumber-no-async-scope',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]runtime[\\/]scope[\\/]test_(case|run)_scope\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const which = /test_case_scope\.js$/.test(args.path) ? { run: 'runInTestCaseScope', proxy: 'worldProxy' } : { run: 'runInTestRunScope', proxy: 'contextProxy' };
          for (const expected of [`async function ${which.run}(store, callback) {`, `exports.${which.proxy} = (0, make_proxy_1.makeProxy)(`, 'new node_async_hooks_1.AsyncLocalStorage()']) {
            if (!text.includes(expected)) throw new Error(`build-run: ${args.path} changed: ${JSON.stringify(expected)} not found`);
          }
          const message = `sevcheck's bundle runs cucumber without ${which.proxy} (scripts/build-run.mjs, cucumber-no-async-scope): use \`this\``;
          return {
            contents: [
              "'use strict';",
              "Object.defineProperty(exports, '__esModule', { value: true });",
              `exports.${which.run} = async function ${which.run}(store, callback) { return callback(); };`,
              `exports.${which.proxy} = new Proxy({}, { get() { throw new Error(${JSON.stringify(message)}); } });`,
            ].join('\n'),
            loader: 'js',
          };
        });
      },
    },
    {
      // Cucumber expands its feature and support paths with glob on every runCucumber (lib/paths/
      // paths.js resolvePaths: a file-system walk, an lstat per file). A fleet worker runs the same
      // paths for every host: the bundle resolves each set of paths (cwd, feature paths, support
      // coordinates) once per thread. A fleet's feature files are fixed for its run, as its support
      // code is (loaded once per thread); their content is still compared by size and mtime before
      // each run (support/run/suite.ts compileFeaturesOnce).
      name: 'cucumber-paths-once',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]paths[\\/]paths\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'exports.resolvePaths = resolvePaths;';
          if (text.split(from).length !== 2 || !text.includes('async function resolvePaths(logger, cwd, sources, support = {')) throw new Error(`build-run: ${args.path} changed: resolvePaths not found as expected`);
          const once = [
            'const resolvedOnce = new Map();',
            'exports.resolvePaths = function resolvePathsOnce(logger, cwd, sources, support) {',
            '    const key = JSON.stringify([cwd, sources.paths, support]);',
            '    let hit = resolvedOnce.get(key);',
            '    if (!hit) {',
            '        hit = resolvePaths(logger, cwd, sources, support);',
            '        resolvedOnce.set(key, hit);',
            '        hit.catch(() => resolvedOnce.delete(key));',
            '    }',
            '    return hit.then((r) => ({ ...r, sourcePaths: [...r.sourcePaths], requirePaths: [...r.requirePaths], importPaths: [...r.importPaths], unexpandedSourcePaths: [...r.unexpandedSourcePaths] }));',
            '};',
          ].join('\n');
          return { contents: text.replace(from, once), loader: 'js' };
        });
      },
    },
    {
      // xml2js's index loads its XML builder (xmlbuilder, ~40 modules) with the parser; sevcheck only
      // parses. The builder is loaded on first use of xml2js.Builder instead (same exports).
      name: 'xml2js-lazy-builder',
      setup(b) {
        b.onLoad({ filter: /[\\/]xml2js[\\/]lib[\\/]xml2js\.js$/ }, (args) => {
          let text = readFileSync(args.path, 'utf8');
          for (const [from, to] of [
            ["  builder = require('./builder');\n", ''],
            ['  exports.Builder = builder.Builder;\n', "  Object.defineProperty(exports, 'Builder', { enumerable: true, get: function() { return require('./builder').Builder; } });\n"],
          ]) {
            if (!text.includes(from)) throw new Error(`build-run: ${args.path} changed: ${JSON.stringify(from)} not found`);
            text = text.replace(from, to);
          }
          return { contents: text, loader: 'js' };
        });
      },
    },
    {
      name: 'sevcheck-support',
      setup(b) {
        b.onResolve({ filter: /^sevcheck:support$/ }, () => ({ path: 'support', namespace: 'sevcheck' }));
        b.onLoad({ filter: /.*/, namespace: 'sevcheck' }, () => ({
          contents: support.map((f) => `import ${JSON.stringify(f)};`).join('\n'),
          resolveDir: root,
          loader: 'js',
        }));
      },
    },
  ],
});
// V8 keeps a module's text as a one-byte string only if every character is Latin-1, and Node
// decodes ASCII files on its fast path: a few characters esbuild leaves in regular-expression
// literals (lodash's word patterns: ’) made the largest chunk a slower decode and a two-byte
// string. Outside strings, templates and comments (esbuild escapes those itself), \uXXXX means
// the same character in a regular expression, with or without the u flag (surrogate pairs too).
// support.mjs is left alone: its source map's columns must stay right.
for (const f of readdirSync(outdir)) {
  if (!f.endsWith('.mjs') || f === 'support.mjs') continue;
  const text = readFileSync(join(outdir, f), 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) continue;
  const escaped = text.replace(/[^\x00-\x7f]/g, (c, at) => {
    if (text[at - 1] === '\\') throw new Error(`build-run: ${f}: an escaped non-ASCII character at ${at}; look at the ASCII step`);
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  writeFileSync(join(outdir, f), escaped);
}

// Source maps: only the support code's is kept, so that cucumber names steps and hooks by their
// .ts file and line as under tsx (support/run/prebuilt.ts turns source maps on before loading it);
// the others would cost start time and give nothing a user sees.
for (const f of readdirSync(outdir)) if (f.endsWith('.map') && f !== 'support.mjs.map') rmSync(join(outdir, f));
appendFileSync(join(outdir, 'support.mjs'), '//# sourceMappingURL=support.mjs.map\n');
// The same map as a position table for scripts/cucumber-definition-line.cjs, which names where each
// step, hook and parameter type is defined: decoding the VLQ map at run time (node:module
// SourceMap) cost 10-30 ms of every start. Built from Node's own findEntry at every column of
// support.mjs, so a lookup gives exactly what Node's mapping of that frame gives: runs of equal
// results as [line, column, source index or -1, original line], base64 of an Int32Array.
{
  const { SourceMap } = await import('node:module');
  const payload = JSON.parse(readFileSync(join(outdir, 'support.mjs.map'), 'utf8'));
  const map = new SourceMap(payload);
  const lines = readFileSync(join(outdir, 'support.mjs'), 'utf8').split('\n');
  const runs = [];
  let last = '';
  for (let l = 0; l < lines.length; l++) {
    for (let c = 0; c < Math.max(lines[l].length, 1); c++) {
      const e = map.findEntry(l, c);
      const found = e.originalSource && e.originalLine !== undefined && e.originalColumn !== undefined;
      const value = found ? [payload.sources.indexOf(e.originalSource), e.originalLine] : [-1, -1];
      if (found && value[0] < 0) throw new Error(`build-run: support.mjs.map: unknown source ${e.originalSource}`);
      const key = value.join(':');
      if (key !== last) runs.push(l, c, ...value);
      last = key;
    }
  }
  const positions = Buffer.from(new Int32Array(runs).buffer).toString('base64');
  writeFileSync(join(outdir, 'support.mjs.positions.json'), `${JSON.stringify({ map: 'support.mjs.map', sources: payload.sources, positions })}\n`);
}

// what went into which file (esbuild's metafile: `npx esbuild --analyze` reads it), for start-up work
writeFileSync(join(outdir, '..', 'run.meta.json'), JSON.stringify(result.metafile));
const sha256 = (rel) => createHash('sha256').update(readFileSync(join(root, rel))).digest('hex');
// the project's own sources; the bundled packages are pinned by package-lock.json (npm ci, which
// runs this build again) so that the launcher's check reads ~100 files, not ~900
const inputs = Object.fromEntries(
  Object.keys(result.metafile.inputs)
    .filter((p) => !p.startsWith('sevcheck:') && !p.startsWith('node_modules/'))
    .map((p) => relative(root, join(root, p)))
    .map((rel) => [rel, sha256(rel)]),
);
// the support list comes from cucumber.json and its globs: a changed list, or a file added to or
// removed from a globbed directory, must not run an old bundle ("dir:" entries hash the listing,
// as bin/sevcheck.js does)
inputs['cucumber.json'] = sha256('cucumber.json');
// bundled in place of a package file (so not among the metafile's own sources)
inputs['scripts/cucumber-definition-line.cjs'] = sha256('scripts/cucumber-definition-line.cjs');
for (const pattern of JSON.parse(readFileSync(join(root, 'cucumber.json'), 'utf8')).default.import) {
  const star = pattern.indexOf('*');
  if (star < 0) continue;
  const dir = pattern.slice(0, star).replace(/\/+$/, '');
  const listing = readdirSync(join(root, dir), { recursive: true }).map(String).sort().join('\n');
  inputs[`dir:${dir}`] = createHash('sha256').update(listing).digest('hex');
}
inputs['package-lock.json'] = sha256('package-lock.json');
const old = join(root, `dist/run.${process.pid}.old`);
rmSync(join(root, 'dist/run.inputs.json'), { force: true });
if (existsSync(finaldir)) renameSync(finaldir, old);
renameSync(outdir, finaldir);
rmSync(old, { recursive: true, force: true });
// last: the launcher uses dist/run only while this file says it is current
const inputsTmp = join(root, `dist/run.inputs.${process.pid}.tmp`);
writeFileSync(inputsTmp, `${JSON.stringify(inputs, null, 2)}\n`);
renameSync(inputsTmp, join(root, 'dist/run.inputs.json'));
console.log(`build-run: dist/run/ from ${Object.keys(inputs).length} sources (${support.length} support files)`);
