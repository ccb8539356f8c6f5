/**
 * The site file (support/site/config.ts): parsed with YAML, validated by a JSON Schema (ajv); every
 * mistake one line naming the file, the line and the key; paths relative to the file; the default
 * file only when it exists; command-line options over the file's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, excludeReasons, parseConfig } from '../../support/site/config.js';
import { withConfig } from '../../support/cli/run.js';
import { InputError } from '../../support/errors.js';
import { ansibleEntries, parseInventory } from '../../support/fleet/inventory.js';

const bad = (text: string): string => {
  try {
    parseConfig(text, 'site/sevcheck.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  return 'accepted';
};

describe('site file', () => {
  it('reads every key, paths relative to the file', () => {
    const c = parseConfig(
      'profile: sev-snp\nfeatures: [features, /abs/f]\nwaivers: w.yaml\nmin-firmware: "1.55"\ntags: "not @layer:launch"\nfail-on-undecided: true\nlaunch: b\nvectors: v\namd-certs: c\nkds: false\nkds-cache: k\nkds-url: https://kds.example\nssh-identity: id\nssh-option: [ConnectTimeout=5]\nexclude:\n  host.tools.agree: no tools\n',
      '/etc/sevcheck/sevcheck.yaml',
    );
    expect(c).toMatchObject({ profile: 'sev-snp', features: ['/etc/sevcheck/features', '/abs/f'], waivers: '/etc/sevcheck/w.yaml', minFirmware: '1.55', failOnUndecided: true, kds: false, sshOptions: ['ConnectTimeout=5'], sshIdentity: '/etc/sevcheck/id' });
    expect(excludeReasons(c)?.get('host.tools.agree')).toBe('excluded by /etc/sevcheck/sevcheck.yaml: no tools');
    expect(parseConfig('', 'empty.yaml').features).toEqual([]);
  });
  it('every mistake is one line naming the file, the line and the key', () => {
    expect(bad('profle: sev\n')).toMatch(/^site\/sevcheck\.yaml: line 1: profle: unknown key \(allowed: profile, /);
    expect(bad('profile: sev\nmin-firmware: 1.50\n')).toBe('site/sevcheck.yaml: line 2: min-firmware: must be a quoted firmware version "X.Y" (YAML reads an unquoted 1.50 as the number 1.5)');
    expect(bad('profile: snp\n')).toMatch(/line 1: profile: must be sev, sev-es or sev-snp/);
    expect(bad('features: features\n')).toMatch(/line 1: features: must be a list of directories/);
    expect(bad('ssh-option: [x]\n')).toMatch(/line 1: ssh-option\[0\]: must be a list of ssh -o Key=Value/);
    expect(bad('exclude:\n  Host.X: why\n')).toMatch(/line 2: exclude\.Host\.X: "Host\.X" is not a check id/);
    expect(bad('exclude:\n  host.x: ""\n')).toMatch(/line 2: exclude\.host\.x: the reason must be a non-empty string/);
    expect(bad('kds: yes\n')).toMatch(/line 1: kds: must be true or false/);
    expect(bad('- a\n')).toMatch(/must be a mapping/);
    expect(bad('a: [\n')).toMatch(/^site\/sevcheck\.yaml: line \d+, column \d+: /);
    expect(bad('profile: sev\nprofile: sev-es\n')).toMatch(/line 2, column 1: Map keys must be unique/);
  });
  it('a YAML alias bomb is refused as such, naming the file (the same strict reader as inventories)', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'profile: *i', ''].join('\n');
    expect(() => parseConfig(bomb, 'site/sevcheck.yaml')).toThrow(InputError);
    expect(() => parseConfig(bomb, 'site/sevcheck.yaml')).toThrow(/^site\/sevcheck\.yaml: too many YAML aliases/);
  });
  it('the default file only when it exists; --no-config none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-config-'));
    const f = join(dir, 'sevcheck.yaml');
    expect(configPath(undefined, f)).toBeUndefined();
    writeFileSync(f, 'profile: sev\n');
    expect(configPath(undefined, f)).toBe(f);
    expect(configPath(false, f)).toBeUndefined();
    expect(configPath('other.yaml', f)).toBe('other.yaml');
  });
  it('the command line wins; --features add to the file\'s', () => {
    const c = parseConfig('profile: sev-snp\nmin-firmware: "1.55"\nfeatures: [a]\nfail-on-undecided: true\n', '/s/sevcheck.yaml');
    const o = withConfig({ host: 'local', format: 'text', outDir: 'r', profile: 'sev', features: ['/b'] }, c);
    expect(o).toMatchObject({ profile: 'sev', minFirmware: '1.55', features: ['/s/a', '/b'], failOnUndecided: true });
  });
});

describe('an inventory names a site file per host or for all', () => {
  it('config: per host and in defaults, relative to the inventory; a missing file is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-inv-'));
    writeFileSync(join(dir, 'a.yaml'), 'profile: sev\n');
    const inv = join(dir, 'inv.yaml');
    const e = parseInventory('defaults: {config: a.yaml}\nhosts:\n  - {name: x, target: local}\n  - {name: y, target: local, config: a.yaml}\n', inv);
    expect(e.map((h) => h.config)).toEqual([join(dir, 'a.yaml'), join(dir, 'a.yaml')]);
    expect(parseInventory('hosts:\n  - {name: x, target: local}\n', inv)[0]?.config).toBeUndefined();
    expect(() => parseInventory('hosts:\n  - {name: x, target: local, config: nope.yaml}\n', inv)).toThrow(/inv\.yaml: hosts\[0\]\.config: .*nope\.yaml is not a file/);
  });
  it('Ansible: the sevcheck_config host or group variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-inv-'));
    writeFileSync(join(dir, 'a.yaml'), 'profile: sev\n');
    const list = JSON.stringify({ _meta: { hostvars: { h1: { sevcheck_config: 'a.yaml' } } }, all: { children: ['ungrouped'] }, ungrouped: { hosts: ['h1'] } });
    expect(ansibleEntries(list, join(dir, 'hosts.ini'))[0]?.config).toBe(join(dir, 'a.yaml'));
  });
});
