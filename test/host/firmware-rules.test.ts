import { describe, expect, it } from 'vitest';
import * as rules from '../../support/rules/firmware.js';
import { parseKernelLog } from '../../support/parsers/kernel-log.js';
import type { KernelLog, ToolRun } from '../../support/probes/host-firmware.js';
import type { ToolTest } from '../../support/parsers/platform-tools.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';

const logOf = (text: string): KernelLog => ({ source: 'dmesg', facts: parseKernelLog(text), tried: [] });
const noLog: KernelLog = { tried: ['journalctl -k -b -o short-monotonic: not installed (exit 127)', 'dmesg: exit 1', '/var/log/kern.log: no such file'] };
const absent = (tool: 'snphost' | 'sevctl'): ToolRun => ({ tool, command: `${tool} ok`, absent: true, reason: `${tool} ok: not installed (exit 127)` });
const ran = (tool: 'snphost' | 'sevctl', tests: Array<Partial<ToolTest> & { name: string; status: ToolTest['status'] }>): ToolRun => ({
  tool,
  command: tool === 'snphost' ? 'snphost ok -o json' : 'sevctl ok',
  absent: false,
  tests: tests.map((t) => ({ tool, ...t })),
});
const never = () => Promise.reject(new Error('must not be asked'));
const noVersion = async () => ({ absent: true, reason: 'sevctl show version: not installed (exit 127)' });

describe('host.firmware.version', () => {
  const fw = (v: string) => logOf(`ccp 0000:47:00.1: SEV API:${v} build:3\n`);
  it('compares major and minor: 2.0 meets 1.51 (snphost, comparing the minor only, would fail it)', async () => {
    expect((await rules.firmwareVersion(fw('2.0'), rules.minFirmware('sev-snp'), never, never)).status).toBe('passed');
  });
  it('1.49 fails the SNP minimum and passes the SEV profile, which has none', async () => {
    const v = await rules.firmwareVersion(fw('1.49'), rules.minFirmware('sev-snp'), never, never);
    expect(v.status).toBe('failed');
    expect(v.message).toContain('dmesg line 1');
    expect(v.message).toContain('1.51');
    expect((await rules.firmwareVersion(fw('1.49'), rules.minFirmware('sev'), never, never)).status).toBe('passed');
  });
  it('names a firmware update ccp did at boot', async () => {
    const v = await rules.firmwareVersion(logOf('ccp 0000:45:00.1: SEV firmware updated from 1.49.3 to 1.55.21\nccp 0000:45:00.1: SEV API:1.55 build:21\n'), rules.minFirmware('sev-snp'), never, never);
    expect(v.status).toBe('passed');
    expect(v.message).toContain('SEV firmware updated from 1.49.3 to 1.55.21');
  });
  it('--min-firmware overrides the profile', async () => {
    const v = await rules.firmwareVersion(fw('1.55'), rules.minFirmware('sev', { major: 1, minor: 58 }), never, never);
    expect(v.status).toBe('failed');
    expect(v.message).toContain('--min-firmware');
  });
  it('falls back to snphost, then sevctl, else undecided naming every source', async () => {
    const s = ran('snphost', [{ name: 'SEV firmware version', status: 'fail', message: 'SEV firmware version needs to be at least 1.51, current firmware version: 1.49' }]);
    expect((await rules.firmwareVersion(noLog, rules.minFirmware('sev-snp'), async () => s, never)).status).toBe('failed');
    const sv = async () => ({ absent: false, version: { major: 1, minor: 55, build: 21 } });
    expect((await rules.firmwareVersion(noLog, rules.minFirmware('sev-snp'), async () => absent('snphost'), sv)).status).toBe('passed');
    const u = await rules.firmwareVersion(noLog, rules.minFirmware('sev-snp'), async () => absent('snphost'), noVersion);
    expect(u.status).toBe('undecided');
    expect(u.message).toMatch(/journalctl.*not installed.*dmesg: exit 1.*install snphost/);
  });
});

describe('init, RMP, alias check, TCB', () => {
  it('a failed INIT line fails sev-init; the API line alone passes it', async () => {
    const failedInit = await rules.sevInit(logOf('ccp 0000:47:00.1: SEV: failed to INIT error 0x3, rc -5\nccp 0000:47:00.1: SEV API:1.49 build:3\n'), never);
    expect(failedInit.status).toBe('failed');
    expect((await rules.sevInit(logOf('ccp 0000:47:00.1: SEV API:1.55 build:21\n'), never)).status).toBe('passed');
  });
  it('the ioctl-only facts are undecided without snphost, with what to install', async () => {
    for (const rule of [rules.sevEsInit, rules.snpInit, rules.rmpInit, rules.aliasCheck, rules.tcb]) {
      const v = await rule(noLog, async () => [absent('snphost'), absent('sevctl')]);
      expect(v.status).toBe('undecided');
      expect(v.message).toContain('install snphost');
    }
  });
  it('RMP not reserved by BIOS fails rmp-init from the log', async () => {
    expect((await rules.rmpInit(logOf('SEV-SNP: Memory for the RMP table has not been reserved by BIOS\n'), never)).status).toBe('failed');
  });
  it('TCB: mismatch fails with both TCBs; a match flag contradicting the values is undecided', async () => {
    const t = (match: boolean, snp: number) =>
      ran('snphost', [{ name: 'Compare TCB values', status: match ? 'pass' : 'fail', tcb: { match, platform: { microcode: 72, snp: 22 }, reported: { microcode: 72, snp } } }]);
    const v = await rules.tcb(noLog, async () => [t(false, 21)]);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/platform TCB microcode=72 snp=22, reported TCB microcode=72 snp=21/);
    expect((await rules.tcb(noLog, async () => [t(true, 22)])).status).toBe('passed');
    expect((await rules.tcb(noLog, async () => [t(true, 21)])).status).toBe('undecided');
  });
});

describe('host.tools.agree', () => {
  const cpuid = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x4173, ecx: 0x1fd, edx: 0x80 });
  const param = (name: string, raw: string) => ({ path: `/sys/module/kvm_amd/parameters/${name}`, raw, enabled: raw === 'Y' });
  it('skipped when no tool is installed', () => {
    expect(rules.toolsAgree([absent('snphost'), absent('sevctl')], { params: {} }).status).toBe('skipped');
  });
  it('fails with both answers when sevctl says SEV is off in KVM and the parameter reads Y', () => {
    const v = rules.toolsAgree([ran('sevctl', [{ name: 'SEV enabled in KVM', status: 'fail', message: 'Error - contents read from /sys/module/kvm_amd/parameters/sev: N' }])], { cpuid, params: { sev: param('sev', 'Y') } });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/sevctl ok: "SEV enabled in KVM" FAIL .*parameters\/sev reads "Y"/);
  });
  it('fails when snphost says the SNP CPUID bit is absent while CPUID has it', () => {
    const v = rules.toolsAgree([ran('snphost', [{ name: 'Secure Nested Paging (SEV-SNP)', status: 'fail' }])], { cpuid, params: {} });
    expect(v.status).toBe('failed');
    expect(v.message).toContain('CPUID 0x8000001F EAX bit 4 is set');
  });
  it("sevctl's SNP FAIL (CPUID and SYSCFG) is not a disagreement; its PASS against a clear bit is", () => {
    const clear = decodeEncryptedMemory({ eax: 0x0000000f, ebx: 0x4173, ecx: 0x1fd, edx: 0x80 });
    expect(rules.toolsAgree([ran('sevctl', [{ name: 'Secure Nested Paging (SEV-SNP)', status: 'fail' }, { name: 'AMD CPU', status: 'pass' }])], { cpuid, params: {} }).status).toBe('undecided');
    expect(rules.toolsAgree([ran('sevctl', [{ name: 'Secure Nested Paging (SEV-SNP)', status: 'pass' }])], { cpuid: clear, params: {} }).status).toBe('failed');
  });
  it('passes when the shared facts agree; firmware version compared as major.minor', () => {
    const v = rules.toolsAgree(
      [ran('snphost', [{ name: 'Secure Encrypted Virtualization (SEV)', status: 'pass' }, { name: 'SEV firmware version', status: 'pass', message: '1.55' }])],
      { cpuid, params: {}, firmware: { version: { major: 1, minor: 55 }, from: 'dmesg line 3' } },
    );
    expect(v).toMatchObject({ status: 'passed' });
    expect(v.message).toMatch(/^2 shared facts agree/);
  });
  it('undecided when the tools ran but gave no parseable answer', () => {
    expect(rules.toolsAgree([{ tool: 'snphost', command: 'snphost ok -o json', absent: false, reason: 'unknown format' }], { params: {} }).status).toBe('undecided');
  });
});

describe('onSevCpu', () => {
  it('a CPU without SEV has no firmware to ask: undecided, pointing at host.cpuid.sev, without asking the sources', async () => {
    const none = decodeEncryptedMemory({ eax: 0x1, ebx: 0, ecx: 0, edx: 0 });
    const v = await rules.onSevCpu(async () => none, never);
    expect(v.status).toBe('undecided');
    expect(v.message).toContain('host.cpuid.sev');
    expect(v.message).not.toContain('install snphost');
  });
  it('with SEV in CPUID, or CPUID unreadable, the rule decides', async () => {
    const sev = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x4173, ecx: 0x1fd, edx: 0x80 });
    expect((await rules.onSevCpu(async () => sev, async () => rules.sevInit(logOf('ccp 0000:47:00.1: SEV API:1.55 build:21\n'), never))).status).toBe('passed');
    const { HostError } = await import('../../support/host/types.js');
    const unreadable = () => Promise.reject(new HostError('NOT_RECORDED', 'cpuid', 'CPUID leaf 0x8000001f: not recorded'));
    expect((await rules.onSevCpu(unreadable, async () => rules.sevInit(logOf('ccp 0000:47:00.1: SEV API:1.55 build:21\n'), never))).status).toBe('passed');
  });
});

describe('host.kvm.vmsa-features (Secure TSC in KVM sev_supported_vmsa_features)', () => {
  // EAX as CPUID 0x8000001F reports it: 0x0101fd3f (a published EPYC 7713P dump, bit 8 SecureTsc set), 0x0001000f (Rome, bit 8 clear)
  const withTsc = async () => decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x1fd, edx: 0x80 });
  const noTsc = async () => decodeEncryptedMemory({ eax: 0x0001000f, ebx: 0x0000016f, ecx: 0x1fd, edx: 0x1 });
  const cmd = 'snphost ok --features -o json';
  const feat = (status: ToolTest['status'], message?: string, name = '(Optional Features) Secure TSC'): (() => Promise<ToolRun>) => async () => ({
    tool: 'snphost',
    command: cmd,
    absent: false,
    tests: [{ tool: 'snphost', name, status, ...(message ? { message } : {}) }],
  });
  it('a CPU without Secure TSC: skipped without running snphost (required: failed)', async () => {
    const v = await rules.vmsaFeatures(noTsc, never);
    expect(v.status).toBe('skipped');
    expect(v.message).toMatch(/EAX bit 8 \(SecureTsc\) is clear \(EAX 0x0001000f\).*host\.cpuid\.secure-tsc/);
    expect((await rules.vmsaFeatures(noTsc, never, true)).status).toBe('failed');
  });
  it('PASS "Configurable" passes', async () => {
    const v = await rules.vmsaFeatures(withTsc, feat('pass', 'Configurable'));
    expect(v.status).toBe('passed');
    expect(v.message).toContain('"(Optional Features) Secure TSC" PASS (Configurable)');
  });
  it('KVM without bit 9 (either message wording): skipped with the mask, failed when required', async () => {
    for (const m of ['SecureTSC not set in KVM sev_supported_vmsa_features: 0x0000000000000020', 'SecureTSC bit 9 not set in KVM sev_supported_vmsa_features: 0x0000000000000020']) {
      const v = await rules.vmsaFeatures(withTsc, feat('fail', m));
      expect(v.status).toBe('skipped');
      expect(v.message).toMatch(/is 0x0000000000000020, without bit 9 .*optional/);
      const r = await rules.vmsaFeatures(withTsc, feat('fail', m), true);
      expect(r.status).toBe('failed');
      expect(r.message).toMatch(/fix: .*v6\.18.*sev_snp=1/);
    }
  });
  it('KVM older than v6.10 (KVM_GET_DEVICE_ATTR fails): not offered; /dev/kvm unopenable: undecided', async () => {
    const old = await rules.vmsaFeatures(withTsc, feat('fail', 'KVM_GET_DEVICE_ATTR failed: No such device or address (os error 6)'), true);
    expect(old.status).toBe('failed');
    expect(old.message).toContain('v6.10 (ac5c48027bac)');
    const perm = await rules.vmsaFeatures(withTsc, feat('fail', 'unable to open /dev/kvm: Permission denied (os error 13)'));
    expect(perm.status).toBe('undecided');
    expect(perm.message).toContain('as root');
  });
  it('CPUID unreadable here: snphost saying the CPU lacks it is not applicable; sevcheck and snphost disagreeing is undecided', async () => {
    const both = 'SecureTSC bit 8 not set in CPUID 0x8000001F EAX: 0x0001000f; SecureTSC not set in KVM sev_supported_vmsa_features: 0x0000000000000000';
    const { HostError } = await import('../../support/host/types.js');
    const notRecorded = () => Promise.reject(new HostError('NOT_RECORDED', 'cpuid', 'not recorded'));
    expect((await rules.vmsaFeatures(notRecorded, feat('fail', both))).status).toBe('skipped');
    expect((await rules.vmsaFeatures(withTsc, feat('fail', both))).status).toBe('undecided');
  });
  it('no answer: undecided naming the ioctl, the kernel versions and the snphost build that has --features', async () => {
    const absentRun = async (): Promise<ToolRun> => ({ tool: 'snphost', command: cmd, absent: true, reason: `not run: ${cmd}: not installed (exit 127)` });
    const v = await rules.vmsaFeatures(withTsc, absentRun);
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/KVM_GET_DEVICE_ATTR.*v6\.10.*v6\.18.*snphost is not installed.*d233197/);
    const unknown = await rules.vmsaFeatures(withTsc, feat('fail', 'something new'));
    expect(unknown.status).toBe('undecided');
    const skippedOnly = await rules.vmsaFeatures(withTsc, feat('skip', undefined, '(Optional Feature) Secure TSC'));
    expect(skippedOnly.status).toBe('undecided');
  });
});
