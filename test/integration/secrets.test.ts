/**
 * Issue 7: launch keys (TIK, TEK) and secret payloads are read from files, never printed, never
 * attached to reports. Runs the secret-packet flows with every report written and looks for the
 * key and payload bytes in every form a formatter could leak them (raw, hex, base64, base64url).
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, VECTORS, sevcheck } from '../helpers.js';

const REPORTS = ['results.json', 'cucumber.html', 'messages.ndjson', 'junit.xml', 'summary.md', 'report.html'];

function forms(b: Buffer): string[] {
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url'), b.toString('latin1')];
}

describe('secrets never reach reports or console output', () => {
  it.each(['sev-good', 'sev-es-good'])('%s: no TIK, TEK or secret in reports/ or stdout/stderr', async (bundle) => {
    const dir = join(ROOT, 'fixtures/launch', bundle);
    const secrets: Record<string, Buffer> = {
      TIK: readFileSync(join(dir, 'tik.bin')),
      TEK: readFileSync(join(dir, 'tek.bin')),
      'secret payload': readFileSync(join(dir, 'luks.key')),
    };
    const out = mkdtempSync(join(tmpdir(), 'sevcheck-secrets-'));
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--launch', dir, '--tags', '@layer:launch', '--out', out], {
      SEVCHECK_VECTORS: VECTORS,
    });
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([...REPORTS].sort());
    const texts: Record<string, string> = { stdout: r.stdout, stderr: r.stderr };
    for (const f of REPORTS) texts[f] = readFileSync(join(out, f), 'latin1');
    // the flow really ran: the secret-packet check passed and says so
    expect(texts['results.json']).toMatch(/"id": "launch.sev.secret-packet",\s*"status": "passed"/);
    for (const [name, bytes] of Object.entries(secrets)) {
      expect(bytes.length).toBeGreaterThanOrEqual(16);
      for (const form of forms(bytes)) {
        for (const [file, text] of Object.entries(texts)) {
          expect(text.includes(form), `${name} (${form.length} chars) found in ${file}`).toBe(false);
        }
      }
    }
  });
});
