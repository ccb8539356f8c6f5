/**
 * Where the site file is (docs/site-policy.md), apart from reading it (config.ts): the command line
 * resolves this for every run, and a run without a site file then never loads the YAML parser
 * and the schema validator the file needs (start-up cost, issue 23).
 */
import { existsSync } from 'node:fs';

export const DEFAULT_CONFIG = '/etc/sevcheck/sevcheck.yaml';

/**
 * Which site file a run reads: `--config FILE`, none with `--no-config` (false), else the default
 * when it exists.
 */
export function configPath(given: string | false | undefined, fallback = DEFAULT_CONFIG): string | undefined {
  if (given === false) return undefined;
  if (given !== undefined) return given;
  return existsSync(fallback) ? fallback : undefined;
}
