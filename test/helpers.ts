import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const SHARED = resolve(ROOT, '../shared');

/** The first executable `name` on PATH (as a shell finds it), or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real CLI as a user would (node bin/sevcheck.js ...). */
export function sevcheck(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve(ROOT, 'bin/sevcheck.js'), ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? -1 : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export interface JsonResults {
  host: string;
  profile: string;
  checks: Array<{ id: string; status: string; scenario: string; feature: string; message: string; found?: string; expected?: string; fix?: string; reason?: string }>;
}

const RANK: Record<string, number> = { failed: 3, undecided: 2, passed: 1, skipped: 0 };

export function byId(r: JsonResults): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of r.checks) {
    const prev = out[c.id];
    if (prev === undefined || (RANK[c.status] ?? 0) > (RANK[prev] ?? 0)) out[c.id] = c.status;
  }
  return out;
}
