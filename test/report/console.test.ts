/**
 * support/report/console.ts, pure: cucumber envelopes → one check per finished test case, check →
 * line, results → closing block; the colour rule (terminal only, NO_COLOR).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '@cucumber/messages';
import { describe, expect, it } from 'vitest';
import { checkLine, checkStream, closingLines, headerLine, painter, useColour, type ConsoleCheck } from '../../support/report/console.js';
import { collectResults, VERDICT_MEDIA_TYPE } from '../../support/report/results.js';
import { sevcheck } from '../helpers.js';

const plain = painter(false);
const RUN = { host: 'h', target: 'fixture:h', profile: 'sev' };

/** The envelopes of one scenario, as cucumber sends them. */
function scenario(n: number, tags: string[], verdict?: object, retried = false): Envelope[] {
  const e: Envelope[] = [
    { pickle: { id: `p${n}`, uri: 'features/x.feature', name: `scenario ${n}`, language: 'en', steps: [], tags: tags.map((name) => ({ name, astNodeId: 'a' })), astNodeIds: [] } },
    { testCase: { id: `tc${n}`, pickleId: `p${n}`, testSteps: [], testRunStartedId: 'r' } },
    { testCaseStarted: { id: `s${n}`, testCaseId: `tc${n}`, attempt: 0, timestamp: { seconds: 0, nanos: 0 } } },
  ];
  if (verdict) e.push({ attachment: { testCaseStartedId: `s${n}`, mediaType: VERDICT_MEDIA_TYPE, body: JSON.stringify(verdict), contentEncoding: 'IDENTITY' as never } });
  e.push({ testCaseFinished: { testCaseStartedId: `s${n}`, willBeRetried: retried, timestamp: { seconds: 0, nanos: 0 } } });
  return e;
}

describe('checkStream', () => {
  it('gives each check when its test case finishes, with the verdict the World attached', () => {
    const next = checkStream();
    const seen = scenario(1, ['@layer:host', '@check:host.a'], { check: 'host.a', status: 'failed', message: 'found x; expected y; fix: z' }).map(next);
    expect(seen.slice(0, -1)).toEqual([undefined, undefined, undefined, undefined]);
    expect(seen.at(-1)).toEqual({ id: 'host.a', status: 'failed', scenario: 'scenario 1', message: 'found x; expected y; fix: z' });
  });

  it('a check without a verdict is failed (harness error), as in results.json; an untagged scenario and a retried attempt give no line', () => {
    const next = checkStream();
    expect(scenario(2, ['@check:host.b']).map(next).at(-1)).toEqual({ id: 'host.b', status: 'failed', scenario: 'scenario 2', message: 'harness error: no verdict' });
    expect(scenario(3, ['@layer:host'], { status: 'passed', message: 'ok' }).map(next).filter(Boolean)).toEqual([]);
    expect(scenario(4, ['@check:host.d'], { status: 'passed', message: 'ok' }, true).map(next).filter(Boolean)).toEqual([]);
  });

  it("follows a real run's message stream: the same checks, in the same order, as results.json", async () => {
    const out = mkdtempSync(join(tmpdir(), 'sevcheck-stream-'));
    expect((await sevcheck(['run', '--host', 'fixture:fixtures/hosts/modprobe-conflict', '--format', 'json', '--out', out])).code).toBe(1);
    const envelopes = readFileSync(join(out, 'messages.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Envelope);
    const next = checkStream();
    const streamed = envelopes.map(next).filter((c): c is ConsoleCheck => c !== undefined);
    const { results } = collectResults(envelopes, RUN);
    expect(streamed).toHaveLength(88);
    expect(streamed).toEqual(results.checks.map(({ id, status, scenario, message }) => ({ id, status, scenario, message })));
  });
});

describe('lines', () => {
  const check = (status: ConsoleCheck['status'], id: string, message = ''): ConsoleCheck => ({ id, status, scenario: `title of ${id}`, message });

  it('one line per check: label (one vocabulary), id, title; control bytes escaped', () => {
    expect(checkLine(check('undecided', 'caps.pdh.chain-valid'), plain)).toBe('  undecided  caps.pdh.chain-valid                 title of caps.pdh.chain-valid');
    expect(checkLine(check('passed', 'a'), plain)).toMatch(/^ {2}passed {5}a {36}title of a$/);
    expect(headerLine({ host: 'h\u001b[2J', target: 't', profile: 'sev' })).toBe('sevcheck: h\\x1b[2J (t), profile sev');
  });

  it('the closing block: failures with their message, undecided with a brief reason, the verdict with totals, the report paths', () => {
    const long = `undecided: ${'r'.repeat(300)}`;
    const checks = [check('passed', 'p'), check('undecided', 'u', long), check('failed', 'f', 'found a; expected b; fix: c'), check('skipped', 's')];
    const lines = closingLines({ ...RUN, checks }, { paint: plain, details: true, reports: { dir: 'reports', files: ['results.json', 'zz.txt', 'summary.md', 'report.html'] } });
    expect(lines).toEqual([
      '',
      'failed (1):',
      '  f  title of f',
      '    found a; expected b; fix: c',
      '',
      'undecided (1), full reasons in the reports:',
      `  u: ${'r'.repeat(149)}…`,
      '',
      'NOT COMPLIANT for profile sev: 1 passed, 1 failed, 1 undecided, 1 skipped',
      'reports: reports/ (report.html, summary.md, results.json, zz.txt)',
    ]);
  });

  it('the report directory alone when its listing could not be read', () => {
    expect(closingLines({ ...RUN, checks: [] }, { paint: plain, details: true, reports: { dir: 'out//', files: [] } }).at(-1)).toBe('reports: out/');
  });

  it("a failure's found / expected / fix fields, when the verdict has them, each on a line", () => {
    const f: ConsoleCheck = { ...check('failed', 'f', 'found a; expected b; fix: c'), found: 'a', expected: 'b', fix: 'c' };
    expect(closingLines({ ...RUN, checks: [f] }, { paint: plain, details: true }).slice(2, 6)).toEqual(['  f  title of f', '    found     a', '    expected  b', '    fix       c']);
  });

  it('undecided checks with the very same reason (a partial fixture\'s "not recorded") are listed once, with their ids', () => {
    const u = (id: string, reason: string): ConsoleCheck => ({ id, status: 'undecided', scenario: id, message: `undecided: ${reason}`, reason });
    const NR = 'not recorded in this fixture (host.json "covers": host.firmware)';
    const lines = closingLines({ ...RUN, checks: [u('caps.a', NR), u('host.firmware.version', 'no SEV API line'), u('device.b', NR)] }, { paint: plain, details: true });
    expect(lines.slice(1, 4)).toEqual(['undecided (3), full reasons in the reports:', `  2 checks (caps.a, device.b): ${NR}`, '  host.firmware.version: no SEV API line']);
  });
  it('the verdict: COMPLIANT, COMPLIANT SO FAR, NOT COMPLIANT (also for undecided with --fail-on-undecided), none after a harness error', () => {
    const last = (checks: ConsoleCheck[], o: object = {}): string | undefined => closingLines({ ...RUN, checks }, { paint: plain, details: false, ...o }).at(-1);
    expect(last([check('passed', 'a'), check('skipped', 'b')])).toBe('COMPLIANT for profile sev: 1 passed, 0 failed, 0 undecided, 1 skipped');
    expect(last([check('passed', 'a'), check('undecided', 'b')])).toBe('COMPLIANT SO FAR for profile sev: 1 passed, 0 failed, 1 undecided, 0 skipped');
    expect(last([check('undecided', 'b')], { failOnUndecided: true })).toBe('NOT COMPLIANT for profile sev (--fail-on-undecided): 0 passed, 0 failed, 1 undecided, 0 skipped');
    expect(last([check('failed', 'b')], { harnessError: true })).toBe('no verdict (harness error): 0 passed, 1 failed, 0 undecided, 0 skipped');
    // without details (--format pretty: cucumber printed the messages), only the verdict line
    expect(closingLines({ ...RUN, checks: [check('failed', 'b', 'found x')] }, { paint: plain, details: false })).toEqual(['', 'NOT COMPLIANT for profile sev: 0 passed, 1 failed, 0 undecided, 0 skipped']);
  });
});

describe('colour', () => {
  it('only on a terminal, and not when NO_COLOR is set and non-empty (no-color.org)', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '0' })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
  });

  it('paints the label, padded outside the escape so columns line up', () => {
    expect(checkLine({ id: 'a', status: 'failed', scenario: 't', message: '' }, painter(true))).toBe(`  \x1b[31mfailed   \x1b[0m  a${' '.repeat(36)}t`);
  });
});
