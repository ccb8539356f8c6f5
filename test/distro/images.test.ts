/**
 * The distro layer (and the whole suite) on real Debian root file systems built with
 * `mmdebstrap --variant=apt` (qemu-system-x86, ovmf, libvirt-daemon-system, libvirt-clients,
 * linux-image-amd64, selinux-policy-default, setools, udev): every verdict asserted against
 * fixtures/rootfs-expected/debian12.json / debian13.json (profile sev-snp); docs/distro.md explains
 * each from what the image contains. The images are not in git: .ci/run builds them and exports
 * SEVCHECK_ROOTFS_DEBIAN12 / SEVCHECK_ROOTFS_DEBIAN13; without those, scripts/ci-rootfs.sh's
 * cache ($SEVCHECK_ROOTFS_CACHE, default /var/cache/sevcheck/rootfs) is used when it holds the
 * image; otherwise the test is skipped, visibly, and fails when SEVCHECK_REQUIRE_ROOTFS=1 (CI).
 */
import { describe, expect, it } from 'vitest';
import { expectedFor, rootfsImage, runRootfs } from './run-rootfs.js';
import { expectedDistroVerdicts, imageVersions } from './expected-from-versions.js';

const IMAGES = [
  { name: 'debian12', env: 'SEVCHECK_ROOTFS_DEBIAN12', suite: 'bookworm' },
  { name: 'debian13', env: 'SEVCHECK_ROOTFS_DEBIAN13', suite: 'trixie' },
] as const;

/** Debian testing and unstable: their contents move, so their expectations come from their own package versions */
const PRERELEASE = [
  { name: 'debian-testing', env: 'SEVCHECK_ROOTFS_DEBIAN_TESTING', suite: 'forky' },
  { name: 'debian-unstable', env: 'SEVCHECK_ROOTFS_DEBIAN_UNSTABLE', suite: 'sid' },
] as const;

const required = process.env.SEVCHECK_REQUIRE_ROOTFS === '1';

const imageDir = (img: (typeof IMAGES)[number]): string | undefined => rootfsImage(img.env, img.suite);


for (const img of IMAGES) {
  const dir = imageDir(img);
  describe(`${img.name} root file system${dir ? ` (${dir})` : ''}`, () => {
    if (!dir) {
      const why = `no ${img.name} image: set ${img.env} (scripts/ci-rootfs.sh ${img.suite} builds it; .ci/run sets it)`;
      if (required) it(`is required (SEVCHECK_REQUIRE_ROOTFS=1): ${why}`, () => expect.fail(why));
      else it.skip(`skipped: ${why}`, () => undefined);
      return;
    }
    const expected = expectedFor(img.name);
    it("the version-derived expectations agree with the recorded ones (the oracle used for testing and unstable)", () => {
      const distro = Object.fromEntries(Object.entries(expected).filter(([id]) => id.startsWith('distro.')));
      expect(expectedDistroVerdicts(imageVersions(dir))).toEqual(distro);
    });
    it('the distro layer gives every expected verdict', async () => {
      const distro = Object.fromEntries(Object.entries(expected).filter(([id]) => id.startsWith('distro.')));
      const r = await runRootfs(dir, 'sev-snp', '@layer:distro');
      expect(r.stderr).toBe('');
      expect(r.byId).toEqual(distro);
    }, 180_000);
    it('the whole suite gives every expected verdict', async () => {
      const r = await runRootfs(dir, 'sev-snp');
      expect(r.stderr).toBe('');
      expect(r.byId).toEqual(expected);
      expect(r.code).toBe(1);
    }, 180_000);
  });
}

for (const img of PRERELEASE) {
  const dir = rootfsImage(img.env, img.suite);
  describe(`${img.name} root file system${dir ? ` (${dir})` : ''}`, () => {
    if (!dir) {
      const why = `no ${img.name} image: set ${img.env} (scripts/ci-rootfs.sh ${img.suite} builds it; .ci/run sets it)`;
      if (required) it(`is required (SEVCHECK_REQUIRE_ROOTFS=1): ${why}`, () => expect.fail(why));
      else it.skip(`skipped: ${why}`, () => undefined);
      return;
    }
    it("the distro layer gives the verdicts the image's own package versions call for", async () => {
      const versions = imageVersions(dir);
      const r = await runRootfs(dir, 'sev-snp', '@layer:distro');
      expect(r.stderr).toBe('');
      expect({ versions, verdicts: r.byId }).toEqual({ versions, verdicts: expectedDistroVerdicts(versions) });
    }, 180_000);
  });
}
