'use strict';
/**
 * The syntax trees of the step definitions' Cucumber Expressions as the build's training run
 * parsed them (the bundle only: scripts/build-run.mjs, plugin "cucumber-expression-asts", puts this
 * in front of CucumberExpressionParser.parse in CucumberExpression's constructor; issue 23).
 * cucumber-expressions tokenizes and parses each of the ~100 expressions character by character
 * when the support code is loaded: 6-13 ms of every `sevcheck run` (timed around the parse, 4
 * runs). A tree depends on the expression's text only (the parameter types come in after it, in
 * rewriteToRegex, which still runs), so the tree the training run got for a text is built again
 * from its recorded fields (type, nodes, token, start, end: Ast.js Node's own, as the parser
 * makes them) for the same text; any other text is parsed as before, and so is every text with
 * SEVCHECK_EXPRESSIONS_PRECOMPILED=off. The texts are the suite's own step definitions, the same
 * for every host. The training run (SEVCHECK_EXPRESSIONS_WRITE=FILE) records every tree it parses.
 */
const { readFileSync, renameSync, writeFileSync } = require('node:fs');

// next to the bundle (__filename is dist/run/sevcheck.cjs in the bundle)
const FILE = `${__filename}.expressions.json`;

let table;
/** expression text -> recorded tree (plain fields) */
function recorded() {
  if (table !== undefined) return table;
  table = new Map();
  if (process.env.SEVCHECK_EXPRESSIONS_PRECOMPILED === 'off' || process.env.SEVCHECK_EXPRESSIONS_WRITE) return table;
  try {
    table = new Map(Object.entries(JSON.parse(readFileSync(FILE, 'utf8'))));
  } catch {
    table = new Map();
  }
  return table;
}

/** a parsed tree as plain fields (a Node's nodes or token may be absent: then so is the field) */
const plain = (node) => ({ type: node.type, nodes: node.nodes?.map(plain), token: node.token, start: node.start, end: node.end });
/** the tree again, as the parser makes it: Node objects */
const build = (p, Node) => new Node(p.type, p.nodes?.map((n) => build(n, Node)), p.token, p.start, p.end);

let writing;
if (process.env.SEVCHECK_EXPRESSIONS_WRITE) {
  const out = process.env.SEVCHECK_EXPRESSIONS_WRITE;
  writing = new Map();
  process.once('exit', () => {
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(writing)));
    renameSync(tmp, out);
  });
}

/** parser.parse(expression), or the recorded tree of the same text built again */
function parse(expression, parser, Node) {
  const hit = recorded().get(expression);
  if (hit !== undefined) return build(hit, Node);
  const ast = parser.parse(expression);
  writing?.set(expression, plain(ast));
  return ast;
}

exports.parse = parse;
