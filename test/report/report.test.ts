import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { junitXml } from '../../support/report/junit.js';
import { summaryMarkdown, countLine } from '../../support/report/summary.js';
import { collectResults, verdictsById } from '../../support/report/results.js';
import type { Results } from '../../support/report/results.js';

const results: Results = {
  host: 'epyc<1>',
  target: 'ssh://root@epyc1',
  profile: 'sev',
  startedAt: '2026-11-26T12:00:00.000Z',
  durationMs: 1234,
  checks: [
    { id: 'host.kvm-amd.sev', status: 'failed', scenario: 'KVM has SEV', feature: 'features/host/kernel.feature', message: 'found "N" & <odd>\u0001; expected "Y"; fix: x | y' },
    { id: 'host.cpuid.sev', status: 'undecided', scenario: 'CPUID', feature: 'features/host/cpu.feature', message: 'undecided: /dev/cpu/0/cpuid: permission denied' },
    { id: 'host.cpuid.sev', status: 'skipped', scenario: 'CPUID ES', feature: 'features/host/cpu.feature', message: 'skipped: profile sev' },
    { id: 'host.cpu.sev-flag', status: 'passed', scenario: 'flag', feature: 'features/host/cpu.feature', message: 'lists "sev"' },
  ],
};

describe('reports', () => {
  it('junit.xml: failures carry the message, undecided is a skip with its reason, and the XML is well-formed', () => {
    const xml = junitXml(results);
    expect(xml).toMatch(/<testsuites name="sevcheck epyc&lt;1&gt;" tests="4" failures="1" skipped="2"/);
    expect(xml).toMatch(/<failure type="host.kvm-amd.sev" message="found &quot;N&quot; &amp; &lt;odd&gt;\uFFFD; expected/);
    expect(xml).toMatch(/<skipped message="undecided: \/dev\/cpu\/0\/cpuid: permission denied"\/>/);
    expect(xml).not.toMatch(/undecided: undecided:/);
    const f = join(mkdtempSync(join(tmpdir(), 'junit-')), 'junit.xml');
    writeFileSync(f, xml);
    expect(() => execFileSync('xmllint', ['--noout', f], { stdio: 'pipe' })).not.toThrow();
  });

  it('summary.md: worst first, pipes escaped, a verdict line a person can paste', () => {
    const md = summaryMarkdown(results);
    expect(md).toMatch(/\*\*NOT COMPLIANT\*\* for profile `sev` — 1 passed, 1 failed, 1 undecided, 1 skipped\./);
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.map((r) => r.split('|')[2]?.trim())).toEqual(['FAIL', 'UNDECIDED', 'PASS', 'SKIP']);
    expect(md).toContain('fix: x \\| y');
    expect(countLine(results)).toBe('1 passed, 1 failed, 1 undecided, 1 skipped');
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
