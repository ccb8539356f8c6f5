/**
 * Build-time stand-in for @cucumber/cucumber's lib/support_code_library_builder/
 * get_definition_line_and_uri.js in the prebuilt bundle (scripts/build-run.mjs bundles this file
 * in its place, so its relative requires are cucumber's own). Cucumber calls it once per step,
 * hook and parameter type to name where it was defined: the first stack frame outside cucumber.
 *
 * The original takes `new Error().stack` as text and parses it with error-stack-parser; with
 * source maps on (support/run/prebuilt.ts), Node formats that text by mapping every frame through
 * the source map first. That was 60-150 ms of a `sevcheck run`, for a few hundred definitions.
 * This reads the same frames through V8's structured stack-trace API (Error.prepareStackTrace
 * receiving CallSite objects, https://v8.dev/docs/stack-trace-api) and maps only the frame it
 * looks at: frames in support.mjs through the position table the build made from its source map
 * with Node's own findEntry (support.mjs.positions.json), any other file through Node's source
 * map of it (node:module findSourceMap, loaded because source maps are on). Same frames
 * (Error.stackTraceLimit applies alike), same rule, same result: the .ts file and line.
 */
'use strict';

const path = require('node:path');
const { readFileSync } = require('node:fs');
const { findSourceMap } = require('node:module');
const { fileURLToPath, pathToFileURL } = require('node:url');
const { isFileNameInCucumber } = require('../filter_stack_trace');
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
 * support.mjs's source map as the build wrote it for this lookup (scripts/build-run.mjs
 * support.mjs.positions.json: Node's own findEntry at every column, as runs), loaded once; null
 * when absent, then Node's source map is asked instead.
 */
let positions;
function supportPositions() {
  if (positions !== undefined) return positions;
  positions = null;
  try {
    // this file is bundled into a chunk next to support.mjs (dist/run/)
    const t = JSON.parse(readFileSync(path.join(__dirname, 'support.mjs.positions.json'), 'utf8'));
    const mapUrl = pathToFileURL(path.join(__dirname, t.map)).href;
    const bytes = Buffer.from(t.positions, 'base64');
    positions = {
      file: pathToFileURL(path.join(__dirname, 'support.mjs')).href,
      // resolved against the map's URL, as Node resolves a map's sources
      sources: t.sources.map((s) => new URL(s, mapUrl).href),
      runs: new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  } catch {
    positions = null;
  }
  return positions;
}

/** the original source URL and 0-based line of a 0-based generated position, or undefined */
function fromPositions(p, line, column) {
  const r = p.runs;
  let lo = 0;
  let hi = r.length / 4 - 1;
  if (hi < 0 || line < r[0] || (line === r[0] && column < r[1])) return undefined;
  // the last run starting at or before (line, column)
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const l = r[mid * 4];
    if (l < line || (l === line && r[mid * 4 + 1] <= column)) lo = mid;
    else hi = mid - 1;
  }
  const source = r[lo * 4 + 2];
  return source < 0 ? undefined : { originalSource: p.sources[source], originalLine: r[lo * 4 + 3] };
}

/** a frame's file and line, through the file's source map when it has one (as Node prints frames) */
function located(site) {
  const fileName = site.getFileName() ?? undefined;
  const line = site.getLineNumber() ?? undefined;
  const column = site.getColumnNumber() ?? undefined;
  if (fileName === undefined || line === undefined || column === undefined) return { fileName, line };
  let entry;
  const p = supportPositions();
  if (p && fileName === p.file) entry = fromPositions(p, line - 1, column - 1);
  else {
    const map = findSourceMap(fileName);
    if (map === undefined) return { fileName, line };
    const e = map.findEntry(line - 1, column - 1);
    if (e.originalSource && e.originalLine !== undefined && e.originalColumn !== undefined) entry = e;
  }
  if (entry === undefined) return { fileName, line };
  const { originalSource, originalLine } = entry;
  return { fileName: originalSource.startsWith('file://') ? fileURLToPath(originalSource) : originalSource, line: originalLine + 1 };
}

// this file is bundled into a chunk: its frames (and cucumber's, in the same chunk) are skipped
// whether V8 names the chunk by path or by file: URL
const self = [__filename, pathToFileURL(__filename).href];

function getDefinitionLineAndUri(cwd, isExcluded = isFileNameInCucumber) {
  let line;
  let uri;
  for (const site of callSites()) {
    const frame = located(site);
    if (self.includes(frame.fileName) || isExcluded(frame.fileName)) continue;
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
