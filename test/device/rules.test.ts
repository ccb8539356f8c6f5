import { describe, expect, it } from 'vitest';
import { known, type Fact } from '../../support/facts.js';
import * as dev from '../../support/rules/device.js';
import * as se from '../../support/rules/selinux.js';
import type { StatInfo } from '../../support/host/types.js';
import type { IdentityResult } from '../../support/device/identity.js';
import { parseGroup, parsePasswd } from '../../support/parsers/passwd.js';
import { parseQemuConf } from '../../support/parsers/qemu-conf.js';
import { parseGetfacl } from '../../support/parsers/getfacl.js';
import { evaluateDeviceRules } from '../../support/parsers/udev-rules.js';
import { ok, parseError } from '../../support/parsers/parse-result.js';
import { parseSesearch } from '../../support/parsers/sesearch.js';
import { parseAvcDenials } from '../../support/parsers/audit-log.js';

const node = (mode: number, uid = 0, gid = 0, extra: Partial<StatInfo> = {}): StatInfo => ({ path: '/dev/sev', type: 'char', mode, uid, gid, ...extra });
const group = (() => {
  const g = parseGroup('root:x:0:\nkvm:x:36:qemu\nqemu:x:107:\n');
  if (!g.ok) throw new Error('group');
  return g.value;
})();
const qemu: IdentityResult = {
  ok: true,
  notes: [],
  identity: { uid: 107, gid: 107, groups: [36, 107], userName: 'qemu', groupNames: ['kvm', 'qemu'], capDacOverride: false, description: 'qemu (uid 107), group qemu (gid 107)', userSource: 'qemu.conf:1', groupSource: 'qemu.conf:2' },
};
const qemuNoKvm: IdentityResult = qemu.ok ? { ...qemu, identity: { ...qemu.identity, groups: [107], groupNames: ['qemu'] } } : qemu;
const noAcl = known({ kind: 'none', source: 'ls -ld' } as const);
/** A fact the rule must not ask for. */
const never: Fact<never> = () => {
  throw new Error('fact read although the verdict did not need it');
};

describe('device.sev.exists', () => {
  it('fails without /dev/sev, and when it is not a character device', async () => {
    expect(dev.sevExists(undefined)).toMatchObject({ status: 'failed' });
    expect(dev.sevExists(undefined).message).toMatch(/^found no \/dev\/sev; expected .*; fix: .*ccp/);
    expect(dev.sevExists(node(0o600, 0, 0, { type: 'file' })).message).toMatch(/is a file/);
    expect(dev.sevExists(node(0o600)).status).toBe('passed');
  });
});

describe('device.*.qemu-access', () => {
  it('the seed case: 0600 root:root, QEMU as qemu:qemu -> failed, with a udev rule for kvm as the fix', async () => {
    const v = await dev.qemuAccess({ path: '/dev/sev', node: node(0o600), who: known(qemu), acl: noAcl, group: known(group) });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/denied rw by the other class/);
    expect(v.message).toMatch(/fix: echo 'KERNEL=="sev", GROUP="kvm", MODE="0660"' > \/etc\/udev\/rules.d\/65-sev.rules/);
    expect(v.message).not.toMatch(/usermod/); // qemu is already in kvm
  });

  it('names the group to join when the node is group-rw for a group QEMU is not in', async () => {
    const v = await dev.qemuAccess({ path: '/dev/sev', node: node(0o660, 0, 36), who: known(qemuNoKvm), acl: noAcl, group: known(group) });
    expect(v.message).toMatch(/fix: usermod -aG kvm qemu .*group = "kvm"/);
  });

  it('adds the usermod when the udev rule names a group QEMU is not in', async () => {
    const v = await dev.qemuAccess({ path: '/dev/sev', node: node(0o600), who: known(qemuNoKvm), acl: noAcl, group: known(group) });
    expect(v.message).toMatch(/GROUP="kvm".*; usermod -aG kvm qemu/);
  });

  it('passes via the group class and notes the namespace copy', async () => {
    const v = await dev.qemuAccess({ path: '/dev/sev', node: node(0o660, 0, 36), who: known(qemu), acl: noAcl, group: known(group) });
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/private \/dev with a copy of \/dev\/sev/);
  });

  it('honours a getfacl ACL (named user entry grants)', async () => {
    const acl = parseGetfacl('user::rw-\nuser:107:rw-\ngroup::---\nmask::rw-\nother::---\n');
    if (!acl.ok) throw new Error('acl');
    const v = await dev.qemuAccess({ path: '/dev/sev', node: node(0o660), who: known(qemu), acl: known({ kind: 'acl', acl: acl.value.acl, source: 'getfacl' } as const), group: known(group) });
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/ACL entry user:107/);
  });

  it('is undecided when an ACL exists but cannot be read, unless the owner class decides', async () => {
    const acl = known({ kind: 'unknown', reason: 'it has a POSIX ACL but getfacl is not installed' } as const);
    expect((await dev.qemuAccess({ path: '/dev/sev', node: node(0o660), who: known(qemu), acl, group: known(group) })).status).toBe('undecided');
    // the owner class decides without the ACL: it is not even asked for
    expect((await dev.qemuAccess({ path: '/dev/sev', node: node(0o600, 107), who: known(qemu), acl: never, group: known(group) })).status).toBe('passed');
  });

  it('is undecided with the reason when the identity cannot be resolved', async () => {
    const v = await dev.qemuAccess({ path: '/dev/kvm', node: node(0o660), who: known({ ok: false, reason: "user 'qemu' does not exist", notes: ['/etc/passwd:3: skipped: 3 fields, expected 7'] } as const), acl: noAcl });
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/skipped: 3 fields/);
  });

  it('skips /dev/sev when it is absent (device.sev.exists reports it) but fails a missing /dev/kvm, without asking who QEMU is', async () => {
    expect((await dev.qemuAccess({ path: '/dev/sev', node: undefined, who: never, acl: never, group: never, conf: never })).status).toBe('skipped');
    expect((await dev.qemuAccess({ path: '/dev/kvm', node: undefined, who: never, acl: never, group: never, conf: never })).status).toBe('failed');
    expect((await dev.qemuAccess({ path: '/dev/sev', node: undefined, who: known(qemu), acl: noAcl })).status).toBe('skipped');
    expect((await dev.qemuAccess({ path: '/dev/kvm', node: undefined, who: known(qemu), acl: noAcl })).message).toMatch(/modprobe kvm_amd/);
  });

  it('qemu.conf namespaces = [] is noted', async () => {
    const conf = parseQemuConf('namespaces = []\n');
    if (!conf.ok) throw new Error('conf');
    expect(dev.namespaceNote(conf.value, '/dev/sev')).toMatch(/host's \/dev directly/);
  });
});

describe('device.sev.not-world-writable and device.udev.sev-rule', () => {
  it('0666 fails, 0660 passes, absent is skipped', async () => {
    expect(dev.sevNotWorldWritable(node(0o666)).status).toBe('failed');
    expect(dev.sevNotWorldWritable(node(0o660)).status).toBe('passed');
    expect(dev.sevNotWorldWritable(undefined).status).toBe('skipped');
  });

  const rules = (content: string) => evaluateDeviceRules(content ? [{ dir: '/etc/udev/rules.d', name: '65-sev.rules', content }] : []);
  const passwd = (() => {
    const p = parsePasswd('root:x:0:0::/root:/bin/sh\n');
    if (!p.ok) throw new Error('p');
    return p.value;
  })();

  it('a rule not yet applied fails with udevadm trigger', async () => {
    const access = await dev.accessDecision({ path: '/dev/sev', node: node(0o600), who: known(qemu), acl: noAcl });
    const v = await dev.udevSevRule({ node: node(0o600), outcome: known(rules('KERNEL=="sev", GROUP="kvm", MODE="0660"\n')), passwd: known(passwd), group: known(group), access: known(access) });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/udevadm trigger/);
  });

  it('no /dev/sev: skipped without reading the rules, the accounts or the identity', async () => {
    expect((await dev.udevSevRule({ node: undefined, outcome: never, passwd: never, group: never, access: never })).status).toBe('skipped');
  });

  it('no rule: failed when QEMU cannot open the node, undecided when nobody knows who QEMU is', async () => {
    const access = await dev.accessDecision({ path: '/dev/sev', node: node(0o600), who: known(qemu), acl: noAcl });
    expect((await dev.udevSevRule({ node: node(0o600), outcome: known(rules('')), group: known(group), access: known(access) })).status).toBe('failed');
    const unknown = await dev.accessDecision({ path: '/dev/sev', node: node(0o600), who: known({ ok: false, reason: '/etc/passwd does not exist', notes: [] } as const), acl: noAcl });
    const v = await dev.udevSevRule({ node: node(0o600), outcome: known(rules('')), group: known(group), access: known(unknown) });
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/\/etc\/passwd does not exist/);
  });
});

describe('device.libvirt.cgroup-acl and device.memlock', () => {
  it('garbled qemu.conf is undecided with file:line, never a pass', async () => {
    const bad = parseQemuConf('cgroup_device_acl = [ "/dev/kvm", # comment\n]\n');
    expect(bad.ok).toBe(false);
    expect(dev.cgroupAcl(bad)).toMatchObject({ status: 'undecided' });
    expect(dev.cgroupAcl(bad).message).toMatch(/qemu.conf:1/);
    expect((await dev.memlock(bad, known(qemu), known([]))).status).toBe('undecided');
  });

  it('no qemu.conf passes cgroup-acl; a list without /dev/sev fails', async () => {
    expect(dev.cgroupAcl(undefined).status).toBe('passed');
    expect(dev.cgroupAcl(parseQemuConf('cgroup_device_acl = ["/dev/kvm"]\n')).status).toBe('failed');
  });

  it('memlock: skipped under libvirt, decided from limits.conf without it', async () => {
    expect((await dev.memlock(parseQemuConf('# defaults\n'), known(qemu), known([]))).status).toBe('skipped');
    // under libvirt the QEMU user and limits.conf do not matter: not even read (was: undecided when unreadable)
    expect((await dev.memlock(parseQemuConf('# defaults\n'), never, never)).status).toBe('skipped');
    expect((await dev.memlock(undefined, known(qemu), known([]))).status).toBe('undecided');
    const entry = (value: number | 'unlimited') => [[{ domain: 'qemu', type: '-' as const, item: 'memlock', value, source: '/etc/security/limits.conf', line: 1 }]];
    expect((await dev.memlock(undefined, known(qemu), known(entry(65536)))).status).toBe('failed');
    expect((await dev.memlock(undefined, known(qemu), known(entry('unlimited')))).status).toBe('passed');
    expect((await dev.memlock(undefined, known(qemu), known(entry(64 * 1024 * 1024)))).message).toMatch(/leaves room for SEV guests up to/);
  });
});

describe('selinux rules', () => {
  const on = { mode: 'enforcing' as const, source: '/sys/fs/selinux/enforce reads 1' };
  it('gate: disabled -> skipped (with the AppArmor pointer), garbled enforce -> undecided', async () => {
    const g = se.gate(ok({ mode: 'disabled', source: 'no /sys/fs/selinux/enforce' }), true);
    expect('status' in g && g.status).toBe('skipped');
    expect('status' in g && g.message).toMatch(/selinux.apparmor-sev/);
    const bad = se.gate(parseError('/sys/fs/selinux/enforce', 1, "expected 0 or 1, got 'x'"), undefined);
    expect('status' in bad && bad.status).toBe('undecided');
    expect(se.gate(ok(on), undefined)).toEqual(on);
  });

  it('label: missing context is undecided, device_t fails, sev_device_t passes', async () => {
    expect(se.sevLabel(on, node(0o660)).status).toBe('undecided');
    expect(se.sevLabel(on, node(0o660, 0, 0, { selinux: 'garbage' })).status).toBe('undecided');
    expect(se.sevLabel(on, node(0o660, 0, 0, { selinux: 'system_u:object_r:device_t:s0' })).status).toBe('failed');
    expect(se.sevLabel(on, node(0o660, 0, 0, { selinux: 'system_u:object_r:sev_device_t:s0' })).status).toBe('passed');
    expect(se.sevLabel(on, undefined).status).toBe('skipped');
  });

  it('policy version and sesearch: missing tools and garbled output are undecided', async () => {
    expect(se.policyVersion({ kind: 'unusable', reason: 'rpm not installed' }).status).toBe('undecided');
    expect(se.svirtAccess({ kind: 'unusable', reason: 'sesearch is not installed' }).status).toBe('undecided');
    expect(se.svirtAccess({ kind: 'parsed', result: parseSesearch('allow svirt_t sev_device_t:chr_file { open\n') }).status).toBe('undecided');
    expect(se.svirtAccess({ kind: 'parsed', result: parseSesearch('sev_device_t is not a valid type attribute\n') }).status).toBe('failed');
  });

  it('audit log: absent and garbled are undecided, a denial fails', async () => {
    expect(se.noAvcDenials(undefined, '/var/log/audit/audit.log').status).toBe('undecided');
    expect(se.noAvcDenials(parseAvcDenials('type=AVC msg=audit(1.0:1): avc:  denied  { open } for pid=1 tclass=chr_file\n'), 'a').status).toBe('undecided');
    const denial =
      'type=AVC msg=audit(1554136342.383:297): avc:  denied  { open } for  pid=3263 comm="qemu-kvm" path="/dev/sev" scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:sev_device_t:s0 tclass=chr_file permissive=0\n';
    expect(se.noAvcDenials(parseAvcDenials(denial), 'a').status).toBe('failed');
  });
});
