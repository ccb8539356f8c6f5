/**
 * Build-time stand-in for @cucumber/cucumber's lib/formatter/builtin/message.js (the "message"
 * formatter: messages.ndjson) in the prebuilt bundle (scripts/build-run.mjs bundles it in its
 * place). The original writes each message as its own line, ~1,400 writes to the file stream per
 * run (10-15 ms of CPU in a fresh process, issue 23). Writing into a file (cucumber gives a file's
 * formatter its `directory`), this keeps the same lines and writes them once, when cucumber closes
 * the formatter; to a stream without a directory (stdout), line by line as before. Same bytes.
 * One difference: when a feature file does not parse, cucumber closes the files before it closes
 * the formatters (lib/api/run_cucumber.js), and the lines are then not written (no "write after
 * end" either); sevcheck discards that report set (no check ran: a harness error, exit 2).
 */
'use strict';
// read as cucumber's compiled ES module it replaces (builtin/index.js: __importDefault(require('./message')))
Object.defineProperty(exports, '__esModule', { value: true });

// JSON.stringify(message), made once for this formatter and the html formatter
const { messageText } = require('./cucumber-message-text.cjs');

exports.default = {
  type: 'formatter',
  formatter({ on, write, directory, stream }) {
    if (!directory) {
      on('message', (message) => write(messageText(message) + '\n'));
      return undefined;
    }
    const lines = [];
    on('message', (message) => lines.push(messageText(message) + '\n'));
    return async () => {
      if (!stream?.writableEnded) write(lines.join(''));
    };
  },
};
