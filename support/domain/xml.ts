/**
 * Safe XML reading for libvirt documents: one small tree type over xml2js (sax, strict mode).
 *
 * Refused before the parser sees the text: DOCTYPE and ENTITY declarations (libvirt domain XML
 * never needs them; refusing them closes external-entity reads and entity-expansion bombs), NUL
 * bytes (binary files), documents over the size limit.
 */
import xml2js from 'xml2js';
import { InputError } from '../errors.js';

export interface XNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** concatenated, trimmed character data directly inside this element ('' if none) */
  readonly text: string;
  readonly children: readonly XNode[];
}

/** 4 MiB: a domain with a base64 idAuth (4 KiB) is ~20 KiB; 4 MiB is far beyond any real one. */
export const DEFAULT_MAX_XML_BYTES = 4 * 1024 * 1024;

export interface ParseXmlOptions {
  readonly maxBytes?: number;
}

interface RawNode {
  '#name': string;
  $?: Record<string, string>;
  _?: string;
  $$?: RawNode[];
}

export function parseXml(input: string | Buffer, source: string, opts: ParseXmlOptions = {}): XNode {
  const max = opts.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > max) throw new InputError(source, `document is ${size} bytes, over the ${max}-byte limit`);
  if (size === 0) throw new InputError(source, 'empty file, expected XML');
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.includes('\u0000')) throw new InputError(source, 'contains NUL bytes: a binary file, not XML');
  const decl = /<!(DOCTYPE|ENTITY)\b/i.exec(text);
  if (decl) {
    const line = text.slice(0, decl.index).split('\n').length;
    throw new InputError(
      source,
      `line ${line}: <!${decl[1]!.toUpperCase()}> declarations are refused (no DTDs or entities in libvirt XML; guards against external entities and entity expansion)`,
    );
  }
  const parser = new xml2js.Parser({
    async: false,
    explicitArray: true,
    explicitChildren: true,
    preserveChildrenOrder: true,
    explicitRoot: false,
    charsAsChildren: false,
    includeWhiteChars: false,
    trim: true,
    strict: true,
  });
  // xml2js stops caring after the root element closes; count root elements on the sax stream
  // so a second <domain> (or any trailing element) is an error, not silently ignored.
  const sax = (parser as unknown as { saxParser: { onopentag: (n: unknown) => void; onclosetag: (n: string) => void; line: number } }).saxParser;
  const open = sax.onopentag;
  const close = sax.onclosetag;
  let depth = 0;
  let roots = 0;
  let extraRootLine = 0;
  sax.onopentag = (n: unknown) => {
    if (depth === 0 && ++roots === 2) extraRootLine = sax.line + 1;
    depth++;
    open.call(sax, n);
  };
  sax.onclosetag = (n: string) => {
    depth--;
    close.call(sax, n);
  };
  let err: unknown = null;
  let result: RawNode | null | undefined;
  let called = false;
  try {
    parser.parseString(text.replace(/^\uFEFF/, ''), (e: unknown, r: RawNode | null) => {
      called = true;
      err ??= e;
      result = r;
    });
  } catch (e) {
    // sax's error after the root element has closed (text after </domain>, found by the
    // property-based tests, issue 19) is thrown out of parseString, not passed to the callback
    called = true;
    err ??= e;
  }
  if (!called) throw new InputError(source, 'XML parser did not finish');
  if (err) throw new InputError(source, `not well-formed XML: ${describeSaxError(err)}`);
  if (roots > 1) throw new InputError(source, `not well-formed XML: a second root element at line ${extraRootLine}`);
  if (!result) throw new InputError(source, 'no XML element found');
  return convert(result);
}

function describeSaxError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^(.*)\nLine: (\d+)\nColumn: (\d+)/s.exec(msg);
  if (!m) return msg.split('\n')[0] ?? msg;
  return `${m[1]} at line ${Number(m[2]) + 1}, column ${m[3]}`;
}

function convert(raw: RawNode): XNode {
  const children = (raw.$$ ?? []).filter((c) => typeof c === 'object' && c !== null && '#name' in c);
  return {
    name: raw['#name'],
    attrs: { ...(raw.$ ?? {}) },
    text: typeof raw._ === 'string' ? raw._ : '',
    children: children.filter((c) => !c['#name'].startsWith('__')).map(convert),
  };
}

/** First child element with this name. */
export function child(n: XNode | undefined, name: string): XNode | undefined {
  return n?.children.find((c) => c.name === name);
}

/** All child elements with this name. */
export function childrenNamed(n: XNode | undefined, name: string): XNode[] {
  return n ? n.children.filter((c) => c.name === name) : [];
}

/** Follow a path of element names: path(root, 'os', 'type'). */
export function path(n: XNode | undefined, ...names: string[]): XNode | undefined {
  let cur = n;
  for (const nm of names) cur = child(cur, nm);
  return cur;
}
