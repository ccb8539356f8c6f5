/**
 * A check's outcome. Every scenario ends in exactly one of these; `message` is what a person reads
 * in the console, HTML, JUnit and results.json.
 *
 * - passed:    the host satisfies the check (message says what was found)
 * - failed:    the host violates it (message: what was found, what was expected, and the fix)
 * - undecided: the host could not be asked (file unreadable, command/leaf not recorded, privilege)
 * - skipped:   the check does not apply (profile does not require the feature, layer absent)
 *
 * The parts a message is made of are kept as fields beside it (`found`, `expected`, `fix` of a
 * failure; `reason` of an undecided or skipped check), so that every report reads them instead of
 * splitting `message` (docs/results.md).
 */
import { printable } from './report/printable.js';

export type Status = 'passed' | 'failed' | 'undecided' | 'skipped';

export interface PassedVerdict {
  readonly status: 'passed';
  readonly message: string;
}

export interface FailedVerdict {
  readonly status: 'failed';
  /** `found <found>; expected <expected>; fix: <fix>` */
  readonly message: string;
  /** what the host has, with its source (file:line, command, register) */
  readonly found: string;
  readonly expected: string;
  /** a command or config line a person can paste */
  readonly fix: string;
  /**
   * the check that owns this defect, when the failure is one that check already reports with its
   * fix (a linter's finding per input defect: "because domain.policy.valid"); `fix` then only
   * points there (failedBecause)
   */
  readonly because?: string;
}

export interface UndecidedVerdict {
  readonly status: 'undecided';
  /** `undecided: <reason>` */
  readonly message: string;
  readonly reason: string;
  /** the check whose failure leaves this one nothing to judge (undecidedBecause) */
  readonly because?: string;
}

export interface SkippedVerdict {
  readonly status: 'skipped';
  /** `skipped: <reason>` */
  readonly message: string;
  readonly reason: string;
}

export type Verdict = PassedVerdict | FailedVerdict | UndecidedVerdict | SkippedVerdict;

// Messages quote what a host or an input file said; printable() escapes its control bytes here,
// once, so that no console line, report or JUnit file gets them raw (report/printable.ts). The
// fields get the same escaping: each is exactly its part of the message.

export function passed(message: string): PassedVerdict {
  return { status: 'passed', message: printable(message) };
}

/** A failure always says what was found, what was expected, and how to fix it. */
export function failed(found: string, expected: string, fix: string): FailedVerdict {
  const [f, e, x] = [printable(found), printable(expected), printable(fix)];
  return { status: 'failed', message: `found ${f}; expected ${e}; fix: ${x}`, found: f, expected: e, fix: x };
}

/**
 * A failure whose defect another check owns (one finding per input defect): what this check sees
 * of it, and no second fix — the fix is the owner's. Message: `because <owner>: found ...; expected ...`.
 */
export function failedBecause(owner: string, found: string, expected: string): FailedVerdict {
  const [f, e] = [printable(found), printable(expected)];
  return { status: 'failed', message: `because ${owner}: found ${f}; expected ${e}`, found: f, expected: e, fix: ownersFix(owner), because: owner };
}

/**
 * Whether a failure's `fix` is only the pointer to its owner's fix (failedBecause: "the fix under
 * <owner>"): a report shows no fix of its own for it (the owner's is shown once, above it).
 */
export function pointsToOwnersFix(c: { readonly fix?: string | undefined; readonly because?: readonly string[] | undefined }): boolean {
  return c.fix !== undefined && (c.because ?? []).some((o) => c.fix === ownersFix(o));
}

/** A follower's `fix`: the pointer to its owner's (failedBecause) */
function ownersFix(owner: string): string {
  return `the fix under ${owner}`;
}

/** A check left nothing to judge by a defect another check owns (its reason names that check). */
export function undecidedBecause(owner: string, reason: string): UndecidedVerdict {
  const r = printable(reason);
  return { status: 'undecided', message: `undecided: because ${owner}: ${r}`, reason: `because ${owner}: ${r}`, because: owner };
}

export function undecided(reason: string): UndecidedVerdict {
  const r = printable(reason);
  return { status: 'undecided', message: `undecided: ${r}`, reason: r };
}

export function skipped(reason: string): SkippedVerdict {
  const r = printable(reason);
  return { status: 'skipped', message: `skipped: ${r}`, reason: r };
}

/** Worst first: used to fold several scenarios of one check id into one verdict. */
const RANK: Record<Status, number> = { failed: 3, undecided: 2, passed: 1, skipped: 0 };

export function worst(statuses: readonly Status[]): Status {
  let w: Status = 'skipped';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}
