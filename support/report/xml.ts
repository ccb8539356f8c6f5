/**
 * Text and numbers for an XML 1.0 report (junit.xml of a run and of a fleet). Host text may hold
 * any character; XML 1.0 (Fifth Edition) §2.2 allows only
 *   Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
 * and not even as a character reference (§4.1 WFC: Legal Character). So the other C0 controls,
 * U+FFFE, U+FFFF and a lone UTF-16 surrogate (which has no UTF-8 encoding at all) become U+FFFD;
 * markup characters become entities; CR and TAB become character references (a raw CR is turned
 * into LF by the parser, §2.11, and an attribute's CR/LF/TAB into spaces, §3.3.3).
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text for an attribute value or element content. */
export function xmlEscape(s: string): string {
  return String(s)
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

/** Milliseconds as JUnit's seconds with 3 decimals; a value that is not a finite non-negative number gives undefined. */
export function xmlSeconds(ms: unknown): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? (ms / 1000).toFixed(3) : undefined;
}
