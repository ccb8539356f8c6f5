/**
 * The example site of docs/site-policy.md (docs/examples/site: a features directory, an allow-list
 * and a sevcheck.yaml) run by the real CLI against bundled fixture hosts, with every site verdict
 * asserted; the site file's errors; `sevcheck steps` and docs/steps.md; a fleet with site features,
 * a host's own site file, a waiver on a site check, metrics and a comparison.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byId, oneLine, ROOT, sevcheck, type JsonResults } from '../helpers.js';

const EXAMPLE = 'docs/examples/site';
const CONFIG = `${EXAMPLE}/sevcheck.yaml`;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'sevcheck-example-site-'));
const site = (r: JsonResults): Record<string, string> => Object.fromEntries(Object.entries(byId(r)).filter(([id]) => id.startsWith('site.')));

/** What the example's site checks decide on each bundled fixture host (docs/site-policy.md shows the same). */
const EXPECTED: Record<string, Record<string, string>> = {
  'reference-milan': {
    'site.firmware.min': 'passed', // the kernel log's "SEV API:1.55 build:21" (the fixture is a complete recording, issue 18)
    'site.tcb.snp': 'passed', // snphost ok -o json: reported TCB SNP SPL 22
    'site.asids.sev-es': 'passed',
    'site.kernel.min': 'passed',
    'site.kvm-amd.sev-es': 'passed',
    'site.cmdline.mem-encrypt': 'passed',
    'site.cmdline.no-nosmt': 'passed',
    'site.qemu.min': 'passed',
    'site.libvirt.min': 'passed',
    'site.guests.no-debug': 'passed',
    'site.guests.no-migration': 'passed',
    'site.guests.firmware-reviewed': 'undecided', // the OVMF file is not in the fixture
  },
  'milan-snp-kernel-log': {
    'site.firmware.min': 'passed',
    'site.tcb.snp': 'passed',
    'site.asids.sev-es': 'passed',
    'site.kernel.min': 'passed',
    'site.kvm-amd.sev-es': 'passed',
    'site.cmdline.mem-encrypt': 'passed',
    'site.cmdline.no-nosmt': 'passed',
    'site.qemu.min': 'passed',
    'site.libvirt.min': 'passed',
    'site.guests.no-debug': 'passed',
    'site.guests.no-migration': 'passed',
    'site.guests.firmware-reviewed': 'undecided',
  },
  'fw-1-49-dmesg': {
    'site.firmware.min': 'failed',
    'site.tcb.snp': 'undecided',
    'site.asids.sev-es': 'passed',
    'site.kernel.min': 'failed',
    'site.kvm-amd.sev-es': 'passed',
    'site.cmdline.mem-encrypt': 'passed',
    'site.cmdline.no-nosmt': 'passed',
    'site.qemu.min': 'passed',
    'site.libvirt.min': 'passed',
    'site.guests.no-debug': 'passed',
    'site.guests.no-migration': 'passed',
    'site.guests.firmware-reviewed': 'undecided',
  },
  'snphost-tcb-mismatch': {
    'site.firmware.min': 'passed',
    'site.tcb.snp': 'failed',
    'site.asids.sev-es': 'passed',
    'site.kernel.min': 'passed',
    'site.kvm-amd.sev-es': 'passed',
    'site.cmdline.mem-encrypt': 'passed',
    'site.cmdline.no-nosmt': 'passed',
    'site.qemu.min': 'passed',
    'site.libvirt.min': 'passed',
    'site.guests.no-debug': 'passed',
    'site.guests.no-migration': 'passed',
    'site.guests.firmware-reviewed': 'undecided',
  },
  'guests-misconfigured': {
    'site.firmware.min': 'undecided',
    'site.tcb.snp': 'undecided',
    'site.asids.sev-es': 'passed',
    'site.kernel.min': 'passed',
    'site.kvm-amd.sev-es': 'passed',
    'site.cmdline.mem-encrypt': 'passed',
    'site.cmdline.no-nosmt': 'passed',
    'site.qemu.min': 'undecided', // no libvirt capabilities cache in the fixture
    'site.libvirt.min': 'undecided',
    'site.guests.no-debug': 'passed',
    'site.guests.no-migration': 'failed', // legacy-app's policy 0x0003 lacks NOSEND
    'site.guests.firmware-reviewed': 'undecided',
  },
};

describe('the example site (docs/site-policy.md) on the bundled fixtures', () => {
  it('reference-genoa, whole suite: site checks beside the bundled ones, the exclude skipped with its reason, the config in the header', async () => {
    const out = join(tmp(), 'r');
    const r = await sevcheck(['run', '--config', CONFIG, '--host', 'fixture:fixtures/hosts/reference-genoa', '--out', out], {}, 180_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe(`sevcheck: reference-genoa (fixture:fixtures/hosts/reference-genoa), profile sev-snp, config ${CONFIG}`);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as JsonResults;
    // the site file is named in every report's header, not only the console's
    expect((res as unknown as { config?: string }).config).toBe(CONFIG);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(`<dt>site file</dt><dd><code>${CONFIG}</code></dd>`);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(`site file ${CONFIG.replace(/[\\`*_[\]<>|~&!#]/g, '\\$&')}`);
    expect(site(res)).toEqual(EXPECTED['reference-milan']);
    expect(byId(res)['host.cpuid.sev']).toBe('passed'); // the bundled checks still run
    const excluded = res.checks.find((c) => c.id === 'host.tools.agree');
    expect(excluded?.status).toBe('skipped');
    expect(excluded?.reason).toBe(`excluded by ${CONFIG}: snphost and sevctl are not installed on our hosts; the kernel log decides`);
  }, 240_000);
});

describe('site file and site feature errors on the command line: one line, exit 2', () => {
  it('an unknown key names the file, line and key', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'sevcheck.yaml'), 'profile: sev\nmin-firmwar: "1.55"\n');
    oneLine(await sevcheck(['run', '--config', join(dir, 'sevcheck.yaml'), '--host', 'fixture:fixtures/hosts/reference-milan']), /sevcheck\.yaml: line 2: min-firmwar: unknown key \(allowed: profile, features/);
  });
  it('a bad value names the key and what it takes', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'sevcheck.yaml'), 'min-firmware: 1.50\n');
    oneLine(await sevcheck(['fleet', '--config', join(dir, 'sevcheck.yaml'), '--inventory', join(ROOT, 'fixtures/hosts/nope.yaml')]), /sevcheck\.yaml: line 1: min-firmware: must be a quoted firmware version "X\.Y" \(YAML reads an unquoted 1\.50 as the number 1\.5\)/);
  });
  it('an unknown step in --features: FILE:LINE and the nearest step', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.feature'), 'Feature: F\n  @check:site.k\n  Scenario: S\n    Then the kernal is at least 6.11\n');
    oneLine(await sevcheck(['run', '--no-config', '--features', dir, '--host', 'fixture:fixtures/hosts/reference-milan']), /a\.feature:4: unknown step "the kernal is at least 6\.11" \(nearest: "the kernel is at least \{version\}"/);
  });
  it('a missing --config file', async () => {
    oneLine(await sevcheck(['run', '--config', '/nonexistent/sevcheck.yaml']), /--config \/nonexistent\/sevcheck\.yaml: no such file/);
  });
});

describe('sevcheck steps', () => {
  it('--format json: every step with text, keyword, parameters, example, layer; docs/steps.md is current', async () => {
    const r = await sevcheck(['steps', '--format', 'json']);
    expect(r.code).toBe(0);
    const steps = JSON.parse(r.stdout) as Array<{ text: string; keyword: string; parameters: Array<{ name: string; type: string }>; example: string; layer: string }>;
    expect(steps.length).toBeGreaterThanOrEqual(90);
    for (const s of steps) {
      expect(Object.keys(s)).toEqual(['text', 'keyword', 'parameters', 'example', 'layer']);
      expect(s.example.startsWith(`${s.keyword} `)).toBe(true);
    }
    expect(steps).toContainEqual({ text: 'the SEV firmware is at least {firmware}', keyword: 'Then', parameters: [{ name: 'version', type: 'firmware' }], example: 'Then the SEV firmware is at least 1.55', layer: 'host' });
    const md = await sevcheck(['steps', '--format', 'markdown']);
    expect(readFileSync(join(ROOT, 'docs/steps.md'), 'utf8'), 'docs/steps.md is stale: node bin/sevcheck.js steps --format markdown > docs/steps.md').toBe(md.stdout);
    const text = await sevcheck(['steps']);
    expect(text.stdout).toMatch(new RegExp(`^${steps.length} steps`, 'm'));
  }, 120_000);
});

describe('sevcheck fleet with site features', () => {
  it("every fixture host's site verdicts; site ids in fleet.json, a host's own site file, waivers, metrics and compare", async () => {
    const dir = tmp();
    const hosts = join(ROOT, 'fixtures/hosts');
    // one host names its own site file (the example's); the others get the example's features by --features
    writeFileSync(
      join(dir, 'inv.yaml'),
      ['hosts:', ...Object.keys(EXPECTED).map((h) => `  - { name: ${h}, target: "fixture:${hosts}/${h}"${h === 'fw-1-49-dmesg' ? `, config: ${join(ROOT, CONFIG)}` : ''} }`)].join('\n'),
    );
    writeFileSync(join(dir, 'waivers.yaml'), '- { check: site.kernel.min, hosts: fw-1-49-dmesg, reason: "kernel 6.11 rollout in January", expires: "2099-01-31" }\n');
    const out = join(dir, 'out');
    const r = await sevcheck(['fleet', '--no-config', '--inventory', join(dir, 'inv.yaml'), '--features', `${EXAMPLE}/features`, '--checks', '@site', '--waivers', join(dir, 'waivers.yaml'), '--out', out, '--jobs', '2'], {}, 300_000);
    expect(r.code, r.stderr).toBe(1); // unwaived site failures
    const fleet = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')) as { hosts: Array<{ name: string; checks: Array<{ id: string; status: string; expected?: string; fix?: string; waived?: unknown }> }> };
    const of = (h: string) => Object.fromEntries((fleet.hosts.find((x) => x.name === h)?.checks ?? []).map((c) => [c.id, c.waived ? 'waived' : c.status]));
    for (const h of Object.keys(EXPECTED)) expect(of(h), h).toEqual(h === 'fw-1-49-dmesg' ? { ...EXPECTED[h], 'site.kernel.min': 'waived' } : EXPECTED[h]);
    for (const c of fleet.hosts.flatMap((h) => h.checks).filter((x) => x.status === 'failed')) {
      expect(c.expected).toMatch(/site policy/);
      expect(c.fix).toBeTruthy();
    }
    const prom = readFileSync(join(out, 'metrics.prom'), 'utf8');
    expect(prom).toMatch(/sevcheck_check_failed\{host="fw-1-49-dmesg",check="site\.firmware\.min",waived="false"\} 1/);
    expect(prom).toMatch(/sevcheck_check_failed\{host="fw-1-49-dmesg",check="site\.kernel\.min",waived="true"\} 1/);
    // compare: the same hosts' results aggregated again against this run
    const again = await sevcheck(['fleet', '--no-config', '--from-results', join(out, 'hosts'), '--compare', out, '--out', join(dir, 'again'), '--format', 'json'], {}, 120_000);
    const f2 = JSON.parse(again.stdout) as { changes: { stillFailing: Record<string, string[]> } };
    expect(f2.changes.stillFailing['fw-1-49-dmesg']).toContain('site.firmware.min');
    expect(f2.changes.stillFailing['guests-misconfigured']).toContain('site.guests.no-migration');
  }, 400_000);
});
