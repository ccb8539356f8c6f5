/**
 * Test helper (node --import tsx): `sevcheck run --host T [--profile P] --format json --out TMP`
 * for each [T, P] of argv[2] (JSON), through the CLI's main() in this one process, as bin/sevcheck.js
 * calls it; prints the list of what each printed on stdout, as JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../support/cli/main.js';

const out: unknown[] = [];
for (const [target, profile] of JSON.parse(process.argv[2] ?? '[]') as Array<[string, string | null]>) {
  let text = '';
  let err = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  const stderr = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
  const code = await main(['run', '--host', target, ...(profile ? ['--profile', profile] : []), '--format', 'json', '--out', join(mkdtempSync(join(tmpdir(), 'sevcheck-each-')), 'r')], { stdout, stderr });
  out.push(code < 2 ? JSON.parse(text) : { code, err });
}
process.stdout.write(JSON.stringify(out));
