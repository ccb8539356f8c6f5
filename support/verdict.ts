/**
 * A check's outcome. Every scenario ends in exactly one of these; `message` is what a person reads
 * in the console, HTML, JUnit and results.json.
 *
 * - passed:    the host satisfies the check (message says what was found)
 * - failed:    the host violates it (message: what was found, what was expected, and the fix)
 * - undecided: the host could not be asked (file unreadable, command/leaf not recorded, privilege)
 * - skipped:   the check does not apply (profile does not require the feature, layer absent)
 */
import { printable } from './report/printable.js';

export type Status = 'passed' | 'failed' | 'undecided' | 'skipped';

export interface Verdict {
  readonly status: Status;
  readonly message: string;
}

// Messages quote what a host or an input file said; printable() escapes its control bytes here,
// once, so that no console line, report or JUnit file gets them raw (report/printable.ts).

export function passed(message: string): Verdict {
  return { status: 'passed', message: printable(message) };
}

/** A failure always says what was found, what was expected, and how to fix it. */
export function failed(found: string, expected: string, fix: string): Verdict {
  return { status: 'failed', message: printable(`found ${found}; expected ${expected}; fix: ${fix}`) };
}

export function undecided(reason: string): Verdict {
  return { status: 'undecided', message: printable(`undecided: ${reason}`) };
}

export function skipped(reason: string): Verdict {
  return { status: 'skipped', message: printable(`skipped: ${reason}`) };
}

/** Worst first: used to fold several scenarios of one check id into one verdict. */
const RANK: Record<Status, number> = { failed: 3, undecided: 2, passed: 1, skipped: 0 };

export function worst(statuses: readonly Status[]): Status {
  let w: Status = 'skipped';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}
