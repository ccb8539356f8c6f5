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
  /** the --host value it ran against (local, ssh://…, fixture:DIR, rootfs:DIR) */
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
  readonly fixed: PerHost;
  readonly stillFailing: PerHost;
  readonly newHosts: readonly string[];
  readonly missingHosts: readonly string[];
}

export interface WaiverReport {
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
}
