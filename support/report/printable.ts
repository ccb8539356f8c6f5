/**
 * Text from a probed host or an input file ends up in messages (console, reports, stderr). A
 * control byte in it (ESC starting a terminal escape sequence, CR overwriting a line, a newline
 * forging a second "sevcheck:" line) must never reach the terminal or a report raw: every
 * message goes through `printable` and shows such characters as `\xNN` / `\u{NNNN}` escapes.
 */

/**
 * C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F; U+009B is CSI on
 * terminals that accept 8-bit controls), the Unicode bidi embedding/override/isolate controls
 * (U+202A–U+202E, U+2066–U+2069: they reorder the text around them when displayed) and the
 * line/paragraph separators U+2028/U+2029.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** the same, except newline and tab: for multi-line text (usage, help) */
const UNPRINTABLE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
}

/** One line of text with every non-printable character escaped (newlines too). */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, escape);
}

/** Like `printable`, but newlines and tabs stay: for text that is several lines on purpose. */
export function printableLines(s: string): string {
  return s.replace(UNPRINTABLE_KEEP_LINES, escape);
}

/** Outside the C0 range, which JSON.stringify escapes itself: DEL, C1, separators, bidi controls. */
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify(v, null, 2) with every non-printable character as a \uXXXX escape: the same
 * JSON value, but no raw control character in the text (JSON.stringify escapes only U+0000–U+001F).
 */
export function printableJson(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
