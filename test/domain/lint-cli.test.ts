import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintDomainMain, lintPveMain, lintQemuMain } from '../../support/cli/lint.js';
import { which } from '../helpers.js';

const fx = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
async function run(main: typeof lintDomainMain, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}
const host = ['--host-cbitpos', '51', '--host-reduced-phys-bits', '1'];

describe('sevcheck lint-domain', () => {
  it('exit 0 when every check passes', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), fx('domains/good-sev-es.xml'), ...host]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // one unit, the check: each counted once over the files (the reports' count)
    expect(r.stdout).toMatch(/^2 file\(s\), 9 checks: 0 failed, 0 undecided, 9 passed, 0 skipped$/m);
  });
  it('exit 1 on a failure, message names file, found, expected and fix', async () => {
    const r = await run(lintDomainMain, [fx('domains/bad-iommu-missing.xml'), ...host]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed\s+domain\.virtio\.iommu: found 1 virtio device\(s\) in .*bad-iommu-missing\.xml.*rng virtio.*fix: rng virtio: add <driver iommu='on'\/> inside <rng>/);
  });
  it('exit 2 with one line per unreadable file', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), fx('domains/attack-xxe.xml'), '/nonexistent.xml']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sevcheck: .*attack-xxe\.xml: line 2: <!DOCTYPE> declarations are refused/);
    expect(lines[1]).toBe('sevcheck: /nonexistent.xml: cannot read: ENOENT');
  });
  it('well-formed but schema-invalid XML is a compliance failure (domain.schema-valid failed, exit 1), as virt-xml-validate says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-lint-invalid-'));
    const file = join(dir, 'forty-seven.xml');
    writeFileSync(file, readFileSync(fx('domains/good-sev-q35.xml'), 'utf8').replace(/<cbitpos>\d+<\/cbitpos>/, '<cbitpos>forty-seven</cbitpos>'));
    for (const extra of [[], ['--no-schema']]) {
      const r = await run(lintDomainMain, [file, ...host, ...extra]);
      expect(r.stderr, extra.join(' ')).toBe('');
      expect(r.code, extra.join(' ')).toBe(1);
      expect(r.stdout).toMatch(/failed\s+domain\.schema-valid: found (schema errors|values libvirt.s domain schema rejects) in .*forty-seven\.xml/);
      expect(r.stdout).toMatch(/failed\s+domain\.launch-security: .*forty-seven/);
    }
    // not well-formed stays an input error
    writeFileSync(file, '<domain><launchSecurity>');
    expect((await run(lintDomainMain, [file, ...host])).code).toBe(2);
  });
  it('--format json', async () => {
    const r = await run(lintDomainMain, [fx('domains/bad-cbitpos.xml'), '--format', 'json', ...host]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { files: { file: string; checks: { id: string; status: string }[] }[] };
    expect(j.files[0]!.checks.find((c) => c.id === 'domain.cbitpos.matches-host')!.status).toBe('failed');
    expect(j.files[0]!.checks.map((c) => c.id)[0]).toBe('domain.schema-valid');
    // the verdict fields, as in results.json: a failure's found / expected / fix
    expect(j.files[0]!.checks.find((c) => c.id === 'domain.cbitpos.matches-host')).toMatchObject({ found: expect.stringMatching(/cbitpos 47/), expected: expect.any(String), fix: expect.any(String) });
  });
  it('--schema-dir without domain.rng makes schema undecided, not failed', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sevcheck-noschema-'));
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--schema-dir', empty, ...host]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/undecided domain\.schema-valid: undecided: libvirt schema \/.*sevcheck-noschema-\w+\/domain\.rng not found/);
  });
  it('--schema-dir that does not exist is an input error (exit 2, one line)', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--schema-dir', '/nonexistent', ...host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sevcheck: --schema-dir /nonexistent: no such directory\n');
  });
  it.each([
    [[], /no FILE given/],
    [['x.xml', '--format', 'yaml'], /--format must be text or json/],
    [['x.xml', '--bogus'], /Unknown option '--bogus'/],
    [['x.xml', '--host-cbitpos', '51'], /give both --host-cbitpos and --host-reduced-phys-bits/],
    [['x.xml', '--host-cbitpos', 'x', '--host-reduced-phys-bits', '1'], /--host-cbitpos must be an integer/],
  ])('usage error %j exits 2', async (argv, re) => {
    const r = await run(lintDomainMain, argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
  });
});

describe('sevcheck lint-pve / lint-qemu', () => {
  it('lint-pve: 0 for a good config, 1 for a bad one, 2 for garbage', async () => {
    expect((await run(lintPveMain, [fx('proxmox/sev-std.conf')])).code).toBe(0);
    expect((await run(lintPveMain, [fx('proxmox/bad-seabios.conf')])).code).toBe(1);
    const r = await run(lintPveMain, [fx('domains/attack-xxe.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/attack-xxe\.xml: no `key: value` lines/);
  });
  it('lint-qemu: exit 1 for the bad SNP command line', async () => {
    const r = await run(lintQemuMain, [fx('qemu-cmdline/bad-snp.cmdline'), ...host]);
    expect(r.code).toBe(1);
  });
});

describe('--host TARGET: the C-bit facts come from a host', () => {
  function host(extra: Record<string, unknown>, files: Record<string, string | Buffer> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-lint-host-'));
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ name: 'h', source: 'authored' }));
    for (const [n, v] of Object.entries(extra)) writeFileSync(join(dir, n), JSON.stringify(v));
    for (const [p, v] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, 'files', p)), { recursive: true });
      writeFileSync(join(dir, 'files', p), v);
    }
    return dir;
  }

  it('CPUID of a Milan host (no domcapabilities recorded): a Rome guest (cbitpos 47) fails, the others pass', async () => {
    const dir = host({ 'cpuid.json': JSON.parse(readFileSync(fx('hosts/reference-milan/cpuid.json'), 'utf8')) });
    const r = await run(lintDomainMain, [fx('domains/bad-cbitpos.xml'), fx('domains/good-sev-q35.xml'), '--host', `fixture:${dir}`, '--no-schema']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^host: cbitpos 51, reducedPhysBits 1 \(fixture:.*: CPUID 0x8000001F EBX\[5:0\] = 51/);
    expect(r.stdout).toMatch(/failed\s+domain\.cbitpos\.matches-host: found cbitpos 47 .* but the host has 51/);
  });
  it('domcapabilities when the host answers it (JSON output carries the host facts)', async () => {
    const domcaps = readFileSync(fx('caps-samples/domcaps-milan-sev.xml'), 'utf8');
    const dir = host({ 'commands.json': [{ argv: ['virsh', '-c', 'qemu:///system', 'domcapabilities'], exitCode: 0, stdout: domcaps }] });
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${dir}`, '--no-schema', '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { host: { cbitpos: number; source: string } };
    expect(j.host).toMatchObject({ cbitpos: 51, reducedPhysBits: 1, source: expect.stringMatching(/virsh domcapabilities <sev>$/) });
  });
  it('a host without SEV still gets its files linted: domain.cbitpos.matches-host fails saying why (issue 13: was exit 2)', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${fx('hosts/no-sev-cpu')}`, '--no-schema']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^host: fixture:.*no-sev-cpu: a GenuineIntel processor/);
    expect(r.stdout).toMatch(/failed\s+domain\.cbitpos\.matches-host: found fixture:.*no-sev-cpu has no SEV: /);
    expect(r.stdout).toMatch(/passed\s+domain\.machine\.q35/); // the other checks ran
    const intel = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${fx('hosts/intel-xeon-leaf-garbage')}`, '--no-schema']);
    expect(intel.code).toBe(1);
    expect(intel.stdout).toMatch(/domain\.cbitpos\.matches-host: found .* has no SEV: a GenuineIntel processor/);
  });
  it('a host whose CPUID cannot be read: linted, domain.cbitpos.matches-host undecided with the reason', async () => {
    const r2 = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${fx('hosts/cpuid-not-recorded')}`, '--no-schema']);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/undecided\s+domain\.cbitpos\.matches-host: .*cannot read its CPUID: .*not recorded/);
    const r3 = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', 'gopher://x']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/unknown host scheme "gopher:"/);
  });
  it('lint-qemu --host on a host without SEV lints the command line too', async () => {
    const r = await run(lintQemuMain, [fx('qemu-cmdline/good-sev.args'), '--host', `fixture:${fx('hosts/no-sev-cpu')}`, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { host: { unavailable: { sevAbsent: boolean } }; files: Array<{ checks: Array<{ id: string; status: string }> }> };
    expect(j.host.unavailable.sevAbsent).toBe(true);
    const checks = j.files[0]!.checks;
    expect(checks.find((c) => c.id === 'domain.cbitpos.matches-host')?.status).toBe('failed');
    expect(checks.length).toBeGreaterThan(1);
  });
  it('--host and --host-cbitpos together are a usage error', async () => {
    const r = await run(lintDomainMain, ['x.xml', '--host', 'local', ...host0]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not both/);
  });
  it('lint-qemu --host TARGET --pid N reads /proc/N/cmdline on that host', async () => {
    const cmdline = readFileSync(fx('qemu-cmdline/bad-snp.cmdline'));
    const cpuid = readFileSync(fx('hosts/reference-milan/cpuid.json'), 'utf8');
    const dir = host({ 'cpuid.json': JSON.parse(cpuid) }, { 'proc/4242/cmdline': cmdline });
    const r = await run(lintQemuMain, ['--host', `fixture:${dir}`, '--pid', '4242']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^host: cbitpos 51/);
    expect(r.stdout).toMatch(/\/proc\/4242\/cmdline on fixture:/);
    const gone = await run(lintQemuMain, ['--host', `fixture:${dir}`, '--pid', '99']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^sevcheck: \/proc\/99\/cmdline on fixture:.*: cannot read: /);
    expect((await run(lintQemuMain, ['--pid', '4242'])).stderr).toMatch(/--pid needs --host/);
    expect((await run(lintQemuMain, ['--host', 'local', '--pid', 'abc'])).stderr).toMatch(/--pid must be a process id/);
  });
});
const host0 = ['--host-cbitpos', '51', '--host-reduced-phys-bits', '1'];

describe('one finding per input defect, on every lint fixture (issue 20)', () => {
  type JsonOut = { files: Array<{ file: string; checks: Array<{ id: string; status: string; fix?: string; because?: string }> }> };
  const load = (d: string) => JSON.parse(readFileSync(fx(`${d}/expected.json`), 'utf8')) as Record<string, { $defects?: string[]; '$input-error'?: string }>;
  const xmllint = which('xmllint') !== undefined;
  const cases: Array<[string, typeof lintDomainMain, string[]]> = [
    ['domains', lintDomainMain, xmllint ? host : [...host, '--no-schema']],
    ['proxmox', lintPveMain, []],
    ['qemu-cmdline', lintQemuMain, host],
  ];
  it.each(cases)('%s: the findings (failed checks owning their defect) are the defects listed in $defects; every other failure names its owner', async (d, main, extra) => {
    const expected = load(d);
    // bad-schema.xml's one defect is found by the schema alone (xmllint)
    const files = Object.keys(expected).filter((f) => !f.startsWith('$') && expected[f]!['$input-error'] === undefined && (xmllint || f !== 'bad-schema.xml'));
    expect(files.length).toBeGreaterThan(2);
    const r = await run(main, [...files.map((f) => fx(`${d}/${f}`)), ...extra, '--format', 'json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as JsonOut;
    let defects = 0;
    for (const f of files) {
      const got = out.files.find((x) => x.file.endsWith(`/${d}/${f}`))!;
      const want = expected[f]!.$defects;
      expect(want, `${d}/${f} lists its $defects`).toBeDefined();
      const findings = got.checks.filter((c) => c.status === 'failed' && c.because === undefined);
      expect(findings.map((c) => c.id), `${d}/${f}: one finding per defect (${want!.join('; ')})`).toHaveLength(want!.length);
      defects += want!.length;
      for (const c of got.checks.filter((x) => x.because !== undefined)) {
        // the owner is a finding of the same file, and the follower carries no second fix
        expect(findings.map((x) => x.id), `${d}/${f}: ${c.id} because ${c.because}`).toContain(c.because);
        expect(c.fix ?? '', `${d}/${f}: ${c.id}`).not.toMatch(/[<=]/);
      }
    }
    expect(defects).toBeGreaterThan(0);
  });
  it('the text summary counts the findings beside the failed checks', async () => {
    const r = await run(lintQemuMain, [fx('qemu-cmdline/bad-snp.cmdline'), ...host]);
    expect(r.stdout).toMatch(/^\s+failed\s+domain\.no-migration: because domain\.policy\.valid: found SNP policy 0x70000 sets MIGRATE_MA \(bit 18\); expected [^;]*$/m);
    expect(r.stdout.match(/policy=0x30000/g)).toHaveLength(1); // one fix
    expect(r.stdout).toMatch(/^1 file\(s\), 8 checks: 4 failed, 1 undecided, 3 passed, 0 skipped; 3 to fix, one fix each \(1 more check fails or is undecided because of them\)$/m);
    const pve = await run(lintPveMain, [fx('proxmox/bad-property.conf')]);
    expect(pve.stdout.match(/fix: /g)).toHaveLength(1); // one typo, one fix
  });
});
