/**
 * `sevcheck run --host rootfs:DIR --profile P --format json` as a user runs it (the real CLI,
 * the rootfs backend), with the verdict per check id (the worst of its scenarios).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, byId, sevcheck, type JsonResults } from '../helpers.js';
import type { Profile } from '../../support/profile.js';

export interface RootfsRun {
  readonly code: number;
  readonly stderr: string;
  readonly byId: Record<string, string>;
  readonly results: JsonResults | undefined;
}

export async function runRootfs(dir: string, profile: Profile, tags?: string): Promise<RootfsRun> {
  const out = mkdtempSync(join(tmpdir(), 'sevcheck-distro-'));
  const r = await sevcheck(['run', '--host', `rootfs:${dir}`, '--profile', profile, ...(tags ? ['--tags', tags] : []), '--format', 'json', '--out', out], {}, 170_000);
  let results: JsonResults | undefined;
  try {
    results = JSON.parse(r.stdout) as JsonResults;
  } catch {
    results = undefined;
  }
  return { code: r.code, stderr: r.stderr, byId: results ? byId(results) : {}, results };
}

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

/** The one expected verdict per check id on a real image (profile sev-snp): fixtures/rootfs-expected/<name>.json. */
export const expectedFor = (name: string): Record<string, string> =>
  JSON.parse(readFileSync(join(ROOT, 'fixtures/rootfs-expected', `${name}.json`), 'utf8')) as Record<string, string>;
