/**
 * Every site threshold (support/rules/site.ts, issue 21): passed, failed and undecided (when the
 * fact is missing), with the found / expected / fix of a failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as site from '../../support/rules/site.js';
import { HostError } from '../../support/host/types.js';
import { InputError } from '../../support/errors.js';
import { known } from '../../support/facts.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import { parseKernelLog } from '../../support/parsers/kernel-log.js';
import { parseCmdline } from '../../support/parsers/cmdline.js';
import { parseDomainXml } from '../../support/domain/model.js';
import { parseLibvirtCapsCache } from '../../support/parsers/libvirt-caps-cache.js';
import type { KernelLog, ToolRun } from '../../support/probes/host-firmware.js';
import type { HostGuests } from '../../support/domain/guests.js';
import type { Verdict } from '../../support/verdict.js';
import { ROOT } from '../helpers.js';

/** A small seeded PRNG (mulberry32) for the property loops: the same cases every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const missing = <T>(what = '/proc/x') => (): Promise<T> => Promise.reject(new HostError('NOT_RECORDED', what, `${what}: not recorded in this fixture`));
const log = (text: string): KernelLog => ({ source: 'dmesg', facts: parseKernelLog(text), tried: [] });
const noLog: KernelLog = { tried: ['journalctl -k -b: not installed', 'dmesg: not installed'] };
const absentTool = (tool: 'snphost' | 'sevctl'): ToolRun => ({ tool, command: `${tool} ok`, absent: true });
const sevctlNone = known({ absent: true });
const failedWith = (v: Verdict, re: RegExp): void => {
  expect(v.status).toBe('failed');
  if (v.status === 'failed') {
    expect(v.found).not.toBe('');
    expect(v.expected).toMatch(/site policy/);
    expect(v.fix).not.toBe('');
    expect(v.message).toMatch(re);
  }
};

describe('versions', () => {
  it('compares dotted versions component by component, 6.11 = 6.11.0, the release suffix ignored', () => {
    expect(site.compareVersions(site.versionNumbers('6.11.0-19-generic')!, [6, 11])).toBe(0);
    expect(site.compareVersions([6, 9], [6, 11])).toBe(-1);
    expect(site.compareVersions([10, 10, 0], [10, 5])).toBe(1);
    expect(site.versionNumbers('generic')).toBeUndefined();
  });
  it('compareVersions is antisymmetric and reflexive (property)', () => {
    const rnd = prng(21);
    const v = (): number[] => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Math.floor(rnd() * 20));
    for (let i = 0; i < 2000; i++) {
      const [a, b] = [v(), v()];
      expect(site.compareVersions(a, b) + site.compareVersions(b, a)).toBe(0);
      expect(site.compareVersions(a, a)).toBe(0);
    }
  });
  it('refuses a site version or firmware version that is none', () => {
    expect(() => site.parseSiteVersion('6.x')).toThrow(InputError);
    expect(() => site.parseSiteVersion('1.2.3.4.5')).toThrow(/1 to 4 numbers/);
    expect(() => site.parseFirmwareMin('1.256')).toThrow(/0\.\.255/);
    expect(site.parseFirmwareMin('1.55')).toEqual({ major: 1, minor: 55 });
  });
  it('reads libvirt-style version numbers', () => {
    expect(site.libvirtStyleVersion(9002000)).toBe('9.2.0');
    expect(site.libvirtStyleVersion(10010000)).toBe('10.10.0');
  });
});

describe('SEV firmware at least X.Y [build N]', () => {
  const l = log('[    3.1] ccp 0000:47:00.1: SEV API:1.55 build:21\n');
  it('passes, fails, and is undecided without a source', async () => {
    expect((await site.firmwareAtLeast(l, { major: 1, minor: 55 }, known(absentTool('snphost')), sevctlNone)).status).toBe('passed');
    failedWith(await site.firmwareAtLeast(l, { major: 1, minor: 57 }, known(absentTool('snphost')), sevctlNone), /SEV firmware 1\.55 build 21 \(dmesg line 1/);
    const u = await site.firmwareAtLeast(noLog, { major: 1, minor: 55 }, known(absentTool('snphost')), sevctlNone);
    expect(u.status).toBe('undecided');
    expect(u.message).toMatch(/snphost is not installed; sevctl is not installed/);
  });
  it('compares the build only between equal major.minor', async () => {
    expect((await site.firmwareAtLeast(l, { major: 1, minor: 55, build: 21 }, known(absentTool('snphost')), sevctlNone)).status).toBe('passed');
    failedWith(await site.firmwareAtLeast(l, { major: 1, minor: 55, build: 22 }, known(absentTool('snphost')), sevctlNone), /major, minor, then build/);
    expect((await site.firmwareAtLeast(l, { major: 1, minor: 54, build: 99 }, known(absentTool('snphost')), sevctlNone)).status).toBe('passed');
  });
  it('is undecided on a build when the source gives none (snphost)', async () => {
    const snphost: ToolRun = { tool: 'snphost', command: 'snphost ok -o json', absent: false, tests: [{ tool: 'snphost', name: 'SEV firmware version', status: 'pass', message: '1.55' }] };
    const v = await site.firmwareAtLeast(noLog, { major: 1, minor: 55, build: 3 }, known(snphost), sevctlNone);
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/no build number/);
  });
});

describe("reported TCB's SPLs", () => {
  const run = (reported: Record<string, number | null>): ToolRun => ({
    tool: 'snphost',
    command: 'snphost ok -o json',
    absent: false,
    tests: [{ tool: 'snphost', name: 'Compare TCB values', status: 'pass', tcb: { match: true, platform: reported, reported } }],
  });
  const tcb = { boot_loader: 9, tee: 0, snp: 22, microcode: 213, fmc: null };
  it.each([
    ['bootloader', 9, 10],
    ['TEE', 0, 1],
    ['SNP', 22, 23],
    ['microcode', 213, 214],
  ] as const)('%s: passes at its value, fails above it', async (component, have, above) => {
    expect((await site.tcbAtLeast(known(run(tcb)), component, have)).status).toBe('passed');
    failedWith(await site.tcbAtLeast(known(run(tcb)), component, above), new RegExp(`reported TCB ${component} SPL ${have}`));
  });
  it('FMC: not applicable where the platform has none (fmc null), decided where it has one', async () => {
    expect((await site.tcbAtLeast(known(run(tcb)), 'FMC', 1)).status).toBe('skipped');
    expect((await site.tcbAtLeast(known(run({ ...tcb, fmc: 3 })), 'FMC', 3)).status).toBe('passed');
    failedWith(await site.tcbAtLeast(known(run({ ...tcb, fmc: 3 })), 'FMC', 4), /FMC SPL 3/);
  });
  it('undecided without snphost', async () => {
    const v = await site.tcbAtLeast(known(absentTool('snphost')), 'SNP', 1);
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/snphost is not installed; install snphost/);
  });
});

describe('ASIDs', () => {
  const cpuid = known(decodeEncryptedMemory({ eax: 0x1b, ebx: 0x0000016f, ecx: 509, edx: 100 }));
  const kvm = log('[ 5.0] kvm_amd: SEV enabled (ASIDs 100 - 509)\n[ 5.0] kvm_amd: SEV-ES enabled (ASIDs 1 - 99)\n');
  it('from the kernel log: KVM\'s own ranges', async () => {
    expect((await site.asidsAtLeast('sev', 410, known(kvm), cpuid)).status).toBe('passed');
    failedWith(await site.asidsAtLeast('sev', 411, known(kvm), cpuid), /410 ASIDs for SEV guests \(dmesg line 1/);
    expect((await site.asidsAtLeast('sev-es', 99, known(kvm), cpuid)).status).toBe('passed');
    failedWith(await site.asidsAtLeast('sev-es', 100, known(kvm), cpuid), /99 ASIDs for SEV-ES and SEV-SNP guests.*SEV-ES ASID Space Limit/);
  });
  it('a range KVM disabled offers none', async () => {
    const off = log('[ 5.0] kvm_amd: SEV-ES disabled (ASIDs 1 - 99)\n');
    failedWith(await site.asidsAtLeast('sev-es', 1, known(off), cpuid), /0 ASIDs.*enable it in kvm_amd first/);
  });
  it('from CPUID when the log has no range', async () => {
    expect((await site.asidsAtLeast('sev', 410, known(noLog), cpuid)).status).toBe('passed');
    failedWith(await site.asidsAtLeast('sev-es', 100, known(noLog), cpuid), /CPUID 0x8000001F ECX 509, EDX 100/);
  });
  it('undecided when neither can be read', async () => {
    const v = await site.asidsAtLeast('sev', 1, missing<KernelLog>('journalctl'), missing('CPUID 0x8000001f'));
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/CPUID 0x8000001F cannot be read/);
  });
});

describe('kernel, QEMU, libvirt', () => {
  it('kernel: passed, failed, undecided', async () => {
    expect((await site.kernelAtLeast(known('6.11.0-19-generic'), '6.11')).status).toBe('passed');
    failedWith(await site.kernelAtLeast(known('6.1.0-18-amd64'), '6.11'), /kernel 6\.1\.0-18-amd64/);
    expect((await site.kernelAtLeast(missing('/proc/sys/kernel/osrelease'), '6.11')).status).toBe('undecided');
  });
  const cacheFile = join(ROOT, 'fixtures/hosts/reference-genoa/files/var/cache/libvirt/qemu/capabilities/926803a9278e445ec919c2b6cbd8c1c449c75b26dcb1686b774314180376c725.xml');
  const cache = async () => ({ dir: '/var/cache/libvirt/qemu/capabilities', files: [{ path: 'x86_64.xml', cache: await parseLibvirtCapsCache(readFileSync(cacheFile, 'utf8'), 'x86_64.xml') }] });
  it('QEMU from the capabilities cache <version>: passed, failed, undecided', async () => {
    expect((await site.stackAtLeast('qemu', cache, '9.2')).status).toBe('passed');
    failedWith(await site.stackAtLeast('qemu', cache, '9.2.1'), /QEMU 9\.2\.0/);
    expect((await site.stackAtLeast('qemu', known(undefined), '9.2')).message).toMatch(/cache directory does not exist/);
    expect((await site.stackAtLeast('qemu', missing('/var/cache/libvirt'), '9.2')).status).toBe('undecided');
  });
  it('libvirt from <selfvers>: passed, failed, undecided', async () => {
    expect((await site.stackAtLeast('libvirt', cache, '10.10')).status).toBe('passed');
    failedWith(await site.stackAtLeast('libvirt', cache, '11.0'), /libvirt 10\.10\.0/);
    expect((await site.stackAtLeast('libvirt', known({ dir: '/var/cache/libvirt/qemu/capabilities', files: [{ path: 'a.xml', problem: 'not XML' }] }), '10')).message).toMatch(/a\.xml: not XML/);
  });
});

describe('kvm_amd parameter', () => {
  const p = (raw: string) => known({ path: '/sys/module/kvm_amd/parameters/sev_es', raw, enabled: raw === 'Y' ? true : raw === 'N' ? false : undefined });
  it('booleans by meaning, others exactly', async () => {
    expect((await site.kvmAmdParamIs(p('Y'), known(true), 'sev_es', '1')).status).toBe('passed');
    failedWith(await site.kvmAmdParamIs(p('N'), known(true), 'sev_es', 'Y'), /sev_es = N/);
    expect((await site.kvmAmdParamIs(p('2'), known(true), 'avic', '2')).status).toBe('passed');
  });
  it('no such parameter, module not loaded, unreadable', async () => {
    failedWith(await site.kvmAmdParamIs(known(undefined), known(true), 'sev_esx', 'Y'), /has no parameter sev_esx/);
    failedWith(await site.kvmAmdParamIs(known(undefined), known(false), 'sev_es', 'Y'), /kvm_amd is not loaded/);
    expect((await site.kvmAmdParamIs(missing('/sys/module/kvm_amd/parameters/sev_es'), known(true), 'sev_es', 'Y')).status).toBe('undecided');
  });
});

describe('kernel command line', () => {
  const cmd = known(parseCmdline('BOOT_IMAGE=/vmlinuz ro mem_encrypt=off quiet mem_encrypt=on kvm-amd.sev=1\n'));
  it('contains: the last occurrence counts; a bare name matches any value', async () => {
    expect((await site.cmdlineHas(cmd, 'mem_encrypt=on', true)).status).toBe('passed');
    failedWith(await site.cmdlineHas(cmd, 'mem_encrypt=off', true), /mem_encrypt=on \(the last mem_encrypt/);
    expect((await site.cmdlineHas(cmd, 'quiet', true)).status).toBe('passed');
    expect((await site.cmdlineHas(cmd, 'kvm_amd.sev=1', true)).status).toBe('passed');
    failedWith(await site.cmdlineHas(cmd, 'iommu=pt', true), /no iommu argument.*update-grub/);
  });
  it('lacks', async () => {
    expect((await site.cmdlineHas(cmd, 'nosmt', false)).status).toBe('passed');
    failedWith(await site.cmdlineHas(cmd, 'quiet', false), /remove quiet/);
    expect((await site.cmdlineHas(cmd, 'mem_encrypt=off', false)).status).toBe('passed');
  });
  it('undecided without /proc/cmdline; an argument with spaces is refused', async () => {
    expect((await site.cmdlineHas(missing('/proc/cmdline'), 'quiet', true)).status).toBe('undecided');
    expect(() => site.parseCmdlineArg('a b')).toThrow(InputError);
    expect(() => site.parseCmdlineArg('=x')).toThrow(InputError);
  });
});

const guest = (name: string, ls: string, loader = "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF.amdsev.fd</loader>") =>
  parseDomainXml(`<domain type='kvm'><name>${name}</name><memory>1048576</memory><os><type arch='x86_64' machine='q35'>hvm</type>${loader}</os>${ls}</domain>`, `/etc/libvirt/qemu/${name}.xml`);
const guests = (...models: ReturnType<typeof guest>[]): HostGuests => ({
  origin: '/etc/libvirt/qemu/*.xml',
  sev: models.map((m) => ({ name: m.name ?? '', source: m.source, text: '', model: m })),
  others: [],
  unreadable: [],
});
const sevLs = (policy: string) => `<launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>${policy}</policy></launchSecurity>`;
const snpLs = (policy: string) => `<launchSecurity type='sev-snp'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>${policy}</policy></launchSecurity>`;

describe("every SEV guest's policy forbids debugging / migration / SMT", () => {
  it('SEV: NODBG and NOSEND decide; SMT does not apply', () => {
    expect(site.everyPolicyForbids(guests(guest('a', sevLs('0x000b'))), 'debugging').status).toBe('passed');
    failedWith(site.everyPolicyForbids(guests(guest('a', sevLs('0x000a'))), 'debugging'), /NODBG \(bit 0\) is clear.*<policy>0x000b<\/policy>/);
    failedWith(site.everyPolicyForbids(guests(guest('a', sevLs('0x0003'))), 'migration'), /NOSEND \(bit 3\).*<policy>0x000b<\/policy>/);
    expect(site.everyPolicyForbids(guests(guest('a', sevLs('0x000b'))), 'SMT').status).toBe('skipped');
  });
  it('SNP: DEBUG, MIGRATE_MA and SMT must be clear', () => {
    expect(site.everyPolicyForbids(guests(guest('s', snpLs('0x20000'))), 'SMT').status).toBe('passed');
    failedWith(site.everyPolicyForbids(guests(guest('s', snpLs('0x30000'))), 'SMT'), /SMT \(bit 16\) is set.*0x20000.*nosmt/);
    failedWith(site.everyPolicyForbids(guests(guest('s', snpLs('0xa0000'))), 'debugging'), /DEBUG \(bit 19\)/);
    failedWith(site.everyPolicyForbids(guests(guest('s', snpLs('0x70000'))), 'migration'), /MIGRATE_MA \(bit 18\)/);
    expect(site.everyPolicyForbids(guests(guest('s', snpLs('0x30000'))), 'debugging').status).toBe('passed');
  });
  it('undecided when a policy cannot be read; skipped without SEV guests', () => {
    expect(site.everyPolicyForbids(guests(guest('a', sevLs('zz'))), 'debugging').status).toBe('undecided');
    expect(site.everyPolicyForbids(guests(), 'debugging').status).toBe('skipped');
  });
});

describe("every SEV guest's firmware is on an allow-list", () => {
  const ovmf = Buffer.from('pretend OVMF build');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const sha256 = createHash('sha256').update(ovmf).digest('hex');
  const sha384 = createHash('sha384').update(ovmf).digest('hex');
  const read = async (p: string): Promise<Buffer> => {
    if (p === '/usr/share/OVMF/OVMF.amdsev.fd') return ovmf;
    throw new HostError('ENOENT', p, `${p}: no such file`);
  };
  const g = guests(guest('a', sevLs('0x000b')));
  it('passes by SHA-256 or SHA-384, fails with both digests and the line to add', async () => {
    expect((await site.everyFirmwareAllowed(g, read, site.parseAllowList(`${sha256}  ovmf 2024.11\n`, 'allow.txt'))).status).toBe('passed');
    expect((await site.everyFirmwareAllowed(g, read, site.parseAllowList(`# reviewed\n${sha384.toUpperCase()} *OVMF.amdsev.fd\n`, 'allow.txt'))).status).toBe('passed');
    const v = await site.everyFirmwareAllowed(g, read, site.parseAllowList(`${'0'.repeat(64)}  other\n`, 'allow.txt'));
    failedWith(v, new RegExp(`SHA-256 ${sha256}, SHA-384 ${sha384}`));
  });
  it('undecided when the file cannot be read or libvirt picks the firmware at start', async () => {
    const list = site.parseAllowList(`${sha256}  x\n`, 'allow.txt');
    expect((await site.everyFirmwareAllowed(guests(guest('b', sevLs('0x000b'), '<loader>/nope.fd</loader>')), read, list)).message).toMatch(/\/nope\.fd cannot be read/);
    const auto = parseDomainXml(`<domain type='kvm'><name>c</name><os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>${sevLs('0x000b')}</domain>`, '/etc/libvirt/qemu/c.xml');
    expect((await site.everyFirmwareAllowed(guests(auto), read, list)).message).toMatch(/libvirt picks the firmware file when the guest starts/);
  });
  it('refuses an allow-list that is none, naming file and line', () => {
    expect(() => site.parseAllowList('# nothing\n', 'allow.txt')).toThrow(/lists no digest/);
    expect(() => site.parseAllowList(`${sha256}  ok\nnot-a-digest\n`, 'allow.txt')).toThrow(/allow\.txt: line 2/);
    // any text: a list or an InputError, never another exception
    const rnd = prng(7);
    const alphabet = ['0', 'a', 'F', ' ', '\t', '\n', '#', '*', 'x', '\r', '\u0000', 'é'];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: Math.floor(rnd() * 120) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('') + (rnd() < 0.3 ? sha256 : '');
      try {
        site.parseAllowList(text, 'f');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
      }
    }
  });
});
