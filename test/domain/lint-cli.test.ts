import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintDomainMain, lintPveMain, lintQemuMain } from '../../support/cli/lint.js';

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
    expect(r.stdout).toMatch(/2 file\(s\): 18 passed, 0 failed/);
  });
  it('exit 1 on a failure, message names file, found, expected and fix', async () => {
    const r = await run(lintDomainMain, [fx('domains/bad-iommu-missing.xml'), ...host]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+domain\.virtio\.iommu: found 1 virtio device\(s\) in .*bad-iommu-missing\.xml.*rng virtio.*fix: rng virtio: add <driver iommu='on'\/> inside <rng>/);
  });
  it('exit 2 with one line per unreadable file', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), fx('domains/attack-xxe.xml'), '/nonexistent.xml']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sevcheck: .*attack-xxe\.xml: line 2: <!DOCTYPE> declarations are refused/);
    expect(lines[1]).toBe('sevcheck: /nonexistent.xml: cannot read: ENOENT');
  });
  it('--format json', async () => {
    const r = await run(lintDomainMain, [fx('domains/bad-cbitpos.xml'), '--format', 'json', ...host]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { files: { file: string; checks: { id: string; status: string }[] }[] };
    expect(j.files[0]!.checks.find((c) => c.id === 'domain.cbitpos.matches-host')!.status).toBe('failed');
    expect(j.files[0]!.checks.map((c) => c.id)[0]).toBe('domain.schema-valid');
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
    expect(r.stdout).toMatch(/FAIL\s+domain\.cbitpos\.matches-host: found cbitpos 47 .* but the host has 51/);
  });
  it('domcapabilities when the host answers it (JSON output carries the host facts)', async () => {
    const domcaps = readFileSync(fx('caps-samples/domcaps-milan-sev.xml'), 'utf8');
    const dir = host({ 'commands.json': [{ argv: ['virsh', '-c', 'qemu:///system', 'domcapabilities'], exitCode: 0, stdout: domcaps }] });
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${dir}`, '--no-schema', '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { host: { cbitpos: number; source: string } };
    expect(j.host).toMatchObject({ cbitpos: 51, reducedPhysBits: 1, source: expect.stringMatching(/virsh domcapabilities <sev>$/) });
  });
  it('a host without SEV, or whose CPUID cannot be read: exit 2 with one line', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${fx('hosts/no-sev-cpu')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sevcheck: fixture:.*no-sev-cpu: the host has no SEV \(no CPUID leaf 0x8000001F/);
    const r2 = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', `fixture:${fx('hosts/cpuid-not-recorded')}`]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/cannot read the host's C-bit position: .*not recorded/);
    const r3 = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--host', 'gopher://x']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/unknown host scheme "gopher:"/);
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
