/**
 * The distro.* verdicts (profile sev-snp) a Debian image should get, derived from its own package
 * versions (its dpkg database, read with dpkg-query --admindir) and the upstream release that
 * brought each feature — an oracle independent of the checks' code, for images whose contents
 * move (Debian testing and unstable are rebuilt from the mirror).
 *
 * Thresholds (sources in support/rules/distro.ts and docs/distro.md):
 * - kernel: Debian's linux-image-amd64 configs carry every SEV option (Debian 12, 13, testing
 *   checked); SEV-SNP host support needs Linux ≥ 6.11.
 * - QEMU: object type sev-snp-guest from QEMU 9.1.0.
 * - firmware descriptor: only ovmf-amdsev (new in Debian testing) ships a descriptor listing
 *   amd-sev-es and amd-sev-snp (60-edk2-x86_64-amdsev.json); ovmf's descriptors list amd-sev only.
 * - OVMF metadata: every ovmf from 2022.11 (Debian 12) on carries the SNP metadata.
 * - libvirt schema: <launchSecurity type='sev-snp'> from libvirt 10.5.0.
 * - SELinux: Debian's kernels list apparmor before selinux in CONFIG_LSM and the images set no
 *   boot parameter: skipped.
 * - AppArmor: virt-aa-helper adds "/dev/sev" rw, for a SEV guest in libvirt 12.8.0-1 (Debian
 *   testing) and not in 9.0.0 / 11.3.0 (Debian 12, 13): the recorded dry runs in vectors/. The
 *   first upstream release with it is not known here, so 12.8 is the threshold.
 * - udev: no systemd release up to 262 (Debian testing) ships a rule for /dev/sev: failed.
 * - QEMU user: libvirt-daemon-system creates libvirt-qemu in group kvm on every release: passed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const DECIDING_PACKAGES = ['linux-image-amd64', 'qemu-system-x86', 'ovmf', 'ovmf-amdsev', 'libvirt-daemon-system', 'udev'] as const;

/** package → version ('' when not installed) from the image's own dpkg database */
export function imageVersions(tree: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of DECIDING_PACKAGES) {
    try {
      const s = execFileSync('dpkg-query', [`--admindir=${join(tree, 'var/lib/dpkg')}`, '-W', '-f', '${db:Status-Status} ${Version}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      out[p] = s.startsWith('installed ') ? s.slice('installed '.length).trim() : '';
    } catch {
      out[p] = '';
    }
  }
  return out;
}

/** The upstream version in a Debian version: epoch and Debian revision dropped, [major, minor]. */
export function upstream(v: string): [number, number] | undefined {
  const m = /^(?:\d+:)?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
const atLeast = (v: string, min: [number, number]): boolean => {
  const u = upstream(v);
  return u !== undefined && (u[0] > min[0] || (u[0] === min[0] && u[1] >= min[1]));
};
const pf = (ok: boolean): string => (ok ? 'passed' : 'failed');

export function expectedDistroVerdicts(v: Record<string, string>): Record<string, string> {
  return {
    'distro.kernel.sev-host': pf(atLeast(v['linux-image-amd64'] ?? '', [6, 11])),
    'distro.qemu.sev-object': pf(atLeast(v['qemu-system-x86'] ?? '', [9, 1])),
    'distro.firmware.descriptor': pf((v['ovmf-amdsev'] ?? '') !== ''),
    'distro.firmware.sev-metadata': pf(atLeast(v.ovmf ?? '', [2022, 11])),
    'distro.libvirt.launch-security': pf(atLeast(v['libvirt-daemon-system'] ?? '', [10, 5])),
    'distro.selinux.sev-policy': 'skipped',
    'distro.apparmor.sev-access': pf(atLeast(v['libvirt-daemon-system'] ?? '', [12, 8])),
    'distro.udev.sev-rule': 'failed',
    'distro.qemu-user': 'passed',
  };
}

/** Which packages decide each check, for the matrix */
export const DECIDED_BY: Readonly<Record<string, readonly string[]>> = {
  'distro.kernel.sev-host': ['linux-image-amd64'],
  'distro.qemu.sev-object': ['qemu-system-x86'],
  'distro.firmware.descriptor': ['ovmf', 'ovmf-amdsev'],
  'distro.firmware.sev-metadata': ['ovmf'],
  'distro.libvirt.launch-security': ['libvirt-daemon-system'],
  'distro.selinux.sev-policy': ['linux-image-amd64'],
  'distro.apparmor.sev-access': ['libvirt-daemon-system'],
  'distro.udev.sev-rule': ['udev'],
  'distro.qemu-user': ['libvirt-daemon-system'],
};
