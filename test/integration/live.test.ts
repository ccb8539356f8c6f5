/**
 * This machine is an AMD EPYC *guest* without SEV: a live run must never pass the SEV checks,
 * recording it must replay to the same verdicts and messages, and each fact is read once.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sevcheck, byId, type JsonResults } from '../helpers.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const SEV_CHECKS = ['host.cpu.sev-flag', 'host.cpuid.sev', 'host.cpuid.asids', 'host.kvm-amd.sev'];

async function runJson(args: string[], env: Record<string, string> = {}): Promise<{ code: number; results: JsonResults }> {
  const r = await sevcheck([...args, '--format', 'json', '--out', tmp('sevcheck-live-')], env);
  expect(r.stderr).toBe('');
  return { code: r.code, results: JSON.parse(r.stdout) as JsonResults };
}

describe('live run on this machine (--host local)', () => {
  it('fails or leaves undecided every SEV check, with the reason, never passes one', async () => {
    const { code, results } = await runJson(['run', '--host', 'local']);
    const v = byId(results);
    for (const id of SEV_CHECKS) expect(['failed', 'undecided'], `${id}: ${v[id]}`).toContain(v[id]);
    expect(code).toBe(1);
    const msg = (id: string): string => results.checks.find((c) => c.id === id && c.status !== 'skipped')?.message ?? '';
    // CPUID is readable as root here and the hypervisor hides the leaf; unreadable → undecided with the reason
    if (v['host.cpuid.sev'] === 'failed') expect(msg('host.cpuid.sev')).toMatch(/CPUID 0x8000001F/);
    else expect(msg('host.cpuid.sev')).toMatch(/\/dev\/cpu\/0\/cpuid: (permission denied|no such file)/);
    expect(msg('host.kvm-amd.sev')).toMatch(/kvm_amd/);
    expect(msg('host.cpu.sev-flag')).toMatch(/no "sev" in the \/proc\/cpuinfo flags/);
  });

  it('agrees with libvirt virt-host-validate on secure guest support', async (ctx) => {
    let out: string;
    try {
      out = execFileSync('virt-host-validate', ['qemu'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      const stdout = (e as { stdout?: string }).stdout;
      if (!stdout) {
        console.log('skipped: virt-host-validate (libvirt-clients) is not installed');
        ctx.skip();
        return;
      }
      out = stdout; // it exits 1 when some check FAILs; the lines are still there
    }
    const line = out.split('\n').find((l) => /secure guest support/i.test(l));
    expect(line, 'virt-host-validate prints a secure guest support line').toBeDefined();
    const libvirtSays = /:\s*PASS/.test(line as string) ? 'passed' : 'not passed';
    const { results } = await runJson(['run', '--host', 'local']);
    const v = byId(results);
    const sevcheckSays = v['host.cpuid.sev'] === 'passed' && v['host.kvm-amd.sev'] === 'passed' ? 'passed' : 'not passed';
    expect(sevcheckSays, `virt-host-validate: ${line?.trim()}`).toBe(libvirtSays);
  });

  it('reads every fact at most once per run (per-run cache)', async () => {
    const log = join(tmp('sevcheck-reads-'), 'reads.json');
    await runJson(['run', '--host', 'local'], { SEVCHECK_READ_LOG: log });
    const counts = JSON.parse(readFileSync(log, 'utf8')) as Record<string, number>;
    expect(Object.keys(counts)).toEqual(expect.arrayContaining(['readFile /proc/cpuinfo', 'readFile /proc/cmdline', 'cpuid 0x8000001f cpu0']));
    for (const [read, n] of Object.entries(counts)) expect(n, read).toBe(1);
  });

  it('record → replay gives identical verdicts and messages', async () => {
    const dir = join(tmp('sevcheck-rec-'), 'this-machine');
    const rec = await sevcheck(['record', '--host', 'local', '--out', dir, '--reports', tmp('sevcheck-recrep-')]);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toMatch(/recorded local into/);
    const host = JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8'));
    expect(host).toMatchObject({ name: 'this-machine', source: 'recorded', profile: 'sev' });
    const live = await runJson(['run', '--host', 'local']);
    const replay = await runJson(['run', '--host', `fixture:${dir}`]);
    const strip = (r: JsonResults) => r.checks.map(({ id, status, scenario, message }) => ({ id, status, scenario, message }));
    expect(strip(replay.results)).toEqual(strip(live.results));
    expect(replay.code).toBe(live.code);
  });
});
