/**
 * scripts/ci-rootfs.sh's cache, with a stand-in mmdebstrap on PATH (the real build is .ci/run's):
 * a build lands under a name keyed by the package list and is reused, a failed build leaves no
 * cache entry, a complete hand-built SUITE.tmp is adopted and an incomplete one is not.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const PACKAGES = ['qemu-system-x86', 'ovmf', 'libvirt-daemon-system', 'libvirt-clients', 'linux-image-amd64', 'selinux-policy-default', 'setools', 'udev'];

function hasDpkgQuery(): boolean {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A root file system the way mmdebstrap leaves it, as far as the script looks: os-release and the dpkg database. */
function fakeImage(dir: string, suite: string, packages: readonly string[]): void {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(dir, 'etc/os-release'), `PRETTY_NAME="Debian"\nVERSION_CODENAME=${suite}\n`);
  writeFileSync(
    join(dir, 'var/lib/dpkg/status'),
    packages.map((p) => `Package: ${p}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n`).join('\n'),
  );
}

/** A stand-in mmdebstrap: records its argv, then builds a fake image (or fails with FAIL=1). */
function fakeMmdebstrap(bin: string, log: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'mmdebstrap'),
    `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
[ "$FAIL" = 1 ] && exit 1
# argv: ... SUITE TARGET MIRROR
suite=$(echo "$*" | awk '{print $(NF-2)}'); target=$(echo "$*" | awk '{print $(NF-1)}')
mkdir -p "$target/etc" "$target/var/lib/dpkg"
printf 'VERSION_CODENAME=%s\\n' "$suite" > "$target/etc/os-release"
# every package of --include installed (the list differs per suite: testing/unstable add ovmf-amdsev)
for a in "$@"; do case "$a" in --include=*) echo "\${a#--include=}" | tr , '\\n' | while read -r p; do printf 'Package: %s\\nStatus: install ok installed\\nVersion: 1.0\\nArchitecture: amd64\\n\\n' "$p"; done ;; esac; done > "$target/var/lib/dpkg/status"
`,
  );
  chmodSync(join(bin, 'mmdebstrap'), 0o755);
}

function script(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(join(ROOT, 'scripts/ci-rootfs.sh'), args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('scripts/ci-rootfs.sh cache', () => {
  it('builds once under a key of the package list, reuses it, adopts only a complete SUITE.tmp, keeps nothing of a failed build', async (ctx) => {
    if (!hasDpkgQuery()) return ctx.skip('dpkg-query is not installed (the script reads the image\'s dpkg database with it)');
    const work = mkdtempSync(join(tmpdir(), 'sevcheck-ci-rootfs-'));
    const cache = join(work, 'cache');
    const bin = join(work, 'bin');
    const log = join(work, 'mmdebstrap.log');
    fakeMmdebstrap(bin, log);
    const env = { SEVCHECK_ROOTFS_CACHE: cache, PATH: `${bin}:${process.env.PATH ?? ''}` };

    const first = await script(['bookworm'], env);
    expect(first.code, first.stderr).toBe(0);
    const path = first.stdout.trim();
    expect(path).toMatch(new RegExp(`^${cache}/bookworm-[0-9a-f]{12}$`));
    expect(existsSync(join(path, 'etc/os-release'))).toBe(true);
    const argv = readFileSync(log, 'utf8').trim();
    expect(argv).toContain('--variant=apt');
    expect(argv).toContain(`--include=${[...PACKAGES].sort().join(',')}`);
    expect(argv).toMatch(/ bookworm \S+\.tmp http:\/\/deb\.debian\.org\/debian$/);

    const again = await script(['bookworm'], env);
    expect(again).toMatchObject({ code: 0, stdout: `${path}\n` });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1); // not built again

    // a complete hand-built trixie.tmp is adopted; an incomplete one is rebuilt instead
    fakeImage(join(cache, 'trixie.tmp'), 'trixie', PACKAGES);
    const adopted = await script(['trixie'], env);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stderr).toContain('adopting');
    expect(existsSync(join(cache, 'trixie.tmp'))).toBe(false);
    fakeImage(join(cache, 'sid.tmp'), 'sid', PACKAGES.slice(1));
    const rebuilt = await script(['sid'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).not.toContain('adopting');
    expect(existsSync(join(cache, 'sid.tmp'))).toBe(true);

    const failed = await script(['forky'], { ...env, FAIL: '1' });
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toBe('');
    expect(readdirSync(cache).filter((n) => n.startsWith('forky-') && !n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('refuses a suite name that is not a plain word', async () => {
    const r = await script(['../etc'], { SEVCHECK_ROOTFS_CACHE: mkdtempSync(join(tmpdir(), 'sevcheck-ci-rootfs-')) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad suite name/);
  });
});
