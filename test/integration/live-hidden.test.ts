/**
 * issue 13 §4: the live tests must hold on any x86-64 machine — Intel or AMD, with or without KVM
 * and a CPUID device. This runs test/integration/live.test.ts once more on this machine with
 * /dev/cpu/N/cpuid, /dev/kvm and /dev/sev hidden: a private mount namespace (unshare --mount)
 * whose /dev is a tmpfs with only the basic nodes (scripts/hide-devices.mjs). Needs root (CI runs
 * as root); elsewhere it says why it is skipped. The host's own /dev is never changed.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const UNSHARE = ['unshare', '--mount', '--propagation', 'private', '--'] as const;

/** Why the namespace cannot be made here, or undefined when it can. */
function cannotHide(): string | undefined {
  if (process.env.SEVCHECK_DEVICES_HIDDEN) return 'already inside the hidden-devices namespace';
  if (process.getuid?.() !== 0) return 'a mount namespace needs root (CI runs as root)';
  const probe = spawnSync(UNSHARE[0], [...UNSHARE.slice(1), 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error || probe.status !== 0) return `unshare --mount is not possible here: ${probe.error?.message ?? probe.stderr.trim()}`;
  return undefined;
}

describe('live tests with the CPUID and KVM devices hidden (mount namespace)', () => {
  it('test/integration/live.test.ts passes on this machine without /dev/cpu/*/cpuid, /dev/kvm and /dev/sev', { timeout: 300_000 }, (ctx) => {
    const why = cannotHide();
    if (why) {
      console.log(`skipped: ${why}`);
      ctx.skip();
      return;
    }
    // a clean environment for the inner vitest (not a worker of this one)
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS' && k !== 'TEST'));
    const r = spawnSync(
      UNSHARE[0],
      [...UNSHARE.slice(1), process.execPath, resolve(ROOT, 'scripts/hide-devices.mjs'), '--', process.execPath, resolve(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/integration/live.test.ts'],
      { cwd: ROOT, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 290_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/hide-devices: hidden \/dev\/cpu\/0\/cpuid, \/dev\/kvm, \/dev\/sev/);
    expect(out, out).toMatch(/\/dev\/cpu\/0\/cpuid absent, \/dev\/kvm absent/); // the inner run saw the machine without them
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/Tests\s+4 passed \(4\)/);
  });
});
