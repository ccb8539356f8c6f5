'use strict';
// The JSON text of a cucumber message, made once for the two formatters that write every message
// (scripts/cucumber-message-formatter.cjs: messages.ndjson, scripts/cucumber-html-formatter.cjs:
// cucumber.html), which both JSON.stringify each of the ~1,400 messages of a run (issue 23). Both
// are called for the same message in the same 'message' event, one after the other: the text of
// the last message asked for is kept, so nothing made in one event is ever used for another.
let last;
let lastText;
exports.messageText = (message) => {
  if (message !== last) {
    lastText = JSON.stringify(message);
    last = message;
  }
  return lastText;
};
