import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
/** The upstream test vectors, in the repository (test/vectors/SOURCES: origin, commit, licence). */
export const VECTORS = resolve(ROOT, 'test/vectors');

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

/** A fixture host directory in a fresh temp dir (`prefix`-XXXXXX): host.json {"name":"t"} plus `files` (path relative to the fixture → contents). */
export function fixtureDir(prefix: string, files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  for (const [rel, text] of Object.entries({ 'host.json': '{"name":"t"}', ...files })) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** The house rule for bad input: exit 2, exactly one line on stderr naming what is wrong (`re`), no stack trace. */
export function oneLine(r: { code: number; stderr: string }, re: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^sevcheck: /);
  expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+\)?$/m);
}

/**
 * A PATH like this machine's without `names` (every program of /usr/bin and /usr/sbin linked from
 * a directory of its own, those left out): e.g. a host whose coreutils lack base64, where the ssh
 * backend's BATCH_SCRIPT encodes with od.
 */
export function pathWithout(...names: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'sevcheck-path-'));
  for (const d of ['/usr/bin', '/usr/sbin']) {
    for (const n of readdirSync(d)) if (!names.includes(n) && !existsSync(join(bin, n))) symlinkSync(join(d, n), join(bin, n));
  }
  return bin;
}
