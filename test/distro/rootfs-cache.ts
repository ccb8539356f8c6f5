/** Where the real Debian root file systems are (no vitest here: scripts/distro-matrix.ts uses it too). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** scripts/ci-rootfs.sh's cache: SUITE-<12 hex key> (newest first), then a hand-built SUITE.tmp */
function cached(suite: string): string[] {
  const cache = process.env.SEVCHECK_ROOTFS_CACHE ?? '/var/cache/sevcheck/rootfs';
  let names: string[];
  try {
    names = readdirSync(cache);
  } catch {
    return [];
  }
  const keyed = names.filter((n) => new RegExp(`^${suite}-[0-9a-f]{12}$`).test(n)).map((n) => join(cache, n));
  keyed.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return [...keyed, join(cache, `${suite}.tmp`)];
}

/**
 * A real Debian image: $ENV (set by .ci/run from scripts/ci-rootfs.sh), else that script's cache
 * when it holds the suite, else undefined (the caller skips, or fails under SEVCHECK_REQUIRE_ROOTFS=1).
 */
export function rootfsImage(env: string, suite: string): string | undefined {
  const fromEnv = process.env[env];
  if (fromEnv) return fromEnv;
  return cached(suite).find((d) => existsSync(join(d, 'usr')) && existsSync(join(d, 'etc/os-release')));
}

