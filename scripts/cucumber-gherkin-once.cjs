/**
 * Build-time stand-in for @cucumber/cucumber's lib/api/gherkin.js in the prebuilt bundle
 * (scripts/build-run.mjs bundles it in its place). runCucumber calls getPicklesAndErrors on every
 * run; the original streams the features' envelopes into a new @cucumber/gherkin-utils Query
 * (every AST node indexed) and derives the pickles to filter from it. support/run/suite.ts
 * compileFeaturesOnce already hands later runs of a process the same compiled envelopes (a stream
 * that replays them, tagged with them under COMPILED): what the original derives from the same
 * envelopes is the same, so it is kept per compiled set (one fixture-fleet host's Query cost about
 * 1 ms, profiled). The envelopes still reach onEnvelope, in the same order, on every run; the
 * arrays returned are fresh copies (cucumber filters and orders them). A stream that is not a
 * replay (the first run, a changed feature file, a plain tsx run) goes the original's way.
 */
'use strict';
// read as cucumber's compiled module it replaces (run_cucumber.js: require('./gherkin'))
Object.defineProperty(exports, '__esModule', { value: true });
exports.getPicklesAndErrors = getPicklesAndErrors;
const gherkin_streams_1 = require('@cucumber/gherkin-streams');
const gherkin_utils_1 = require('@cucumber/gherkin-utils');

/** set by support/run/suite.ts on a stream that replays compiled features: their envelopes */
const COMPILED = Symbol.for('sevcheck.compiledFeatures');
/** compiled envelopes -> { filterablePickles, parseErrors } as the original derived them */
const derived = new WeakMap();

async function getPicklesAndErrors({ newId, cwd, sourcePaths, coordinates, onEnvelope }) {
  const stream = gherkin_streams_1.GherkinStreams.fromPaths(sourcePaths, { newId, relativeTo: cwd, defaultDialect: coordinates.defaultDialect });
  const compiled = stream[COMPILED];
  const known = compiled !== undefined ? derived.get(compiled) : undefined;
  if (known !== undefined) {
    stream.destroy();
    for (const envelope of compiled) onEnvelope?.(envelope);
    return { filterablePickles: [...known.filterablePickles], parseErrors: [...known.parseErrors] };
  }
  // the original, on the stream made above
  const gherkinQuery = new gherkin_utils_1.Query();
  const parseErrors = [];
  await new Promise((resolve, reject) => {
    stream.on('data', (envelope) => {
      gherkinQuery.update(envelope);
      if (envelope.parseError) {
        parseErrors.push(envelope.parseError);
      }
      onEnvelope?.(envelope);
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const filterablePickles = gherkinQuery.getPickles().map((pickle) => {
    const gherkinDocument = gherkinQuery.getGherkinDocuments().find((doc) => doc.uri === pickle.uri);
    const location = gherkinQuery.getLocation(pickle.astNodeIds[pickle.astNodeIds.length - 1]);
    return { gherkinDocument, location, pickle };
  });
  if (compiled !== undefined) derived.set(compiled, { filterablePickles: [...filterablePickles], parseErrors: [...parseErrors] });
  return { filterablePickles, parseErrors };
}
