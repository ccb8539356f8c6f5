import { mkdtempSync, cpSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck, oneLine } from '../helpers.js';

const ref = join(ROOT, 'fixtures/hosts/reference-milan');

function broken(file: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-bad-'));
  cpSync(ref, dir, { recursive: true });
  writeFileSync(join(dir, file), text);
  return dir;
}

describe('sevcheck CLI', () => {
  it('npm start equivalent: reference host is compliant, verdicts printed, every report written', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sevcheck-out-'));
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--out', out]);
    expect(r.code).toBe(0);
    const expected = JSON.parse(readFileSync(join(ref, 'expected.json'), 'utf8')) as Record<string, string>;
    expect(Object.values(expected)).not.toContain('failed');
    expect(r.stdout).toMatch(/^COMPLIANT( SO FAR)? for profile sev-snp: \d+ checks: 0 failed, \d+ undecided, \d+ passed, \d+ skipped$/m);
    // the layers with their totals; every check (by id) with --verbose
    expect(r.stdout).toMatch(/^ {2}host +\d+ checks: 0 failed, /m);
    const verbose = await sevcheck(['run', '--verbose', '--host', 'fixture:fixtures/hosts/reference-milan', '--out', out]);
    expect(verbose.stdout).toMatch(/^ {2}passed +host\.kvm-amd\.sev-snp /m);
    for (const f of ['results.json', 'summary.md', 'junit.xml', 'report.html', 'cucumber.html', 'messages.ndjson']) expect(existsSync(join(out, f))).toBe(true);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.host).toBe('reference-milan');
    expect(results.checks.find((c: { id: string }) => c.id === 'host.cpuid.sev')).toMatchObject({ id: expect.stringMatching(/^host\./), status: 'passed', feature: expect.stringMatching(/^features\/host\//) });
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*(COMPLIANT|COMPLIANT SO FAR — \d+ undecided)\*\* for profile `sev-snp`/);
    // one testcase per check id
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(new RegExp(`<testsuites[^>]*tests="${new Set(results.checks.map((c: { id: string }) => c.id)).size}"`));
  });

  it('--format json prints results.json and nothing else on stdout', async () => {
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/kvm-sev-off', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.checks.find((c: { id: string }) => c.id === 'host.kvm-amd.sev').message).toMatch(/reads "N"/);
  });

  it('--tags selects checks; --profile overrides the fixture profile', async () => {
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/snp-on-sev-only', '--profile', 'sev', '--tags', '@check:host.kvm-amd.sev-snp or @check:host.kvm-amd.sev', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    const j = JSON.parse(r.stdout);
    expect(j.checks.map((c: { id: string; status: string }) => `${c.id}=${c.status}`).sort()).toEqual(['host.kvm-amd.sev-snp=skipped', 'host.kvm-amd.sev=passed']);
    expect(r.code).toBe(0);
  });

  it('--fail-on-undecided turns undecided into exit 1', async () => {
    const args = ['run', '--host', 'fixture:fixtures/hosts/cpuid-not-recorded', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))];
    expect((await sevcheck(args)).code).toBe(0);
    expect((await sevcheck([...args, '--fail-on-undecided'])).code).toBe(1);
  });

  it('help is useful', async () => {
    const top = await sevcheck(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes: 0 .* 1 .* 2/);
    const run = await sevcheck(['run', '--help']);
    expect(run.stdout).toMatch(/--host <target>[\s\S]*ssh:\/\/\[user@\]host\[:port\]/);
    expect(run.stdout.replace(/\s+/g, " ")).toMatch(/choices: "sev", "sev-es", "sev-snp"/);
  });

  describe('bad input: exit 2, one line', () => {
    it('malformed fixture JSON', async () => oneLine(await sevcheck(['run', '--host', `fixture:${broken('cpuid.json', '{"0x8000001f": {')}`]), /cpuid.json: malformed JSON/));
    it('non-octal mode', async () => oneLine(await sevcheck(['run', '--host', `fixture:${broken('stat.json', '{"/dev/sev":{"type":"char","mode":"0999"}}')}`]), /stat.json: key "\/dev\/sev.mode"/));
    it('non-hex register', async () => oneLine(await sevcheck(['run', '--host', `fixture:${broken('cpuid.json', '{"0x8000001f":{"eax":"12","ebx":"0x0","ecx":"0x0","edx":"0x0"}}')}`]), /cpuid.json: key "0x8000001f.eax": "12" is not a 32-bit hex number/));
    it('unknown --host scheme', async () => oneLine(await sevcheck(['run', '--host', 'telnet://h']), /--host telnet:\/\/h: unknown host scheme "telnet:"/));
    it('missing fixture directory', async () => oneLine(await sevcheck(['run', '--host', 'fixture:/no/such/dir']), /\/no\/such\/dir: fixture host directory does not exist/));
    it('unknown profile', async () => {
      const r = await sevcheck(['run', '--profile', 'tdx']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/argument 'tdx' is invalid/);
    });
    it('unreachable ssh host', async () =>
      oneLine(await sevcheck(['run', '--host', 'ssh://nobody@127.0.0.1:1']), /ssh:\/\/nobody@127.0.0.1:1: unreachable: .*(refused|Connection)/i));
    it('a profile in host.json that does not exist', async () => oneLine(await sevcheck(['run', '--host', `fixture:${broken('host.json', '{"name":"x","profile":"sev-tdx"}')}`]), /host.json profile: unknown profile "sev-tdx"/));
  });
});
