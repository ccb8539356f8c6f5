/**
 * Build-time stand-in for @cucumber/cucumber's lib/formatter/builtin/html.js (the "html"
 * formatter, cucumber.html) in the prebuilt bundle (scripts/build-run.mjs bundles this file in
 * its place, so its requires resolve as cucumber's own). Same page, byte for byte, less work.
 *
 * The original passes every message (~1,400 in a run of the bundled suite) through two object-mode
 * Transform streams (@cucumber/message-streams AttachmentExternalisingStream, then
 * @cucumber/html-formatter CucumberHtmlStream), and writes the page to the file stream in ~2,900
 * pieces, the 950 KB of the report's script read as a stream in 64 KB pieces: 45-60 ms of CPU in a
 * fresh process, a tenth of a `sevcheck run` (issue 23). This keeps each message's text as
 * CucumberHtmlStream makes it (JSON.stringify, "<" written as \x3C) and writes the page once, at
 * the end, in seven pieces, from the same template and files (html-formatter's index.mustache,
 * icon.url, main.css, main.js: their bytes when valid UTF-8, else decoded as CucumberHtmlStream
 * decodes them) in CucumberHtmlStream's order:
 * template up to {{title}}, "Cucumber", up to {{icon}}, the icon, up to {{css}}, the CSS, up to
 * {{custom_css}}, up to {{messages}}, the messages joined by ",", up to {{script}}, the script,
 * up to {{custom_script}}, the rest.
 *
 * With `externalAttachments` set (sevcheck never sets it) attachments are written to files and
 * replaced by links: that runs the original streams, unchanged.
 */
'use strict';
// read as cucumber's compiled ES module it replaces (builtin/index.js: __importDefault(require('./html')))
Object.defineProperty(exports, '__esModule', { value: true });

const { readFileSync } = require('node:fs');
const { isUtf8 } = require('node:buffer');
const path = require('node:path');
const { promisify } = require('node:util');
const { finished } = require('node:stream');
// JSON.stringify(message), made once for this formatter and the message formatter
const { messageText } = require('./cucumber-message-text.cjs');

/**
 * the original formatter (html.js of this cucumber version), for externalAttachments; its packages
 * are loaded here only (message-streams loads `mime` and its type tables: 5-10 ms of every start)
 */
function streamed({ on, options, write, directory }) {
  const { CucumberHtmlStream } = require('@cucumber/html-formatter');
  const { AttachmentExternalisingStream } = require('@cucumber/message-streams');
  const externaliseStream = new AttachmentExternalisingStream({ behaviour: options.externalAttachments, directory });
  const htmlStream = new CucumberHtmlStream();
  externaliseStream.pipe(htmlStream);
  on('message', (message) => {
    externaliseStream.write(message);
  });
  htmlStream.on('data', (chunk) => write(chunk));
  return async () => {
    externaliseStream.end();
    await promisify(finished)(htmlStream);
  };
}

/**
 * A file of the page as CucumberHtmlStream writes it: read as UTF-8 text and written back as UTF-8.
 * For a file that is valid UTF-8 that is its bytes, written as they are (no 1 MB decode and
 * encode); any other file is decoded as CucumberHtmlStream decodes it.
 */
function file(p) {
  const bytes = readFileSync(p);
  return isUtf8(bytes) ? bytes : bytes.toString('utf-8');
}

/** the pieces of the page CucumberHtmlStream writes for these messages (each already as its text) */
function page(messages) {
  // CucumberHtmlStream's own directory (dist/src) and its default paths
  const src = path.dirname(require.resolve('@cucumber/html-formatter/dist/src/CucumberHtmlStream.js'));
  const template = readFileSync(path.join(src, 'index.mustache'), 'utf-8');
  const between = (begin, end) => template.substring(begin === null ? 0 : template.indexOf(begin) + begin.length, end === null ? template.length : template.indexOf(end));
  return [
    between(null, '{{title}}') + 'Cucumber' + between('{{title}}', '{{icon}}'),
    file(path.join(src, 'icon.url')),
    between('{{icon}}', '{{css}}'),
    file(path.join(src, '..', 'main.css')),
    between('{{css}}', '{{custom_css}}') + between('{{custom_css}}', '{{messages}}') + messages.join(',') + between('{{messages}}', '{{script}}'),
    file(path.join(src, '..', 'main.js')),
    between('{{script}}', '{{custom_script}}') + between('{{custom_script}}', null),
  ];
}

exports.default = {
  type: 'formatter',
  formatter({ on, options, write, directory }) {
    if (!directory && options.externalAttachments) {
      throw new Error('Unable to externalise attachments when formatter is not writing to a file');
    }
    if (options.externalAttachments) return streamed({ on, options, write, directory });
    const messages = [];
    // Replace < with \x3C (CucumberHtmlStream.writeMessage;
    // https://html.spec.whatwg.org/multipage/scripting.html#restrictions-for-contents-of-script-elements)
    on('message', (message) => {
      const text = messageText(message);
      messages.push(text.includes('<') ? text.replace(/</g, '\\x3C') : text);
    });
    return async () => {
      for (const piece of page(messages)) write(piece);
    };
  },
  optionsKey: 'html',
};
