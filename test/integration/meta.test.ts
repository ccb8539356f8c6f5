/**
 * Verdicts need evidence: every fixture host's expected.json must be exactly what the suite
 * produces on it (every check id, no more, no less), through the real CLI. The same runs show the
 * default console fits CONSOLE_MAX_LINES on every bundled host, and that every report states the
 * totals computed from results.json (one count: test/report/one-count.ts).
 */
import { readdirSync, readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck, byId, type JsonResults } from '../helpers.js';
import { CONSOLE_MAX_LINES } from '../../support/report/console.js';
import { expectOneCount } from '../report/one-count.js';

const HOSTS = join(ROOT, 'fixtures/hosts');
const hosts = readdirSync(HOSTS).filter((h) => existsSync(join(HOSTS, h, 'expected.json')));

describe('meta-test: fixture hosts give exactly their expected verdicts', () => {
  it('has the reference host and at least six broken or undecided variants', () => {
    expect(hosts).toContain('reference-milan');
    expect(hosts.length).toBeGreaterThanOrEqual(7);
  });

  it.each(hosts)('%s', async (host) => {
    const expected = JSON.parse(readFileSync(join(HOSTS, host, 'expected.json'), 'utf8')) as Record<string, string>;
    const out = mkdtempSync(join(tmpdir(), `sevcheck-meta-${host}-`));
    const r = await sevcheck(['run', '--host', `fixture:fixtures/hosts/${host}`, '--out', out]);
    expect(r.stderr).toBe('');
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as JsonResults;
    // the default console fits one screen, and every output states the same totals
    expect(r.stdout.replace(/\n$/, '').split('\n').length, r.stdout).toBeLessThanOrEqual(CONSOLE_MAX_LINES);
    await expectOneCount(out, r.stdout);
    expect(byId(results)).toEqual(expected);
    const anyFailed = Object.values(expected).includes('failed');
    expect(r.code).toBe(anyFailed ? 1 : 0);
    for (const c of results.checks) {
      expect(c.message.length).toBeGreaterThan(10);
      if (c.status === 'failed') expect(c.message).toMatch(/^found .+; expected .+; fix: .+/);
      if (c.status === 'undecided') expect(c.message).toMatch(/^undecided: /);
      // the message's parts as fields (docs/results.md): each is exactly its part of the message
      const { found, expected, fix, reason } = c as { found?: string; expected?: string; fix?: string; reason?: string };
      if (c.status === 'failed') {
        expect([typeof found, typeof expected, typeof fix, reason], c.id).toEqual(['string', 'string', 'string', undefined]);
        expect(c.message, c.id).toBe(`found ${found}; expected ${expected}; fix: ${fix}`);
      } else if (c.status === 'passed') {
        expect([found, expected, fix, reason], c.id).toEqual([undefined, undefined, undefined, undefined]);
      } else {
        expect([found, expected, fix, typeof reason], c.id).toEqual([undefined, undefined, undefined, 'string']);
        expect(c.message, c.id).toBe(`${c.status}: ${reason}`);
      }
    }
  });
});
