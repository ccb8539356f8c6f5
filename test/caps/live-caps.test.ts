/**
 * The caps layer against this machine's real QEMU (Debian QEMU 7.2, /dev/kvm root-only, no
 * /dev/sev, no libvirtd): QEMU is really started (as libvirt's QEMU user, or nobody as a
 * stand-in when that user does not exist), asked, quit; the checks are failed or undecided with
 * QEMU's exact answer; no QEMU process is left; the probe time is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../support/host/local-host.js';
import { probeContextOf } from '../../support/qemu/qemu-probe.js';
import { sevcheck, type JsonResults } from '../helpers.js';

const hasQemu = (() => {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();
const qemuPids = (): string[] => {
  try {
    return execFileSync('pgrep', ['-f', '^(setpriv .*)?qemu-system-x86_64 -machine none -nodefaults'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe.skipIf(!hasQemu)('caps layer live on this machine', () => {
  it('Host.qmp: one real QEMU answers; it is gone afterwards; probe time', async () => {
    const h = new LocalHost();
    const t0 = performance.now();
    const caps = await h.qmp('query-sev-capabilities');
    const first = performance.now() - t0;
    const t1 = performance.now();
    await h.qmp('query-sev');
    await h.qmp('query-kvm');
    const rest = performance.now() - t1;
    await h.close();
    expect('error' in caps && caps.error.desc).toMatch(/^(SEV is not enabled in KVM|KVM not enabled)$/);
    const ctx = probeContextOf(caps)!;
    expect(ctx.qemu).toMatch(/^\d+\.\d+\.\d+/);
    if (process.getuid?.() === 0) expect(ctx.ranAs).not.toMatch(/^root/);
    expect(rest).toBeLessThan(5); // answered from the same probe: no second QEMU
    expect(qemuPids()).toEqual([]);
    console.log(`QMP probe through Host.qmp: ${first.toFixed(0)} ms to the first answer (QEMU spawn to reap ${ctx.durationMs} ms), as ${ctx.ranAs}`);
  });

  it('sevcheck run --host local: caps checks failed/undecided with QEMU\'s exact answer, never passed, no QEMU left', async () => {
    const r = await sevcheck(['run', '--host', 'local', '--tags', '@layer:caps', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    expect(r.stderr).toBe('');
    const checks = (JSON.parse(r.stdout) as JsonResults).checks;
    for (const c of checks) expect(['failed', 'undecided', 'skipped'], `${c.id}: ${c.message}`).toContain(c.status);
    const qmp = checks.find((c) => c.id === 'caps.qmp.sev-capabilities')!;
    expect(qmp.message).toMatch(/QMP query-sev-capabilities answered GenericError "(SEV is not enabled in KVM|KVM not enabled)" \(QEMU \d+\.\d+\.\d+/);
    // "KVM not enabled" only from a stand-in identity that cannot open /dev/kvm: then undecided, saying so
    if (/"KVM not enabled"/.test(qmp.message)) {
      expect(qmp.status).toBe('undecided');
      expect(qmp.message).toMatch(/run as (nobody .* as a stand-in|sevcheck's own user)/);
    } else expect(qmp.status).toBe('failed');
    expect(checks.find((c) => c.id === 'caps.pdh.chain-valid')!.message).toMatch(/no PDH\/cert chain to verify/);
    expect(qemuPids()).toEqual([]);
  });
});
