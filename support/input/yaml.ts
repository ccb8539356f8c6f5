/**
 * YAML from a user-supplied file (inventory, waivers, site file), parsed strictly with eemeli/yaml:
 * a syntax error or a duplicate key is an InputError naming the file, line and column; an alias
 * bomb is refused as such (at most 100 alias expansions); nothing of the text is quoted.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import { InputError } from '../errors.js';

export interface ParsedYaml {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** the document as plain values (undefined for an empty file) */
  readonly value: unknown;
}

export function parseYamlStrict(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const err = doc.errors[0];
  if (err) {
    const at = lineCounter.linePos(err.pos[0]);
    throw new InputError(file, `${at ? `line ${at.line}, column ${at.col}: ` : ''}${err.message.split('\n')[0]}`);
  }
  try {
    return { doc, lineCounter, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (e) {
    // eemeli/yaml refuses a "billion laughs" alias bomb with a ReferenceError ("Excessive alias
    // count indicates a resource exhaustion attack"): bad input, not a defect of sevcheck
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw new InputError(file, 'too many YAML aliases (more than 100 expansions): refused as a resource exhaustion attack');
    throw new InputError(file, `cannot be read as YAML: ${e instanceof Error ? e.message.split('\n')[0] : 'unknown error'}`);
  }
}
