/**
 * Issue 12: MSRs and every-CPU reads, recorded on this machine and replayed. Whatever the machine
 * is (bare metal or a VM, with or without the msr module, root or not), the replay must give the
 * same verdicts and messages for the CPU, MSR and every-CPU checks, and the recording must hold
 * what was read: msr.json when an MSR could be read, the read error in errors.json when not.
 * The test never loads a module (no `modprobe msr`).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sevcheck, type JsonResults } from '../helpers.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const TAGS = '@check:host.cpu.amd or @check:host.cpu.epyc or @check:host.cpuid.same-on-all-cpus or @check:host.msr.syscfg-sme or @check:host.msr.syscfg-snp or @check:host.msr.syscfg-vmpl or @check:host.snp.rmp or @check:host.cpuid.secure-tsc';

async function runJson(host: string): Promise<JsonResults> {
  const r = await sevcheck(['run', '--host', host, '--profile', 'sev-snp', '--tags', TAGS, '--format', 'json', '--out', tmp('sevcheck-msr-live-')]);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as JsonResults;
}

describe('record → replay of MSRs and every CPU on this machine', () => {
  it('gives the same verdicts and messages, and records what the MSR reads gave', async () => {
    const dir = join(tmp('sevcheck-msr-rec-'), 'this-machine');
    const rec = await sevcheck(['record', '--host', 'local', '--profile', 'sev-snp', '--tags', TAGS, '--out', dir, '--reports', tmp('sevcheck-msr-recrep-')]);
    expect(rec.code, rec.stderr).toBe(0);
    const live = await runJson('local');
    const replay = await runJson(`fixture:${dir}`);
    const strip = (r: JsonResults) => r.checks.map(({ id, status, scenario, message }) => ({ id, status, scenario, message }));
    expect(strip(replay)).toEqual(strip(live));
    expect(live.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['host.msr.syscfg-sme', 'host.snp.rmp', 'host.cpuid.same-on-all-cpus']));

    const virtual = /\bhypervisor\b/.test(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '');
    const msrStatus = live.checks.find((c) => c.id === 'host.msr.syscfg-sme')?.status;
    // never passed from a VM's emulated SYSCFG
    if (virtual) expect(msrStatus).toBe('undecided');
    const msrJson = join(dir, 'msr.json');
    const errors = existsSync(join(dir, 'errors.json')) ? JSON.parse(readFileSync(join(dir, 'errors.json'), 'utf8')) : {};
    const sameMsg = live.checks.find((c) => c.id === 'host.cpuid.same-on-all-cpus')?.message ?? '';
    if (existsSync(msrJson)) {
      // values were read: CPU 0's, 16 hex digits
      const m = JSON.parse(readFileSync(msrJson, 'utf8')) as Record<string, Record<string, string>>;
      const cpu0 = m['*'] ?? m['0'];
      expect(cpu0?.['0xc0010010']).toMatch(/^0x[0-9a-f]{16}$/);
    } else if (!/AMD's and reports no SEV|does not implement CPUID leaf/.test(sameMsg) && !/\/dev\/cpu\/0\/cpuid/.test(sameMsg)) {
      // an AMD CPU whose leaf 0x8000001F was read: SYSCFG was tried on CPU 0 and failed (no msr
      // module, not root, or RDMSR refused); the failure was recorded and replays as the same reason
      expect(Object.keys(errors.msr ?? {})).toContain('0:0xc0010010');
    }
  });
});
