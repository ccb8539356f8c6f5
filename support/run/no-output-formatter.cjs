/**
 * The formatter of a run whose console output nobody reads (a fleet host, `sevcheck run` without
 * --format): cucumber wants one on stdout, and its cheapest built-in ("rerun") still collects
 * every failed scenario's location at the end of the run (about 1 ms of each fleet host,
 * profiled). This one listens to nothing and writes nothing. A cucumber 12 plugin formatter
 * (find_class_or_plugin.js: an object with type "formatter"); CommonJS, so that the tsx run and
 * the prebuilt bundle load the same file.
 */
'use strict';
module.exports = {
  type: 'formatter',
  formatter() {},
};
