/**
 * sevcheck fleet's inputs (issue 10, docs/fleet.md): the inventory YAML, Ansible inventories
 * (ansible-inventory --list), waivers (expiry with an injected date, stale ones), the comparison
 * with a previous fleet.json and the exit code with --fail-on new. Every bad input of the issue is
 * one InputError naming the file and the entry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { ansibleEntries, parseInventory } from '../../support/fleet/inventory.js';
import { applyWaivers, globRegExp, parseWaivers } from '../../support/fleet/waivers.js';
import { compareFleets, fleetExitCode } from '../../support/fleet/compare.js';
import type { FleetHost } from '../../support/fleet/types.js';
import { ROOT } from '../helpers.js';

const INV = join(ROOT, 'fixtures/inv.yaml'); // a name only: targets resolve against fixtures/
const bad = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('inventory YAML', () => {
  it('reads hosts, defaults, tags; fixture paths relative to the inventory file', () => {
    const hosts = parseInventory(
      `defaults: {profile: sev-snp, tags: [lab]}
hosts:
  - name: epyc-a1
    target: ssh://root@epyc-a1:2222
    profile: sev-es
    tags: [rack-a, milan]
  - {name: ref.milan_1, target: fixture:hosts/reference-milan}
  - {name: me, target: local}
  - {name: img, target: rootfs:hosts}
  - {name: disk, target: image:hosts/reference-milan/host.json}
`,
      INV,
    );
    expect(hosts).toEqual([
      { name: 'epyc-a1', target: 'ssh://root@epyc-a1:2222', profile: 'sev-es', tags: ['rack-a', 'milan'] },
      { name: 'ref.milan_1', target: `fixture:${resolve(ROOT, 'fixtures/hosts/reference-milan')}`, profile: 'sev-snp', tags: ['lab'] },
      { name: 'me', target: 'local', profile: 'sev-snp', tags: ['lab'] },
      { name: 'img', target: `rootfs:${resolve(ROOT, 'fixtures/hosts')}`, profile: 'sev-snp', tags: ['lab'] },
      // image:FILE: relative to the inventory like rootfs:, only its existence checked here (ImageHost opens it)
      { name: 'disk', target: `image:${resolve(ROOT, 'fixtures/hosts/reference-milan/host.json')}`, profile: 'sev-snp', tags: ['lab'] },
    ]);
    expect(parseInventory('hosts: [{name: a, target: local}]', INV)[0]?.profile).toBeUndefined();
  });

  it.each([
    ['duplicate host names', 'hosts:\n  - {name: a, target: local}\n  - {name: a, target: local}\n', 'inv.yaml: hosts[1].name: duplicate host name "a" (also hosts[0])'],
    ['a duplicate key', 'hosts:\n  - name: a\n    name: b\n    target: local\n', 'inv.yaml: line 3, column 5: Map keys must be unique'],
    ['an unknown host key', 'hosts:\n  - {name: a, target: local, rack: 3}\n', 'inv.yaml: hosts[0].rack: unknown key (allowed: name, target, profile, tags, config)'],
    ['an unknown top-level key', 'hosts: []\nhostz: []\n', 'inv.yaml: hostz: unknown key (allowed: defaults, hosts)'],
    ['a target that is not a target', 'hosts:\n  - {name: a, target: local}\n  - {name: b, target: epyc-b}\n', 'inv.yaml: hosts[1].target: epyc-b: not a target; use local, ssh://[user@]host[:port], fixture:DIR, rootfs:DIR or image:FILE'],
    ['an image file that does not exist', 'hosts:\n  - {name: a, target: "image:disks/nope.qcow2"}\n', `inv.yaml: hosts[0].target: image:disks/nope.qcow2: file ${resolve(ROOT, 'fixtures/disks/nope.qcow2')} does not exist`],
    ['an image that is a directory', 'hosts:\n  - {name: a, target: "image:hosts"}\n', `inv.yaml: hosts[0].target: image:hosts: ${resolve(ROOT, 'fixtures/hosts')} is a directory (a root file system is rootfs:DIR)`],
    ['an image without a file', 'hosts:\n  - {name: a, target: "image:"}\n', 'inv.yaml: hosts[0].target: image: needs a disk image file (raw or qcow2)'],
    ['an ssh target with a path', 'hosts:\n  - {name: a, target: "ssh://root@h/x"}\n', 'inv.yaml: hosts[0].target: ssh://root@h/x: not a valid ssh://[user@]host[:port] address'],
    ['a fixture dir that does not exist', 'hosts:\n  - {name: a, target: "fixture:hosts/nope"}\n', `inv.yaml: hosts[0].target: fixture:hosts/nope: directory ${resolve(ROOT, 'fixtures/hosts/nope')} does not exist`],
    ['a bad name', 'hosts:\n  - {name: "a b", target: local}\n', 'inv.yaml: hosts[0].name: is not a host name (a host name is labels of letters, digits, "_" and "-" (not first or last) separated by dots'],
    ['a missing target', 'hosts:\n  - {name: a}\n', 'inv.yaml: hosts[0].target: must be a non-empty string (missing)'],
    ['a bad profile', 'hosts:\n  - {name: a, target: local, profile: snp}\n', 'inv.yaml: hosts[0].profile: must be one of sev, sev-es, sev-snp'],
    ['no hosts', 'defaults: {}\n', 'inv.yaml: hosts: missing'],
    ['an empty host list', 'hosts: []\n', 'inv.yaml: hosts: must have at least 1 entry'],
    ['not YAML', 'hosts: [\n', 'inv.yaml: line 2, column 1:'],
  ])('refuses %s, naming file and entry', (_what, text, message) => {
    expect(bad(() => parseInventory(text, INV))).toContain(message.replace('inv.yaml', INV));
  });
});

describe('Ansible inventories', () => {
  const list = {
    _meta: { hostvars: { 'epyc-a1': { ansible_host: '10.0.0.5', ansible_user: 'root', ansible_port: 2222, sevcheck_profile: 'sev-snp' }, 'epyc-b2': {} } },
    all: { children: ['ungrouped', 'rack_a', 'milan'] },
    rack_a: { hosts: ['epyc-a1'], children: ['rack_a_top'] },
    rack_a_top: { hosts: ['epyc-b2'] },
    milan: { hosts: ['epyc-a1'] },
    ungrouped: { hosts: [] },
  };
  it('ansible_host/user/port → ssh://, sevcheck_profile → profile, groups (through children) → tags, not all/ungrouped', () => {
    expect(ansibleEntries(JSON.stringify(list), 'hosts.ini')).toEqual([
      { name: 'epyc-a1', target: 'ssh://root@10.0.0.5:2222', profile: 'sev-snp', tags: ['milan', 'rack_a'] },
      { name: 'epyc-b2', target: 'ssh://epyc-b2', profile: undefined, tags: ['rack_a', 'rack_a_top'] },
    ]);
  });
  it('refuses a bad sevcheck_profile or port, naming the host', () => {
    const withVars = (v: object): string => JSON.stringify({ ...list, _meta: { hostvars: { 'epyc-a1': v } } });
    expect(bad(() => ansibleEntries(withVars({ sevcheck_profile: 'snp' }), 'hosts.ini'))).toBe('hosts.ini: host epyc-a1: sevcheck_profile: must be one of sev, sev-es, sev-snp');
    expect(bad(() => ansibleEntries(withVars({ ansible_port: 'x' }), 'hosts.ini'))).toBe('hosts.ini: host epyc-a1: ansible_port "x" is not a port');
  });

  const ANSIBLE = '/usr/bin/ansible-inventory';
  it.skipIf(!existsSync(ANSIBLE))(`reads a real INI inventory through ${ANSIBLE} (skipped when ansible-core is not installed)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-ansible-'));
    const ini = join(dir, 'hosts.ini');
    writeFileSync(ini, '[rack_a]\nepyc-a1 ansible_host=10.0.0.5 ansible_user=root ansible_port=2222 sevcheck_profile=sev-snp\nepyc-a2\n\n[milan:children]\nrack_a\n\n[loose]\n');
    const out = execFileSync(ANSIBLE, ['-i', ini, '--list'], { timeout: 60_000, encoding: 'utf8', env: { ...process.env, ANSIBLE_LOCAL_TEMP: dir, HOME: dir } });
    expect(ansibleEntries(out, ini)).toEqual([
      { name: 'epyc-a1', target: 'ssh://root@10.0.0.5:2222', profile: 'sev-snp', tags: ['milan', 'rack_a'] },
      { name: 'epyc-a2', target: 'ssh://epyc-a2', profile: undefined, tags: ['milan', 'rack_a'] },
    ]);
  }, 60_000);
});

const host = (name: string, failed: string[], extra: Partial<FleetHost> = {}): FleetHost => ({
  name,
  target: 'local',
  profile: 'sev',
  tags: [],
  exitCode: failed.length ? 1 : 0,
  checks: [
    ...failed.map((id) => ({ id, status: 'failed' as const, scenario: id, feature: 'f', message: 'm' })),
    { id: 'ok.check', status: 'passed' as const, scenario: 'ok', feature: 'f', message: 'passed' },
  ],
  ...extra,
});

describe('waivers', () => {
  const W = 'waivers.yaml';
  it('reads check, hosts glob, reason, expires; refuses a missing expiry, an invalid date, unknown keys', () => {
    expect(parseWaivers('- {check: host.kvm-amd.sev, hosts: "epyc-a*", reason: firmware update pending, expires: 2026-12-31}\n', W)).toEqual([
      { check: 'host.kvm-amd.sev', hosts: 'epyc-a*', reason: 'firmware update pending', expires: '2026-12-31' },
    ]);
    expect(bad(() => parseWaivers('- {check: a.b, reason: r}\n', W))).toBe('waivers.yaml: [0].expires: missing (check, reason and expires are required)');
    expect(bad(() => parseWaivers('- {check: a.b, reason: r, expires: 2026-02-30}\n', W))).toBe('waivers.yaml: [0].expires: "2026-02-30" is not a date YYYY-MM-DD');
    expect(bad(() => parseWaivers('- {check: a.b, reason: r, expires: 31.12.2026}\n', W))).toBe('waivers.yaml: [0].expires: "31.12.2026" is not a date YYYY-MM-DD');
    expect(bad(() => parseWaivers('- {check: a.b, reason: r, expires: 2026-12-31, owner: me}\n', W))).toBe('waivers.yaml: [0].owner: unknown key (allowed: check, hosts, reason, expires)');
    expect(bad(() => parseWaivers('- {check: a.b, expires: 2026-12-31}\n', W))).toBe('waivers.yaml: [0].reason: missing (check, reason and expires are required)');
    expect(bad(() => parseWaivers('check: a.b\n', W))).toBe('waivers.yaml: must be a list of {check, hosts, reason, expires}');
  });

  it('globs on host names', () => {
    expect(globRegExp('epyc-a*').test('epyc-a17')).toBe(true);
    expect(globRegExp('epyc-a*').test('epyc-b1')).toBe(false);
    expect(globRegExp('epyc-[ab]?').test('epyc-b1')).toBe(true);
    expect(globRegExp('epyc-[!ab]?').test('epyc-b1')).toBe(false);
    expect(globRegExp('a.b').test('axb')).toBe(false);
  });

  it('a waived failure stays failed with {reason, expires}; expired ones are listed and not applied; unmatched ones are stale', () => {
    const waivers = parseWaivers(
      `- {check: host.kvm-amd.sev, hosts: "epyc-a*", reason: BIOS update on 12-20, expires: 2026-12-31}
- {check: host.cpuid.sev, reason: old waiver, expires: 2026-12-02}
- {check: device.sev.exists, hosts: nothing-*, reason: matches no host, expires: 2027-01-01}
`,
      W,
    );
    const hosts = [host('epyc-a1', ['host.kvm-amd.sev', 'host.cpuid.sev']), host('epyc-b1', ['host.kvm-amd.sev'])];
    const { hosts: out, report } = applyWaivers(hosts, waivers, '2026-12-03');
    expect(out[0]?.checks[0]).toMatchObject({ id: 'host.kvm-amd.sev', status: 'failed', waived: { reason: 'BIOS update on 12-20', expires: '2026-12-31' } });
    expect(out[0]?.checks[1]).not.toHaveProperty('waived'); // expired the day before
    expect(out[1]?.checks[0]).not.toHaveProperty('waived'); // epyc-b1 not in the glob
    expect(report.expired.map((w) => w.check)).toEqual(['host.cpuid.sev']);
    expect(report.stale.map((w) => w.check)).toEqual(['device.sev.exists']);
    // the expiry day itself still counts; the day after it does not
    expect(applyWaivers(hosts, waivers, '2026-12-31').hosts[1]?.checks[0]).not.toHaveProperty('waived');
    expect(applyWaivers(hosts, waivers, '2026-12-31').hosts[0]?.checks[0]).toHaveProperty('waived');
    expect(applyWaivers(hosts, waivers, '2027-01-01').report.expired.map((w) => w.check)).toContain('host.kvm-amd.sev');
    // waived failures do not count for the exit code
    const allWaived = applyWaivers([host('epyc-a1', ['host.kvm-amd.sev'])], waivers, '2026-12-03').hosts;
    expect(fleetExitCode(allWaived, 'any')).toBe(0);
    expect(fleetExitCode(out, 'any')).toBe(1);
  });
});

describe('--compare and --fail-on new', () => {
  const prev = { startedAt: '2026-12-02T01:00:00.000Z', hosts: [host('a', ['x.one', 'x.two']), host('b', []), host('gone', ['x.one'])] };
  it('new, fixed, still failing per host; new and missing hosts', () => {
    const now = [host('a', ['x.two', 'x.three']), host('b', ['x.one']), host('c', ['x.four'])];
    const ch = compareFleets(prev, '/r/prev', now);
    expect(ch).toEqual({
      against: { dir: '/r/prev', startedAt: '2026-12-02T01:00:00.000Z' },
      new: { a: ['x.three'], b: ['x.one'], c: ['x.four'] },
      fixed: { a: ['x.one'] },
      stillFailing: { a: ['x.two'] },
      waived: {},
      newHosts: ['c'],
      missingHosts: ['gone'],
    });
    expect(fleetExitCode(now, 'new', ch)).toBe(1);
  });
  it('--fail-on new: only still-failing ones exit 0; an error host still exits 1', () => {
    const now = [host('a', ['x.one', 'x.two']), host('b', [])];
    const ch = compareFleets(prev, '/r/prev', now);
    expect(ch.new).toEqual({});
    expect(fleetExitCode(now, 'any', ch)).toBe(1);
    expect(fleetExitCode(now, 'new', ch)).toBe(0);
    expect(fleetExitCode([...now, host('c', [], { error: 'timed out after 5 s', checks: [] })], 'new', ch)).toBe(1);
  });
});
