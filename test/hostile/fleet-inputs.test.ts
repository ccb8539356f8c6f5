/**
 * Issue 19, files made for the purpose (built here at run time in temporary directories; nothing
 * hostile is committed): special files, sizes, links out of the directory, secrets in a corrupt
 * file, schema violations, self-granted waivers, host names, a YAML alias bomb and numeric
 * options. Each bad host file makes that host `error` with one line naming the file and field,
 * and the rest of the fleet is reported; each bad option or inventory is one line, exit 2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../support/cli/main.js';
import { InputError } from '../../support/errors.js';
import { parseInventory } from '../../support/fleet/inventory.js';
import { parseWaivers } from '../../support/fleet/waivers.js';
import type { FleetResults } from '../../support/fleet/types.js';
import { readUserText, READ_CAPS } from '../../support/input/read.js';
import { hostNameProblem } from '../../support/input/names.js';
import { which } from '../helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sevcheck-hostile-'));
const SECRET = 'CANARY-SECRET-root:$y$j9T$hostile';

async function fleet(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let o = '';
  let e = '';
  const w = (f: (s: string) => void): Writable => new Writable({ write: (c, _x, cb) => (f(String(c)), cb()) });
  const code = await main(['fleet', ...args], { stdout: w((s) => (o += s)), stderr: w((s) => (e += s)) });
  return { code, out: o, err: e };
}

/** A results.json that `sevcheck run` could have written; `patch` changes the first check. */
function results(host: string, status = 'passed', patch: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  const check = {
    id: 'host.kvm-amd.sev',
    status,
    scenario: "KVM's AMD module has SEV enabled",
    feature: 'features/host/kernel.feature',
    message: status === 'failed' ? 'found sev reads "N"; expected "Y"; fix: modprobe' : 'sev reads "Y"',
    ...(status === 'failed' ? { found: 'sev reads "N"', expected: '"Y"', fix: 'modprobe' } : {}),
    ...patch,
  };
  return JSON.stringify({ host, target: `fixture:/x/${host}`, profile: 'sev', startedAt: '2026-12-01T00:00:00.000Z', durationMs: 5, checks: [check], ...top });
}

const put = (dir: string, host: string, text: string): string => {
  mkdirSync(join(dir, host), { recursive: true });
  writeFileSync(join(dir, host, 'results.json'), text);
  return join(dir, host, 'results.json');
};

function allReports(out: string): string {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : files.push(join(d, e.name));
  };
  walk(out);
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

describe('--from-results: one bad host file is that host\'s error, the fleet is reported', () => {
  it('FIFO, /dev/zero, a link to a secret, a secret that is not JSON, a huge file, schema violations, a self-granted waiver', async () => {
    const base = tmp();
    const dir = join(base, 'fetched');
    const secret = join(base, 'shadow');
    writeFileSync(secret, `${SECRET}\n`);
    put(dir, 'good', results('good'));
    mkdirSync(join(dir, 'fifo'));
    execFileSync('mkfifo', [join(dir, 'fifo', 'results.json')]);
    mkdirSync(join(dir, 'devzero'));
    symlinkSync('/dev/zero', join(dir, 'devzero', 'results.json'));
    mkdirSync(join(dir, 'shadowlink'));
    symlinkSync(secret, join(dir, 'shadowlink', 'results.json'));
    // a link that stays inside DIR is followed
    mkdirSync(join(dir, 'inner-link'));
    symlinkSync('../good/results.json', join(dir, 'inner-link', 'results.json'));
    put(dir, 'notjson', `${SECRET}\n`);
    put(dir, 'huge', '');
    truncateSync(join(dir, 'huge', 'results.json'), READ_CAPS.results + 1); // sparse: costs no disk
    put(dir, 'noscenario', results('noscenario', 'passed', { scenario: undefined }));
    put(dir, 'numscenario', results('numscenario', 'failed', { scenario: 42 }));
    put(dir, 'infinite', results('infinite').replace('"durationMs":5', '"durationMs":1e400'));
    put(dir, 'badstatus', results('badstatus', 'PASSED'));
    put(dir, 'selfwaived', results('selfwaived', 'failed', { waived: { reason: 'trust me', expires: '2999-01-01' } }));
    const out = join(base, 'out');
    const t0 = performance.now();
    const r = await fleet(['--from-results', dir, '--out', out, '--format', 'json']);
    expect(performance.now() - t0).toBeLessThan(20_000); // the FIFO did not hang the run
    expect(r.code).toBe(1);
    const f = JSON.parse(r.out) as FleetResults;
    const host = (n: string) => f.hosts.find((h) => h.name === n);
    expect(host('good')).toMatchObject({ exitCode: 0, checks: [{ status: 'passed' }] });
    expect(host('inner-link')).toMatchObject({ exitCode: 0 });
    const errors: Record<string, RegExp> = {
      fifo: /fifo\/results\.json: corrupt results\.json: is a FIFO \(named pipe\), not a regular file: refused$/,
      devzero: /devzero\/results\.json: corrupt results\.json: is a symbolic link that leads outside .*: refused/,
      shadowlink: /shadowlink\/results\.json: corrupt results\.json: is a symbolic link that leads outside/,
      notjson: /notjson\/results\.json: corrupt results\.json: is not valid JSON$/,
      huge: /huge\/results\.json: corrupt results\.json: is 33554433 bytes, more than the 32 MiB a results file may have: refused$/,
      noscenario: /noscenario\/results\.json: corrupt results\.json: checks\[0\]\.scenario: missing \(id, status, scenario, feature and message are required\)$/,
      numscenario: /numscenario\/results\.json: corrupt results\.json: checks\[0\]\.scenario: must be a string$/,
      infinite: /infinite\/results\.json: corrupt results\.json: durationMs: must be a number$/,
      badstatus: /badstatus\/results\.json: corrupt results\.json: checks\[0\]\.status: must be one of passed, failed, undecided, skipped$/,
    };
    for (const [n, re] of Object.entries(errors)) {
      expect(host(n), n).toMatchObject({ exitCode: 2, checks: [] });
      expect(host(n)?.error, n).toMatch(re);
    }
    // waivers come only from --waivers: the self-granted one is dropped, said on stderr
    expect(host('selfwaived')).toMatchObject({ exitCode: 1 });
    expect(host('selfwaived')?.checks[0]).not.toHaveProperty('waived');
    expect(r.err).toMatch(/selfwaived\/results\.json: checks\[0\]\.waived ignored \(waivers come only from --waivers\)/);
    // the secret is in no report, and no error quotes bytes of a file
    const reports = allReports(out);
    expect(reports).not.toContain('CANARY-SECRET');
    expect(r.out + r.err).not.toContain('CANARY-SECRET');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).not.toMatch(/Accepted failures|waived until/);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/^\| selfwaived \| sev \| failed \| 1 \| 0 \|/m);
  }, 60_000);

  it('a FIFO or a link out of DIR as --compare DIR/fleet.json, a FIFO as --inventory: one line, exit 2, no hang', async () => {
    const base = tmp();
    const dir = join(base, 'fetched');
    put(dir, 'good', results('good'));
    const prev = join(base, 'prev');
    mkdirSync(prev);
    execFileSync('mkfifo', [join(prev, 'fleet.json')]);
    let r = await fleet(['--from-results', dir, '--out', join(base, 'o1'), '--compare', prev]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^sevcheck: --compare .*prev\/fleet\.json: is a FIFO \(named pipe\), not a regular file: refused\n$/);
    const prev2 = join(base, 'prev2');
    mkdirSync(prev2);
    writeFileSync(join(base, 'elsewhere.json'), '{"startedAt":"","hosts":[]}');
    symlinkSync(join(base, 'elsewhere.json'), join(prev2, 'fleet.json'));
    r = await fleet(['--from-results', dir, '--out', join(base, 'o2'), '--compare', prev2]);
    expect(r.err).toMatch(/^sevcheck: --compare .*prev2\/fleet\.json: is a symbolic link that leads outside .*prev2: refused/);
    const prev3 = join(base, 'prev3');
    mkdirSync(prev3);
    writeFileSync(join(prev3, 'fleet.json'), JSON.stringify({ startedAt: '', hosts: [{ name: '..', checks: [] }] }));
    r = await fleet(['--from-results', dir, '--out', join(base, 'o3'), '--compare', prev3]);
    expect(r.err).toMatch(/^sevcheck: --compare .*prev3\/fleet\.json: not a fleet\.json: hosts\[0\]\.name: is not a host name/);
    execFileSync('mkfifo', [join(base, 'inv.yaml')]);
    r = await fleet(['--inventory', join(base, 'inv.yaml'), '--out', join(base, 'o4')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^sevcheck: --inventory .*inv\.yaml: is a FIFO \(named pipe\), not a regular file: refused\n$/);
    for (const o of ['o1', 'o2', 'o3', 'o4']) expect(existsSync(join(base, o))).toBe(false);
  }, 30_000);

  it('the reader refuses a device and a directory by what they are, and never opens past the cap', () => {
    expect(() => readUserText('/dev/zero', { kind: 'results' })).toThrow(/\/dev\/zero: is a character device, not a regular file: refused/);
    expect(() => readUserText(tmpdir(), { kind: 'inventory' })).toThrow(/is a directory, not a regular file: refused/);
    const big = join(tmp(), 'big.yaml');
    writeFileSync(big, 'x'.repeat(101));
    expect(() => readUserText(big, { kind: 'inventory', maxBytes: 100 })).toThrow(/is 101 bytes, more than the 100 bytes a inventory file may have: refused/);
    writeFileSync(big, Buffer.from([0x68, 0x6f, 0x73, 0x74, 0xff, 0xfe]));
    expect(() => readUserText(big, { kind: 'inventory' })).toThrow(/big\.yaml: is not UTF-8 text$/);
  });
});

describe('host names, a YAML alias bomb, numeric options', () => {
  const bad = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it.each([
    ['.', /hosts\[0\]\.name: is "\." or "\.\.": not a host name/],
    ['..', /hosts\[0\]\.name: is "\." or "\.\.": not a host name/],
    ['a'.repeat(300), /hosts\[0\]\.name: is longer than 253 bytes: not a host name/],
    ['-rf', /hosts\[0\]\.name: is not a host name/],
    ['a/b', /hosts\[0\]\.name: is not a host name/],
    ['a..b', /hosts\[0\]\.name: is not a host name/],
    ['x'.repeat(64), /hosts\[0\]\.name: is not a host name/],
  ])('inventory host name %j is refused', (name, re) => {
    const msg = bad(() => parseInventory(`hosts:\n  - {name: "${name}", target: local}\n`, 'inv.yaml'));
    expect(msg).toMatch(re);
    if (name.length > 10) expect(msg).not.toContain(name); // the error names the field, not the bytes
  });

  it('DNS-label-like names pass', () => {
    for (const n of ['epyc-a1', 'ref.milan_1', 'a', '0', `${'a'.repeat(63)}.${'b'.repeat(63)}`, 'host.example.com']) expect(hostNameProblem(n), n).toBeUndefined();
    expect(hostNameProblem(Array.from({ length: 64 }, () => 'abc').join('.'))).toMatch(/longer than 253/);
  });

  it('a YAML alias bomb (billion laughs) in the inventory or the waivers: one line naming the file, exit 2', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    expect(bad(() => parseInventory(`${bomb}\nhosts: [{name: a, target: local}]\n`, 'inv.yaml'))).toMatch(/^inv\.yaml: too many YAML aliases/);
    expect(bad(() => parseWaivers(`${bomb}\n`, 'w.yaml'))).toMatch(/^w\.yaml: too many YAML aliases/);
    const base = tmp();
    writeFileSync(join(base, 'inv.yaml'), `${bomb}\nhosts: [{name: a, target: local}]\n`);
    const r = await fleet(['--inventory', join(base, 'inv.yaml'), '--out', join(base, 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^sevcheck: .*inv\.yaml: too many YAML aliases \(more than 100 expansions\): refused as a resource exhaustion attack\n$/);
    expect(r.err).not.toMatch(/internal error|please report/);
  });

  it.each([
    ['3000000', /--host-timeout: must be at most 2147483\.647 seconds/],
    ['0', /--host-timeout: must be at least 0\.001 seconds/],
    ['1e3', /--host-timeout: "1e3" is not a number of seconds/],
    ['99999999999999999999', /--host-timeout: "99999999999999999999" is not a number of seconds/],
  ])('--host-timeout %s is refused before anything runs', async (value, re) => {
    const base = tmp();
    writeFileSync(join(base, 'inv.yaml'), 'hosts: [{name: a, target: local}]\n');
    const r = await fleet(['--inventory', join(base, 'inv.yaml'), '--out', join(base, 'out'), '--host-timeout', value]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(re);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(base, 'out'))).toBe(false);
  });
});

describe('report writers escape what a results.json holds', () => {
  it('newlines and markup cannot make structure in summary.md; U+FFFE, lone surrogates and controls keep junit.xml well-formed', async () => {
    const base = tmp();
    const dir = join(base, 'fetched');
    const evil = 'x\n# Owned heading\r<script>alert(1)</script>\r\n| a | b |\n```\n\uFFFE\uFFFF\uD800\u0001\u2028- list';
    put(dir, 'evil', results('evil', 'failed', { scenario: evil, message: evil, found: evil, expected: evil, fix: evil }, { host: evil, target: evil }));
    const out = join(base, 'out');
    const r = await fleet(['--from-results', dir, '--out', out]);
    expect(r.code).toBe(1);
    for (const md of [join(out, 'summary.md'), join(out, 'hosts', 'evil', 'summary.md')]) {
      const text = readFileSync(md, 'utf8');
      expect(text, md).not.toMatch(/^# Owned/m);
      expect(text, md).not.toMatch(/^\s*(<script|```|- list|\| a)/m);
      expect(text, md).not.toContain('<script>');
      expect(text, md).not.toMatch(/[\uFFFE\uFFFF\u0001\u2028]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    const xmllint = which('xmllint');
    for (const x of [join(out, 'junit.xml'), join(out, 'hosts', 'evil', 'junit.xml')]) {
      const text = readFileSync(x, 'utf8');
      expect(text, x).not.toMatch(/[\uFFFE\uFFFF\u0001]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(text, x).not.toMatch(/time="NaN"/);
      if (xmllint) execFileSync(xmllint, ['--noout', x]); // throws when not well-formed
    }
    expect(statSync(join(out, 'index.html')).size).toBeGreaterThan(0);
  }, 30_000);
});

describe('fixture host files are user-supplied files too', () => {
  it('a link out of the fixture and a FIFO under files/: one line naming the file, exit 2, no hang, no secret', async () => {
    const { sevcheck, fixtureDir, oneLine } = await import('../helpers.js');
    const base = tmp();
    const secret = join(base, 'shadow');
    writeFileSync(secret, `${SECRET}\n`);
    const linked = fixtureDir('sevcheck-hostile-fx', { 'files/etc/os-release.real': 'ID=debian\n' });
    mkdirSync(join(linked, 'files/sys/module/kvm_amd/parameters'), { recursive: true });
    symlinkSync(secret, join(linked, 'files/sys/module/kvm_amd/parameters/sev'));
    let r = await sevcheck(['run', '--host', `fixture:${linked}`, '--tags', '@check:host.kvm-amd.sev', '--out', join(base, 'o1')]);
    oneLine(r, /files\/sys\/module\/kvm_amd\/parameters\/sev: is a symbolic link that leads outside .*files: refused/);
    expect(r.stdout + r.stderr).not.toContain('CANARY-SECRET');
    const fifo = fixtureDir('sevcheck-hostile-fx', {});
    mkdirSync(join(fifo, 'files/sys/module/kvm_amd/parameters'), { recursive: true });
    execFileSync('mkfifo', [join(fifo, 'files/sys/module/kvm_amd/parameters/sev')]);
    r = await sevcheck(['run', '--host', `fixture:${fifo}`, '--tags', '@check:host.kvm-amd.sev', '--out', join(base, 'o2')], {}, 30_000);
    oneLine(r, /files\/sys\/module\/kvm_amd\/parameters\/sev: is a FIFO \(named pipe\), not a regular file: refused/);
    const json = fixtureDir('sevcheck-hostile-fx', { 'cpuid.json': `${SECRET}` });
    r = await sevcheck(['run', '--host', `fixture:${json}`, '--out', join(base, 'o3')]);
    oneLine(r, /cpuid\.json: malformed JSON: is not valid JSON/);
    expect(r.stderr).not.toContain('CANARY-SECRET');
  }, 90_000);
});
