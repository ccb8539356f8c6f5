/**
 * device.libvirt.cgroup-acl: if qemu.conf sets cgroup_device_acl, does it list /dev/sev?
 *
 * Facts: libvirt's default ACL is /dev/null, /dev/full, /dev/zero, /dev/random, /dev/urandom,
 * /dev/ptmx, /dev/kvm (+ /dev/userfaultfd in newer releases) (qemu.conf.in comment block).
 * Independently of that list, libvirt allows /dev/sev read-write in the devices cgroup of every
 * domain with <launchSecurity type='sev'> (src/qemu/qemu_cgroup.c qemuSetupSEVCgroup). So a
 * custom list without /dev/sev does not by itself stop an SEV guest under a libvirt that has
 * qemuSetupSEVCgroup; callers that know the libvirt version pass `libvirtAllowsSevItself`.
 */
import { failed, passed, type Verdict } from '../verdict.js';
import type { QemuConf } from '../parsers/qemu-conf.js';

export function cgroupAclVerdict(conf: QemuConf | undefined, opts: { libvirtAllowsSevItself?: boolean } = {}): Verdict {
  const acl = conf?.cgroupDeviceAcl;
  if (!conf || acl === undefined) return passed('qemu.conf does not set cgroup_device_acl (libvirt default list; SEV domains get /dev/sev added by libvirt)');
  const where = `${conf.source}:${conf.lines.cgroup_device_acl ?? '?'}`;
  if (acl.includes('/dev/sev')) return passed(`cgroup_device_acl (${where}) lists /dev/sev`);
  if (opts.libvirtAllowsSevItself)
    return passed(`cgroup_device_acl (${where}) omits /dev/sev, but this libvirt adds it for SEV domains (qemu_cgroup.c qemuSetupSEVCgroup)`);
  return failed(
    `cgroup_device_acl at ${where} without /dev/sev: [${acl.map((a) => `"${a}"`).join(', ')}]`,
    'the list to contain "/dev/sev" (or libvirt to add it for SEV domains)',
    `add "/dev/sev" to cgroup_device_acl in ${conf.source} and restart libvirtd (virtqemud)`,
  );
}
