import { HarnessError } from './host/types.js';

/**
 * Input that cannot be understood (malformed XML/JSON, truncated binary, corrupt certificate,
 * garbage QMP). Pure parsers throw this with `source` naming the file or stream and `problem`
 * naming the field; the CLI prints `sevcheck: <source>: <problem>` and exits 2.
 */
export class InputError extends HarnessError {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = 'InputError';
  }
}
