/** support/facts.ts: the one optional() (issue 13 §5: it was defined twice and swallowed every rejection). */
import { describe, expect, it } from 'vitest';
import { attempt, known, optional } from '../../support/facts.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { HarnessError, HostError, notRunning, type Host } from '../../support/host/types.js';

describe('optional() and attempt()', () => {
  const hostError = () => Promise.reject(new HostError('NOT_RECORDED', 'x', 'x: not recorded in this fixture'));
  it('a HostError makes a context fact absent; its message is the reason for attempt()', async () => {
    expect(await optional(hostError)).toBeUndefined();
    expect(await optional(known(3))).toBe(3);
    expect(await attempt(hostError)).toEqual({ ok: false, reason: 'x: not recorded in this fixture' });
    expect(await attempt(known('v'))).toEqual({ ok: true, value: 'v' });
  });
  it('a HarnessError (ends the run, world.ts) and a defect propagate', async () => {
    await expect(optional(() => Promise.reject(new HarnessError('ssh: timeout')))).rejects.toBeInstanceOf(HarnessError);
    await expect(optional(Promise.reject(new TypeError('defect')))).rejects.toBeInstanceOf(TypeError);
    await expect(attempt(() => Promise.reject(new HarnessError('ssh: timeout')))).rejects.toBeInstanceOf(HarnessError);
  });
  it('NOT_RUNNING (a root file system target) is not "fact absent": it propagates, and world.decide skips the check', async () => {
    const e = notRunning('CPUID');
    await expect(optional(() => Promise.reject(e))).rejects.toBe(e);
    await expect(attempt(() => Promise.reject(e))).rejects.toBe(e);
    expect(e.message).toBe('not a running system: CPUID needs a running kernel or hardware');
  });
});

describe('CachingHost.acl', () => {
  it('asks the wrapped host once per path', async () => {
    let calls = 0;
    const inner = { target: 't', kind: 'fixture', acl: async () => (calls++, ['user::rw-', 'group::---', 'other::---']) } as unknown as Host;
    const c = new CachingHost(inner);
    await c.acl('/dev/sev');
    await c.acl('/dev/sev');
    expect(calls).toBe(1);
  });
});
