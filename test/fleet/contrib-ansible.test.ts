/**
 * contrib/ansible: the playbook installs sevcheck from `npm pack`'s tarball into a prefix on the
 * host, runs `sevcheck run --host local --format json` there and fetches results.json to
 * <fetch dir>/<inventory_hostname>/results.json (the layout `sevcheck fleet --from-results DIR`
 * reads). Run for real with Debian's ansible-core on localhost (connection local, no become):
 * the fetched file must be what `sevcheck run` on this machine writes (same host, target,
 * profile, check ids and verdicts; times differ). This machine has compliance failures (no SEV),
 * so the run exits 1 and the play must still succeed (asserted wherever the machine has failures): exit 1 is a result, not a task failure.
 *
 * Cost (measured on the shared 2-core machine): npm pack ~14 s, the playbook ~65 s, most of it
 * `npm install` of the dependencies from the npm registry. The controller's `sevcheck fleet
 * --from-results` over the fetched directory closes the loop (fleet.json's host = the fetched results).
 *
 * Needs ansible-playbook (Debian's ansible-core) and the npm registry; without ansible-playbook it
 * is skipped unless SEVCHECK_REQUIRE_TOOLS=1.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, byId, sevcheck, type JsonResults, which } from '../helpers.js';


function run(argv: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const PLAYBOOK = which('ansible-playbook');
const NPM = which('npm');
const work = mkdtempSync(join(tmpdir(), 'sevcheck-ansible-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf((!PLAYBOOK || !NPM) && process.env.SEVCHECK_REQUIRE_TOOLS !== '1')('contrib/ansible on localhost', () => {
  it('installs the npm pack tarball into a prefix, runs sevcheck there, fetches <fetch dir>/<host>/results.json', async () => {
    const t0 = Date.now();
    const packed = join(work, 'pack');
    mkdirSync(packed);
    // --ignore-scripts: `prepare` would build dist/ into this checkout; the tarball runs through tsx without it
    const pack = await run([NPM!, 'pack', '--ignore-scripts', '--silent', '--pack-destination', packed], { cwd: ROOT, timeoutMs: 180_000 });
    expect(pack.code, pack.stderr).toBe(0);
    const [tarball] = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^sevcheck-\d+\.\d+\.\d+\.tgz$/);
    const t1 = Date.now();

    const prefix = join(work, 'prefix');
    const fetched = join(work, 'results');
    const play = await run(
      [
        PLAYBOOK!, '-i', 'localhost,', '-c', 'local',
        '-e', `ansible_python_interpreter=${which('python3') ?? '/usr/bin/python3'}`,
        '-e', `sevcheck_tarball=${join(packed, tarball!)}`,
        '-e', `sevcheck_prefix=${prefix}`,
        '-e', `sevcheck_fetch_dir=${fetched}`,
        '-e', 'sevcheck_become=false',
        join(ROOT, 'contrib/ansible/site.yml'),
      ],
      { cwd: work, env: { ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: 'false' }, timeoutMs: 420_000 },
    );
    expect(play.code, `${play.stdout}\n${play.stderr}`).toBe(0);
    expect(play.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    const t2 = Date.now();
    console.log(`npm pack ${((t1 - t0) / 1000).toFixed(1)} s, ansible-playbook ${((t2 - t1) / 1000).toFixed(1)} s`);

    // the layout fleet --from-results reads: one directory per inventory host, results.json in it
    expect(readdirSync(fetched)).toEqual(['localhost']);
    const got = JSON.parse(readFileSync(join(fetched, 'localhost', 'results.json'), 'utf8')) as JsonResults & { target: string };
    // what `sevcheck run --host local --format json` writes on this machine, from this checkout
    const here = await sevcheck(['run', '--host', 'local', '--format', 'json', '--out', join(work, 'here')], {}, 120_000);
    expect(here.stderr).toBe('');
    const want = JSON.parse(here.stdout) as JsonResults & { target: string };
    expect([got.host, got.target, got.profile]).toEqual([want.host, want.target, want.profile]);
    expect(byId(got)).toEqual(byId(want));
    expect(got.checks.map((c) => Object.keys(c).sort())).toEqual(want.checks.map((c) => Object.keys(c).sort()));
    // a machine without SEV (this one, CI) has failures: the run there exited 1 and the play still succeeded
    expect([0, 1]).toContain(here.code);
    expect(got.checks.some((c) => c.status === 'failed')).toBe(here.code === 1);

    // the controller's side: `sevcheck fleet --from-results DIR` aggregates what the play fetched
    const fleetOut = join(work, 'fleet');
    const fleet = await sevcheck(['fleet', '--from-results', fetched, '--out', fleetOut, '--format', 'json'], {}, 120_000);
    expect(fleet.code, fleet.stderr).toBe(here.code);
    const f = JSON.parse(readFileSync(join(fleetOut, 'fleet.json'), 'utf8')) as { complete: boolean; hosts: Array<{ name: string; error?: string; checks: unknown[] }> };
    expect(f.complete).toBe(true);
    expect(f.hosts.map((h) => [h.name, h.error])).toEqual([['localhost', undefined]]);
    expect(f.hosts[0]?.checks).toEqual(got.checks);
    for (const file of ['index.html', 'junit.xml', 'summary.md', 'metrics.prom']) expect(readdirSync(fleetOut)).toContain(file);
  }, 600_000);
});
