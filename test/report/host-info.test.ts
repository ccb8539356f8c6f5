/**
 * results.json hostInfo: the machine's distro, kernel, CPU model and SEV generation where known,
 * from host.json and from facts the run itself read; never a read of its own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sevcheck } from '../helpers.js';
import { Memo } from '../../support/memo.js';

const run = async (host: string, ...extra: string[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-hostinfo-'));
  const log = join(dir, 'reads.json');
  const r = await sevcheck(['run', '--host', `fixture:fixtures/hosts/${host}`, '--format', 'json', '--out', join(dir, 'reports'), ...extra], { SEVCHECK_READ_LOG: log });
  expect(r.stderr).toBe('');
  return { results: JSON.parse(r.stdout) as { hostInfo?: Record<string, string> }, reads: JSON.parse(readFileSync(log, 'utf8')) as Record<string, number> };
};

describe('results.json hostInfo', () => {
  it('names distro, kernel, CPU model and generation of a Genoa host; an Intel host has no SEV generation', async () => {
    const genoa = await run('reference-genoa');
    expect(genoa.results.hostInfo).toEqual({ distro: expect.any(String), kernel: expect.any(String), cpuModel: expect.stringMatching(/EPYC/), sevGeneration: 'genoa' });
    const intel = await run('intel-xeon-leaf-garbage', '--tags', '@layer:host');
    expect(intel.results.hostInfo).toMatchObject({ distro: 'Ubuntu 24.04.1 LTS', kernel: '6.8.0-45-generic', cpuModel: expect.stringMatching(/Xeon/) });
    expect(intel.results.hostInfo).not.toHaveProperty('sevGeneration');
  });

  it('reads nothing for itself: a run whose checks never read /proc/cpuinfo has no CPU model', async () => {
    const r = await run('reference-milan', '--tags', '@check:device.libvirt.cgroup-acl');
    expect(Object.keys(r.reads).filter((k) => k.includes('/proc/cpuinfo'))).toEqual([]);
    expect(r.results.hostInfo).toEqual({ distro: 'Ubuntu 24.04.2 LTS', kernel: '6.11.0-19-generic' });
  });

  it('Memo.peek gives what an earlier once() gave, and starts no work', async () => {
    const m = new Memo();
    let calls = 0;
    expect(await m.peek('k')).toBeUndefined();
    await m.once('k', async () => ++calls);
    expect(await m.peek('k')).toBe(1);
    await m.once('bad', async () => {
      throw new Error('x');
    }).catch(() => undefined);
    expect(await m.peek('bad')).toBeUndefined();
    expect(calls).toBe(1);
  });
});
