/**
 * Debian's headless Chromium for the tests that look at generated pages (report.html, the fleet's
 * index.html): found on PATH, skipped when absent unless SEVCHECK_REQUIRE_CHROMIUM=1 (.ci/run).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './helpers.js';

export const CHROMIUM = which('chromium') ?? which('chromium-browser');
/** skip the Chromium tests: no chromium, and CI did not require it */
export const skipChromium = CHROMIUM === undefined && process.env.SEVCHECK_REQUIRE_CHROMIUM !== '1';

export const WIDTH = 1400;
export const HEIGHT = 900;

/**
 * One headless Chromium run: an argv array with a timeout, its own throwaway profile under `work`,
 * no network (no background networking, component updates, sync or QUIC). Resolves to stdout.
 */
export function headlessChromium(work: string, args: string[], opts: { timeoutMs: number; maxBuffer: number }): Promise<string> {
  const profile = mkdtempSync(join(work, 'profile-'));
  const argv = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`, '--hide-scrollbars',
    ...args,
  ];
  return new Promise((done, fail) => {
    execFile(CHROMIUM ?? 'chromium', argv, { timeout: opts.timeoutMs, maxBuffer: opts.maxBuffer }, (err, stdout, stderr) => {
      if (err) fail(new Error(`chromium ${args.join(' ')}: ${err.message}\n${stderr}`));
      else done(stdout);
    });
  });
}
