import { describe, expect, it } from 'vitest';
import * as rules from '../../support/rules/host.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import { parseCpuinfo } from '../../support/parsers/cpuinfo.js';
import { parseCmdline } from '../../support/parsers/cmdline.js';
import { parseModprobeConf } from '../../support/parsers/modprobe.js';
import { known, type Fact } from '../../support/facts.js';
import { HarnessError, HostError } from '../../support/host/types.js';
import type { CpuInfo } from '../../support/parsers/cpuinfo.js';
import type { KernelConfig } from '../../support/probes/host.js';

const MILAN = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x1fd, edx: 0x80 });
const ROME = decodeEncryptedMemory({ eax: 0x0001000f, ebx: 0x0000016f, ecx: 0x1fd, edx: 1 });
const cpu = (flags: string, vendor = 'AuthenticAMD') => parseCpuinfo(`vendor_id\t: ${vendor}\nmodel name\t: AMD EPYC\nflags\t\t: ${flags}\n`);
/** A fact the rule must not ask for. */
const never: Fact<never> = () => {
  throw new Error('fact read although the verdict did not need it');
};
const unreadable: Fact<never> = () => Promise.reject(new HostError('NOT_RECORDED', '/proc/sys/kernel/osrelease', '/proc/sys/kernel/osrelease: not recorded in this fixture'));
const kconf = (v?: string) => ({ source: '/boot/config-6.8', values: new Map(v ? [['CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT', v]] : []) });

describe('host rules', () => {
  it('cpu flag: passes, blames the BIOS when CPUID has the bit, the VM when a hypervisor, the vendor when Intel', async () => {
    expect((await rules.cpuFlag(cpu('sme sev'), 'sev', never)).status).toBe('passed');
    const bios = await rules.cpuFlag(cpu('fpu'), 'sev', known(MILAN));
    expect(bios.status).toBe('failed');
    expect(bios.message).toMatch(/BIOS has not enabled memory encryption.*fix: enable SME\/SMEE/);
    expect((await rules.cpuFlag(cpu('fpu hypervisor'), 'sev', unreadable)).message).toMatch(/virtual machine.*bare-metal/);
    expect((await rules.cpuFlag(cpu('fpu', 'GenuineIntel'), 'sev-snp', never)).message).toMatch(/vendor GenuineIntel/);
  });

  it('cpuid feature: checks bit 1, 3 and 4 and reports unimplemented leaves', () => {
    expect(['sev', 'sev-es', 'sev-snp'].map((f) => rules.cpuidFeature(MILAN, f as rules.Feature).status)).toEqual(['passed', 'passed', 'passed']);
    expect(['sev', 'sev-es', 'sev-snp'].map((f) => rules.cpuidFeature(ROME, f as rules.Feature).status)).toEqual(['passed', 'passed', 'failed']);
    const none = { ...decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 }), implemented: false, maxExtendedLeaf: 0x80000008 };
    expect(rules.cpuidFeature(none, 'sev').message).toMatch(/does not implement CPUID leaf 0x8000001F \(highest extended leaf 0x80000008/);
  });

  it('cbitpos and ASIDs', () => {
    expect(rules.cbitpos(MILAN).message).toMatch(/C-bit position 51/);
    expect(rules.cbitpos(decodeEncryptedMemory({ eax: 2, ebx: 0, ecx: 1, edx: 1 })).status).toBe('failed');
    expect(rules.asids(MILAN).message).toMatch(/382 ASIDs for SEV guests, 127 for SEV-ES\/SNP/);
    const allEs = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x4173, ecx: 0x1fd, edx: 0x1fe });
    expect(rules.asids(allEs).message).toMatch(/none for plain SEV.*SEV-ES ASID Space Limit/);
    expect(rules.esAsids(ROME).status).toBe('failed');
    expect(rules.esAsids(ROME).message).toMatch(/raise the BIOS "SEV-ES ASID Space Limit"/);
    expect(rules.esAsids(MILAN).status).toBe('passed');
  });

  it('kvm_amd parameter: loaded/absent/off/on', async () => {
    const p = (raw: string) => ({ path: '/sys/module/kvm_amd/parameters/sev', raw, enabled: raw === 'Y' ? true : raw === 'N' ? false : undefined });
    const yes = known(true);
    expect((await rules.kvmAmdParam(yes, known(p('Y')), 'sev', never)).status).toBe('passed');
    const off = await rules.kvmAmdParam(yes, known(p('N')), 'sev', known(MILAN));
    expect(off.message).toMatch(/reads "N".*options kvm_amd sev=1.*capabilities/);
    expect((await rules.kvmAmdParam(known(false), never, 'sev', unreadable)).message).toMatch(/not loaded.*modprobe kvm_amd/);
    const intel = { ...decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 }), implemented: false, vendor: 'GenuineIntel' };
    const onIntel = await rules.kvmAmdParam(known(false), never, 'sev', known(intel));
    expect(onIntel.message).toMatch(/not loaded.*GenuineIntel processor.*fix: SEV needs an AMD EPYC/);
    expect(onIntel.message).not.toMatch(/modprobe/);
    expect((await rules.kvmAmdParam(yes, known(undefined), 'sev-snp', never)).message).toMatch(/no "sev_snp" parameter/);
    expect((await rules.kvmAmdParam(yes, known(p('N')), 'sev-snp', known(ROME))).message).toMatch(/does not report SEV-SNP/);
    expect((await rules.kvmAmdParam(yes, known(p('garbage')), 'sev', known(MILAN))).status).toBe('failed');
    expect((await rules.kvmAmdParam(yes, known(p('N')), 'sev', unreadable)).status).toBe('failed');
  });

  it('the feature → kvm_amd parameter table', () => {
    expect((['sev', 'sev-es', 'sev-snp'] as const).map(rules.kvmAmdParamName)).toEqual(['sev', 'sev_es', 'sev_snp']);
  });

  it('mem_encrypt: cmdline, kernel config default, sme flag, unknown', async () => {
    const cl = (s: string) => parseCmdline(s);
    const me = (c: string, k: Fact<KernelConfig | undefined>, i: Fact<CpuInfo>) => rules.memEncrypt(cl(c), k, i);
    expect((await me('mem_encrypt=off', known(kconf('y')), known(cpu('sme')))).status).toBe('failed');
    expect((await me('mem_encrypt=on', known(undefined), known(cpu('sme sev')))).status).toBe('passed');
    expect((await me('mem_encrypt=on', known(undefined), known(cpu('sev')))).message).toMatch(/does not list "sme"/);
    // default-on config without "sme" in cpuinfo: not activated (false pass before)
    expect((await me('quiet', known(kconf('y')), known(cpu('sev')))).status).toBe('failed');
    expect((await me('quiet', known(kconf('y')), unreadable)).status).toBe('passed');
    expect((await me('quiet', known(kconf()), known(cpu('sev')))).status).toBe('failed');
    expect((await me('quiet', known(undefined), known(cpu('sev')))).status).toBe('undecided');
    expect((await me('quiet', known(undefined), known(cpu('sev sme')))).status).toBe('passed');
    expect((await me('mem_encrypt=on', known(undefined), known(cpu('x', 'GenuineIntel')))).status).toBe('failed');
  });

  it('mem_encrypt: the command line (and "sme") decide without the kernel config; it is read only when needed', async () => {
    const cl = (s: string) => parseCmdline(s);
    // issue 13: /proc/sys/kernel/osrelease absent made these undecided
    expect((await rules.memEncrypt(cl('mem_encrypt=off'), unreadable, never)).status).toBe('failed');
    expect((await rules.memEncrypt(cl('mem_encrypt=on'), unreadable, known(cpu('sme sev')))).status).toBe('passed');
    expect((await rules.memEncrypt(cl('mem_encrypt=on'), never, known(cpu('sev')))).status).toBe('failed');
    expect((await rules.memEncrypt(cl('quiet'), never, known(cpu('sme sev')))).status).toBe('passed');
    // cpuinfo is context: unreadable, the command line still decides
    expect((await rules.memEncrypt(cl('mem_encrypt=on'), never, unreadable)).status).toBe('passed');
    // the kernel config is needed and unreadable: undecided with the reason
    const u = await rules.memEncrypt(cl('quiet'), unreadable, known(cpu('sev')));
    expect(u.status).toBe('undecided');
    expect(u.message).toMatch(/osrelease: not recorded/);
    // a harness error is never swallowed as "context"
    await expect(rules.memEncrypt(cl('mem_encrypt=on'), never, () => Promise.reject(new HarnessError('timeout')))).rejects.toThrow('timeout');
  });

  it('mem_encrypt is read as sme_enable() reads it: a quoted "mem_encrypt=on" is not the option (false pass before)', async () => {
    // arch/x86/lib/cmdline.c __cmdline_find_option(): no quote handling
    const cl = (s: string) => parseCmdline(s);
    expect((await rules.memEncrypt(cl('"mem_encrypt=on"'), known(kconf()), known(cpu('sev')))).status).toBe('failed');
    expect((await rules.memEncrypt(cl('mem_encrypt="on"'), known(kconf()), known(cpu('sev')))).status).toBe('failed');
    expect((await rules.memEncrypt(cl('mem_encrypt=on'), known(kconf()), unreadable)).status).toBe('passed');
  });

  it('modprobe: unpersisted passes, sev=1 passes, sev=0 or conflicts fail naming file:line', () => {
    const none = parseCmdline('quiet');
    expect(rules.modprobeSev([], none).status).toBe('passed');
    expect(rules.modprobeSev(parseModprobeConf('/etc/modprobe.d/sev.conf', 'options kvm_amd sev=1'), none).status).toBe('passed');
    const conflict = [
      ...parseModprobeConf('/etc/modprobe.d/sev.conf', 'options kvm_amd sev=1'),
      ...parseModprobeConf('/etc/modprobe.d/zz.conf', '\noptions kvm_amd sev=0'),
    ];
    const v = rules.modprobeSev(conflict, none);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/conflicting settings.*\/etc\/modprobe.d\/zz.conf:2/);
    expect(rules.modprobeSev([], parseCmdline('kvm_amd.sev=0')).message).toMatch(/\/proc\/cmdline/);
  });

  // Issue 13 §2: modprobe.d read as kmod reads it (kmod-project/kmod 84fa569b2eb3
  // libkmod/libkmod-config.c kmod_config_parse(), shared/util.c freadline_wrapped()) and the
  // options string as the kernel parses it (lib/cmdline.c next_arg(), kernel/params.c
  // param_set_bool()). Each of these passed before.
  it('modprobe: fails what kvm_amd really receives as sev=0 (false passes before)', () => {
    const none = parseCmdline('quiet');
    const conf = (text: string) => parseModprobeConf('/etc/modprobe.d/sev.conf', text);
    // "#" mid-line is not a comment for kmod: the kernel gets "sev=1 # was: sev=0"
    expect(rules.modprobeSev(conf('options kvm_amd sev=1 # was: sev=0'), none).status).toBe('failed');
    expect(rules.modprobeSev(conf('options kvm_amd #sev=1 sev=0'), none).status).toBe('failed');
    // a quoted argument is unquoted by next_arg()
    expect(rules.modprobeSev(conf('options kvm_amd "sev=0"'), none).status).toBe('failed');
    // backslash-newline joins with nothing in between
    expect(rules.modprobeSev(conf('options kvm_amd nested=0 se\\\nv=0'), none).status).toBe('failed');
    // kstrtobool rejects " 1": kvm_amd would not load
    expect(rules.modprobeSev(conf('options kvm_amd sev=" 1"'), none).status).toBe('failed');
  });
  it('modprobe: an install command for kvm_amd is undecided, not passed', () => {
    const v = rules.modprobeSev(parseModprobeConf('/etc/modprobe.d/k.conf', 'install kvm_amd /sbin/modprobe --ignore-install kvm_amd sev=0'), parseCmdline('quiet'));
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/\/etc\/modprobe.d\/k.conf:1.*shell command/);
  });
  it('modprobe: a bare "sev" is true for the kernel (param_set_bool), on either side', () => {
    expect(rules.modprobeSev(parseModprobeConf('/etc/modprobe.d/sev.conf', 'options kvm_amd sev'), parseCmdline('quiet')).status).toBe('passed');
    expect(rules.modprobeSev([], parseCmdline('kvm_amd.sev')).status).toBe('passed');
    expect(rules.modprobeSev([], parseCmdline('kvm_amd.sev=')).status).toBe('failed');
  });
});
