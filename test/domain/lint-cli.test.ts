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
  it('--schema-dir pointing nowhere makes schema undecided, not failed', async () => {
    const r = await run(lintDomainMain, [fx('domains/good-sev-q35.xml'), '--schema-dir', '/nonexistent', ...host]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/undecided domain\.schema-valid: undecided: libvirt schema \/nonexistent\/domain\.rng not found/);
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
