/**
 * support/report/console.ts, pure: cucumber envelopes → one check per finished test case, check →
 * line, results → closing block; the colour rule (terminal only, NO_COLOR).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '@cucumber/messages';
import { describe, expect, it } from 'vitest';
import { checkLine, checkStream, closingLines, CONSOLE_MAX_LINES, headerLine, painter, useColour, type ConsoleCheck } from '../../support/report/console.js';
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
    expect(streamed).toHaveLength(89);
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

  it('the closing block: causes with found and one fix, what fails because of them, undecided by reason, one line per layer, the verdict with totals by check id, the report paths', () => {
    const checks: ConsoleCheck[] = [
      check('passed', 'host.cpu.amd'),
      { ...check('failed', 'host.modprobe.sev', 'found a; expected b; fix: c'), found: 'a at /etc/modprobe.d/x.conf:2', expected: 'b', fix: 'change /etc/modprobe.d/x.conf:2' },
      { ...check('failed', 'host.kvm-amd.sev', 'found n; expected y; fix: echo'), found: 'n', expected: 'y', fix: 'echo' },
      { ...check('undecided', 'host.firmware.version'), reason: 'no kernel log with SEV lines (journalctl: not recorded in this fixture)' },
      { ...check('undecided', 'host.snp.init'), reason: 'no kernel log with SEV lines (journalctl: not recorded in this fixture)' },
      { ...check('undecided', 'device.x'), reason: 'r'.repeat(300) },
      check('skipped', 'device.s'),
      check('skipped', 'device.s'),
    ];
    const lines = closingLines({ ...RUN, checks }, { paint: plain, details: true, reports: { dir: 'reports', files: ['results.json', 'zz.txt', 'summary.md', 'report.html'] } });
    expect(lines).toEqual([
      '',
      '1 cause of 2 failed checks (1 failing because of another), one fix each:',
      '  host.modprobe.sev  title of host.modprobe.sev',
      '    found     a at /etc/modprobe.d/x.conf:2',
      '    fix       change /etc/modprobe.d/x.conf:2',
      '    failed because of it (1): host.kvm-amd.sev',
      '',
      '3 undecided checks, by reason:',
      '  2 checks need the kernel log: host.firmware.version, host.snp.init',
      expect.stringMatching(/^ {4}→ run as root/),
      `  1 undecided: ${'r'.repeat(136)}…`,
      '    device.x',
      '',
      '  host    5 checks: 2 failed, 2 undecided, 1 passed, 0 skipped',
      '  device  2 checks: 0 failed, 1 undecided, 0 passed, 1 skipped',
      '',
      // 8 scenarios, 7 check ids: device.s counts once
      'NOT COMPLIANT for profile sev: 7 checks: 2 failed, 3 undecided, 1 passed, 1 skipped',
      'reports: reports/ (report.html, summary.md, results.json, zz.txt)',
    ]);
    // the symptom's own fix is not printed: the cause's is the one to apply
    expect(lines.join('\n')).not.toContain('echo');
  });

  it('the default block fits CONSOLE_MAX_LINES with the header, whatever the run; what is cut is counted; --verbose cuts nothing', () => {
    const checks: ConsoleCheck[] = [];
    for (let i = 0; i < 30; i++) checks.push({ ...check('failed', `l${i % 9}.c${i}`), found: `f${i}`, expected: 'e', fix: `fix ${i}` });
    for (let i = 0; i < 30; i++) checks.push({ ...check('undecided', `u${i % 5}.c${i}`), reason: `reason ${i}` });
    const short = closingLines({ ...RUN, checks }, { paint: plain, details: true, reports: { dir: 'r', files: [] }, above: 1 });
    expect(short.length + 1).toBeLessThanOrEqual(CONSOLE_MAX_LINES);
    expect(short).toContainEqual(expect.stringMatching(/^ {2}… \d+ more causes: .* \(the reports have them all, and --verbose\)$/));
    expect(short.at(-2)).toBe('NOT COMPLIANT for profile sev: 60 checks: 30 failed, 30 undecided, 0 passed, 0 skipped');
    const long = closingLines({ ...RUN, checks }, { paint: plain, details: true, verbose: true });
    for (let i = 0; i < 30; i++) expect(long).toContain(`    fix       fix ${i}`);
    for (let i = 0; i < 30; i++) expect(long).toContain(`  1 undecided: reason ${i}`);
  });

  it('the report directory alone when its listing could not be read', () => {
    expect(closingLines({ ...RUN, checks: [] }, { paint: plain, details: true, reports: { dir: 'out//', files: [] } }).at(-1)).toBe('reports: out/');
  });

  it('a cause without found / expected / fix fields (a harness-error entry) shows its message as the fix', () => {
    const f = check('failed', 'f', 'harness error: no verdict');
    expect(closingLines({ ...RUN, checks: [f] }, { paint: plain, details: true }).slice(1, 4)).toEqual(['1 cause of 1 failed check, one fix each:', '  f  title of f', '    fix       harness error: no verdict']);
  });

  it('undecided checks with the very same reason (a partial fixture\'s "not recorded") are listed once, with their ids', () => {
    const u = (id: string, reason: string): ConsoleCheck => ({ id, status: 'undecided', scenario: id, message: `undecided: ${reason}`, reason });
    const NR = 'not recorded in this fixture (host.json "covers": host.firmware)';
    const lines = closingLines({ ...RUN, checks: [u('caps.a', NR), u('host.firmware.version', 'no SEV API line'), u('device.b', NR)] }, { paint: plain, details: true });
    expect(lines.slice(1, 6)).toEqual([
      '3 undecided checks, by reason:',
      '  2 checks read something this fixture did not record: caps.a, device.b',
      '    → record the host again with sevcheck record (as root, with its tools installed)',
      '  1 undecided: no SEV API line',
      '    host.firmware.version',
    ]);
    expect(lines.join('\n').match(/not record/g)).toHaveLength(1);
  });
  it('the verdict: COMPLIANT, COMPLIANT SO FAR, NOT COMPLIANT (also for undecided with --fail-on-undecided), none after a harness error', () => {
    const last = (checks: ConsoleCheck[], o: object = {}): string | undefined => closingLines({ ...RUN, checks }, { paint: plain, details: false, ...o }).at(-1);
    expect(last([check('passed', 'a'), check('skipped', 'b')])).toBe('COMPLIANT for profile sev: 2 checks: 0 failed, 0 undecided, 1 passed, 1 skipped');
    expect(last([check('passed', 'a'), check('undecided', 'b')])).toBe('COMPLIANT SO FAR for profile sev: 2 checks: 0 failed, 1 undecided, 1 passed, 0 skipped');
    expect(last([check('undecided', 'b')], { failOnUndecided: true })).toBe('NOT COMPLIANT for profile sev (--fail-on-undecided): 1 check: 0 failed, 1 undecided, 0 passed, 0 skipped');
    expect(last([check('failed', 'b')], { harnessError: true })).toBe('no verdict (harness error): 1 check: 1 failed, 0 undecided, 0 passed, 0 skipped');
    // without details (--format pretty: cucumber printed the messages), only the verdict line
    expect(closingLines({ ...RUN, checks: [check('failed', 'b', 'found x')] }, { paint: plain, details: false })).toEqual(['', 'NOT COMPLIANT for profile sev: 1 check: 1 failed, 0 undecided, 0 passed, 0 skipped']);
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
