import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { junitXml } from '../../support/report/junit.js';
import { summaryMarkdown, countLine } from '../../support/report/summary.js';
import { collectResults, verdictsById, VERDICT_MEDIA_TYPE } from '../../support/report/results.js';
import { failed, undecided } from '../../support/verdict.js';
import type { Results } from '../../support/report/results.js';

const results: Results = {
  host: 'epyc<1>',
  target: 'ssh://root@epyc1',
  profile: 'sev',
  startedAt: '2026-11-26T12:00:00.000Z',
  durationMs: 1234,
  checks: [
    { id: 'host.kvm-amd.sev', status: 'failed', scenario: 'KVM has SEV', feature: 'features/host/kernel.feature', message: 'found "N" & <odd>\u0001; expected "Y"; fix: x | y', found: '"N" & <odd>\u0001', expected: '"Y"', fix: 'x | y' },
    { id: 'host.cpuid.sev', status: 'undecided', scenario: 'CPUID', feature: 'features/host/cpu.feature', message: 'undecided: /dev/cpu/0/cpuid: permission denied', reason: '/dev/cpu/0/cpuid: permission denied' },
    { id: 'host.cpuid.sev', status: 'skipped', scenario: 'CPUID ES', feature: 'features/host/cpu.feature', message: 'skipped: profile sev', reason: 'profile sev' },
    { id: 'host.cpu.sev-flag', status: 'passed', scenario: 'flag', feature: 'features/host/cpu.feature', message: 'lists "sev"' },
  ],
};

describe('reports', () => {
  it('junit.xml: one testcase per check id (worst of its scenarios), one testsuite per layer; failures carry the message, undecided is a skip with its reason; well-formed', () => {
    const xml = junitXml(results);
    // 4 scenarios, 3 check ids: host.cpuid.sev is undecided (its worst)
    expect(xml).toMatch(/<testsuites name="sevcheck epyc&lt;1&gt;" tests="3" failures="1" skipped="1"/);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(/<testsuite name="host" tests="3" failures="1" errors="0" skipped="1"/);
    expect(xml).toContain('<testcase classname="host.cpuid.sev" name="CPUID (worst of 2 scenarios)">');
    expect(xml).toContain('<system-out>CPUID: undecided: /dev/cpu/0/cpuid: permission denied\nCPUID ES: skipped: profile sev</system-out>');
    expect(xml).toMatch(/<failure type="host.kvm-amd.sev" message="found &quot;N&quot; &amp; &lt;odd&gt;\uFFFD; expected/);
    expect(xml).toMatch(/<skipped message="undecided: \/dev\/cpu\/0\/cpuid: permission denied"\/>/);
    expect(xml).not.toMatch(/undecided: undecided:/);
    const f = join(mkdtempSync(join(tmpdir(), 'junit-')), 'junit.xml');
    writeFileSync(f, xml);
    expect(() => execFileSync('xmllint', ['--noout', f], { stdio: 'pipe' })).not.toThrow();
  });

  it('summary.md: worst first, pipes escaped, a verdict line a person can paste', () => {
    const md = summaryMarkdown(results);
    expect(md).toMatch(/\*\*NOT COMPLIANT\*\* for profile `sev` — 3 checks: 1 failed, 1 undecided, 1 passed, 0 skipped\./);
    // one row per check id, worst first
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.map((r) => r.split('|')[2]?.trim())).toEqual(['failed', 'undecided', 'passed']);
    expect(md).toContain('| `host.cpuid.sev` | undecided | CPUID (worst of 2: undecided, skipped) |');
    expect(md).toContain('fix: x \\| y');
    expect(countLine(results)).toBe('1 failed, 1 undecided, 1 passed, 0 skipped');
  });

  it('junit.xml reads the fields: a failure shows found / expected / fix on their own lines, a skip its reason', () => {
    const tricky: Results = {
      ...results,
      checks: [
        // a found value that itself says "; expected ": splitting the message would cut it there
        { id: 'a.b', status: 'failed', scenario: 'S', feature: 'f', message: 'found x; expected y (quoted); expected z; fix: w', found: 'x; expected y (quoted)', expected: 'z', fix: 'w' },
        { id: 'a.c', status: 'undecided', scenario: 'U', feature: 'f', message: 'undecided: r', reason: 'r' },
      ],
    };
    const xml = junitXml(tricky);
    expect(xml).toContain('>found: x; expected y (quoted)\nexpected: z\nfix: w</failure>');
    expect(xml).toContain('<skipped message="undecided: r"/>');
    expect(xml).toContain('<system-out>undecided: r</system-out>');
    expect(xml).toContain('<system-out>failed: found x; expected y (quoted); expected z; fix: w</system-out>');
  });

  it('summary.md leads with the failures and their fixes, then the table, and names the pages beside it', () => {
    const md = summaryMarkdown(results, { page: 'report.html', steps: 'cucumber.html' });
    const at = (s: string): number => md.indexOf(s);
    expect(at('## Causes (1 of 1 failed checks)')).toBeGreaterThan(0);
    expect(at('## Causes (1 of 1 failed checks)')).toBeLessThan(at('## Undecided'));
    expect(at('## Undecided')).toBeLessThan(at('## All checks'));
    expect(at('- **fix:** x \\| y')).toBeGreaterThan(at('### `host.kvm-amd.sev` — KVM has SEV'));
    expect(at('- **fix:** x \\| y')).toBeLessThan(at('## All checks'));
    // host text keeps its <...>: escaped for Markdown, never dropped as an HTML tag
    expect(md).toContain('- **found:** "N" \\& \\<odd\\>\\\\x01');
    expect(md).toContain('- **expected:** "Y"');
    expect(md).toContain('[report.html](report.html)');
    expect(md).toContain('[cucumber.html](cucumber.html)');
    // undecided and skipped rows give the reason, the Result column the status word
    expect(md).toContain('| `host.cpuid.sev` | undecided | CPUID (worst of 2: undecided, skipped) | /dev/cpu/0/cpuid: permission denied |');
    expect(summaryMarkdown(results, { steps: 'cucumber.html' })).not.toContain('report.html');
    const clean = summaryMarkdown({ ...results, checks: results.checks.filter((c) => c.status !== 'failed') });
    expect(clean).not.toContain('## Causes');
    expect(clean).toContain('**COMPLIANT SO FAR — 1 undecided** for profile `sev`');
  });

  it('summary.md states a reason several undecided checks share once, on its group line; their rows point there', () => {
    const why = 'MSR 0xc0010010 on CPU 0: /dev/cpu/0/msr: permission denied';
    const u = (id: string) => ({ id, status: 'undecided' as const, scenario: id, feature: 'f', message: `undecided: ${why}`, reason: why });
    const md = summaryMarkdown({ ...results, checks: [u('host.msr.a'), u('host.msr.b'), u('host.msr.c'), ...results.checks] });
    expect(md.split(why)).toHaveLength(2);
    expect(md).toMatch(/- \*\*3 checks need the MSRs:\*\* `host\.msr\.a`, `host\.msr\.b`, `host\.msr\.c` \(MSR 0xc0010010 .*\) — run as root/);
    expect(md).toContain('| `host.msr.b` | undecided | host.msr.b | the reason its group states under Undecided above |');
    // a group of one keeps its reason in the table (stated there once)
    expect(md).toContain('| `host.cpuid.sev` | undecided | CPUID (worst of 2: undecided, skipped) | /dev/cpu/0/cpuid: permission denied |');
  });

  it('results from messages carry the verdict fields of the attachment', () => {
    const ts = { seconds: 1, nanos: 0 };
    const att = (id: string, v: object) => ({ attachment: { testCaseStartedId: id, mediaType: VERDICT_MEDIA_TYPE, body: JSON.stringify(v), contentEncoding: 'IDENTITY' } });
    const { results: r } = collectResults(
      [
        { pickle: { id: 'p1', uri: 'f', name: 'S1', tags: [{ name: '@check:x.y', astNodeId: 'a' }], astNodeIds: [], language: 'en', steps: [] } },
        { pickle: { id: 'p2', uri: 'f', name: 'S2', tags: [{ name: '@check:x.z', astNodeId: 'a' }], astNodeIds: [], language: 'en', steps: [] } },
        { testCase: { id: 't1', pickleId: 'p1', testSteps: [] } },
        { testCase: { id: 't2', pickleId: 'p2', testSteps: [] } },
        { testCaseStarted: { id: 's1', testCaseId: 't1', attempt: 0, timestamp: ts } },
        { testCaseStarted: { id: 's2', testCaseId: 't2', attempt: 0, timestamp: ts } },
        att('s1', { check: 'x.y', ...failed('a <b>', 'c', 'd') }),
        att('s2', { check: 'x.z', ...undecided('r') }),
      ] as never,
      { host: 'h', target: 't', profile: 'sev' },
    );
    expect(r.checks[0]).toEqual({ id: 'x.y', status: 'failed', scenario: 'S1', feature: 'f', message: 'found a <b>; expected c; fix: d', found: 'a <b>', expected: 'c', fix: 'd' });
    expect(r.checks[1]).toEqual({ id: 'x.z', status: 'undecided', scenario: 'S2', feature: 'f', message: 'undecided: r', reason: 'r' });
  });

  it('folds scenarios of one check id to the worst verdict', () => {
    expect(Object.fromEntries(verdictsById(results))).toEqual({ 'host.kvm-amd.sev': 'failed', 'host.cpuid.sev': 'undecided', 'host.cpu.sev-flag': 'passed' });
  });

  it('results from messages: a tagged scenario without a verdict is a harness error, never a pass', () => {
    const ts = { seconds: 1, nanos: 0 };
    const { results: r, problems } = collectResults(
      [
        { testRunStarted: { timestamp: ts } },
        { pickle: { id: 'p1', uri: 'features/x.feature', name: 'S1', tags: [{ name: '@check:x.y', astNodeId: 'a' }], astNodeIds: [], language: 'en', steps: [] } },
        { pickle: { id: 'p2', uri: 'features/x.feature', name: 'S2', tags: [], astNodeIds: [], language: 'en', steps: [] } },
        { testCase: { id: 't1', pickleId: 'p1', testSteps: [] } },
        { testCase: { id: 't2', pickleId: 'p2', testSteps: [] } },
        { testCaseStarted: { id: 's1', testCaseId: 't1', attempt: 0, timestamp: ts } },
        { testCaseStarted: { id: 's2', testCaseId: 't2', attempt: 0, timestamp: ts } },
        { testRunFinished: { timestamp: { seconds: 2, nanos: 5e8 }, success: true } },
      ] as never,
      { host: 'h', target: 't', profile: 'sev' },
    );
    expect(r.checks).toEqual([{ id: 'x.y', status: 'failed', scenario: 'S1', feature: 'features/x.feature', message: 'harness error: no verdict' }]);
    expect(problems.untagged).toEqual(['features/x.feature: "S2"']);
    expect(r.durationMs).toBe(1500);
  });
});
