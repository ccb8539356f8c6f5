import type { Host } from '../host/types.js';

/**
 * launch layer facts, read through the run's cached Host. Built once per run by run-context.ts;
 * each method memoizes its fact (see HostProbe for the pattern).
 */
export class LaunchProbe {
  constructor(readonly host: Host) {}
}
