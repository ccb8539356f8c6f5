import { InputError } from '../errors.js';
import { undecided, type Verdict } from '../verdict.js';

/**
 * What every device/SELinux parser returns instead of throwing: either the parsed value (with
 * notes about lines it tolerated) or one ParseError naming the source, the 1-based line and the
 * problem. The caller decides what a parse error means: a check that needs the file turns it into
 * `undecided` (`parseErrorVerdict`), the CLI turns it into exit 2 (`toInputError`).
 */
export interface ParseError {
  readonly source: string;
  /** 1-based line of the problem; 0 when the problem is not tied to a line (binary input) */
  readonly line: number;
  readonly problem: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T; readonly notes: readonly string[] }
  | { readonly ok: false; readonly error: ParseError };

export function ok<T>(value: T, notes: readonly string[] = []): ParseResult<T> {
  return { ok: true, value, notes };
}

export function parseError<T = never>(source: string, line: number, problem: string): ParseResult<T> {
  return { ok: false, error: { source, line, problem } };
}

/** "qemu.conf:12: expecting a value" (libvirt's own "file:line: info" shape, virconf.c). */
export function formatParseError(e: ParseError): string {
  return e.line > 0 ? `${e.source}:${e.line}: ${e.problem}` : `${e.source}: ${e.problem}`;
}

export function toInputError(e: ParseError): InputError {
  return new InputError(e.line > 0 ? `${e.source}:${e.line}` : e.source, e.problem);
}

export function parseErrorVerdict(e: ParseError): Verdict {
  return undecided(`cannot parse ${formatParseError(e)}`);
}

/** Split text into lines keeping 1-based numbers; accepts \n and \r\n. */
export function numberedLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const parts = text.split('\n');
  // a trailing newline does not make an extra (empty) line
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  parts.forEach((t, i) => out.push({ line: i + 1, text: t.endsWith('\r') ? t.slice(0, -1) : t }));
  return out;
}
