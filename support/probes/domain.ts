import type { Host } from '../host/types.js';

/**
 * domain layer facts, read through the run's cached Host. Built once per run by run-context.ts;
 * each method memoizes its fact (see HostProbe for the pattern).
 */
export class DomainProbe {
  constructor(readonly host: Host) {}
}
