import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { QmpError } from '../../support/qemu/qmp.js';
import { QemuProbeError, kvmUsable, parseSevCapabilities, parseSevInfo, probeQemuSev, qemuProbeArgv } from '../../support/qemu/qemu-probe.js';

function gone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const dir = mkdtempSync(join(tmpdir(), 'sevcheck-fakeqemu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake qemu-system-x86_64: a node script speaking (or mangling) QMP on stdio. */
function fakeQemu(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!${process.execPath}
const greet = () => process.stdout.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": "fake"}, "capabilities": []}}\\n');
let buf = '';
const cmds = [];
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { buf += c; let i; while ((i = buf.indexOf('\\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); onCmd(JSON.parse(l)); } });
const reply = (cmd, r) => process.stdout.write(JSON.stringify({ ...r, id: cmd.id }) + '\\n');
${body}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const hasQemu = (() => {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('qemuProbeArgv', () => {
  it('is the libvirt-style probe command line, -accel kvm only when asked', () => {
    expect(qemuProbeArgv('tcg')).toEqual(['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio']);
    expect(qemuProbeArgv('kvm').slice(-2)).toEqual(['-accel', 'kvm']);
  });
});

describe('reply validation', () => {
  it('parses SevCapability and rejects wrong shapes', () => {
    expect(parseSevCapabilities({ pdh: 'a', 'cert-chain': 'b', 'cpu0-id': 'c', cbitpos: 51, 'reduced-phys-bits': 1 })).toEqual({
      pdh: 'a',
      certChain: 'b',
      cpu0Id: 'c',
      cbitpos: 51,
      reducedPhysBits: 1,
    });
    expect(() => parseSevCapabilities({ pdh: 'a', 'cert-chain': 'b', cbitpos: '51', 'reduced-phys-bits': 1 })).toThrow(InputError);
    expect(() => parseSevCapabilities({ pdh: 'a', cbitpos: 51, 'reduced-phys-bits': 1 })).toThrow(/"cert-chain" is missing/);
    expect(() => parseSevCapabilities([])).toThrow(/not an object/);
    expect(() => parseSevCapabilities({ pdh: 'a', 'cert-chain': 'b', cbitpos: 51.5, 'reduced-phys-bits': 1 })).toThrow(/expected an integer/);
  });
  it('parses SevInfo before and after the QEMU 9.1 sev-type union', () => {
    const old = { enabled: false, 'api-minor': 0, handle: 0, state: 'uninit', 'api-major': 0, 'build-id': 0, policy: 0 };
    expect(parseSevInfo(old)).toMatchObject({ enabled: false, state: 'uninit', policy: 0, handle: 0, sevType: undefined });
    const snp = { enabled: true, 'api-major': 1, 'api-minor': 55, 'build-id': 21, state: 'running', 'sev-type': 'sev-snp', 'snp-policy': 196608 };
    expect(parseSevInfo(snp)).toMatchObject({ sevType: 'sev-snp', snpPolicy: 196608, apiMinor: 55 });
    expect(() => parseSevInfo({ ...old, enabled: 'no' })).toThrow(/"enabled" is "no"; expected a boolean/);
  });
});

describe.skipIf(!hasQemu)('live probe against the installed QEMU', () => {
  it('with KVM where usable: query-sev-capabilities is a GenericError, query-sev says disabled, QEMU is gone', async () => {
    const kvm = await kvmUsable();
    const r = await probeQemuSev();
    expect(r.accel).toBe(kvm ? 'kvm' : 'tcg');
    expect(r.qemuVersion.major).toBeGreaterThanOrEqual(2);
    // the exact answer on this Debian 12 QEMU 7.2 machine (no SEV in kvm_amd / no /dev/sev):
    expect(r.sevCapabilities).toEqual({
      ok: false,
      error: { class: 'GenericError', desc: kvm ? 'SEV is not enabled in KVM' : 'KVM not enabled' },
    });
    expect(r.sev).toMatchObject({ ok: true, value: { enabled: false, state: 'uninit', apiMajor: 0, apiMinor: 0 } });
    expect(r.events.map((e) => e.event)).toContain('SHUTDOWN');
    expect(r.exitCode).toBe(0);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.durationMs).toBeLessThan(10_000);
    expect(gone(r.pid)).toBe(true);
    console.log(`QMP probe (${r.accel}) took ${r.durationMs.toFixed(1)} ms`);
  });

  it('without KVM (-accel tcg): "KVM not enabled"', async () => {
    const r = await probeQemuSev({ accel: 'tcg' });
    expect(r.argv).not.toContain('kvm');
    expect(r.sevCapabilities).toEqual({ ok: false, error: { class: 'GenericError', desc: 'KVM not enabled' } });
    expect(gone(r.pid)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('as an unprivileged uid/gid (root only): QEMU runs as that user', async () => {
    const r = await probeQemuSev({ uid: 65534, gid: 65534 });
    // /dev/kvm here is root:root 0600, so nobody cannot use it and QEMU falls back to TCG
    expect(r.accel).toBe((await kvmUsable('/dev/kvm', { uid: 65534, gid: 65534 })) ? 'kvm' : 'tcg');
    expect(r.sevCapabilities.ok).toBe(false);
    expect(gone(r.pid)).toBe(true);
  });
});

describe('no QEMU process is ever left behind', () => {
  it('a QEMU that never answers is killed after the timeout', async () => {
    const bin = fakeQemu('hang', `greet(); function onCmd(cmd) { if (cmd.execute === 'qmp_capabilities') reply(cmd, { return: {} }); }\nprocess.on('SIGTERM', () => {});`);
    const t0 = Date.now();
    const e = await rejection(probeQemuSev({ binary: bin, accel: 'tcg', timeoutMs: 2_000, exitGraceMs: 200 }));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(e).toBeInstanceOf(QemuProbeError);
    expect(e.message).toMatch(/no reply to query-sev-capabilities within 2000 ms/);
    expect((e as QemuProbeError).cause).toBeInstanceOf(QmpError);
    expect(gone((e as QemuProbeError).pid)).toBe(true);
  });

  it('a QEMU that prints garbage is killed and the error says garbage', async () => {
    const bin = fakeQemu('garbage', `greet(); function onCmd(cmd) { if (cmd.execute === 'qmp_capabilities') return reply(cmd, { return: {} }); process.stdout.write('Segmentation fault (core dumped)\\n'); setInterval(() => {}, 1000); }`);
    const e = await rejection(probeQemuSev({ binary: bin, accel: 'tcg', timeoutMs: 2_000 }));
    expect(e).toBeInstanceOf(QemuProbeError);
    expect(e.message).toMatch(/garbage on the QMP stream \(not JSON\): "Segmentation fault/);
    expect((e as QemuProbeError).cause).toBeInstanceOf(InputError);
    expect(gone((e as QemuProbeError).pid)).toBe(true);
  });

  it('a QEMU that exits before the greeting reports the early close and its stderr', async () => {
    const bin = fakeQemu('dies', `process.stderr.write('qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied\\n'); process.exit(1); function onCmd() {}`);
    const e = await rejection(probeQemuSev({ binary: bin, accel: 'tcg', timeoutMs: 2_000 }));
    expect(e.message).toMatch(/stream (ended|closed) before the QMP greeting \(QEMU stderr: qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied\)/);
    expect((e as QemuProbeError).stderr).toMatch(/Permission denied/);
    expect(gone((e as QemuProbeError).pid)).toBe(true);
  });

  it('a QEMU that answers but ignores quit is killed after the grace period; the answers are kept', async () => {
    const bin = fakeQemu(
      'noquit',
      `greet(); function onCmd(cmd) {
        if (cmd.execute === 'qmp_capabilities') return reply(cmd, { return: {} });
        if (cmd.execute === 'query-sev-capabilities') return reply(cmd, { return: { pdh: 'AA==', 'cert-chain': 'AA==', cbitpos: 51, 'reduced-phys-bits': 1 } });
        if (cmd.execute === 'query-sev') return reply(cmd, { return: { enabled: false, 'api-major': 0, 'api-minor': 0, 'build-id': 0, state: 'uninit', policy: 0, handle: 0 } });
        if (cmd.execute === 'quit') return reply(cmd, { return: {} });
      }
      process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`,
    );
    const r = await probeQemuSev({ binary: bin, accel: 'tcg', timeoutMs: 2_000, exitGraceMs: 200 });
    expect(r.sevCapabilities).toEqual({ ok: true, value: { pdh: 'AA==', certChain: 'AA==', cpu0Id: undefined, cbitpos: 51, reducedPhysBits: 1 } });
    expect(r.signal).toBe('SIGKILL');
    expect(gone(r.pid)).toBe(true);
  });

  it('a missing binary is a clear error', async () => {
    const missing = join(dir, 'no-such-qemu');
    expect(existsSync(missing)).toBe(false);
    const e = await rejection(probeQemuSev({ binary: missing, accel: 'tcg', timeoutMs: 1_000 }));
    expect(e).toBeInstanceOf(QemuProbeError);
    expect(e.message).toBe(`${missing}: command not found`);
  });
});
