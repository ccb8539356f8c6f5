/**
 * A vitest reporter (vitest.config.ts, beside the default one): after `npm test`, one summary of
 * what was skipped — per test file, how many tests, why (the note of ctx.skip(note) where the
 * test gives one), and what to install (Debian packages) or do — so that a clone on a machine
 * without the Debian tools knows what it did not test. Silent when nothing was skipped.
 *
 * NEEDS maps each test file that can skip to what it needs (test/structure/skips.test.ts checks
 * that every file that skips has an entry). `.ci/run` installs all of it.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { relative } from 'node:path';

export interface Need {
  /** what the skipped tests need, in a few words */
  readonly needs: string;
  /** Debian packages to install, or what to do instead */
  readonly install: string;
}

const ROOTFS = { needs: 'the Debian 12/13 root file systems and a sandbox', install: 'apt-get install mmdebstrap bubblewrap, then SEVCHECK_ROOTFS_DEBIAN12=$(scripts/ci-rootfs.sh bookworm) SEVCHECK_ROOTFS_DEBIAN13=$(scripts/ci-rootfs.sh trixie)' };
const CHROMIUM = { needs: 'headless Chromium', install: 'apt-get install chromium fonts-dejavu-core' };
const QEMU = { needs: 'QEMU', install: 'apt-get install qemu-system-x86 ovmf' };
const SELINUX = { needs: 'sesearch and a compiled SELinux policy', install: 'apt-get install setools selinux-policy-default' };
const ANSIBLE = { needs: 'ansible-core', install: 'apt-get install ansible-core' };

export const NEEDS: Readonly<Record<string, Need>> = {
  'test/report/html-chromium.test.ts': CHROMIUM,
  'test/fleet/report-html.test.ts': CHROMIUM,
  'test/caps/qemu-probe.test.ts': QEMU,
  'test/caps/live-caps.test.ts': QEMU,
  'test/caps/host-qmp.test.ts': QEMU,
  'test/cli/measure.test.ts': { needs: "Debian's OVMF builds", install: 'apt-get install ovmf' },
  'test/sev/vmsa-model.test.ts': { needs: "libvirt's virt-qemu-sev-validate and OVMF", install: 'apt-get install libvirt-clients-qemu python3-cryptography python3-lxml ovmf' },
  'test/device/sesearch-live.test.ts': SELINUX,
  'test/device/probes.test.ts': SELINUX,
  'test/fleet/report-writers.test.ts': { needs: 'promtool and xmllint', install: 'apt-get install prometheus libxml2-utils' },
  'test/fleet/contrib-systemd.test.ts': { needs: 'systemd-analyze', install: 'apt-get install systemd' },
  'test/fleet/contrib-ansible.test.ts': ANSIBLE,
  'test/fleet/inputs.test.ts': ANSIBLE,
  'test/integration/ssh.test.ts': { needs: 'sshd and ssh', install: 'apt-get install openssh-server openssh-client' },
  'test/integration/rootfs-images.test.ts': ROOTFS,
  'test/distro/images.test.ts': ROOTFS,
  'test/integration/ci-rootfs.test.ts': { needs: 'dpkg-query and the cached root file systems', install: 'a Debian host (dpkg), apt-get install mmdebstrap' },
  'test/host/rootfs-host.test.ts': { needs: 'bubblewrap (and root for device nodes)', install: 'apt-get install bubblewrap; run as root' },
  'test/integration/live.test.ts': { needs: "this machine's tools (virt-host-validate)", install: 'apt-get install libvirt-clients' },
  'test/integration/live-hidden.test.ts': { needs: 'root and a private mount namespace', install: 'run npm test as root (CI does)' },
  'test/distro/disk-image.test.ts': { needs: 'libguestfs, qemu-img and the Debian 13 disk images', install: 'apt-get install libguestfs-tools qemu-utils, then SEVCHECK_IMAGE_DEBIAN13=$(scripts/ci-disk-image.sh "$SEVCHECK_ROOTFS_DEBIAN13" | paste -sd: -)' },
  'test/domain/firmware-fix.test.ts': { needs: "QEMU's firmware descriptors", install: 'apt-get install ovmf qemu-system-x86' },
  'test/host/ssh-batch.test.ts': { needs: 'a readable /dev/cpu/0/cpuid', install: 'run as root with the cpuid module loaded (modprobe cpuid)' },
  'test/hostile/image-command.test.ts': { needs: 'bubblewrap', install: 'apt-get install bubblewrap' },
  'test/hostile/image-schemas.test.ts': { needs: 'bubblewrap and xmllint', install: 'apt-get install bubblewrap libxml2-utils' },
  'test/cli/options.test.ts': { needs: 'root and chattr on a filesystem with the immutable flag', install: 'run as root on ext4 (e2fsprogs)' },
};

interface Skipped {
  readonly file: string;
  readonly count: number;
  readonly notes: ReadonlySet<string>;
}

/** The summary's lines (pure: the reporter prints them). */
export function summaryLines(skipped: readonly Skipped[], needs: Readonly<Record<string, Need>> = NEEDS): string[] {
  if (skipped.length === 0) return [];
  const total = skipped.reduce((n, s) => n + s.count, 0);
  const lines = ['', `Skipped: ${total} test${total === 1 ? '' : 's'} in ${skipped.length} file${skipped.length === 1 ? '' : 's'} (they need what this machine lacks):`];
  for (const s of [...skipped].sort((a, b) => a.file.localeCompare(b.file))) {
    const need = needs[s.file];
    const why = [...s.notes].filter(Boolean).join('; ');
    lines.push(`  ${s.file}: ${s.count} — needs ${need?.needs ?? 'see the test'}${why ? ` (${why})` : ''}`);
  }
  const installs = [...new Set(skipped.map((s) => needs[s.file]?.install).filter((x): x is string => x !== undefined))];
  if (installs.length) lines.push('To run them:', ...installs.map((i) => `  ${i}`));
  return lines;
}

export default class SkippedSummary implements Reporter {
  private lines: string[] = [];

  // the default reporter prints its totals in onFinished: this block comes after them, last
  onFinished(): void {
    if (this.lines.length) process.stdout.write(`${this.lines.join('\n')}\n`);
    this.lines = [];
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: Skipped[] = [];
    for (const m of modules) {
      let count = 0;
      const notes = new Set<string>();
      for (const t of m.children.allTests()) {
        const r = t.result();
        // skipped on purpose by the test (skipIf / ctx.skip); not `.only` elsewhere or a -t filter
        if (r.state !== 'skipped' || t.options.mode === 'todo') continue;
        count++;
        if (r.note) notes.add(r.note);
      }
      if (count) skipped.push({ file: relative(process.cwd(), m.moduleId), count, notes });
    }
    // a run filtered by name (-t) skips everything else: no summary then
    if (process.argv.some((a) => a === '-t' || a.startsWith('--testNamePattern'))) return;
    this.lines = summaryLines(skipped);
  }
}
