import { describe, expect, it } from 'vitest';
import { DistroProbe } from '../../support/probes/distro.js';
import { DeviceProbe } from '../../support/probes/device.js';
import { HostError, notRunning, type Host, type RunResult, type StatInfo } from '../../support/host/types.js';
import * as rules from '../../support/rules/distro.js';

/** An in-memory root file system: files by path, commands by argv. */
function memHost(files: Record<string, string | Buffer>, commands: Record<string, Partial<RunResult>> = {}, devLinks: string[] = []): Host & { ran: string[] } {
  const ran: string[] = [];
  const enoent = (p: string) => new HostError('ENOENT', p, `${p}: no such file or directory`);
  const dirs = (p: string) => Object.keys(files).filter((f) => f.startsWith(`${p}/`));
  return {
    ran,
    target: 'rootfs:mem',
    kind: 'rootfs',
    system: 'rootfs',
    describe: async () => ({ name: 'mem' }),
    readFile: async (p) => {
      if (devLinks.includes(p)) throw notRunning(`${p} (a link to /dev/null)`);
      const f = files[p];
      if (f === undefined) throw enoent(p);
      return Buffer.from(f);
    },
    stat: async (p): Promise<StatInfo> => {
      if (files[p] !== undefined) return { path: p, type: 'file', mode: 0o644, uid: 0, gid: 0 };
      if (dirs(p).length) return { path: p, type: 'dir', mode: 0o755, uid: 0, gid: 0 };
      throw enoent(p);
    },
    acl: async () => undefined,
    listDir: async (p) => {
      if (p.startsWith('/run')) throw notRunning(p);
      const names = [...new Set([...dirs(p), ...devLinks.filter((l) => l.startsWith(`${p}/`))].map((f) => f.slice(p.length + 1).split('/')[0] ?? ''))].sort();
      if (!names.length) throw enoent(p);
      return names;
    },
    run: async (argv) => {
      ran.push(argv.join(' '));
      const c = commands[argv.join(' ')];
      return { argv: [...argv], exitCode: c?.exitCode ?? 127, stdout: c?.stdout ?? '', stderr: c?.stderr ?? (c ? '' : `${argv[0]}: command not found\n`) };
    },
    cpuid: async () => {
      throw notRunning('CPUID');
    },
    readMsr: async () => {
      throw notRunning('MSR');
    },
    qmp: async () => {
      throw notRunning('QMP');
    },
    open: async () => undefined,
    close: async () => undefined,
  };
}
const probe = (h: Host) => new DistroProbe(h, new DeviceProbe(h));
const QEMU = '/usr/bin/qemu-system-x86_64';

describe('the distro probe on bad input', () => {
  it('a QEMU killed by a signal (exit 139) is undecided with the reason, never passed', async () => {
    const h = memHost({ [QEMU]: 'ELF' }, { [`${QEMU} -object help`]: { exitCode: 139, stderr: '' } });
    const v = rules.qemuSevObject(await probe(h).qemuObjects(), 'sev');
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/exited 139 \(signal 11\?\)/);
  });
  it('a QEMU that prints no object list is undecided', async () => {
    const h = memHost({ [QEMU]: 'ELF' }, { [`${QEMU} -object help`]: { exitCode: 0, stdout: 'Segmentation fault\n' } });
    expect(rules.qemuSevObject(await probe(h).qemuObjects(), 'sev').status).toBe('undecided');
  });
  it("runs the image's own binary by its absolute path and reads its version", async () => {
    const h = memHost({ '/usr/libexec/qemu-kvm': 'ELF' }, {
      '/usr/libexec/qemu-kvm -object help': { exitCode: 0, stdout: 'List of user creatable objects:\n  sev-guest\n  sev-snp-guest\n' },
      '/usr/libexec/qemu-kvm --version': { exitCode: 0, stdout: 'QEMU emulator version 9.1.0 (qemu-kvm-9.1.0-15.el9)\n' },
    });
    const v = rules.qemuSevObject(await probe(h).qemuObjects(), 'sev-snp');
    expect(v.message).toBe('/usr/libexec/qemu-kvm (QEMU 9.1.0) offers object type sev-snp-guest');
    expect(h.ran).toEqual(['/usr/libexec/qemu-kvm -object help', '/usr/libexec/qemu-kvm --version']);
  });
  it('an /etc descriptor of the same name replaces the /usr/share one; an unreadable one makes the check undecided', async () => {
    const desc = (features: string[]) => JSON.stringify({ mapping: { device: 'flash', executable: { filename: '/usr/share/OVMF/OVMF_CODE_4M.fd' } }, targets: [{ architecture: 'x86_64' }], features });
    const base = { '/usr/share/OVMF/OVMF_CODE_4M.fd': 'x', '/usr/share/qemu/firmware/60-edk2.json': desc(['amd-sev']) };
    const over = memHost({ ...base, '/etc/qemu/firmware/60-edk2.json': desc(['amd-sev', 'amd-sev-es']) });
    expect(rules.firmwareDescriptor(await probe(over).descriptors(), [], 'sev-es').message).toMatch(/^\/etc\/qemu\/firmware\/60-edk2.json lists amd-sev-es/);
    const broken = memHost({ ...base, '/etc/qemu/firmware/60-edk2.json': '{ "mapping": ' });
    expect(rules.firmwareDescriptor(await probe(broken).descriptors(), [], 'sev').status).toBe('undecided');
  });
  it('udev rules under /run (not part of a root file system) are left out, not a skip of the check', async () => {
    const h = memHost({ '/usr/lib/udev/rules.d/65-sev.rules': 'KERNEL=="sev", GROUP="kvm", MODE="0660"\n', '/etc/group': 'root:x:0:\nkvm:x:36:\n', '/etc/passwd': 'root:x:0:0::/:/bin/sh\n' });
    const n = await probe(h).sevNode();
    expect('reason' in n ? n.reason : n.source).toMatch(/65-sev.rules:1/);
  });
  it('a rules file or descriptor linked to /dev/null (NOT_RUNNING on a root file system) masks its name instead of skipping the check', async () => {
    const files = {
      '/usr/lib/udev/rules.d/65-sev.rules': 'KERNEL=="sev", GROUP="kvm", MODE="0660"\n',
      '/etc/group': 'root:x:0:\nkvm:x:36:\n',
      '/etc/passwd': 'root:x:0:0::/:/bin/sh\n',
      '/usr/share/qemu/firmware/60-edk2.json': JSON.stringify({ mapping: { device: 'memory', filename: '/x.fd' }, features: ['amd-sev'] }),
    };
    const p = probe(memHost(files, {}, ['/etc/udev/rules.d/65-sev.rules', '/etc/qemu/firmware/60-edk2.json']));
    const n = await p.sevNode();
    expect('reason' in n ? n.reason : n.source).toMatch(/no udev rule matches/);
    expect(await p.descriptors()).toEqual([]);
  });
  it('an SELinux policy without sesearch in the image is undecided; no /etc/selinux/config is skipped', async () => {
    const h = memHost({ '/etc/selinux/config': 'SELINUXTYPE=targeted\n', '/etc/selinux/targeted/policy/policy.33': 'x' });
    const v = rules.selinuxPolicy(await probe(h).selinuxPolicy());
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/policy\.33: the image has no sesearch/);
    expect(rules.selinuxPolicy(await probe(memHost({ '/etc/os-release': 'ID=debian\n' })).selinuxPolicy()).status).toBe('skipped');
  });
  it('two kernel configs for one release (/boot and the modules directory) are one kernel', async () => {
    const cfg = '# Linux/x86 6.12.1 Kernel Configuration\nCONFIG_KVM_AMD=m\n';
    const h = memHost({ '/boot/config-6.12.1': cfg, '/usr/lib/modules/6.12.1/config': cfg, '/usr/lib/modules/6.13.0/config': cfg.replace('6.12.1', '6.13.0') });
    expect((await probe(h).kernels()).map((k) => k.source)).toEqual(['/boot/config-6.12.1', '/usr/lib/modules/6.13.0/config']);
  });
});
