/**
 * What `sevcheck fleet` writes and reads (issue 10): fleet.json's shape. Other tools read this
 * file, so the field names are a contract (docs/fleet.md). Each host's `checks` are exactly what
 * `sevcheck run --format json` gives for that host alone (results.json's checks).
 */
import type { CheckResult, HostInfo } from '../report/results.js';

/** One waiver (waivers YAML): a failed check accepted until `expires` (YYYY-MM-DD, UTC, inclusive). */
export interface Waiver {
  readonly check: string;
  /** glob on host names (`*`, `?`, `[...]`); absent = every host */
  readonly hosts?: string | undefined;
  readonly reason: string;
  readonly expires: string;
}

/** What a waived failure carries: it stays `failed`, and does not count for the exit code. */
export interface WaivedMark {
  readonly reason: string;
  readonly expires: string;
}

/** A host's check in fleet.json: run's CheckResult plus the waiver that accepted it, if any. */
export type FleetCheck = CheckResult & { readonly waived?: WaivedMark | undefined };

export interface FleetHost {
  readonly name: string;
  /** the --host value it ran against (local, ssh://…, fixture:DIR, rootfs:DIR, image:FILE) */
  readonly target: string;
  readonly profile: string;
  readonly tags: readonly string[];
  /** what `sevcheck run` would have exited with for this host alone (0/1/2) */
  readonly exitCode: 0 | 1 | 2;
  /** why the host could not be checked (unreachable, timeout, corrupt results.json): its cells show `error` */
  readonly error?: string | undefined;
  readonly hostInfo?: HostInfo | undefined;
  readonly durationMs?: number | undefined;
  readonly checks: readonly FleetCheck[];
}

/** Check ids per host name. */
export type PerHost = Readonly<Record<string, readonly string[]>>;

/** `--compare PREV`: what changed since the previous fleet.json. */
export interface FleetChanges {
  /** the run compared with (its directory and startedAt) */
  readonly against: { readonly dir: string; readonly startedAt: string };
  readonly new: PerHost;
  /** failing (unwaived) in PREV, not failed now */
  readonly fixed: PerHost;
  /** waived now and not waived in PREV (a failure waived tonight is here, not in `fixed`) */
  readonly waived: PerHost;
  readonly stillFailing: PerHost;
  readonly newHosts: readonly string[];
  readonly missingHosts: readonly string[];
}

export interface WaiverReport {
  /** live waivers (not expired) that accepted at least one failure */
  readonly active: readonly Waiver[];
  /** live waivers, applied or not, whose `expires` is within EXPIRING_DAYS days of the run */
  readonly expiring: readonly Waiver[];
  /** waivers whose date has passed: they no longer apply */
  readonly expired: readonly Waiver[];
  /** waivers that matched no failed check on any host */
  readonly stale: readonly Waiver[];
}

export interface FleetResults {
  /** ISO 8601 UTC */
  readonly startedAt: string;
  readonly durationMs: number;
  /** false when the run was interrupted (SIGINT/SIGTERM): only the hosts that finished are here */
  readonly complete: boolean;
  readonly hosts: readonly FleetHost[];
  readonly changes?: FleetChanges | undefined;
  readonly waivers?: WaiverReport | undefined;
  /** `--history DIR`: per host, the totals of the kept runs before this one, oldest first */
  readonly history?: Readonly<Record<string, readonly HistoryPoint[]>> | undefined;
  /**
   * When each failed (or waived) check id of a host was first seen failing, as the startedAt of
   * that run: carried over from the previous run (`--compare` / `--history`) while it keeps failing
   */
  readonly firstSeen?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
  /** the sevcheck version that wrote it */
  readonly version?: string | undefined;
}

/** One earlier run of a host in `history`: its totals by check id (the same numbers as its pages). */
export interface HistoryPoint {
  readonly startedAt: string;
  /** unwaived failed check ids */
  readonly failed: number;
  readonly undecided: number;
  readonly waived: number;
  /** the host could not be checked in that run */
  readonly error?: true | undefined;
}

/** What the fleet adds to a host's own report set (hosts/<name>/): the link back and its waivers. */
export interface HostInFleet {
  /** the fleet page, relative to the host's report set, at the host's row */
  readonly page: string;
  /** when the fleet run started */
  readonly startedAt: string;
  /** the waivers that apply to this host (live, its name matches), whether or not a check failed */
  readonly waivers: readonly Waiver[];
}
