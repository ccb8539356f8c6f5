import { HarnessError, type RunResult } from './types.js';

interface ExecaLike {
  exitCode?: number | undefined;
  stdout?: unknown;
  stderr?: unknown;
  timedOut?: boolean;
  code?: string | undefined;
  originalMessage?: string | undefined;
  failed?: boolean;
}

/**
 * A command that ran past its timeout. Still a HarnessError (the run ends) unless a probe decides
 * otherwise: the platform tools and kernel log sources of probes/host-firmware.ts treat a hanging
 * command as a fact source that gave no answer (their facts undecided), not a broken harness.
 */
export class CommandTimedOut extends HarnessError {
  constructor(message: string) {
    super(message);
    this.name = 'CommandTimedOut';
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '');

/**
 * One shape for every backend: a missing program is exit 127 with "<argv0>: command not found"
 * (as a shell would say), a timeout is a harness error that names the host and the command.
 */
export function runResultFromExeca(target: string, argv: readonly string[], r: ExecaLike, timeoutMs: number): RunResult {
  if (r.timedOut) {
    throw new CommandTimedOut(`${target}: command timed out after ${timeoutMs / 1000} s: ${argv.join(' ')}`);
  }
  if (r.code === 'ENOENT' || (r.exitCode === undefined && /ENOENT/.test(r.originalMessage ?? ''))) {
    return { argv: [...argv], exitCode: 127, stdout: '', stderr: `${argv[0]}: command not found\n` };
  }
  if (r.exitCode === undefined) {
    throw new HarnessError(`${target}: could not run ${argv.join(' ')}: ${r.originalMessage ?? 'unknown error'}`);
  }
  return { argv: [...argv], exitCode: r.exitCode, stdout: text(r.stdout), stderr: text(r.stderr) };
}
