/**
 * --min-firmware X.Y: validated up front (exit 2, one line), and host.firmware.version compares
 * major.minor against it instead of the profile's minimum.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, byId, sevcheck, type JsonResults } from '../helpers.js';

const FW149 = 'fixture:fixtures/hosts/fw-1-49-dmesg';
const TAGS = '@check:host.firmware.version';
const out = (): string => join(mkdtempSync(join(tmpdir(), 'sevcheck-minfw-')), 'reports');

describe('--min-firmware', () => {
  it.each(['1.x', '256.1'])('rejects %j with one line and exit 2', async (bad) => {
    const r = await sevcheck(['run', '--host', FW149, '--min-firmware', bad, '--tags', TAGS, '--out', out()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sevcheck: --min-firmware .*: not a firmware version major\.minor/);
  });

  it('firmware 1.49: fails the sev-snp minimum, passes --min-firmware 1.49 and the sev profile', async () => {
    const verdict = async (...args: string[]): Promise<string | undefined> => {
      const r = await sevcheck(['run', '--host', FW149, '--tags', TAGS, '--format', 'json', '--out', out(), ...args]);
      return byId(JSON.parse(r.stdout) as JsonResults)['host.firmware.version'];
    };
    expect(await verdict()).toBe('failed');
    expect(await verdict('--min-firmware', '1.49')).toBe('passed');
    expect(await verdict('--min-firmware', '2.0')).toBe('failed');
    expect(await verdict('--profile', 'sev')).toBe('passed');
  });

  it('sevcheck fleet takes it as a run option, for every host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-minfw-fleet-'));
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(inv, `hosts:\n  - name: fw149\n    target: fixture:${join(ROOT, 'fixtures/hosts/fw-1-49-dmesg')}\n    profile: sev-snp\n`);
    const verdict = async (...args: string[]): Promise<string | undefined> => {
      const o = join(mkdtempSync(join(dir, 'run-')), 'fleet');
      const r = await sevcheck(['fleet', '--inventory', inv, '--checks', TAGS, '--out', o, ...args]);
      expect(r.code, r.stderr).toBeLessThan(2);
      const fleet = JSON.parse(readFileSync(join(o, 'fleet.json'), 'utf8')) as { hosts: Array<{ checks: Array<{ id: string; status: string }> }> };
      return fleet.hosts[0]?.checks.find((c) => c.id === 'host.firmware.version')?.status;
    };
    expect(await verdict()).toBe('failed');
    expect(await verdict('--min-firmware', '1.49')).toBe('passed');
    const bad = await sevcheck(['fleet', '--inventory', inv, '--min-firmware', '1.x', '--out', join(dir, 'bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sevcheck: --min-firmware /);
  }, 120_000);
});
