'use strict';
/**
 * The bundled feature files' messages as the build's training run parsed them (the bundle only:
 * scripts/build-run.mjs, plugin "gherkin-precompiled", puts this in front of
 * @cucumber/gherkin-streams' GherkinStreams.fromPaths; issue 23). Parsing the 19 feature files
 * (gherkin's parser and pickle compiler behind two object streams per file) was ~20 ms of every
 * `sevcheck run`; the parse is a function of the files' text, their paths, the options and the
 * message ids it is given, so the envelopes it made in the training run (source, gherkinDocument,
 * pickle) are handed out again when all of these are the same:
 *  - the same paths in the same order, the same relativeTo, dialect and include* options;
 *  - the ids come from the thread's counter (scripts/cucumber-thread-ids.cjs) and it stands where
 *    it stood in the training run (then the ids are the ones a parse would make now, and the
 *    counter is moved past them as the parse would have moved it);
 *  - every file's text now is the text of its source envelope (read and compared at each use).
 * Anything else (another feature set, site features, an edited feature file, another counter
 * state) is parsed as before; so is everything with SEVCHECK_FEATURES_PRECOMPILED=off.
 * The messages describe the suite's own feature files, the same for every host: nothing of a
 * host is kept. SEVCHECK_FEATURES_TRACE=1 says on stderr whether they were used.
 * The training run (SEVCHECK_FEATURES_WRITE=FILE) records the first parse of the process, if
 * its ids are exactly the counter's next ones (nothing else took an id meanwhile).
 */
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { Readable } = require('node:stream');
const ids = require('./cucumber-thread-ids.cjs');

// next to the bundle (__filename is dist/run/sevcheck.cjs in the bundle)
const FILE = `${__filename}.features.json`;

const optionsKey = (paths, o) =>
  JSON.stringify({ paths, relativeTo: o.relativeTo, defaultDialect: o.defaultDialect, includeSource: o.includeSource, includeGherkinDocument: o.includeGherkinDocument, includePickles: o.includePickles });

let recorded;
/** the training run's parse, or null */
function load() {
  if (recorded !== undefined) return recorded;
  recorded = null;
  if (process.env.SEVCHECK_FEATURES_PRECOMPILED === 'off' || process.env.SEVCHECK_FEATURES_WRITE) return recorded;
  try {
    recorded = JSON.parse(readFileSync(FILE, 'utf8'));
  } catch {
    recorded = null;
  }
  return recorded;
}

const trace = (what) => {
  if (process.env.SEVCHECK_FEATURES_TRACE) process.stderr.write(`sevcheck: features ${what}\n`);
};

/** The recorded envelopes for this call, or undefined. */
function replay(paths, options) {
  const r = load();
  if (!r || options.newId !== ids.threadIds || ids.peekThreadId() !== r.from || optionsKey(paths, options) !== r.key) return undefined;
  // the text of each file, as fromPaths reads it (utf-8), against its recorded source
  const sources = r.envelopes.filter((e) => e.source);
  if (sources.length !== paths.length) return undefined;
  for (let i = 0; i < paths.length; i++) {
    let text;
    try {
      text = readFileSync(paths[i], 'utf8');
    } catch {
      return undefined;
    }
    if (text !== sources[i].source.data) return undefined;
  }
  recorded = null; // handed out once: the objects are the caller's now
  ids.skipThreadIdsTo(r.to);
  return r.envelopes;
}

let writing = process.env.SEVCHECK_FEATURES_WRITE;

/** record the first parse of the training run, written when the process exits */
function record(paths, options, stream) {
  const out = writing;
  writing = undefined;
  if (options.newId !== ids.threadIds) return;
  const from = ids.peekThreadId();
  const envelopes = [];
  stream.on('data', (e) => envelopes.push(e));
  stream.on('end', () => {
    const to = ids.peekThreadId();
    // every id in [from, to) is one of these envelopes' (nothing else took an id meanwhile)
    const seen = new Set();
    const collect = (v, key) => {
      if (Array.isArray(v)) v.forEach((x) => collect(x, key));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k);
      else if (key === 'id' && typeof v === 'string') seen.add(v);
    };
    collect(envelopes);
    for (let i = Number(from); i < Number(to); i++) if (!seen.has(String(i))) return;
    const text = JSON.stringify({ key: optionsKey(paths, options), from, to, envelopes });
    process.once('exit', () => {
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, out);
    });
  });
}

/** GherkinStreams.fromPaths: the recorded messages when they are what `parse` would make, else `parse` */
function fromPaths(paths, options, parse) {
  const envelopes = replay(paths, options);
  if (envelopes) {
    trace('precompiled');
    return Readable.from(envelopes, { objectMode: true });
  }
  const stream = parse(paths, options);
  if (writing) record(paths, options, stream);
  else trace('parsed');
  return stream;
}

exports.fromPaths = fromPaths;
