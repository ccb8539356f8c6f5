/**
 * Build-time stand-in for the regexp-match-indices package in the prebuilt bundle
 * (scripts/build-run.mjs). cucumber-expressions (src/TreeRegexp.ts) calls it to get the start
 * and end of each capture group of a step match. The package's own feature test looks for
 * `indices` on a match of a regexp without the `d` flag, never finds them, and so always takes its
 * polyfill, which parses every step pattern with regexp-tree: a quarter of `sevcheck run`'s start.
 * Node has the `d` flag ("hasIndices", ES2022) natively since v16, which gives the same `indices`.
 */
'use strict';

/** the `d`-flag twin of each regexp cucumber matches with */
const withIndices = new WeakMap();

module.exports = function exec(regexp, string) {
  let d = withIndices.get(regexp);
  if (d === undefined) {
    d = regexp.hasIndices ? regexp : new RegExp(regexp.source, `${regexp.flags}d`);
    withIndices.set(regexp, d);
  }
  d.lastIndex = regexp.lastIndex;
  const match = d.exec(string);
  regexp.lastIndex = d.lastIndex;
  return match;
};
