'use strict';
// The message ids of every cucumber run in this thread (the bundle only: scripts/build-run.mjs,
// plugin "cucumber-thread-ids"): one counter, as @cucumber/messages' IdGenerator.incrementing()
// makes it, shared by all runs and by loadSources, instead of a new random-UUID generator per run.
// Ids need only be unique within a run's message stream (cucumber's own tests use the
// incrementing generator); one counter per thread keeps them unique across the runs of a fleet
// worker too, whose compiled features (support/run/suite.ts compileFeaturesOnce) carry the ids
// of the run that parsed them. Measured (issue 23): cucumber keeps test cases, steps and results
// in plain objects keyed by these ids (formatter/helpers/event_data_collector.js and others);
// random UUID keys give every such object its own chain of V8 hidden classes, a few ms of CPU
// and garbage per host; numeric keys are array indices and cost none of that.
let next = 0;
exports.threadIds = () => String(next++);
// the next id, and moving past ids a parse would have taken (scripts/gherkin-precompiled.cjs)
exports.peekThreadId = () => next;
exports.skipThreadIdsTo = (to) => {
  if (to < next) throw new Error('cucumber-thread-ids: ids are never taken twice');
  next = to;
};
