#!/usr/bin/env node
/**
 * Prebuild `sevcheck` (every command but `measure`, which has dist/measure.mjs) and the cucumber
 * support code into ONE plain-JS CommonJS file under dist/run/ with esbuild (installed with tsx),
 * loaded with V8's code cache (issue 23: Node 20's ES module loader compiled ~3 MB of modules
 * from their text at every start and cannot use a code cache; a vm.Script can):
 *   dist/run/sevcheck.cjs        everything, as `(function (exports, require, module, __filename,
 *                                __dirname) {...})`; its exports: main(argv) (support/cli/main.ts),
 *                                support() (registers what cucumber.json's "import" names: world,
 *                                hooks, parameter types, steps), pretty() (cucumber's built-in
 *                                "pretty" formatter), worker() (a `sevcheck fleet` worker thread,
 *                                support/fleet/worker.ts). Each module is initialised on first use,
 *                                as with import(): a run never initialises the lint or fleet code.
 *   dist/run/sevcheck.cjs.cache  V8's code cache of it, made by a training run of the bundle on the
 *                                reference fixture (the top-level code and every function that run
 *                                compiled), after the bundle's SHA-256
 *   dist/run/load.cjs            the loader (scripts/run-bundle-loader.cjs): compiles the bundle
 *                                once per thread with the cache, or without it when V8 rejects it
 *   dist/run/support.mjs, pretty.mjs, worker.mjs
 *                                three-line files for what cucumber and the fleet pool load by
 *                                path: each calls the bundle's support(), pretty() or worker()
 *   dist/run/sevcheck.cjs.positions.json, .positions.bin
 *                                the bundle's source map as a table (cucumber's definition lines)
 * plus dist/run.inputs.json: the SHA-256 of every source they were built from. bin/sevcheck.js
 * uses the bundle only while every source still has that hash (content, not mtime), so an edited
 * checkout falls back to tsx, never stale code; and dist/run.stamps.json: the stat of each source
 * as it was hashed, so that the launcher reads and hashes only the sources whose stat changed.
 * Packages are bundled too, so cucumber's
 * support-code registry is the one instance all entries see.
 * Meant for the npm `prepare` script (npm ci runs it).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/**
 * cucumber's `await import(` calls through the loader's import() (plugin dynamic-import-through-loader;
 * esbuild runs one onLoad per file, so a plugin that rewrites another cucumber file applies this too)
 */
const throughLoader = (text) => text.replaceAll('await import(', 'await __sevcheckImport(');

/**
 * A plugin's check of the original it rewrites or stands in for: a changed original must be looked
 * at again, so the build stops unless `text` holds each of `expected` and each of `once` exactly
 * once. `see`: the stand-in to look at then.
 */
function expectText(file, text, { expected = [], once = [], see } = {}) {
  const refuse = (e, how) => {
    throw new Error(`build-run: ${file} changed: ${JSON.stringify(e)} ${how}${see ? ` (see ${see})` : ''}`);
  };
  for (const e of expected) if (!text.includes(e)) refuse(e, 'not found');
  for (const e of once) if (text.split(e).length !== 2) refuse(e, 'not found once');
}
/**
 * A stand-in's text, bundled in place of a package file (a plugin's `contents`): esbuild's
 * metafile names the package file, not the stand-in, so every stand-in read here is hashed into
 * dist/run.inputs.json below, and an edited stand-in makes the launcher refuse the bundle.
 */
const standIns = new Set();
function standIn(rel) {
  standIns.add(rel);
  return readFileSync(join(root, rel), 'utf8');
}
const EXTERNAL = ['@cucumber/html-formatter', 'esbuild', 'tsx', 'tsx/*'];
// cucumber's "pretty" formatter, the package cucumber itself loads by name (its own nested copy):
// bundled as dist/run/pretty.mjs so that its require("@cucumber/cucumber") is the bundled cucumber,
// not a second, unbundled one (that alone cost more than the rest of the start)
const prettyFormatter = createRequire(createRequire(join(root, 'package.json')).resolve('@cucumber/cucumber/package.json')).resolve('@cucumber/pretty-formatter');
const support = await supportFiles();
mkdirSync(outdir, { recursive: true });
const BUNDLE = 'sevcheck.cjs';
const result = await build({
  // one entry (see sevcheck-bundle below): no chunks, one script for V8 to compile and cache
  entryPoints: { sevcheck: 'sevcheck:bundle' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.cjs' },
  // Packages are bundled too (loading ~900 small CommonJS files one by one was most of the start
  // time); these stay in node_modules: they read files next to their own sources (__dirname) or
  // are loaded by name at run time.
  external: EXTERNAL,
  // The file is one function expression, compiled by dist/run/load.cjs (scripts/run-bundle-loader.cjs)
  // with vm.Script and called with the CommonJS arguments (require from dist/run, __filename,
  // __dirname: dist/run) and the loader's import(). Strict mode throughout, as the ES modules of the former ESM bundle were.
  // import.meta.url (paths.ts, prebuilt.ts, pool.ts) is the bundle's file URL.
  banner: { js: `(function (exports, require, module, __filename, __dirname, __sevcheckImport) { 'use strict'; var __sevcheckImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  footer: { js: '})' },
  define: { SEVCHECK_PREBUILT: 'true', 'import.meta.url': '__sevcheckImportMetaUrl' },
  metafile: true,
  sourcemap: 'external',
  // the map is only read by this build (the positions table below): no copy of the sources
  sourcesContent: false,
  legalComments: 'none',
  // less text for V8 to decode and parse (4.4 MB -> 3.1 MB). Identifiers keep their names (no
  // --keep-names wrappers needed, messages that name a class stay the same).
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
          // the stand-in follows this version's rule
          expectText(args.path, text, {
            expected: ['error_stack_parser_1.default.parse(new Error())', 'frame.fileName !== __filename && !isExcluded(frame.fileName)', 'node_path_1.default.relative(cwd, uri)'],
            see: 'scripts/cucumber-definition-line.cjs',
          });
          return { contents: standIn('scripts/cucumber-definition-line.cjs'), resolveDir: dirname(args.path), loader: 'js' };
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
          expectText(args.path, text, { once: [from] });
          const ids = JSON.stringify(join(root, 'scripts/cucumber-thread-ids.cjs'));
          return { contents: text.replace(from, `const newId = require(${ids}).threadIds;`), loader: 'js' };
        });
      },
    },
    {
      // cucumber's configuration reader loads the yaml package (72 modules) for cucumber.yaml files;
      // sevcheck's configuration is cucumber.json: yaml is loaded on first use of a YAML file instead
      name: 'cucumber-lazy-yaml',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]configuration[\\/]from_file\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'const yaml_1 = __importDefault(require("yaml"));\n';
          expectText(args.path, text, { expected: [from, 'yaml_1.default.parse('], once: ['yaml_1.'] });
          // (its import() of .mjs configuration files goes through the loader too: one onLoad per file)
          return { contents: throughLoader(text.replace(from, 'const yaml_1 = { get default() { return __importDefault(require("yaml")).default; } };\n')), loader: 'js' };
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
          expectText(args.path, text, { expected: [`async function ${which.run}(store, callback) {`, `exports.${which.proxy} = (0, make_proxy_1.makeProxy)(`, 'new node_async_hooks_1.AsyncLocalStorage()'] });
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
      // cucumber loads support code, formatters and plugins with import(). A script compiled with a
      // code cache cannot (on Node 20 vm.Script's import() works only without cachedData, and
      // only as an experimental feature that prints a warning): the bundle calls the loader's
      // import() instead, `__sevcheckImport` (scripts/run-bundle-loader.cjs passes it in)
      name: 'dynamic-import-through-loader',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/].*\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          // every other import() is refused below, after the build
          if (!text.includes('await import(')) return undefined;
          return { contents: throughLoader(text), loader: 'js' };
        });
      },
    },
    {
      // the two formatter stand-ins' shared message text (they are bundled from cucumber's directory)
      name: 'cucumber-message-text',
      setup(b) {
        b.onResolve({ filter: /^\.\/cucumber-message-text\.cjs$/ }, () => ({ path: join(root, 'scripts/cucumber-message-text.cjs') }));
      },
    },
    {
      // cucumber's "html" formatter (cucumber.html) streamed ~1,400 messages through two Transform
      // streams into ~2,900 writes; scripts/cucumber-html-formatter.cjs writes the same page once
      name: 'cucumber-html-formatter',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]formatter[\\/]builtin[\\/]html\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const pageFile = createRequire(args.path).resolve('@cucumber/html-formatter/dist/src/CucumberHtmlStream.js');
          // the stand-in writes what these versions write
          const see = 'scripts/cucumber-html-formatter.cjs';
          expectText(args.path, text, { expected: ['const htmlStream = new html_formatter_1.CucumberHtmlStream();', 'behaviour: options.externalAttachments,', "optionsKey: 'html',"], see });
          expectText(pageFile, readFileSync(pageFile, 'utf8'), {
            expected: [
              "this.writeTemplateBetween(null, '{{title}}', (err) => {",
              "this.push('Cucumber');",
              "this.writeTemplateBetween('{{custom_css}}', '{{messages}}', (err) => {",
              "this.writeTemplateBetween('{{custom_script}}', null, callback);",
              "this.push(',');",
              "this.push(JSON.stringify(envelope).replace(/</g, '\\\\x3C'));",
              "constructor(cssPath = node_path_1.default.join(__dirname, '..', 'main.css'), jsPath = node_path_1.default.join(__dirname, '..', 'main.js'), iconPath = node_path_1.default.join(__dirname, 'icon.url')) {",
            ],
            see,
          });
          return { contents: standIn('scripts/cucumber-html-formatter.cjs'), resolveDir: dirname(args.path), loader: 'js' };
        });
      },
    },
    {
      // Cucumber expands its feature and support paths with glob on every runCucumber (lib/paths/
      // paths.js resolvePaths: a file-system walk, an lstat per file). A fleet worker runs the same
      // paths for every host: the bundle resolves each set of paths (cwd, feature paths, support
      // coordinates) once per thread, and each glob of them once. A fleet's feature files are fixed for its run, as its support
      // code is (loaded once per thread); their content is still compared by size and mtime before
      // each run (support/run/suite.ts compileFeaturesOnce).
      name: 'cucumber-paths-once',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]paths[\\/]paths\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'exports.resolvePaths = resolvePaths;';
          const expand = 'async function expandPaths(cwd, unexpandedPaths, defaultExtension) {';
          expectText(args.path, text, { once: [from, expand], expected: ['async function resolvePaths(logger, cwd, sources, support = {', 'const sourcePaths = await expandSourcePaths(cwd, unexpandedSourcePaths);'] });
          // each glob once too: loadSupport and loadSources (which pass different support coordinates) expand the same feature paths
          // a function whose promise is remembered per JSON key of its arguments (a rejected one is
          // asked again), each caller getting its own copy of the answer
          const remembered = (head, params, key, call, copy) =>
            [
              `const ${head.memo} = new Map();`,
              `${head.decl}(${params}) {`,
              `    const key = JSON.stringify([${key}]);`,
              `    let hit = ${head.memo}.get(key);`,
              '    if (!hit) {',
              `        hit = ${call}(${params});`,
              `        ${head.memo}.set(key, hit);`,
              `        hit.catch(() => ${head.memo}.delete(key));`,
              '    }',
              `    return hit.then((r) => ${copy});`,
              `}${head.end ?? ''}`,
            ].join('\n');
          const expandOnce = `${remembered({ memo: 'expandedOnce', decl: 'function expandPaths' }, 'cwd, unexpandedPaths, defaultExtension', 'cwd, unexpandedPaths, defaultExtension', 'expandPathsGlob', '[...r]')}\nasync function expandPathsGlob(cwd, unexpandedPaths, defaultExtension) {`;
          const once = remembered(
            { memo: 'resolvedOnce', decl: 'exports.resolvePaths = function resolvePathsOnce', end: ';' },
            'logger, cwd, sources, support',
            'cwd, sources.paths, support',
            'resolvePaths',
            '({ ...r, sourcePaths: [...r.sourcePaths], requirePaths: [...r.requirePaths], importPaths: [...r.importPaths], unexpandedSourcePaths: [...r.unexpandedSourcePaths] })',
          );
          return { contents: text.replace(from, once).replace(expand, expandOnce), loader: 'js' };
        });
      },
    },
    {
      // the feature files' messages as the training run parsed them, while the files are the same
      // (see scripts/gherkin-precompiled.cjs): GherkinStreams.fromPaths asks it first
      name: 'gherkin-precompiled',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]gherkin-streams[\\/]dist[\\/]src[\\/]GherkinStreams\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'function fromPaths(paths, options) {';
          expectText(args.path, text, { once: [from], expected: ["fs_1.default.createReadStream(path, { encoding: 'utf-8' })", 'exports.default = {\n    fromPaths,'], see: 'scripts/gherkin-precompiled.cjs' });
          const precompiled = JSON.stringify(join(root, 'scripts/gherkin-precompiled.cjs'));
          const to = `function fromPaths(paths, options) { return require(${precompiled}).fromPaths(paths, options, parsePaths); }\nfunction parsePaths(paths, options) {`;
          return { contents: text.replace(from, to), loader: 'js' };
        });
      },
    },
    {
      // the step definitions' expressions' syntax trees as the training run parsed them, for the
      // same texts (see scripts/cucumber-expression-asts.cjs)
      name: 'cucumber-expression-asts',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber-expressions[\\/]dist[\\/]cjs[\\/]src[\\/]CucumberExpression\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'this.ast = parser.parse(expression);';
          expectText(args.path, text, { once: [from], expected: ['const Ast_js_1 = require("./Ast.js");', 'const pattern = this.rewriteToRegex(this.ast);'], see: 'scripts/cucumber-expression-asts.cjs' });
          const asts = JSON.stringify(join(root, 'scripts/cucumber-expression-asts.cjs'));
          return { contents: text.replace(from, `this.ast = require(${asts}).parse(expression, parser, Ast_js_1.Node);`), loader: 'js' };
        });
      },
    },
    {
      // cucumber's "message" formatter (messages.ndjson) wrote each of ~1,400 lines on its own;
      // scripts/cucumber-message-formatter.cjs writes the same lines once when the file is closed
      name: 'cucumber-message-formatter',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]formatter[\\/]builtin[\\/]message\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const expected = "formatter({ on, write }) {\n        on('message', (message) => write(JSON.stringify(message) + '\\n'));\n    },";
          expectText(args.path, text, { expected: [expected], see: 'scripts/cucumber-message-formatter.cjs' });
          return { contents: standIn('scripts/cucumber-message-formatter.cjs'), resolveDir: dirname(args.path), loader: 'js' };
        });
      },
    },
    {
      // cucumber derives a run's pickles from its features through a new gherkin Query on every
      // run; scripts/cucumber-gherkin-once.cjs keeps what it derives from a set of compiled
      // features (support/run/suite.ts compileFeaturesOnce) for the runs that replay them
      name: 'cucumber-gherkin-once',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]api[\\/]gherkin\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const see = 'scripts/cucumber-gherkin-once.cjs';
          expectText(args.path, text, {
            once: ['async function getPicklesAndErrors({ newId, cwd, sourcePaths, coordinates, onEnvelope, }) {', 'async function gherkinFromPaths(paths, options, onEnvelope) {'],
            expected: [
              'gherkinQuery.update(envelope);',
              'parseErrors.push(envelope.parseError);',
              'onEnvelope?.(envelope);',
              '.find((doc) => doc.uri === pickle.uri);',
              'const location = gherkinQuery.getLocation(pickle.astNodeIds[pickle.astNodeIds.length - 1]);',
              'const gherkinMessageStream = gherkin_streams_1.GherkinStreams.fromPaths(paths, options);',
              'relativeTo: cwd,',
              'defaultDialect: coordinates.defaultDialect,',
            ],
            see,
          });
          return { contents: standIn(see), resolveDir: dirname(args.path), loader: 'js' };
        });
      },
    },
    {
      // cucumber matches every pickle step against every step definition each time it assembles
      // a run's test cases (each a map lookup once support/run/suite.ts matchOnce remembers the
      // expressions' answers; ~55,000 per run here, 1.1 ms of each fleet host). The definitions a
      // text matches are the same while the support code library is: remembered per library and
      // text (a library's step definitions are fixed once it is built: cucumber finalizes it)
      name: 'cucumber-matches-once',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber[\\/]lib[\\/]assemble[\\/]assemble_test_cases\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = 'const stepDefinitions = supportCodeLibrary.stepDefinitions.filter((stepDefinition) => stepDefinition.matchesStepName(pickleStep.text));';
          const fn = 'function makeSteps({';
          expectText(args.path, text, { once: [from, fn] });
          const to = [
            'let matched = matchedOnce.get(supportCodeLibrary);',
            '        if (!matched) matchedOnce.set(supportCodeLibrary, (matched = new Map()));',
            '        let stepDefinitions = matched.get(pickleStep.text);',
            '        if (!stepDefinitions) {',
            '            stepDefinitions = supportCodeLibrary.stepDefinitions.filter((stepDefinition) => stepDefinition.matchesStepName(pickleStep.text));',
            '            if (matched.size < 10000) matched.set(pickleStep.text, stepDefinitions);',
            '        }',
          ].join('\n');
          return { contents: text.replace(from, to).replace(fn, `const matchedOnce = new WeakMap();\n${fn}`), loader: 'js' };
        });
      },
    },
    {
      // cucumber-expressions orders parameter types that share a regular expression by name with
      // localeCompare; the first localeCompare of a process sets up ICU's collator (~6 ms of every
      // run). For names of [a-z0-9.-] (every built-in and every sevcheck parameter type) the root
      // collation's order is the code points' (support/report/findings.ts idOrder, tested against
      // localeCompare); any other name still goes to localeCompare
      name: 'cucumber-expressions-compare',
      setup(b) {
        b.onLoad({ filter: /@cucumber[\\/]cucumber-expressions[\\/]dist[\\/]cjs[\\/]src[\\/]ParameterType\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const from = "return (pt1.name || '').localeCompare(pt2.name || '');";
          expectText(args.path, text, { once: [from] });
          const to = "{ const a = pt1.name || '', b = pt2.name || ''; return /^[a-z0-9.-]*$/.test(a) && /^[a-z0-9.-]*$/.test(b) ? (a < b ? -1 : a > b ? 1 : 0) : a.localeCompare(b); }";
          return { contents: text.replace(from, to), loader: 'js' };
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
          const edits = [
            ["  builder = require('./builder');\n", ''],
            ['  exports.Builder = builder.Builder;\n', "  Object.defineProperty(exports, 'Builder', { enumerable: true, get: function() { return require('./builder').Builder; } });\n"],
          ];
          expectText(args.path, text, { expected: edits.map(([from]) => from) });
          for (const [from, to] of edits) text = text.replace(from, to);
          return { contents: text, loader: 'js' };
        });
      },
    },
    {
      // the bundle's one entry, and the support code it registers on demand (cucumber.json's list)
      name: 'sevcheck-bundle',
      setup(b) {
        b.onResolve({ filter: /^sevcheck:(bundle|support)$/ }, (args) => ({ path: args.path.slice('sevcheck:'.length), namespace: 'sevcheck' }));
        b.onLoad({ filter: /.*/, namespace: 'sevcheck' }, (args) => ({
          contents:
            args.path === 'support'
              ? support.map((f) => `import ${JSON.stringify(f)};`).join('\n')
              : [
                  `export { main } from ${JSON.stringify(join(root, 'support/cli/main.ts'))};`,
                  // require(), not import(): esbuild initialises the module (and what it imports) then,
                  // synchronously, once: cucumber's loadSupport calls this between its reset and finalize
                  "export function support() { require('sevcheck:support'); }",
                  `export function pretty() { return require(${JSON.stringify(prettyFormatter)}); }`,
                  `export function worker() { require(${JSON.stringify(join(root, 'support/fleet/worker.ts'))}); }`,
                ].join('\n'),
          resolveDir: root,
          loader: 'js',
        }));
      },
    },
  ],
});
// V8 keeps a script's text as a one-byte string only if every character is Latin-1, and the
// loader reads the file as Latin-1: a few characters esbuild leaves in regular-expression
// literals (lodash's word patterns: ’) must become escapes. Outside strings, templates and
// comments (esbuild escapes those itself), \uXXXX means the same character in a regular
// expression, with or without the u flag (surrogate pairs too). Each escape makes its line 5
// characters longer after it: `escapedBefore` keeps where, for the source positions below.
const bundleFile = join(outdir, BUNDLE);
const original = readFileSync(bundleFile, 'utf8');
/** line (0-based) → the columns (UTF-16 units, before escaping) of the characters escaped on it */
const escapedAt = new Map();
{
  let line = 0;
  let lineStart = 0;
  const escaped = original.replace(/\n|[^\x00-\x7f]/g, (c, at) => {
    if (c === '\n') {
      line++;
      lineStart = at + 1;
      return c;
    }
    if (original[at - 1] === '\\') throw new Error(`build-run: ${BUNDLE}: an escaped non-ASCII character at ${at}; look at the ASCII step`);
    if (!escapedAt.has(line)) escapedAt.set(line, []);
    escapedAt.get(line).push(at - lineStart);
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  if (/[^\x00-\x7f]/.test(escaped)) throw new Error(`build-run: ${BUNDLE} is not ASCII after escaping`);
  // every import() goes through the loader (dynamic-import-through-loader above)
  if (/\bimport\(/.test(escaped)) throw new Error(`build-run: ${BUNDLE} calls import() at ${escaped.search(/\bimport\(/)}: bundle it or route it through __sevcheckImport`);
  writeFileSync(bundleFile, escaped);
}
const escapedBefore = (line, column) => (escapedAt.get(line) ?? []).filter((c) => c < column).length;

// The bundle's source map as a position table for scripts/cucumber-definition-line.cjs, which names
// where each step, hook and parameter type is defined (the first stack frame outside cucumber, at
// its .ts file and line as under tsx): runs of equal results of Node's own SourceMap.findEntry at
// every column, as [offset, source index or -1, original line] (Int32, positions.bin); a
// source in node_modules/ keeps its file but not its lines (the lookup only needs to know that a
// frame is cucumber's; the table stays ~10x smaller). An offset is a character's position in the
// escaped text, the file V8 compiles: what a stack frame's CallSite.getPosition() says, which,
// unlike its line and column, does not make V8 find every line end of the 2.7 MB script (2.5-3.7 ms
// at the first definition of a run, and nothing else in a run needs them).
{
  const { SourceMap } = await import('node:module');
  const payload = JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8'));
  const map = new SourceMap(payload);
  const sourceIndex = new Map(payload.sources.map((s, i) => [s, i]));
  const lines = original.split('\n');
  // where each line starts in the escaped text (escaping adds no line)
  const lineStart = [];
  {
    let at = 0;
    for (const l of readFileSync(bundleFile, 'latin1').split('\n')) {
      lineStart.push(at);
      at += l.length + 1;
    }
  }
  if (lineStart.length !== lines.length) throw new Error(`build-run: ${BUNDLE}: escaping changed the lines`);
  const runs = [];
  let last = '';
  for (let l = 0; l < lines.length; l++) {
    for (let c = 0; c < Math.max(lines[l].length, 1); c++) {
      const e = map.findEntry(l, c);
      const found = e.originalSource && e.originalLine !== undefined && e.originalColumn !== undefined;
      const index = found ? sourceIndex.get(e.originalSource) ?? -2 : -1;
      if (index === -2) throw new Error(`build-run: ${BUNDLE}.map: unknown source ${e.originalSource}`);
      const value = found ? [index, /(^|\/)node_modules\//.test(payload.sources[index]) ? -1 : e.originalLine] : [-1, -1];
      const key = value.join(':');
      if (key !== last) runs.push(lineStart[l] + c + 5 * escapedBefore(l, c), ...value);
      last = key;
    }
  }
  // the runs as raw little-endian Int32 (read straight into an Int32Array: no base64 or JSON to decode)
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('build-run: the positions table assumes a little-endian machine');
  writeFileSync(join(outdir, `${BUNDLE}.positions.bin`), new Int32Array(runs));
  // cucumber's own directory (its lib/, src/, node_modules/ are "in cucumber", as cucumber's
  // filter_stack_trace.js decides under tsx), relative to dist/run
  const cucumber = relative(finaldir, dirname(createRequire(join(root, 'package.json')).resolve('@cucumber/cucumber/package.json')));
  // each source as a path relative to dist/run, resolved as Node resolves a map's sources (against
  // the map's URL), so that the lookup at run time is a path.join
  const mapUrl = pathToFileURL(join(finaldir, `${BUNDLE}.map`));
  // (a source that is no file, such as esbuild's namespace of the entry, sevcheck:bundle, stays a URL: `urls`)
  const urls = {};
  const sources = payload.sources.map((s, i) => {
    const url = new URL(s, mapUrl);
    if (url.protocol === 'file:') return relative(finaldir, fileURLToPath(url));
    urls[i] = url.href;
    return '';
  });
  writeFileSync(join(outdir, `${BUNDLE}.positions.json`), `${JSON.stringify({ cucumber, sources, urls })}\n`);
}

// the loader, and the files cucumber and the fleet pool load by path (support/run/prebuilt.ts,
// support/fleet/pool.ts): each takes the thread's one bundle from the loader
copyFileSync(join(root, 'scripts/run-bundle-loader.cjs'), join(outdir, 'load.cjs'));
const stub = (what, call) =>
  `// ${what} (scripts/build-run.mjs): the bundle's, loaded once per thread by load.cjs\nimport { createRequire } from 'node:module';\n${call}\n`;
writeFileSync(join(outdir, 'support.mjs'), stub("cucumber's support code: registers world, hooks, parameter types and steps", "createRequire(import.meta.url)('./load.cjs').load().support();"));
writeFileSync(join(outdir, 'pretty.mjs'), stub('cucumber\'s "pretty" formatter', "export default createRequire(import.meta.url)('./load.cjs').load().pretty();"));
writeFileSync(join(outdir, 'worker.mjs'), stub('a `sevcheck fleet` worker thread', "createRequire(import.meta.url)('./load.cjs').load().worker();"));

// what went into which file (esbuild's metafile: `npx esbuild --analyze` reads it), for start-up work
writeFileSync(join(outdir, '..', 'run.meta.json'), JSON.stringify(result.metafile));
/**
 * bin/sevcheck.js's stamp of a file (its stampOf: device, inode, size, mtime and ctime in ns):
 * where a stamp is unchanged the launcher takes the file's SHA-256 as recorded instead of reading
 * and hashing it again. Recorded only when it proves the content: the file is the same before and
 * after it is read for its hash, and it last changed more than STAMP_AGE_MS ago. (Linux takes file
 * times from a clock that advances in ticks of a few ms: a file read in the same tick as a write
 * could be written again in that tick with the same size and ctime. A write after the build always
 * gets a later ctime than one this old.)
 */
const STAMP_AGE_MS = 2000;
const stampOf = (st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
const stamps = {};
const sha256 = (rel) => {
  const file = join(root, rel);
  const before = statSync(file, { bigint: true });
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  const after = statSync(file, { bigint: true });
  if (stampOf(before) === stampOf(after) && after.ctimeNs < BigInt(Date.now() - STAMP_AGE_MS) * 1_000_000n) stamps[rel] = `${stampOf(after)} ${sha}`;
  return sha;
};
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
// bundled in place of a package file (so not among the metafile's own sources: standIn above);
// the files the plugins require or resolve by path are among them
for (const rel of standIns) inputs[rel] = sha256(rel);
// copied as dist/run/load.cjs
inputs['scripts/run-bundle-loader.cjs'] = sha256('scripts/run-bundle-loader.cjs');
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
// The code cache: one run of the bundle on the reference fixture (its reports into a temporary
// directory), which writes V8's cache of the bundle as it exits, so that the cache holds the
// functions a run compiles, not only the top-level code. The same for every host: it is the
// code that is cached, keyed by the bundle's SHA-256 and path. Made in dist/run itself, because
// the cache keeps the script's path (run-bundle-loader.cjs); a sevcheck started meanwhile runs
// without it. In this environment, NODE_OPTIONS included: V8 accepts a cache only under the V8
// flags it was made with, and the runs that follow a build (npm ci, then npm test or sevcheck)
// share its environment. If the run fails, no cache (a warning): sevcheck then compiles the
// bundle at every start, as it did before there was one.
{
  const reports = mkdtempSync(join(tmpdir(), 'sevcheck-build-run-'));
  try {
    execFileSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(join(finaldir, 'load.cjs'))}).load().main(process.argv.slice(1)).then((code) => { if (code === 2) process.exitCode = 2; })`, 'run', '--host', 'fixture:fixtures/hosts/reference-milan', '--out', reports],
      // bounded like every command sevcheck runs: a training run that hangs leaves no cache, not a hung npm ci
      {
        cwd: root,
        // the code cache, the feature files' messages as this run parses them (scripts/gherkin-precompiled.cjs) and the expressions' trees (scripts/cucumber-expression-asts.cjs)
        env: {
          ...process.env,
          SEVCHECK_CODE_CACHE_WRITE: join(finaldir, `${BUNDLE}.cache`),
          SEVCHECK_FEATURES_WRITE: join(finaldir, `${BUNDLE}.features.json`),
          SEVCHECK_EXPRESSIONS_WRITE: join(finaldir, `${BUNDLE}.expressions.json`),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 120_000,
        killSignal: 'SIGKILL',
      },
    );
  } catch (e) {
    rmSync(join(finaldir, `${BUNDLE}.cache`), { force: true });
    rmSync(join(finaldir, `${BUNDLE}.features.json`), { force: true });
    rmSync(join(finaldir, `${BUNDLE}.expressions.json`), { force: true });
    console.error(`build-run: warning: the training run for the code cache failed, no cache (${String(e.stderr ?? e.message).trim().split('\n')[0]})`);
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
}

// the stamps of the sources as they were hashed (bin/sevcheck.js reads them; an absent or other
// stamp only means that source is hashed again at start)
const stampsTmp = join(root, `dist/run.stamps.${process.pid}.tmp`);
writeFileSync(stampsTmp, `${JSON.stringify(stamps, null, 2)}\n`);
renameSync(stampsTmp, join(root, 'dist/run.stamps.json'));
// last: the launcher uses dist/run only while this file says it is current
const inputsTmp = join(root, `dist/run.inputs.${process.pid}.tmp`);
writeFileSync(inputsTmp, `${JSON.stringify(inputs, null, 2)}\n`);
renameSync(inputsTmp, join(root, 'dist/run.inputs.json'));
console.log(`build-run: dist/run/ from ${Object.keys(inputs).length} sources (${support.length} support files, ${Object.keys(stamps).length} stamped)`);
