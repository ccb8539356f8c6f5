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
/** hosts rebuilt from text pasted in public threads (issue 18): expected.json holds only what the thread establishes */
const REALWORLD = join(ROOT, 'fixtures/realworld');
const realworld = readdirSync(REALWORLD).filter((h) => existsSync(join(REALWORLD, h, 'expected.json')));

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
    messagesAreWhole(results);
  });
});

function messagesAreWhole(results: JsonResults): void {
  for (const c of results.checks) {
    expect(c.message.length).toBeGreaterThan(10);
    // a follower (verdict.ts failedBecause: a defect another check owns) has no fix of its own
    const owner = c.status === 'failed' && /^because ([a-z0-9.-]+): /.exec(c.message)?.[1];
    if (owner) {
      const { found, expected, fix } = c as { found?: string; expected?: string; fix?: string };
      expect(c.message, c.id).toBe(`because ${owner}: found ${found}; expected ${expected}`);
      expect(fix, c.id).toBe(`the fix under ${owner}`);
      expect((c as { because?: string[] }).because, c.id).toEqual([owner]);
      expect(results.checks.some((o) => o.id === owner && o.status === 'failed'), c.id).toBe(true);
      continue;
    }
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
}

describe('meta-test: real hosts from public threads give the verdicts the thread establishes', () => {
  it('has at least 25 of them, each with its source and at least one asserted verdict', () => {
    expect(realworld.length).toBeGreaterThanOrEqual(25);
    for (const h of realworld) {
      const source = readFileSync(join(REALWORLD, h, 'SOURCE.md'), 'utf8');
      expect(source, h).toMatch(/^Source: https:\/\/\S+$/m);
      const expected = JSON.parse(readFileSync(join(REALWORLD, h, 'expected.json'), 'utf8')) as Record<string, string>;
      expect(Object.keys(expected).length, h).toBeGreaterThan(0);
      // the quote behind every asserted verdict is in SOURCE.md
      for (const id of Object.keys(expected)) expect(source, `${h} ${id}`).toContain(`\`${id}\``);
    }
  });

  it.each(realworld)('%s', async (host) => {
    const expected = JSON.parse(readFileSync(join(REALWORLD, host, 'expected.json'), 'utf8')) as Record<string, string>;
    const r = await sevcheck(['run', '--host', `fixture:fixtures/realworld/${host}`, '--format', 'json', '--out', join('/tmp', `sevcheck-meta-rw-${host}`)]);
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as JsonResults;
    const got = byId(results);
    // exactly the checks expected.json lists; the others are what the thread did not paste
    expect(Object.fromEntries(Object.keys(expected).map((id) => [id, got[id]]))).toEqual(expected);
    expect(r.code).toBe(Object.values(got).includes('failed') ? 1 : 0);
    messagesAreWhole(results);
    // a check outside host.json "covers" that cannot decide says so with the one reason
    const covers = (JSON.parse(readFileSync(join(REALWORLD, host, 'host.json'), 'utf8')) as { covers: string[] }).covers;
    const outside = results.checks.filter((c) => c.status === 'undecided' && !covers.some((p) => c.id === p || c.id.startsWith(`${p}.`)));
    for (const c of outside) expect(c.message, c.id).toBe(`undecided: not recorded in this fixture (host.json "covers": ${covers.join(', ')})`);
  });
});
