/**
 * The rules issue 18 draws from the wording table: a failure line of a step is never cancelled by
 * a success line of another step printed after it (the failed step's check is failed, citing the
 * line), and a ccp / kvm_amd / SEV-SNP line the table does not know that reads like a failure
 * keeps the checks that depend on it undecided, quoting it — never passed.
 */
import { describe, expect, it } from 'vitest';
import * as fw from '../../support/rules/firmware.js';
import * as cpu from '../../support/rules/host-cpu.js';
import { parseKernelLog } from '../../support/parsers/kernel-log.js';
import type { KernelLog, ToolRun } from '../../support/probes/host-firmware.js';
import { HostError } from '../../support/host/types.js';
import { known } from '../../support/facts.js';

const logOf = (...lines: string[]): KernelLog => ({ source: 'dmesg', facts: parseKernelLog(`${lines.join('\n')}\n`), tried: [] });
const noTools = async (): Promise<ToolRun[]> => [
  { tool: 'snphost', command: 'snphost ok', absent: true, reason: 'snphost ok: not installed (exit 127)' },
  { tool: 'sevctl', command: 'sevctl ok', absent: true, reason: 'sevctl ok: not installed (exit 127)' },
];
const snphostSays = (name: string, status: 'pass' | 'fail') => async (): Promise<ToolRun[]> => [
  { tool: 'snphost', command: 'snphost ok', absent: false, tests: [{ tool: 'snphost', name, status }] },
];
const never = () => Promise.reject(new Error('must not be asked'));
const CCP = 'ccp 0000:01:00.2: ';

describe('rule: a failed step is never cancelled by a later success line of another step', () => {
  it('INIT fails in the older wording (no ", rc N"), then "SEV API:0.31 build:43": sev-init failed, citing the INIT line (the issue 18 thread)', async () => {
    const log = logOf(`[   10.1] ${CCP}SEV: failed to INIT error 0x1`, `[   10.2] ${CCP}SEV API:0.31 build:43`);
    const v = await fw.sevInit(log, never);
    expect(v.status).toBe('failed');
    expect(v.status === 'failed' && v.found).toContain('dmesg line 1: "[   10.1] ccp 0000:01:00.2: SEV: failed to INIT error 0x1"');
    expect(v.message).toContain('not a successful INIT');
    // SEV-ES needs INIT with the ES flag: failed too, citing the same line
    const es = await fw.sevEsInit(log, never);
    expect(es.status).toBe('failed');
    expect(es.message).toContain('line 1');
  });

  it('every INIT failure wording that shipped, followed by an API line, fails sev-init', async () => {
    for (const line of ['SEV: failed to INIT error 0x3', 'SEV: failed to INIT error 0x3, rc -5', 'SEV: INIT failed 0x3, rc -5', 'SEV: INIT_EX failed 0, rc -19', 'SEV: DF_FLUSH failed 0x9, rc -5']) {
      const v = await fw.sevInit(logOf(`${CCP}${line}`, `${CCP}SEV API:1.55 build:21`), never);
      expect(v.status, line).toBe('failed');
    }
  });

  it('SNP_INIT fails (AMDESE, v6.11, v6.14 wordings), then "SEV-SNP API" or "SEV API": snp-init failed', async () => {
    for (const line of ['SEV-SNP: failed to INIT error 0x3', 'SEV-SNP: failed to INIT rc -5, error 0x3', 'SEV-SNP: SNP_INIT_EX failed rc -5, error 0x3', 'SEV-SNP support requires firmware version >= 1:51']) {
      const v = await fw.snpInit(logOf(`${CCP}${line}`, `${CCP}SEV API:1.49 build:3`, `${CCP}SEV-SNP API:1.55 build:21`), never);
      expect(v.status, line).toBe('failed');
      expect(v.message).toContain('line 1');
    }
  });

  it('PLATFORM_STATUS failed or the PSP timed out: sev-init and snp-init failed, the version check failed without a version', async () => {
    for (const line of ['SEV: failed to get status. Error: 0x1', 'sev command 0x1 timed out, disabling PSP', 'SEV: memory encryption not enabled by BIOS']) {
      const log = logOf(`${CCP}${line}`);
      expect((await fw.sevInit(log, never)).status, line).toBe('failed');
      expect((await fw.snpInit(log, never)).status, line).toBe('failed');
      expect((await fw.firmwareVersion(log, fw.minFirmware('sev-snp'), never, never)).status, line).toBe('failed');
    }
    // a PSP that timed out after INIT succeeded: every later command fails, sev-init is failed
    expect((await fw.sevInit(logOf(`${CCP}SEV API:1.55 build:21`, `${CCP}sev command 0x4 timed out, disabling PSP`), never)).status).toBe('failed');
  });

  it('an RMP failure line, even followed by a range: snp-init, rmp-init and host.snp.rmp (MSRs unreadable) failed, citing it', async () => {
    const log = logOf('SEV-SNP: Memory reserved for the RMP table does not cover full system RAM (expected 0x1f680000 got 0x10000000)', 'SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]', `${CCP}SEV-SNP API:1.55 build:21`);
    expect((await fw.snpInit(log, never)).status).toBe('failed');
    expect((await fw.rmpInit(log, never)).status).toBe('failed');
    const noMsr = () => Promise.reject(new HostError('ENOENT', '/dev/cpu/0/msr', '/dev/cpu/0/msr: no such file or directory (modprobe msr)'));
    const r = await cpu.snpRmp(known(false), noMsr, known(log));
    expect(r.status).toBe('failed');
    expect(r.status === 'failed' && r.found).toContain('dmesg line 1: "SEV-SNP: Memory reserved for the RMP table does not cover full system RAM');
  });

  it('an unreachable PSP fails sev-init when no device logged an API line; the CCP engine\'s own "unable to access" line decides nothing', async () => {
    const psp = `${CCP}psp: unable to access the device: you might be running a broken BIOS.`;
    expect((await fw.sevInit(logOf(psp), never)).status).toBe('failed');
    expect((await fw.sevInit(logOf(psp, 'ccp 0000:47:00.1: SEV API:1.55 build:21'), never)).status).toBe('passed');
    const engine = `${CCP}ccp: unable to access the device: you might be running a broken BIOS.`;
    expect((await fw.sevInit(logOf(engine, `${CCP}ccp initialization failed`, 'ccp 0000:47:00.1: SEV API:1.55 build:21'), never)).status).toBe('passed');
  });

  it('the TMR line fails sev-es-init even when INIT and the API line succeed', async () => {
    const v = await fw.sevEsInit(logOf(`${CCP}SEV: TMR allocation failed, SEV-ES support unavailable`, `${CCP}SEV API:1.55 build:21`), never);
    expect(v.status).toBe('failed');
    expect(v.message).toContain('without the SEV-ES flag');
  });
});

describe('rule: an unknown failure-like line keeps the checks depending on it undecided, quoting it', () => {
  const odd = `${CCP}SEV: frobnication failed, error 0x7`;
  it('ccp: sev-init with an API line is undecided (never passed), quoting the line; a platform tool still decides', async () => {
    const log = logOf(odd, `${CCP}SEV API:1.55 build:21`);
    const v = await fw.sevInit(log, noTools);
    expect(v.status).toBe('undecided');
    expect(v.message).toContain('dmesg line 1: "ccp 0000:01:00.2: SEV: frobnication failed, error 0x7"');
    expect(v.message).toContain('docs/kernel-wordings.md');
    expect((await fw.sevInit(log, snphostSays('SEV initialized', 'pass'))).status).toBe('passed');
    expect((await fw.sevInit(log, snphostSays('SEV initialized', 'fail'))).status).toBe('failed');
  });

  it('kvm_amd and SEV-SNP: snp-init with a SEV-SNP API line is undecided', async () => {
    for (const line of ['kvm_amd: SEV-SNP requires something new', 'SEV-SNP: unable to frobnicate the RMP']) {
      const v = await fw.snpInit(logOf(line, `${CCP}SEV-SNP API:1.55 build:21`), noTools);
      expect(v.status, line).toBe('undecided');
      expect(v.message).toContain(line);
    }
  });

  it('SEV-SNP: host.snp.rmp from a log range is undecided when an unknown SEV-SNP failure line is there', async () => {
    // a made-up wording: no kernel prints it, so the table does not know it
    const log = logOf('SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]', 'SEV-SNP: Failed to validate the RMP segment table');
    const noMsr = () => Promise.reject(new HostError('ENOENT', '/dev/cpu/0/msr', '/dev/cpu/0/msr: no such file or directory (modprobe msr)'));
    const r = await cpu.snpRmp(known(false), noMsr, known(log));
    expect(r.status).toBe('undecided');
    expect(r.message).toContain('"SEV-SNP: Failed to validate the RMP segment table"');
    // mainline's "Failed to map RMP table" (arch/x86/virt/svm/sev.c snp_rmptable_init) is a known RMP failure: failed, citing it
    const mapped = await cpu.snpRmp(known(false), noMsr, known(logOf('SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]', 'SEV-SNP: Failed to map RMP table')));
    expect(mapped.status).toBe('failed');
    expect(mapped.message).toContain('Failed to map RMP table');
  });

  it('known lines that are not failures (sev enabled, the INIT retry, SEV-ES disabled) do not hold a pass back', async () => {
    const log = logOf(`${CCP}sev enabled`, `${CCP}SEV: retrying INIT command because of SECURE_DATA_INVALID error. Retrying once to reset PSP SEV state.`, 'kvm_amd: SEV-ES disabled (ASIDs 0 - 0)', `${CCP}SEV API:1.55 build:21`);
    expect((await fw.sevInit(log, never)).status).toBe('passed');
  });
});
