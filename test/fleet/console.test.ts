/** The fleet's console summary (--format pretty): one entry per failed check id per host. */
import { describe, expect, it } from 'vitest';
import { consoleSummary } from '../../support/cli/fleet.js';
import type { FleetResults } from '../../support/fleet/types.js';

const check = (id: string, status: 'passed' | 'failed', scenario: string, waived?: { reason: string; expires: string }) => ({
  id,
  status,
  scenario,
  feature: 'features/host/cpu.feature',
  message: status,
  ...(waived ? { waived } : {}),
});

describe('fleet console summary', () => {
  it('names a check once however many of its scenarios failed, waived ones marked', () => {
    const f: FleetResults = {
      startedAt: '2026-12-03T01:00:00.000Z',
      durationMs: 1200,
      complete: true,
      hosts: [
        {
          name: 'epyc-a1',
          target: 'local',
          profile: 'sev-snp',
          tags: [],
          exitCode: 1,
          checks: [
            check('host.cpu.sev-flag', 'failed', 'SEV'),
            check('host.cpu.sev-flag', 'failed', 'SEV-ES'),
            check('host.cpu.sev-flag', 'failed', 'SEV-SNP'),
            check('host.modprobe.sev', 'failed', 'modprobe', { reason: 'OPS-1', expires: '2027-01-31' }),
            check('host.cpuid.sev', 'passed', 'CPUID'),
          ],
        },
      ],
    };
    const text = consoleSummary(f, '/tmp/out', 1);
    expect(text).toContain('FAILED epyc-a1: host.cpu.sev-flag, host.modprobe.sev (waived)\n');
  });
});
