/**
 * contrib/systemd: the nightly service and timer pass `systemd-analyze verify`, and the wrapper
 * the service runs (sevcheck-fleet-nightly) runs the fleet with --history over its reports
 * directory (sevcheck compares with the last complete run and keeps the last 60), publishes
 * metrics.prom atomically and passes sevcheck's exit code through.
 *
 * `systemd-analyze verify` checks that ExecStart's binary exists: the units are copied into a
 * temporary directory with ExecStart pointing at this checkout's sevcheck-fleet-nightly (the
 * installed path, /usr/local/bin/, does not exist here). The wrapper runs against a stand-in
 * `sevcheck` (a shell script written here that records its arguments and writes a report set):
 * the real `sevcheck fleet` is the fleet branch's, and the lead extends this after the merge.
 *
 * Needs systemd-analyze (Debian's systemd); without it the verify test is skipped unless
 * SEVCHECK_REQUIRE_TOOLS=1.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, which } from '../helpers.js';

const UNITS = join(ROOT, 'contrib/systemd');
const INSTALLED = '/usr/local/bin/sevcheck-fleet-nightly';
const WRAPPER = join(UNITS, 'sevcheck-fleet-nightly');
const work = mkdtempSync(join(tmpdir(), 'sevcheck-systemd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const ANALYZE = which('systemd-analyze');

describe('contrib/systemd units', () => {
  it.skipIf(!ANALYZE && process.env.SEVCHECK_REQUIRE_TOOLS !== '1')('pass `systemd-analyze verify` (ExecStart pointed at this checkout)', async () => {
    const service = readFileSync(join(UNITS, 'sevcheck-fleet.service'), 'utf8');
    expect(service).toContain(`ExecStart=${INSTALLED}\n`);
    const dir = join(work, 'units');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sevcheck-fleet.service'), service.replace(`ExecStart=${INSTALLED}`, `ExecStart=${WRAPPER}`));
    writeFileSync(join(dir, 'sevcheck-fleet.timer'), readFileSync(join(UNITS, 'sevcheck-fleet.timer'), 'utf8'));
    const ok = await run([ANALYZE!, 'verify', '--man=no', join(dir, 'sevcheck-fleet.service'), join(dir, 'sevcheck-fleet.timer')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // and verify does check: the unit as shipped names a binary this machine does not have
    if (!existsSync(INSTALLED)) {
      const missing = await run([ANALYZE!, 'verify', '--man=no', join(UNITS, 'sevcheck-fleet.service')]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(INSTALLED);
    }
  });

  it('the service is a oneshot that treats exit 1 as a result; the timer is nightly, persistent, randomized', () => {
    const service = readFileSync(join(UNITS, 'sevcheck-fleet.service'), 'utf8');
    for (const line of ['Type=oneshot', 'SuccessExitStatus=1', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6', 'ReadWritePaths=-/var/lib/prometheus/node-exporter']) {
      expect(service).toContain(`\n${line}\n`);
    }
    expect(service).not.toMatch(/^PrivateNetwork=yes/m);
    const timer = readFileSync(join(UNITS, 'sevcheck-fleet.timer'), 'utf8');
    for (const line of ['OnCalendar=*-*-* 02:00:00', 'Persistent=true', 'RandomizedDelaySec=45min', 'WantedBy=timers.target']) expect(timer).toContain(`\n${line}\n`);
  });
});

describe('sevcheck-fleet-nightly', () => {
  /** A stand-in sevcheck: appends its argv to calls.log, writes --out DIR/{fleet.json,metrics.prom}, exits $FAKE_EXIT. */
  function fake(dir: string): string {
    const bin = join(dir, 'sevcheck');
    writeFileSync(
      bin,
      [
        '#!/bin/sh',
        'printf "%s\\n" "$*" >> "$FAKE_LOG"',
        'out=; prev=',
        'for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; done',
        '[ "${FAKE_EXIT:-0}" = 2 ] && { echo "sevcheck: inventory.yaml: hosts[0].name: missing" >&2; exit 2; }',
        'mkdir -p "$out"',
        'printf \'{\\n  "complete": %s\\n}\\n\' "${FAKE_COMPLETE:-true}" > "$out/fleet.json"',
        'printf "sevcheck_run_complete 1\\n" > "$out/metrics.prom"',
        'exit "${FAKE_EXIT:-0}"',
        '',
      ].join('\n'),
    );
    chmodSync(bin, 0o755);
    return bin;
  }

  it('compares with the last complete run, publishes metrics.prom atomically, passes the exit code through', async () => {
    const dir = join(work, 'nightly');
    const reports = join(dir, 'reports');
    const textfile = join(dir, 'textfile');
    mkdirSync(textfile, { recursive: true });
    const log = join(dir, 'calls.log');
    const env = {
      SEVCHECK: fake(dir),
      SEVCHECK_INVENTORY: join(dir, 'inventory.yaml'),
      SEVCHECK_WAIVERS: join(dir, 'waivers.yaml'),
      SEVCHECK_REPORTS: reports,
      SEVCHECK_TEXTFILE_DIR: textfile,
      FAKE_LOG: log,
    };
    const calls = (): string[] => readFileSync(log, 'utf8').trim().split('\n');

    // night 1: nothing to compare with, no waivers file
    const first = await run([WRAPPER, '--jobs', '4'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const [night1] = readdirSync(reports).filter((d) => /^\d/.test(d));
    expect(night1).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z$/);
    expect(calls()[0]).toBe(`fleet --history ${reports} --keep 60 --inventory ${env.SEVCHECK_INVENTORY} --out ${join(reports, night1!)} --jobs 4`);
    expect(readFileSync(join(textfile, 'sevcheck.prom'), 'utf8')).toBe('sevcheck_run_complete 1\n');
    expect(readdirSync(textfile)).toEqual(['sevcheck.prom']); // no temporary file left
    expect(readlinkSync(join(reports, 'latest'))).toBe(night1);

    // night 2: failures (exit 1) with waivers, compared with night 1, interrupted
    writeFileSync(env.SEVCHECK_WAIVERS, '[]\n');
    await new Promise((r) => setTimeout(r, 1100)); // a new timestamp
    const second = await run([WRAPPER], { ...env, FAKE_EXIT: '1', FAKE_COMPLETE: 'false' });
    expect(second.code).toBe(1);
    const night2 = readdirSync(reports).filter((d) => /^\d/.test(d)).sort()[1]!;
    // sevcheck itself compares with the newest complete run under --history
    expect(calls()[1]).toBe(`fleet --history ${reports} --keep 60 --waivers ${env.SEVCHECK_WAIVERS} --inventory ${env.SEVCHECK_INVENTORY} --out ${join(reports, night2)}`);
    expect(readlinkSync(join(reports, 'latest'))).toBe(night2);

    // night 3: an input error (exit 2) leaves the published metrics and `latest` as they were
    writeFileSync(join(textfile, 'sevcheck.prom'), 'previous\n');
    await new Promise((r) => setTimeout(r, 1100));
    const third = await run([WRAPPER], { ...env, FAKE_EXIT: '2' });
    expect(third.code).toBe(2);
    expect(third.stderr).toContain('sevcheck: inventory.yaml:');
    expect(calls()[2]).toContain(`--history ${reports} --keep 60 `);
    expect(readFileSync(join(textfile, 'sevcheck.prom'), 'utf8')).toBe('previous\n');
    expect(readlinkSync(join(reports, 'latest'))).toBe(night2);
  });
});
