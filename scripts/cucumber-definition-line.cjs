/**
 * Build-time stand-in for @cucumber/cucumber's lib/support_code_library_builder/
 * get_definition_line_and_uri.js in the prebuilt bundle (scripts/build-run.mjs bundles this file
 * in its place, so its relative requires are cucumber's own). Cucumber calls it once per step,
 * hook and parameter type to name where it was defined: the first stack frame outside cucumber.
 *
 * The original takes `new Error().stack` as text and parses it with error-stack-parser. In the
 * bundle every frame is in one file, dist/run/sevcheck.cjs, which has no source map at run time
 * (it is compiled by dist/run/load.cjs with V8's code cache). This reads the same frames through
 * V8's structured stack-trace API (Error.prepareStackTrace receiving CallSite objects,
 * https://v8.dev/docs/stack-trace-api) and maps each one it looks at through the position table
 * the build made from the bundle's source map with Node's own findEntry
 * (sevcheck.cjs.positions.json, .bin): frames that map into cucumber's own directories are skipped, as
 * cucumber's isFileNameInCucumber skips them under tsx (its own notion of its directory would be
 * dist/ in the bundle), and the first other frame gives the .ts file and line. Same frames
 * (Error.stackTraceLimit applies alike), same rule, same result.
 */
'use strict';

const path = require('node:path');
const { readFileSync } = require('node:fs');
const { fileURLToPath } = require('node:url');
const { valueOrDefault } = require('../value_checker');

/** the frames of the caller's stack, from getDefinitionLineAndUri down (as `new Error()` there has them) */
function callSites() {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites;
  try {
    const holder = {};
    Error.captureStackTrace(holder, callSites);
    return Array.isArray(holder.stack) ? holder.stack : [];
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

/**
 * The bundle's source map as the build wrote it for this lookup (scripts/build-run.mjs
 * sevcheck.cjs.positions.json and .bin: Node's own findEntry at every column, as runs), loaded once; null
 * when absent (then frames are named by the bundle's own file and line).
 */
let positions;
function bundlePositions() {
  if (positions !== undefined) return positions;
  positions = null;
  try {
    // __filename is the bundle (dist/run/sevcheck.cjs), the table is next to it
    const t = JSON.parse(readFileSync(`${__filename}.positions.json`, 'utf8'));
    const bytes = readFileSync(`${__filename}.positions.bin`);
    const cucumber = path.join(__dirname, t.cucumber);
    // cucumber's filter_stack_trace.js isFileNameInCucumber, with cucumber's real directory
    const cucumberDirs = ['src', 'lib', 'node_modules'].map((dir) => path.join(cucumber, dir));
    const inCucumber = (fileName) => cucumberDirs.some((dir) => fileName.startsWith(dir));
    /** source index → { fileName, inCucumber }, made on first use */
    const files = new Map();
    positions = {
      source: (i) => {
        let f = files.get(i);
        if (f === undefined) {
          // sources: relative to dist/run (the build resolved them as Node resolves a map's
          // sources), or a URL when no file
          const fileName = t.urls[i] ?? path.join(__dirname, t.sources[i]);
          files.set(i, (f = { fileName, inCucumber: inCucumber(fileName) }));
        }
        return f;
      },
      runs: new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  } catch {
    positions = null;
  }
  return positions;
}

/** the original file (and whether it is cucumber's) and 0-based line (-1: not kept) of a position (offset) in the bundle, or undefined */
function fromPositions(p, offset) {
  const r = p.runs;
  let lo = 0;
  let hi = r.length / 3 - 1;
  if (hi < 0 || offset < r[0]) return undefined;
  // the last run starting at or before the offset
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (r[mid * 3] <= offset) lo = mid;
    else hi = mid - 1;
  }
  const source = r[lo * 3 + 1];
  return source < 0 ? undefined : { ...p.source(source), line: r[lo * 3 + 2] };
}

/**
 * a frame's file and line: the original's for a frame in the bundle that the map covers. Its
 * position in the bundle, not its line and column: those would make V8 find every line end of the
 * 2.7 MB bundle (3 ms), which nothing else in a run needs.
 */
function located(site, p) {
  const fileName = site.getFileName() ?? undefined;
  if (!p || fileName !== __filename || typeof site.getPosition !== 'function') return { fileName, line: site.getLineNumber() ?? undefined, inCucumber: false };
  const entry = fromPositions(p, site.getPosition());
  if (entry === undefined) return { fileName, line: site.getLineNumber() ?? undefined, inCucumber: false };
  return { fileName: entry.fileName, line: entry.line < 0 ? undefined : entry.line + 1, inCucumber: entry.inCucumber };
}

function getDefinitionLineAndUri(cwd, isExcluded) {
  const p = bundlePositions();
  let line;
  let uri;
  for (const site of callSites()) {
    const frame = located(site, p);
    // this function and cucumber's builder map into cucumber's lib/; an isExcluded given by a caller applies too
    if (frame.inCucumber || (isExcluded && isExcluded(frame.fileName))) continue;
    line = frame.line;
    uri = frame.fileName;
    if (uri !== undefined && uri !== null) {
      if (uri.startsWith('file://')) uri = fileURLToPath(uri);
      uri = path.relative(cwd, uri);
    }
    break;
  }
  return { line: valueOrDefault(line, 0), uri: valueOrDefault(uri, 'unknown') };
}

exports.getDefinitionLineAndUri = getDefinitionLineAndUri;
