/**
 * /etc/os-release (os-release(5), freedesktop.org): newline-separated KEY=VALUE assignments,
 * shell-compatible. Values may be unquoted or in single/double quotes; inside double quotes a
 * backslash escapes `$ " \ \``. Lines starting with `#` are comments; blank lines are allowed.
 * Defaults when absent (os-release(5)): ID=linux, NAME=Linux, PRETTY_NAME=Linux.
 * ID_LIKE is a space-separated list of related distribution ids, closest first.
 */
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

export interface OsRelease {
  readonly id: string;
  readonly idLike: readonly string[];
  readonly name: string;
  readonly prettyName: string;
  readonly versionId?: string;
  readonly fields: Readonly<Record<string, string>>;
}

function unquote(v: string): string | undefined {
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"')) return undefined;
    return v.slice(1, -1).replace(/\\([$"\\`])/g, '$1');
  }
  if (v.startsWith("'")) {
    if (v.length < 2 || !v.endsWith("'")) return undefined;
    return v.slice(1, -1);
  }
  return v;
}

/** PRETTY_NAME as os-release(5) quotes it, when the text sets it (no "Linux" default): a host's distro line. */
export function prettyName(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const r = parseOsRelease(text);
  return r.ok ? r.value.fields.PRETTY_NAME : undefined;
}

export function parseOsRelease(text: string, source = '/etc/os-release'): ParseResult<OsRelease> {
  if (text.includes('\0')) return parseError(source, 0, 'contains NUL bytes');
  const fields: Record<string, string> = {};
  const notes: string[] = [];
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    const value = m ? unquote(m[2] ?? '') : undefined;
    if (!m || value === undefined) {
      notes.push(`${source}:${line}: ignored line that is not KEY=VALUE`);
      continue;
    }
    fields[m[1] ?? ''] = value;
  }
  const id = fields.ID ?? 'linux';
  return ok(
    {
      id,
      idLike: (fields.ID_LIKE ?? '').split(/\s+/).filter((s) => s !== ''),
      name: fields.NAME ?? 'Linux',
      prettyName: fields.PRETTY_NAME ?? 'Linux',
      ...(fields.VERSION_ID !== undefined ? { versionId: fields.VERSION_ID } : {}),
      fields,
    },
    notes,
  );
}
