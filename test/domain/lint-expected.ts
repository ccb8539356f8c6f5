/**
 * How the lint fixtures' expected.json state a verdict: "failed", or "failed because X" / "undecided
 * because X" when check X owns the defect this check also sees (support/verdict.ts failedBecause:
 * one finding per input defect). Keys starting with "$" are not checks.
 */
import type { Verdict } from '../../support/verdict.js';

export function statusWord(v: Verdict | undefined): string | undefined {
  if (!v) return undefined;
  const because = v.status === 'failed' || v.status === 'undecided' ? v.because : undefined;
  return because === undefined ? v.status : `${v.status} because ${because}`;
}

/** The check entries of one file's expectations (not $defects, $input-error, policy ...). */
export function checkEntries(e: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(e).filter((x): x is [string, string] => x[0].startsWith('domain.') && typeof x[1] === 'string');
}
