/**
 * The rootfs target on real Debian root file systems (issue 11): `sevcheck run --host rootfs:DIR`
 * gives exactly fixtures/rootfs-expected/<image>.json for every check of the layers that judge a
 * running host (the distro.* verdicts in that file are asserted by test/distro/images.test.ts), everything that needs a running system is skipped "not a running
 * system", and a recording of the run replays to the same verdicts.
 *
 * The images come from scripts/ci-rootfs.sh (mmdebstrap; .ci/run builds or reuses them and exports
 * SEVCHECK_ROOTFS_DEBIAN12 / SEVCHECK_ROOTFS_DEBIAN13). Without them these tests skip with that
 * reason, unless SEVCHECK_REQUIRE_ROOTFS=1 (set by .ci/run), where their absence fails.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byId, sevcheck, type JsonResults } from '../helpers.js';
import { expectedFor, rootfsImage } from '../distro/run-rootfs.js';

const IMAGES = [
  { name: 'debian12', env: 'SEVCHECK_ROOTFS_DEBIAN12', codename: 'bookworm' },
  { name: 'debian13', env: 'SEVCHECK_ROOTFS_DEBIAN13', codename: 'trixie' },
] as const;

const required = process.env.SEVCHECK_REQUIRE_ROOTFS === '1';

/** The image directory, or the reason there is none. */
function image(env: string, codename: string): { dir: string } | { why: string } {
  const dir = rootfsImage(env, codename);
  if (!dir) return { why: `${env} is not set and scripts/ci-rootfs.sh's cache has no ${codename} image (.ci/run builds it and sets ${env})` };
  if (!existsSync(join(dir, 'etc/os-release'))) return { why: `${env}=${dir} is not a root file system` };
  return { dir };
}

/** Why a check is skipped on a root file system without SEV guests, a launch bundle or a profile asking for it. */
const SKIP_REASONS = [
  /^not a running system: /,
  /^profile sev(-es)? does not require /,
  /^no launch bundle: /,
  /^no SEV guest defined on the host: no domain definitions in \/etc\/libvirt\/qemu\/\*\.xml$/,
  /^QEMU is started by libvirt here \(qemu\.conf present\)/,
  // issue 22: the LSM the image boots with is judged, the other skipped (Debian boots AppArmor)
  /^SELinux is not the LSM this image boots with, so its policy confines nothing: .* boots AppArmor: \/boot\/config-/,
];

async function runOn(dir: string, out: string, extra: string[] = []): Promise<JsonResults> {
  const r = await sevcheck(['run', '--host', `rootfs:${dir}`, '--profile', 'sev-snp', '--format', 'json', '--out', out, ...extra]);
  expect(r.stderr).toBe('');
  const results = JSON.parse(r.stdout) as JsonResults;
  expect(r.code).toBe(results.checks.some((c) => c.status === 'failed') ? 1 : 0);
  return results;
}

describe.each(IMAGES)('rootfs target on $name', ({ name, env, codename }) => {
  const img = image(env, codename);
  const skip = 'why' in img ? img.why : undefined;
  if (skip && required) {
    it('the image is there (SEVCHECK_REQUIRE_ROOTFS=1)', () => {
      throw new Error(`SEVCHECK_REQUIRE_ROOTFS=1: ${skip}`);
    });
    return;
  }

  it('gives exactly the expected verdicts, every skip for a stated reason', async (ctx) => {
    if (!('dir' in img)) return ctx.skip(skip);
    expect(readFileSync(join(img.dir, 'etc/os-release'), 'utf8')).toContain(`VERSION_CODENAME=${codename}`);
    const expected = Object.fromEntries(Object.entries(expectedFor(name)).filter(([id]) => !id.startsWith('distro.')));
    const results = await runOn(img.dir, mkdtempSync(join(tmpdir(), `sevcheck-rootfs-${name}-`)));
    const own = Object.fromEntries(Object.entries(byId(results)).filter(([id]) => !id.startsWith('distro.')));
    expect(own).toEqual(expected);
    for (const c of results.checks) {
      if (c.status === 'skipped') expect(SKIP_REASONS.some((re) => re.test(c.reason ?? '')), `${c.id}: ${c.reason}`).toBe(true);
      // a root file system never makes a check undecided for lack of a running system
      if (c.status === 'undecided') expect(c.reason, c.id).not.toMatch(/connect|socket|\/proc|\/sys|\/dev\//);
    }
    // what only a running system answers is skipped, never passed/failed/undecided
    for (const id of ['host.cpuid.sev', 'host.kvm-amd.sev', 'caps.qmp.sev-capabilities', 'caps.domcaps.sev-supported', 'device.sev.exists', 'selinux.sev-label']) {
      const c = results.checks.find((x) => x.id === id);
      expect(c?.status, id).toBe('skipped');
      expect(c?.reason, id).toMatch(/^not a running system: /);
    }
  }, 120_000);

  it('record --host rootfs:DIR writes a fixture whose replay gives the same verdicts', async (ctx) => {
    if (!('dir' in img)) return ctx.skip(skip);
    const work = mkdtempSync(join(tmpdir(), `sevcheck-rootfs-rec-${name}-`));
    const fixture = join(work, 'fixture');
    const rec = await sevcheck(['record', '--host', `rootfs:${img.dir}`, '--profile', 'sev-snp', '--out', fixture, '--reports', join(work, 'rec-reports')]);
    expect(rec.code, rec.stderr).toBe(0);
    const live = JSON.parse(readFileSync(join(work, 'rec-reports/results.json'), 'utf8')) as JsonResults;
    const errors = JSON.parse(readFileSync(join(fixture, 'errors.json'), 'utf8')) as Record<string, Record<string, { code: string }>>;
    expect(Object.keys(errors.qmp ?? {})).toContain('query-sev-capabilities');
    expect(Object.values(errors.run ?? {}).map((e) => e.code)).toContain('NOT_RUNNING');
    const host = JSON.parse(readFileSync(join(fixture, 'host.json'), 'utf8')) as { kernel?: string; distro?: string };
    expect(host.kernel).toMatch(/\(installed, not running\)$/);
    expect(host.distro).toMatch(new RegExp(`\\(${codename}\\)`));
    const replay = JSON.parse(
      (await sevcheck(['run', '--host', `fixture:${fixture}`, '--profile', 'sev-snp', '--format', 'json', '--out', join(work, 'replay')])).stdout,
    ) as JsonResults;
    expect(byId(replay)).toEqual(byId(live));
    const skippedNotRunning = (r: JsonResults) => r.checks.filter((c) => /^not a running system/.test(c.reason ?? '')).map((c) => `${c.id} ${c.scenario}`).sort();
    expect(skippedNotRunning(replay)).toEqual(skippedNotRunning(live));
  }, 180_000);
});
