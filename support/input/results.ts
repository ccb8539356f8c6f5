/**
 * A results.json made elsewhere (`sevcheck fleet --from-results`): validated against its schema
 * (schema.ts RESULTS_SCHEMA, docs/results.md) and rebuilt from the fields sevcheck knows, so
 * nothing else in the file reaches a report. In particular a check's `waived` is dropped: waivers
 * come only from --waivers (issue 19: a results.json that waived its own failure turned the fleet
 * green).
 */
import type { CheckResult, HostInfo, Results } from '../report/results.js';
import { schemaCheck } from './schema.js';

const CHECK_FIELDS = ['found', 'expected', 'fix', 'reason'] as const;
const HOST_INFO_FIELDS = ['distro', 'kernel', 'cpuModel', 'sevGeneration'] as const;

export interface IngestedResults {
  readonly results: Results;
  /** fields in the file that were not taken from it (e.g. `checks[2].waived`) */
  readonly ignored: readonly string[];
}

/** Validate a parsed results.json and keep only its known fields. Throws Error("field: problem"). */
export function resultsFromJson(doc: unknown): IngestedResults {
  const problem = schemaCheck('results', doc);
  if (problem !== undefined) throw new Error(problem);
  const r = doc as Record<string, unknown> & { checks: Array<Record<string, unknown>> };
  const ignored: string[] = [];
  const checks: CheckResult[] = r.checks.map((c, i) => {
    if ('waived' in c) ignored.push(`checks[${i}].waived`);
    const out: Record<string, unknown> = { id: c['id'], status: c['status'], scenario: c['scenario'], feature: c['feature'], message: c['message'] };
    for (const k of CHECK_FIELDS) if (typeof c[k] === 'string') out[k] = c[k];
    return out as unknown as CheckResult;
  });
  let hostInfo: HostInfo | undefined;
  if (r['hostInfo'] && typeof r['hostInfo'] === 'object') {
    const h = r['hostInfo'] as Record<string, unknown>;
    const info: Record<string, string> = {};
    for (const k of HOST_INFO_FIELDS) if (typeof h[k] === 'string') info[k] = h[k];
    if (Object.keys(info).length) hostInfo = info as HostInfo;
  }
  const results: Results = {
    host: r['host'] as string,
    target: r['target'] as string,
    profile: r['profile'] as string,
    ...(hostInfo ? { hostInfo } : {}),
    startedAt: r['startedAt'] as string,
    durationMs: r['durationMs'] as number,
    checks,
  };
  return { results, ignored };
}
