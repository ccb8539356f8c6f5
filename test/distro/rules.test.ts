import { describe, expect, it } from 'vitest';
import { kernelAtLeast, parseKernelConfig } from '../../support/parsers/kernel-config.js';
import { effectiveDescriptorFiles, parseFirmwareDescriptor } from '../../support/parsers/firmware-descriptor.js';
import { parseObjectHelp, parseQemuVersion } from '../../support/parsers/qemu-help.js';
import { parseGroup, parsePasswd } from '../../support/parsers/passwd.js';
import { evaluateDeviceRules, KVM_DEVICE, SEV_DEVICE } from '../../support/parsers/udev-rules.js';
import { resolveQemuIdentity } from '../../support/device/identity.js';
import { parseOsRelease } from '../../support/parsers/os-release.js';
import * as rules from '../../support/rules/distro.js';
import { OVMF_SEV_METADATA_GUID, OVMF_TABLE_FOOTER_GUID, SEV_ES_RESET_BLOCK_GUID, type OvmfImage } from '../../support/sev/ovmf.js';

const GOOD_CONFIG = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.12.117 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="gcc (Debian 14.2.0-19) 14.2.0"
CONFIG_AMD_MEM_ENCRYPT=y
# CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT is not set
CONFIG_KVM_AMD=m
CONFIG_KVM_AMD_SEV=y
CONFIG_CRYPTO_DEV_CCP_DD=m
CONFIG_CRYPTO_DEV_SP_PSP=y
`;
const kernel = (release: string, text: string) => ({ release, source: `/boot/config-${release}`, config: parseKernelConfig(text, `/boot/config-${release}`) });

describe('kernel configuration', () => {
  it('reads options, "is not set" and the header version', () => {
    const c = parseKernelConfig(GOOD_CONFIG, 'c');
    expect(c.ok && c.value.version).toBe('6.12.117');
    expect(c.ok && c.value.options.get('CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT')).toBe('n');
    expect(c.ok && c.value.options.get('CONFIG_KVM_AMD')).toBe('m');
  });
  it('rejects binary data and text without CONFIG_ lines', () => {
    expect(parseKernelConfig('\0\x7fELF', 'c').ok).toBe(false);
    expect(parseKernelConfig('hello\n', 'c').ok).toBe(false);
  });
  it('compares major.minor', () => {
    expect(kernelAtLeast('6.1.0-50-amd64', [6, 11])).toBe(false);
    expect(kernelAtLeast('6.12.117+deb13-amd64', [6, 11])).toBe(true);
    expect(kernelAtLeast('7.0', [6, 11])).toBe(true);
    expect(kernelAtLeast('linux', [6, 11])).toBeUndefined();
  });
  it('passes SEV on a 6.1 kernel, fails SEV-SNP there naming the version, passes it on 6.12', () => {
    const old = kernel('6.1.0-50-amd64', GOOD_CONFIG.replace('6.12.117', '6.1.158'));
    expect(rules.kernelSevHost([old], 'sev').status).toBe('passed');
    const v = rules.kernelSevHost([old], 'sev-snp');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/6\.1\.158 is older than 6\.11/);
    expect(rules.kernelSevHost([kernel('6.12.117+deb13-amd64', GOOD_CONFIG)], 'sev-snp').status).toBe('passed');
  });
  it('fails a kernel without KVM_AMD_SEV, naming the option; skipped without kernels; undecided when unreadable', () => {
    const v = rules.kernelSevHost([kernel('6.12.0', GOOD_CONFIG.replace('CONFIG_KVM_AMD_SEV=y', '# CONFIG_KVM_AMD_SEV is not set'))], 'sev');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/CONFIG_KVM_AMD_SEV=n/);
    expect(rules.kernelSevHost([], 'sev').status).toBe('skipped');
    expect(rules.kernelSevHost([kernel('x', 'garbage\n')], 'sev').status).toBe('undecided');
  });
  it('reports each installed kernel and passes when one qualifies', () => {
    const v = rules.kernelSevHost([kernel('6.1.0', GOOD_CONFIG.replace('6.12.117', '6.1.0')), kernel('6.12.0', GOOD_CONFIG)], 'sev-snp');
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/1 of 2 .*6\.1\.0.*older.*6\.12\.0.*ok/);
  });
});

describe('QEMU object types', () => {
  const help = 'List of user creatable objects:\n  authz-list\n  sev-guest\n  thread-context\n';
  it('parses -object help and --version', () => {
    const t = parseObjectHelp(help);
    expect(t.ok && t.value).toEqual(['authz-list', 'sev-guest', 'thread-context']);
    const v = parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright\n');
    expect(v.ok && v.value).toBe('7.2.22');
    expect(parseObjectHelp('qemu: unknown option\n').ok).toBe(false);
  });
  it('sev passes with sev-guest; sev-snp fails without sev-snp-guest, with the version', () => {
    const q = { kind: 'listed' as const, binary: '/usr/bin/qemu-system-x86_64', version: '7.2.22', types: ['sev-guest'] };
    expect(rules.qemuSevObject(q, 'sev').status).toBe('passed');
    const v = rules.qemuSevObject(q, 'sev-snp');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/QEMU 7\.2\.22.*sev-snp-guest.*9\.1/);
  });
  it('a QEMU that does not start is undecided, a missing one fails', () => {
    expect(rules.qemuSevObject({ kind: 'broken', binary: 'q', reason: 'exited 139' }, 'sev').status).toBe('undecided');
    expect(rules.qemuSevObject({ kind: 'absent', searched: ['q'] }, 'sev').status).toBe('failed');
  });
});

const DESC = (features: string[], image = '/usr/share/OVMF/OVMF_CODE_4M.fd') =>
  JSON.stringify({ 'interface-types': ['uefi'], mapping: { device: 'flash', executable: { filename: image, format: 'raw' } }, targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }], features });

describe('firmware descriptors', () => {
  it('parses flash and memory mappings, rejects bad JSON', () => {
    const d = parseFirmwareDescriptor(DESC(['amd-sev']), 'a.json');
    expect(d.ok && d.value.image).toBe('/usr/share/OVMF/OVMF_CODE_4M.fd');
    const m = parseFirmwareDescriptor(JSON.stringify({ mapping: { device: 'memory', filename: '/usr/share/edk2/ovmf/OVMF.amdsev.fd' }, targets: [], features: ['amd-sev-snp'] }), 'b.json');
    expect(m.ok && m.value.image).toBe('/usr/share/edk2/ovmf/OVMF.amdsev.fd');
    const bad = parseFirmwareDescriptor('{"mapping": ', 'c.json');
    expect(!bad.ok && bad.error.source).toBe('c.json');
  });
  it('a same-named file in /etc replaces /usr/share; an empty one masks; order is by name', () => {
    const r = effectiveDescriptorFiles([
      { dir: '/usr/share/qemu/firmware', name: '60-x.json', content: 'usr' },
      { dir: '/etc/qemu/firmware', name: '60-x.json', content: 'etc' },
      { dir: '/usr/share/qemu/firmware', name: '50-y.json', content: 'y' },
      { dir: '/etc/qemu/firmware', name: '40-z.json', content: '' },
      { dir: '/usr/share/qemu/firmware', name: '40-z.json', content: 'z' },
    ]);
    expect(r.files.map((f) => `${f.dir}/${f.name}:${f.content}`)).toEqual(['/usr/share/qemu/firmware/50-y.json:y', '/etc/qemu/firmware/60-x.json:etc']);
  });
  const fact = (features: string[], imageExists = true) => ({ path: '/usr/share/qemu/firmware/60.json', parsed: parseFirmwareDescriptor(DESC(features), '60.json'), imageExists });
  it('passes amd-sev, fails amd-sev-es / amd-sev-snp when not listed (Debian descriptors)', () => {
    const d = [fact(['acpi-s3', 'amd-sev', 'verbose-dynamic'])];
    expect(rules.firmwareDescriptor(d, [], 'sev').status).toBe('passed');
    const es = rules.firmwareDescriptor(d, [], 'sev-es');
    expect(es.status).toBe('failed');
    expect(es.message).toMatch(/no firmware descriptor lists amd-sev-es.*\[amd-sev\]/);
    expect(rules.firmwareDescriptor(d, [], 'sev-snp').status).toBe('failed');
  });
  it('fails when the named image is missing; undecided when only an unparseable descriptor could say', () => {
    expect(rules.firmwareDescriptor([fact(['amd-sev'], false)], [], 'sev').message).toMatch(/is missing/);
    const broken = { path: '/etc/qemu/firmware/10.json', parsed: parseFirmwareDescriptor('{', '/etc/qemu/firmware/10.json') };
    expect(rules.firmwareDescriptor([broken, fact(['amd-sev'])], [], 'sev-snp').status).toBe('undecided');
    expect(rules.firmwareDescriptor([broken, fact(['amd-sev'])], [], 'sev').status).toBe('passed');
    expect(rules.firmwareDescriptor([], ['/usr/share/qemu/firmware'], 'sev').status).toBe('failed');
  });
});

describe('OVMF SEV metadata', () => {
  const img = (guids: string[], sectionTypes: number[]): OvmfImage => ({
    source: 'x',
    data: new Uint8Array(),
    hasFooterTable: guids.length > 0,
    table: new Map(guids.map((g) => [g, new Uint8Array()])),
    metadata: sectionTypes.map((type) => ({ gpa: 0, size: 0x1000, type })),
  });
  it('SEV-ES needs the reset block; SNP the SNP sections', () => {
    const debian = { path: '/usr/share/OVMF/OVMF_CODE_4M.fd', image: img([OVMF_TABLE_FOOTER_GUID, SEV_ES_RESET_BLOCK_GUID, OVMF_SEV_METADATA_GUID], [1, 1, 2, 3, 1]) };
    expect(rules.sevMetadata([debian], 'sev-es').status).toBe('passed');
    expect(rules.sevMetadata([debian], 'sev-snp').status).toBe('passed');
    const noSnp = { path: 'old.fd', image: img([OVMF_TABLE_FOOTER_GUID, SEV_ES_RESET_BLOCK_GUID], []) };
    expect(rules.sevMetadata([noSnp], 'sev-es').status).toBe('passed');
    const v = rules.sevMetadata([noSnp], 'sev-snp');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/old\.fd: no SEV metadata/);
    expect(rules.sevMetadata([{ path: 'plain.fd', image: img([], []) }], 'sev-es').message).toMatch(/plain\.fd: no OVMF footer/);
  });
  it('a truncated image alone is undecided, never passed; no image fails', () => {
    expect(rules.sevMetadata([{ path: 't.fd', image: { error: 't.fd: OVMF footer table length 900 runs past the start of the image (truncated image?)' } }], 'sev-es').status).toBe('undecided');
    expect(rules.sevMetadata([], 'sev-es').status).toBe('failed');
  });
});

describe('libvirt launch security', () => {
  it('the template guest names the type', () => {
    expect(rules.templateDomain('sev')).toMatch(/<launchSecurity type='sev'>/);
    expect(rules.templateDomain('sev-snp')).toMatch(/<launchSecurity type='sev-snp'>/);
  });
  it('valid passes, invalid fails with the libvirt version needed, unavailable is undecided', () => {
    expect(rules.launchSecurity({ kind: 'checked', via: 'x', outcome: { status: 'valid' } }, 'sev').status).toBe('passed');
    const f = rules.launchSecurity({ kind: 'checked', via: 'x', outcome: { status: 'invalid', errors: [{ file: 't', message: 'Invalid attribute type for element launchSecurity' }] } }, 'sev-snp');
    expect(f.status).toBe('failed');
    expect(f.message).toMatch(/10\.5/);
    expect(rules.launchSecurity({ kind: 'checked', via: 'x', outcome: { status: 'unavailable', reason: 'no xmllint' } }, 'sev').status).toBe('undecided');
    expect(rules.launchSecurity({ kind: 'absent', searched: '/usr/share/libvirt/schemas/domain.rng' }, 'sev').status).toBe('failed');
  });
});

describe('SELinux policy', () => {
  it('skipped without a policy; failed without sev_device_t; passed with the rule', () => {
    expect(rules.selinuxPolicy({ kind: 'none', why: 'no /etc/selinux/config' }).status).toBe('skipped');
    const f = rules.selinuxPolicy({ kind: 'searched', policy: '/etc/selinux/default/policy/policy.33', mode: 'permissive', result: { kind: 'unknown-type', name: 'sev_device_t', text: 'sev_device_t is not a valid type attribute' } });
    expect(f.status).toBe('failed');
    expect(f.message).toMatch(/policy\.33 has no type sev_device_t/);
    const rule = { kind: 'allow' as const, source: 'svirt_t', target: 'sev_device_t', tclass: 'chr_file', perms: ['getattr', 'ioctl', 'open', 'read', 'write'], line: 1, text: 'allow svirt_t sev_device_t:chr_file { getattr ioctl open read write };' };
    expect(rules.selinuxPolicy({ kind: 'searched', policy: 'p', result: { kind: 'rules', rules: [rule] } }).status).toBe('passed');
    expect(rules.selinuxPolicy({ kind: 'searched', policy: 'p', result: { kind: 'rules', rules: [{ ...rule, perms: ['read'] }] } }).status).toBe('failed');
    expect(rules.selinuxPolicy({ kind: 'unusable', policy: 'p', reason: 'no sesearch' }).status).toBe('undecided');
  });
});

describe('udev rules and the QEMU user (Debian 12 accounts)', () => {
  const passwd = parsePasswd('root:x:0:0::/root:/bin/sh\nlibvirt-qemu:x:64055:103:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n');
  const group = parseGroup('root:x:0:\nkvm:x:103:\nlibvirt:x:107:\nlibvirt-qemu:x:64055:libvirt-qemu\n');
  const os = parseOsRelease('ID=debian\nVERSION_ID="12"\n');
  if (!passwd.ok || !group.ok || !os.ok) throw new Error('test data');
  const identity = resolveQemuIdentity({ passwd: passwd.value, group: group.value, osRelease: os.value });
  const systemd = { dir: '/usr/lib/udev/rules.d', name: '50-udev-default.rules', content: 'KERNEL=="kvm", GROUP="kvm", MODE="0660", OPTIONS+="static_node=kvm"\n' };
  const node = (files: { dir: string; name: string; content: string }[], dev = SEV_DEVICE) => rules.bootNode(evaluateDeviceRules(files, dev), passwd.value, group.value);

  it('no rule for sev: the kernel default 0600 root fails, with the rule to add', () => {
    const v = rules.udevSevRule(node([systemd]), identity, group.value);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/0600 uid 0 gid 0.*kernel default/);
    expect(v.status === 'failed' && v.fix).toMatch(/KERNEL=="sev", GROUP="kvm", MODE="0660"/);
  });
  it('a rule in /usr/lib passes; an /etc override of the same name decides', () => {
    const usr = { dir: '/usr/lib/udev/rules.d', name: '65-sev.rules', content: 'KERNEL=="sev", GROUP="kvm", MODE="0660"\n' };
    expect(rules.udevSevRule(node([systemd, usr]), identity, group.value).status).toBe('passed');
    const etc = { dir: '/etc/udev/rules.d', name: '65-sev.rules', content: 'KERNEL=="sev", MODE="0600"\n' };
    const v = rules.udevSevRule(node([systemd, usr, etc]), identity, group.value);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/\/etc\/udev\/rules.d\/65-sev.rules:1/);
  });
  it('qemu-user: libvirt-qemu is in kvm (its primary group), /dev/sev without a rule is left to the udev check', () => {
    const v = rules.qemuUser(identity, node([systemd], KVM_DEVICE), node([systemd]));
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/\/dev\/kvm group 103 .*member.*distro\.udev\.sev-rule/);
  });
  it('qemu-user fails when the rules give /dev/sev a group the user is not in, and when the user does not exist', () => {
    const sevRule = { dir: '/usr/lib/udev/rules.d', name: '65-sev.rules', content: 'KERNEL=="sev", GROUP="libvirt", MODE="0660"\n' };
    expect(rules.qemuUser(identity, node([systemd], KVM_DEVICE), node([sevRule])).status).toBe('failed');
    const noUser = parsePasswd('root:x:0:0::/root:/bin/sh\n');
    if (!noUser.ok) throw new Error('test data');
    const missing = resolveQemuIdentity({ passwd: noUser.value, group: group.value, osRelease: os.value });
    expect(rules.qemuUser(missing, node([systemd], KVM_DEVICE), node([systemd])).status).toBe('failed');
  });
});

describe('gate', () => {
  it('skips distro checks on targets that are not root file systems, naming --host rootfs:DIR', () => {
    expect(rules.gate('running')?.message).toMatch(/--host rootfs:DIR.*this target is a running system$/);
    expect(rules.gate('rootfs')).toBeUndefined();
  });
});
