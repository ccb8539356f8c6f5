/**
 * The device and SELinux probes over an in-memory Host, and once over the real LocalHost with
 * the real sesearch (CI installs setools and selinux-policy-default).
 */
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HostError, type Host, type RunResult, type StatInfo } from '../../support/host/types.js';
import { DeviceProbe } from '../../support/probes/device.js';
import { SelinuxProbe, SESEARCH_ARGV } from '../../support/probes/selinux.js';
import { LocalHost } from '../../support/host/local-host.js';
import { readExtendedAcl } from '../../support/host/acl.js';
import * as se from '../../support/rules/selinux.js';

class MemHost implements Host {
  readonly target = 'mem';
  readonly kind = 'fixture' as const;
  readonly system = 'running' as const;
  readonly reads: string[] = [];
  constructor(
    private readonly files: Record<string, string>,
    private readonly stats: Record<string, StatInfo> = {},
    private readonly commands: Record<string, Partial<RunResult>> = {},
  ) {}
  async describe() {
    return { name: 'mem' };
  }
  async readFile(path: string) {
    this.reads.push(`read ${path}`);
    const f = this.files[path];
    if (f === undefined) throw new HostError('ENOENT', path, `${path}: no such file or directory`);
    return Buffer.from(f);
  }
  async stat(path: string): Promise<StatInfo> {
    const s = this.stats[path];
    if (s) return s;
    if (this.files[path] !== undefined) return { path, type: 'file', mode: 0o644, uid: 0, gid: 0 };
    if (Object.keys(this.files).some((f) => f.startsWith(`${path}/`))) return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0 };
    throw new HostError('ENOENT', path, `${path}: no such file or directory`);
  }
  async listDir(path: string) {
    const names = Object.keys(this.files).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1).split('/')[0] ?? '');
    if (names.length === 0) throw new HostError('ENOENT', path, `${path}: no such file or directory`);
    return [...new Set(names)].sort();
  }
  async run(argv: readonly string[]): Promise<RunResult> {
    this.reads.push(`run ${argv.join(' ')}`);
    const c = this.commands[argv.join(' ')];
    if (!c) return { argv, exitCode: 127, stdout: '', stderr: `${argv[0]}: command not found\n` };
    return { argv, exitCode: 0, stdout: '', stderr: '', ...c };
  }
  /** as the live backends do it (host/acl.ts), over the commands given */
  acl(path: string) {
    return readExtendedAcl((argv) => this.run(argv), path);
  }
  async cpuid(): Promise<never> {
    throw new HostError('UNSUPPORTED', 'cpuid', 'no');
  }
  async readMsr(): Promise<never> {
    throw new HostError('UNSUPPORTED', 'cpuid', 'no');
  }
  async qmp(): Promise<never> {
    throw new HostError('UNSUPPORTED', 'qmp', 'no');
  }
  async open() {}
  async close() {}
}

const sev: StatInfo = { path: '/dev/sev', type: 'char', mode: 0o660, uid: 0, gid: 36 };

describe('DeviceProbe', () => {
  it('asks ls -ld whether there is an ACL and runs getfacl only on "+"; "+" without getfacl is unknown', async () => {
    const LS = 'ls -ld -- /dev/sev';
    const GETFACL = 'getfacl -n -p -- /dev/sev';
    const plainHost = new MemHost({}, { '/dev/sev': sev }, { [LS]: { stdout: 'crw-rw---- 1 root kvm 10, 124 Sep 30 09:00 /dev/sev\n' } });
    expect(await new DeviceProbe(plainHost).acl('/dev/sev')).toMatchObject({ kind: 'none' });
    expect(plainHost.reads).toEqual([`run ${LS}`]); // getfacl is not needed (and often not installed)
    // '.' = only an SELinux context (coreutils ls.c): no ACL either
    const labelled = new MemHost({}, { '/dev/sev': sev }, { [LS]: { stdout: 'crw-rw----. 1 root kvm 10, 124 Sep 30 09:00 /dev/sev\n' } });
    expect(await new DeviceProbe(labelled).acl('/dev/sev')).toMatchObject({ kind: 'none' });
    const plus = { stdout: 'crw-rw----+ 1 root kvm 10, 124 Sep 30 09:00 /dev/sev\n' };
    const withAcl = new DeviceProbe(new MemHost({}, { '/dev/sev': sev }, { [LS]: plus }));
    expect(await withAcl.acl('/dev/sev')).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/getfacl is not installed/) });
    const read = new DeviceProbe(new MemHost({}, { '/dev/sev': sev }, { [LS]: plus, [GETFACL]: { stdout: '# file: /dev/sev\nuser::rw-\nuser:107:rw-\ngroup::rw-\t#effective:rw-\nmask::rw-\nother::---\n\n' } }));
    expect(await read.acl('/dev/sev')).toMatchObject({ kind: 'acl', acl: { entries: expect.arrayContaining([{ tag: 'user', id: 107, perm: 6 }]) } });
    const garbled = new DeviceProbe(new MemHost({}, { '/dev/sev': sev }, { [LS]: plus, [GETFACL]: { stdout: '# file: /dev/sev\nuser::rw-\ngroup::rw\n' } }));
    expect(await garbled.acl('/dev/sev')).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/cannot parse getfacl/) });
  });

  it('reads only the copy of each udev rules file that udev uses', async () => {
    const host = new MemHost({
      '/etc/udev/rules.d/65-sev.rules': 'KERNEL=="sev", GROUP="kvm", MODE="0660"\n',
      '/usr/lib/udev/rules.d/50-udev-default.rules': 'KERNEL=="kvm", GROUP="kvm", MODE="0660"\n',
      '/lib/udev/rules.d/50-udev-default.rules': 'KERNEL=="kvm", GROUP="kvm", MODE="0660"\n',
    });
    const out = await new DeviceProbe(host).sevUdevOutcome();
    expect(out.group?.value).toBe('kvm');
    expect(host.reads.filter((r) => r.includes('50-udev-default'))).toEqual(['read /usr/lib/udev/rules.d/50-udev-default.rules']);
  });

  it('identity: an os-release without ID and no qemu.conf user/group cannot name the default user', async () => {
    const p = new DeviceProbe(new MemHost({ '/etc/os-release': 'NAME="Ubuntu"\n', '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n', '/etc/group': 'root:x:0:\n' }));
    const who = await p.qemuIdentity();
    expect(who.ok).toBe(false);
    if (!who.ok) expect(who.reason).toMatch(/no ID field/);
  });

  it('identity: passwd lines with missing fields are named when the user is not found', async () => {
    const p = new DeviceProbe(
      new MemHost({ '/etc/os-release': 'ID=fedora\n', '/etc/libvirt/qemu.conf': '', '/etc/passwd': 'root:x:0:0::/root:/bin/sh\nqemu:x:107\n', '/etc/group': 'qemu:x:107:\n' }),
    );
    const who = await p.qemuIdentity();
    expect(who.ok).toBe(false);
    if (!who.ok) expect(who.notes.join(' ')).toMatch(/\/etc\/passwd:2: skipped: no GID field/);
  });
});

describe('SelinuxProbe', () => {
  it('no selinuxfs means disabled; a garbled enforce file is a parse error', async () => {
    expect(await new SelinuxProbe(new MemHost({})).state()).toMatchObject({ ok: true, value: { mode: 'disabled' } });
    expect(await new SelinuxProbe(new MemHost({ '/sys/fs/selinux/enforce': 'x' })).state()).toMatchObject({ ok: false });
  });

  it('apparmorFacts: qemu.conf\'s security_driver is read only when AppArmor is enabled', async () => {
    const never = async (): Promise<never> => {
      throw new Error('security_driver read although AppArmor is off');
    };
    expect(await new SelinuxProbe(new MemHost({})).apparmorFacts(never)).toMatchObject({ enabled: false, files: [] });
    const on = new SelinuxProbe(new MemHost({ '/sys/module/apparmor/parameters/enabled': 'Y\n' }));
    expect(await on.apparmorFacts(async () => ['selinux'])).toMatchObject({ enabled: true, securityDriver: ['selinux'] });
  });

  it('sesearch: missing tool and unexpected failures are unusable; the unknown-type answer (exit 1) is parsed', async () => {
    const argv = SESEARCH_ARGV.join(' ');
    expect(await new SelinuxProbe(new MemHost({})).sesearch()).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/not installed/) });
    const crash = new SelinuxProbe(new MemHost({}, {}, { [argv]: { exitCode: 1, stderr: 'Error: policy not loaded\n' } }));
    expect(await crash.sesearch()).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/exited 1: Error: policy not loaded/) });
    const unknown = new SelinuxProbe(new MemHost({}, {}, { [argv]: { exitCode: 1, stdout: 'sev_device_t is not a valid type attribute\n' } }));
    expect(se.svirtAccess(await unknown.sesearch()).status).toBe('failed');
  });

  it('asks rpm on Fedora and dpkg-query on Debian', async () => {
    const rpmHost = new MemHost({}, {}, { 'rpm -q selinux-policy': { stdout: 'selinux-policy-3.14.3-108.el8.noarch\n' } });
    const os = (id: string) => ({ id, idLike: [], name: id, prettyName: id, fields: { ID: id } });
    expect(se.policyVersion(await new SelinuxProbe(rpmHost).installedPolicy(os('rhel'))).status).toBe('passed');
    const debHost = new MemHost({}, {}, { 'dpkg-query -W -f=${Version} selinux-policy-default': { stdout: '2:2.20221101-9' } });
    expect(se.policyVersion(await new SelinuxProbe(debHost).installedPolicy(os('debian'))).status).toBe('skipped');
    expect(se.policyVersion(await new SelinuxProbe(new MemHost({})).installedPolicy(undefined)).status).toBe('undecided');
  });
});

function findPolicy(): string | undefined {
  for (const store of ['/etc/selinux/default/policy', '/etc/selinux/targeted/policy']) {
    if (!existsSync(store)) continue;
    const f = readdirSync(store).filter((n) => /^policy\.\d+$/.test(n)).sort().pop();
    if (f) return `${store}/${f}`;
  }
  return undefined;
}
const policy = findPolicy();
if (!policy) console.log('probes.test: real sesearch skipped: no compiled policy (apt-get install -y selinux-policy-default setools)');

describe.skipIf(!policy)('SelinuxProbe with the real sesearch (LocalHost, argv, timeout)', () => {
  it("Debian's refpolicy has no sev_device_t: selinux.svirt-access fails with sesearch's own words", async () => {
    const probe = new SelinuxProbe(new LocalHost(), { policyPath: policy });
    const r = await probe.sesearch();
    if (r.kind === 'unusable') {
      expect(r.reason).toMatch(/sesearch is not installed/);
      return;
    }
    const v = se.svirtAccess(r);
    expect(['failed', 'passed']).toContain(v.status);
    if (v.status === 'failed') expect(v.message).toMatch(/sev_device_t is not a valid type attribute|grants/);
  });
});
