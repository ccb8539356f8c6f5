/**
 * Facts a rule asks for only when it needs them. A rule gathers its facts in order and stops as
 * soon as they decide the verdict, so the absence of a fact the verdict does not depend on never
 * turns a decided check undecided (issue 13 §1). Steps bind each Fact to a probe method; the probes
 * memoize, so asking twice reads once.
 */
import { HostError } from './host/types.js';

/** A fact read on demand. */
export type Fact<T> = () => Promise<T>;

/** A fact already at hand (tests, or a value computed earlier in the same rule). */
export const known =
  <T>(value: T): Fact<T> =>
  () =>
    Promise.resolve(value);

/**
 * A fact that is context for a rule (it sharpens a message or a fix): when the host cannot give
 * it (a HostError: not recorded, permission denied, no such device) the rule does without it.
 * Anything else — a HarnessError (timeout, broken fixture: the run ends, world.ts) or a defect —
 * propagates, and so does NOT_RUNNING (a root file system target: the check is skipped, world.ts).
 */
export async function optional<T>(fact: Fact<T> | Promise<T>): Promise<T | undefined> {
  try {
    return await (typeof fact === 'function' ? fact() : fact);
  } catch (e) {
    if (e instanceof HostError && e.code !== 'NOT_RUNNING') return undefined;
    throw e;
  }
}

/** A fact, or why the host could not give it (a HostError's message); other errors propagate. */
export async function attempt<T>(fact: Fact<T>): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }> {
  try {
    return { ok: true, value: await fact() };
  } catch (e) {
    if (e instanceof HostError && e.code !== 'NOT_RUNNING') return { ok: false, reason: e.message };
    throw e;
  }
}
