/**
 * `sevcheck run --host rootfs:DIR --profile P --format json` as a user runs it (the real CLI,
 * the rootfs backend), with the verdict per check id (the worst of its scenarios).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
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

export { rootfsImage } from './rootfs-cache.js';

/** The one expected verdict per check id on a real image (profile sev-snp): fixtures/rootfs-expected/<name>.json. */
export const expectedFor = (name: string): Record<string, string> =>
  JSON.parse(readFileSync(join(ROOT, 'fixtures/rootfs-expected', `${name}.json`), 'utf8')) as Record<string, string>;
