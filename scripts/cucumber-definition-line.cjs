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
 * looks at, with Node's own source map of that file (node:module findSourceMap, the map Node
 * loaded because source maps are on; the same findEntry Node's stack formatting uses). Same frames
 * (Error.stackTraceLimit applies alike), same rule, same result: the .ts file and line.
 */
'use strict';

const path = require('node:path');
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

/** a frame's file and line, through the file's source map when it has one (as Node prints frames) */
function located(site) {
  const fileName = site.getFileName() ?? undefined;
  const line = site.getLineNumber() ?? undefined;
  const column = site.getColumnNumber() ?? undefined;
  if (fileName === undefined || line === undefined || column === undefined) return { fileName, line };
  const map = findSourceMap(fileName);
  if (map === undefined) return { fileName, line };
  const { originalSource, originalLine, originalColumn } = map.findEntry(line - 1, column - 1);
  if (!originalSource || originalLine === undefined || originalColumn === undefined) return { fileName, line };
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
