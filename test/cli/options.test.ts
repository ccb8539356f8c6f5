/**
 * Input errors are found before anything runs: every option naming a file, a directory, a URL
 * or a tag expression fails with exit 2 and one line `sevcheck: <option or file>: <problem>`,
 * before a host is opened or a check runs, and nothing is written (issue 13 §3).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sevcheck, type CliResult } from '../helpers.js';

const REF = 'fixture:fixtures/hosts/reference-milan';
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

/** exit 2, exactly one line on stderr `sevcheck: <subject>: <problem>`, nothing on stdout (no check ran) */
function inputError(r: CliResult, subject: RegExp, problem: RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|please report/);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^sevcheck: ${subject.source}: `));
  expect(lines[0]).toMatch(problem);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

/** a directory holding a complete report set of an earlier run, with each file's content */
async function previousSet(): Promise<{ out: string; before: Map<string, string> }> {
  const out = join(tmp('sevcheck-prev-'), 'reports');
  const first = await sevcheck(['run', '--host', REF, '--format', 'json', '--out', out]);
  expect(first.code).toBe(0);
  return { out, before: snapshot(out) };
}

function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** no staging directories (.<name>.sevcheck-*) of `dir` left next to it (other tests stage in /tmp too) */
function noLeftovers(dir: string): void {
  const parent = join(dir, '..');
  expect(readdirSync(parent).filter((n) => n.startsWith(`.${basename(dir)}.sevcheck-`))).toEqual([]);
}

describe('--tags', () => {
  it('a syntax error is an input error before anything runs, and the previous report set stays whole', async () => {
    const { out, before } = await previousSet();
    const r = await sevcheck(['run', '--host', REF, '--tags', '@check:host.cpuid.sev and (', '--out', out]);
    inputError(r, /--tags/, /not a tag expression: Unmatched \(/);
    expect(snapshot(out)).toEqual(before);
    noLeftovers(out);
  });

  it('is checked before the host is opened (an unreachable host is not even tried)', async () => {
    inputError(await sevcheck(['run', '--host', 'ssh://nobody@127.0.0.1:1', '--tags', 'not']), /--tags/, /Expected operand/);
  });
});

describe('--out', () => {
  it('naming a file', async () => {
    const f = join(tmp('sevcheck-outfile-'), 'reports.txt');
    writeFileSync(f, 'keep me');
    inputError(await sevcheck(['run', '--host', REF, '--out', f]), /--out .*reports\.txt/, /is a file, not a directory/);
    expect(readFileSync(f, 'utf8')).toBe('keep me');
  });

  it('below a file', async () => {
    const f = join(tmp('sevcheck-outfile-'), 'plain');
    writeFileSync(f, '');
    inputError(await sevcheck(['run', '--host', REF, '--out', join(f, 'sub')]), /--out .*plain\/sub/, /plain is a file, not a directory/);
  });

  it('under /proc fails at once instead of hanging in a recursive mkdir', async () => {
    const started = Date.now();
    const r = await sevcheck(['run', '--host', REF, '--out', '/proc/sevcheck-reports/x'], {}, 20_000);
    inputError(r, /--out \/proc\/sevcheck-reports\/x/, /under \/proc, a kernel filesystem/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('under /sys', async () => {
    inputError(await sevcheck(['run', '--host', REF, '--out', '/sys/kernel/sevcheck']), /--out \/sys\/kernel\/sevcheck/, /under \/sys/);
  });

  it('under /proc through a symlink', async () => {
    const link = join(tmp('sevcheck-link-'), 'proc');
    symlinkSync('/proc', link);
    inputError(await sevcheck(['run', '--host', REF, '--out', join(link, 'x')], {}, 20_000), /--out .*proc\/x/, /under \/proc \(\/proc\), a kernel filesystem/);
  });

  it('a directory with files that are not reports is not replaced', async () => {
    const d = tmp('sevcheck-foreign-');
    writeFileSync(join(d, 'notes.txt'), 'mine');
    inputError(await sevcheck(['run', '--host', REF, '--out', d]), /--out .*sevcheck-foreign-\w+/, /not sevcheck reports \(notes\.txt\)/);
    expect(readdirSync(d)).toEqual(['notes.txt']);
  });

  it('in a directory nobody may write to', async (ctx) => {
    const parent = tmp('sevcheck-ro-');
    const root = process.getuid?.() === 0;
    // root writes through any mode bits; an immutable directory (ext4/xfs, chattr +i) stops root too
    if (root) {
      const r = spawnSync('chattr', ['+i', parent]);
      if (r.status !== 0) ctx.skip(); // no chattr or no immutable flag on this filesystem: cannot make an unwritable dir as root
    } else {
      spawnSync('chmod', ['0555', parent]);
    }
    try {
      inputError(await sevcheck(['run', '--host', REF, '--out', join(parent, 'reports')]), /--out .*reports/, /cannot write in .*sevcheck-ro-\w+: (EACCES|EPERM|EROFS)/);
    } finally {
      if (root) spawnSync('chattr', ['-i', parent]);
    }
  });
});

describe('a report set is replaced whole', () => {
  it('a finished run replaces every file, leaving nothing of the previous run and no staging directory', async () => {
    const { out } = await previousSet();
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/kvm-sev-off', '--format', 'json', '--out', out]);
    expect(r.code).toBe(1);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['cucumber.html', 'junit.xml', 'messages.ndjson', 'report.html', 'results.json', 'summary.md']);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).host).toBe('kvm-sev-off');
    // cucumber's own formatters wrote into the same new set
    for (const f of ['messages.ndjson', 'cucumber.html']) expect(readFileSync(join(out, f), 'utf8')).toMatch(/parameters\/sev reads \\?"N\\?"/);
    expect(readFileSync(join(out, 'messages.ndjson'), 'utf8')).not.toMatch(/reference-milan/);
    noLeftovers(out);
  });

  it('a run that ends in a harness error leaves the previous set as it was', async () => {
    const { out, before } = await previousSet();
    const fx = tmp('sevcheck-badfx-');
    mkdirSync(join(fx, 'files/proc'), { recursive: true });
    writeFileSync(join(fx, 'host.json'), '{"name":"bad","profile":"sev"}');
    writeFileSync(join(fx, 'cpuid.json'), '{"0x8000001f": {');
    const r = await sevcheck(['run', '--host', `fixture:${fx}`, '--out', out]);
    expect(r.code).toBe(2);
    expect(snapshot(out)).toEqual(before);
    noLeftovers(out);
  });

  it('a harness error in the middle of the run (a launch bundle that needs the vectors) writes no report set either', async () => {
    const { out, before } = await previousSet();
    const r = await sevcheck(['run', '--host', REF, '--launch', 'fixtures/launch/snp-report-good', '--out', out], { SEVCHECK_VECTORS: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs the reference vectors/);
    expect(r.stdout).not.toMatch(/^reports: /m);
    expect(snapshot(out)).toEqual(before);
    noLeftovers(out);
  });

  it('--out through a symlink replaces the directory it points to and keeps the link', async () => {
    const { out } = await previousSet();
    const link = join(tmp('sevcheck-outlink-'), 'latest');
    symlinkSync(out, link);
    expect((await sevcheck(['run', '--host', 'fixture:fixtures/hosts/kvm-sev-off', '--format', 'json', '--out', link])).code).toBe(1);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).host).toBe('kvm-sev-off');
    noLeftovers(out);
  });

  it('the new directory gets the mode mkdir would give it, not mkdtemp\'s 0700', async () => {
    const out = join(tmp('sevcheck-mode-'), 'r');
    expect((await sevcheck(['run', '--host', REF, '--tags', '@check:host.cpuid.sev', '--format', 'json', '--out', out])).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o777 & ~process.umask());
  });
});

describe('files and URLs given to the caps and launch layers', () => {
  it('--amd-certs DIR that does not exist', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--amd-certs', '/no/such/certs']), /--amd-certs \/no\/such\/certs/, /no such directory/));
  it('--amd-certs naming a file', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--amd-certs', 'package.json']), /--amd-certs package\.json/, /not a directory/));
  it('--kds-url that is not a URL', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--kds-url', 'kds.example']), /--kds-url kds\.example/, /not a URL/));
  it('--kds-url with another scheme', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--kds-url', 'ftp://kds.example/x']), /--kds-url ftp:\/\/kds\.example\/x/, /not an http:\/\/ or https:\/\/ URL/));
  it('--kds-cache naming a file', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--kds-cache', 'package.json']), /--kds-cache package\.json/, /is a file, not a directory/));
  it('--launch DIR without launch.json', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--launch', 'fixtures']), /--launch fixtures/, /no launch\.json there/));
  it('--vectors that is not a directory', async () =>
    inputError(await sevcheck(['run', '--host', REF, '--vectors', 'package.json']), /--vectors package\.json/, /not a directory/));
  it('--ssh-identity that does not exist', async () =>
    inputError(await sevcheck(['run', '--host', 'ssh://nobody@127.0.0.1:1', '--ssh-identity', '/no/such/key']), /--ssh-identity \/no\/such\/key/, /no such file/));
});

describe('record --out', () => {
  const record = (out: string, ...more: string[]) =>
    sevcheck(['record', '--host', REF, '--tags', '@layer:host', '--out', out, '--reports', join(tmp('sevcheck-recrep-'), 'r'), ...more]);

  it('refuses a non-empty directory without --force and leaves it as it was', async () => {
    const d = tmp('sevcheck-rec-');
    writeFileSync(join(d, 'host.json'), '{"name":"other"}');
    inputError(await record(d), /--out .*sevcheck-rec-\w+/, /not empty \(1 entries\).*add --force/);
    expect(readdirSync(d)).toEqual(['host.json']);
    expect(readFileSync(join(d, 'host.json'), 'utf8')).toBe('{"name":"other"}');
  });

  it('with --force replaces the directory whole: nothing of the old recording survives', async () => {
    const d = tmp('sevcheck-rec-');
    mkdirSync(join(d, 'files/etc'), { recursive: true });
    writeFileSync(join(d, 'files/etc/stale.conf'), 'from another host');
    writeFileSync(join(d, 'expected.json'), '{}');
    writeFileSync(join(d, 'host.json'), '{"name":"other","source":"authored"}');
    const r = await record(d, '--force');
    expect(r.code).toBe(0);
    expect(existsSync(join(d, 'files/etc/stale.conf'))).toBe(false);
    expect(existsSync(join(d, 'expected.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(d, 'host.json'), 'utf8'))).toMatchObject({ source: 'recorded' });
    expect(existsSync(join(d, 'files/proc/cpuinfo'))).toBe(true);
    noLeftovers(d);
  });

  it('--force replaces only a fixture host directory (one with host.json), never any other', async () => {
    const d = tmp('sevcheck-rec-');
    writeFileSync(join(d, '.bashrc'), 'mine');
    inputError(await record(d, '--force'), /--out .*sevcheck-rec-\w+/, /not a fixture host directory \(no host\.json\)/);
    expect(readdirSync(d)).toEqual(['.bashrc']);
  });

  it('writes into a new or empty directory without --force', async () => {
    const d = join(tmp('sevcheck-rec-'), 'new');
    expect((await record(d)).code).toBe(0);
    expect(existsSync(join(d, 'host.json'))).toBe(true);
  });
});

describe('lint options', () => {
  it('lint-domain --schema-dir that does not exist is an input error, not an undecided schema check', async () => {
    const r = await sevcheck(['lint-domain', '--schema-dir', '/no/such/schemas', 'fixtures/domains/bad-cbitpos.xml']);
    inputError(r, /--schema-dir \/no\/such\/schemas/, /no such directory/);
  });
});
