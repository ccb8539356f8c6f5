/**
 * Waivers (docs/fleet.md "Waivers"): a failed check accepted on some hosts until a date. A waived
 * failure stays `failed` and carries `waived: {reason, expires}`; it does not count for the exit
 * code. A waiver whose date has passed is listed as expired and no longer applies; one that
 * matches no failed check is listed as stale. Pure: the date comes from the caller.
 */
import { InputError } from '../errors.js';
import { schemaCheck } from '../input/schema.js';
import { parseYaml } from './inventory.js';
import type { FleetHost, WaivedMark, Waiver, WaiverReport } from './types.js';
import { fnmatchRegExp } from '../parsers/fnmatch.js';

const KEYS = ['check', 'hosts', 'reason', 'expires'] as const;
const CHECK_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** YYYY-MM-DD that is a real calendar day (2026-02-30 is refused). */
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export function parseWaivers(text: string, file: string): Waiver[] {
  const doc = parseYaml(text, file);
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new InputError(file, 'must be a list of {check, hosts, reason, expires}');
  const problem = schemaCheck('waivers', doc);
  if (problem !== undefined) throw new InputError(file, problem);
  return doc.map((w, i) => {
    const where = `[${i}]`;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new InputError(file, `${where}: must be a mapping {check, hosts, reason, expires}`);
    const v = w as Record<string, unknown>;
    for (const k of Object.keys(v)) if (!(KEYS as readonly string[]).includes(k)) throw new InputError(file, `${where}.${k}: unknown key (allowed: ${KEYS.join(', ')})`);
    for (const k of ['check', 'reason', 'expires']) {
      if (v[k] === undefined || v[k] === null) throw new InputError(file, `${where}.${k}: missing (check, reason and expires are required)`);
      if (typeof v[k] !== 'string' || v[k] === '') throw new InputError(file, `${where}.${k}: must be a non-empty string`);
    }
    const check = v['check'] as string;
    if (!CHECK_ID.test(check)) throw new InputError(file, `${where}.check: "${check}" is not a check id (e.g. host.kvm-amd.sev)`);
    const expires = v['expires'] as string;
    if (!isDate(expires)) throw new InputError(file, `${where}.expires: "${expires}" is not a date YYYY-MM-DD`);
    const hosts = v['hosts'];
    if (hosts !== undefined && (typeof hosts !== 'string' || hosts === '')) throw new InputError(file, `${where}.hosts: must be a glob on host names, e.g. "epyc-a*"`);
    if (typeof hosts === 'string') {
      try {
        globRegExp(hosts);
      } catch (e) {
        throw new InputError(file, `${where}.hosts: ${(e as Error).message}`);
      }
    }
    return { check, ...(hosts !== undefined ? { hosts } : {}), reason: v['reason'] as string, expires };
  });
}

/**
 * Shell-style glob as a RegExp: POSIX fnmatch() without FNM_PATHNAME / FNM_PERIOD (The Open
 * Group Base Specifications Issue 7, XCU 2.13.1 "Patterns Matching a Single Character": `*`, `?`,
 * `[abc]`, `[a-z]`, `[!a-z]`; host names have no `/`).
 */
export function globRegExp(glob: string): RegExp {
  // a backslash is an ordinary character here, as it always was; an unclosed [ or a reversed range is an input error
  return fnmatchRegExp(glob, { noescape: true, strict: true });
}

/** How far ahead a waiver counts as expiring (index.html's headline, fleet.json `waivers.expiring`). */
export const EXPIRING_DAYS = 14;

/** `day` (YYYY-MM-DD) plus `n` days, YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** When a waiver stops applying: the end of its `expires` day (inclusive), UTC, seconds since the epoch. */
export const expiryTimestamp = (expires: string): number => Date.parse(`${expires}T00:00:00Z`) / 1000 + 86_400;

/** The live waivers (not expired on `today`) whose host glob matches `host`: what a host's own reports carry in a fleet. */
export function waiversFor(host: string, waivers: readonly Waiver[], today: string): Waiver[] {
  return waivers.filter((w) => w.expires >= today && globRegExp(w.hosts ?? '*').test(host));
}

/** One host's checks with the first matching live waiver attached to each failed one. */
export function waiveChecks<C extends { id: string; status: string }>(host: string, checks: readonly C[], waivers: readonly Waiver[], today: string, used?: Set<Waiver>): Array<C & { waived?: WaivedMark }> {
  const live = waiversFor(host, waivers, today);
  return checks.map((c) => {
    if (c.status !== 'failed') return c;
    const w = live.find((l) => l.check === c.id);
    if (!w) return c;
    used?.add(w);
    return { ...c, waived: { reason: w.reason, expires: w.expires } };
  });
}

/**
 * Attach waivers to failed checks. `today` is YYYY-MM-DD (UTC); a waiver applies through its
 * `expires` day inclusive.
 */
export function applyWaivers(hosts: readonly FleetHost[], waivers: readonly Waiver[], today: string): { hosts: FleetHost[]; report: WaiverReport } {
  const expired = waivers.filter((w) => w.expires < today);
  const live = waivers.filter((w) => w.expires >= today);
  const used = new Set<Waiver>();
  const out = hosts.map((h) => ({ ...h, checks: waiveChecks(h.name, h.checks, live, today, used) }));
  const soon = addDays(today, EXPIRING_DAYS);
  return {
    hosts: out,
    report: {
      active: live.filter((w) => used.has(w)),
      expiring: live.filter((w) => w.expires <= soon),
      expired,
      stale: live.filter((w) => !used.has(w)),
    },
  };
}

/** A failed check that counts for the exit code: not waived. */
export const counts = (c: { status: string; waived?: unknown }): boolean => c.status === 'failed' && !c.waived;
