import { HarnessError } from './host/types.js';

/**
 * What a host is expected to support. Profiles are cumulative: an SNP host is expected to run
 * SEV-ES and SEV guests too. A scenario tagged for a higher profile than the run's is skipped
 * (docs/checks.md: "a check for a feature the profile does not require is skipped").
 */
export type Profile = 'sev' | 'sev-es' | 'sev-snp';
export const PROFILES: readonly Profile[] = ['sev', 'sev-es', 'sev-snp'];

const RANK: Record<Profile, number> = { sev: 1, 'sev-es': 2, 'sev-snp': 3 };

export function parseProfile(s: string, where = '--profile'): Profile {
  if ((PROFILES as readonly string[]).includes(s)) return s as Profile;
  throw new HarnessError(`${where}: unknown profile "${s}"; use sev, sev-es or sev-snp`);
}

/** The profile a scenario needs, from its tags (@sev, @sev-es, @sev-snp); undefined = any. */
export function requiredProfile(tags: readonly string[]): Profile | undefined {
  let best: Profile | undefined;
  for (const t of tags) {
    const p = t.replace(/^@/, '');
    if ((PROFILES as readonly string[]).includes(p) && (best === undefined || RANK[p as Profile] > RANK[best])) best = p as Profile;
  }
  return best;
}

export function covers(run: Profile, needed: Profile | undefined): boolean {
  return needed === undefined || RANK[run] >= RANK[needed];
}
