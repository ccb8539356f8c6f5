/**
 * support/report/findings.ts, pure: totals by check id (worst of its scenarios), the cause graph
 * (rules/causes.ts) turning failures into causes and symptoms, undecided checks grouped by reason.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checksLine, findings, idOrder, totals, totalsLine, verdictOf, type FindingScenario } from '../../support/report/findings.js';
import { CAUSES, names, UNDECIDED_CLASSES, type CauseRule } from '../../support/rules/causes.js';
import type { Status } from '../../support/verdict.js';

let n = 0;
function sc(id: string, status: Status, extra: Partial<FindingScenario> = {}): FindingScenario {
  n++;
  const message = status === 'failed' ? `found x; expected y; fix: fix ${id}` : `${status}: r${n}`;
  return { id, status, scenario: `${id} scenario ${n}`, message, ...(status === 'failed' ? { found: 'x', expected: 'y', fix: `fix ${id}` } : {}), ...extra };
}

describe('totals', () => {
  it('counts check ids, each with the worst status of its scenarios', () => {
    const t = totals([sc('a', 'passed'), sc('a', 'failed'), sc('a', 'skipped'), sc('b', 'skipped'), sc('b', 'undecided'), sc('c', 'passed'), sc('d', 'skipped')]);
    expect(t).toEqual({ failed: 1, undecided: 1, passed: 1, skipped: 1 });
    expect(totalsLine(t)).toBe('1 failed, 1 undecided, 1 passed, 1 skipped');
    expect(checksLine(t)).toBe('4 checks: 1 failed, 1 undecided, 1 passed, 1 skipped');
  });

  it('the verdict follows the totals', () => {
    expect(verdictOf({ failed: 1, undecided: 0, passed: 3, skipped: 0 }).words).toBe('NOT COMPLIANT');
    expect(verdictOf({ failed: 0, undecided: 2, passed: 3, skipped: 0 }).words).toBe('COMPLIANT SO FAR');
    expect(verdictOf({ failed: 0, undecided: 2, passed: 3, skipped: 0 }, true).words).toBe('NOT COMPLIANT');
    expect(verdictOf({ failed: 0, undecided: 0, passed: 3, skipped: 9 }).words).toBe('COMPLIANT');
  });
});

describe('findings: causes before symptoms', () => {
  it('modprobe-conflict: host.kvm-amd.sev is shown under host.modprobe.sev, whose fix is the only one', () => {
    const f = findings([
      sc('host.kvm-amd.sev', 'failed'),
      sc('host.modprobe.sev', 'failed', { fix: 'change /etc/modprobe.d/zz-kvm-tuning.conf:2 to sev=1' }),
      sc('host.cpu.amd', 'passed'),
    ]);
    expect(f.causes.map((c) => c.check.id)).toEqual(['host.modprobe.sev']);
    expect(f.causes[0]!.fix).toBe('change /etc/modprobe.d/zz-kvm-tuning.conf:2 to sev=1');
    expect(f.causes[0]!.symptoms.map((s) => [s.id, s.because])).toEqual([['host.kvm-amd.sev', ['host.modprobe.sev']]]);
    expect(f.totals.failed).toBe(2); // symptoms still count as failed checks
  });

  it('not AMD: every CPUID/firmware/MSR check is under host.cpu.amd, transitively, with the nearest cause named', () => {
    const f = findings([
      sc('host.cpu.amd', 'failed'),
      sc('host.cpuid.sev', 'failed'),
      sc('host.cpu.sev-flag', 'failed'),
      sc('host.kvm-amd.sev', 'failed'),
      sc('host.msr.syscfg-sme', 'undecided'),
      sc('host.firmware.version', 'undecided'),
      sc('device.sev.exists', 'failed'),
      sc('device.memlock', 'undecided', { reason: 'cannot tell who QEMU runs as: x' }),
    ]);
    expect(f.causes.map((c) => c.check.id)).toEqual(['host.cpu.amd']);
    const under = Object.fromEntries(f.causes[0]!.symptoms.map((s) => [s.id, s.because]));
    expect(under).toEqual({
      'host.cpuid.sev': ['host.cpu.amd'],
      'host.cpu.sev-flag': ['host.cpuid.sev'],
      'host.kvm-amd.sev': ['host.cpu.sev-flag'],
      'host.msr.syscfg-sme': ['host.cpu.amd'],
      'host.firmware.version': ['device.sev.exists'],
      'device.sev.exists': ['host.cpu.sev-flag'],
    });
    // the undecided check no failure explains is grouped by its reason, with one remedy
    expect(f.undecided).toHaveLength(1);
    expect(f.undecided[0]).toMatchObject({ key: 'qemu-user', checks: [{ id: 'device.memlock' }] });
    expect(f.undecided[0]!.remedy).toMatch(/qemu\.conf/);
  });

  it('a failure no rule connects stays a cause of its own', () => {
    const f = findings([sc('host.kernel.mem-encrypt', 'failed'), sc('device.udev.sev-rule', 'failed')]);
    expect(f.causes.map((c) => c.check.id)).toEqual(['host.kernel.mem-encrypt', 'device.udev.sev-rule']);
    expect(f.checks.every((c) => c.because.length === 0 && c.root === undefined)).toBe(true);
  });

  it('two root causes with the same fix are one cause: the second is shown under the first, "same fix"', () => {
    const bios = 'enable SME/SMEE in the BIOS';
    const f = findings([sc('host.cpu.sev-flag', 'failed', { fix: bios }), sc('host.kernel.mem-encrypt', 'failed', { fix: bios }), sc('host.kvm-amd.sev', 'failed')]);
    expect(f.causes.map((c) => c.check.id)).toEqual(['host.cpu.sev-flag']);
    const mem = f.checks.find((c) => c.id === 'host.kernel.mem-encrypt')!;
    expect(mem).toMatchObject({ root: 'host.cpu.sev-flag', sameFixAs: 'host.cpu.sev-flag', because: ['host.cpu.sev-flag'] });
    expect(f.causes[0]!.symptoms.map((s) => s.id).sort()).toEqual(['host.kernel.mem-encrypt', 'host.kvm-amd.sev']);
  });

  it('a cycle in the graph still gives a root (the first to run)', () => {
    const rules: CauseRule[] = [
      { cause: 'x.a', explains: ['x.b'], why: '' },
      { cause: 'x.b', explains: ['x.a'], why: '' },
    ];
    const f = findings([sc('x.b', 'failed'), sc('x.a', 'failed')], rules);
    expect(f.causes.map((c) => c.check.id)).toEqual(['x.b']);
    expect(f.causes[0]!.symptoms.map((s) => s.id)).toEqual(['x.a']);
  });

  it('a passed or skipped check is never a symptom, and a passed check is never a cause', () => {
    const f = findings([sc('host.cpu.amd', 'passed'), sc('host.cpuid.sev', 'failed'), sc('host.kvm-amd.sev', 'passed'), sc('host.kvm-amd.sev-es', 'skipped')]);
    expect(f.causes.map((c) => [c.check.id, c.symptoms.length])).toEqual([['host.cpuid.sev', 0]]);
  });

  it('undecided checks are grouped by reason class, largest group first; an unknown reason is a group of its own', () => {
    const log = 'no kernel log with SEV lines (journalctl -k -b: not recorded in this fixture)';
    const f = findings([
      sc('host.firmware.version', 'undecided', { reason: log }),
      sc('host.snp.init', 'undecided', { reason: log }),
      sc('host.snp.tcb', 'undecided', { reason: 'dmesg has no line that decides the TCB comparison' }),
      sc('host.msr.syscfg-snp', 'undecided', { reason: 'MSR 0xc0010010 on CPU 0: not recorded in this fixture' }),
      sc('other.thing', 'undecided', { message: 'undecided: something odd' }),
    ]);
    expect(f.undecided.map((g) => [g.key, g.checks.length])).toEqual([
      ['kernel-log', 3],
      ['msr', 1],
      ['reason:something odd', 1],
    ]);
    expect(f.undecided[0]!.need).toBe('need the kernel log');
    expect(f.undecided[2]).toMatchObject({ need: 'something odd', remedy: undefined });
  });

  it('layers total by check id in run order', () => {
    const f = findings([sc('host.a', 'passed'), sc('host.a', 'failed'), sc('device.b', 'skipped'), sc('host.c', 'undecided')]);
    expect(f.layers).toEqual([
      { layer: 'host', totals: { failed: 1, undecided: 1, passed: 0, skipped: 0 } },
      { layer: 'device', totals: { failed: 0, undecided: 0, passed: 0, skipped: 1 } },
    ]);
    expect(f.checks.find((c) => c.id === 'host.a')).toMatchObject({ status: 'failed', lead: { status: 'failed' } });
  });
});

describe('rules/causes.ts: the graph is data about real check ids', () => {
  it('every cause and every explained id or prefix names a check in features/', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { ROOT } = await import('../helpers.js');
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.feature') ? [join(d, e.name)] : []));
    const ids = new Set(walk(join(ROOT, 'features')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/@check:(\S+)/g)].map((m) => m[1]!)));
    const unknown = CAUSES.flatMap((r) => [r.cause, ...r.explains].filter((p) => ![...ids].some((id) => names(p, id))));
    expect(unknown).toEqual([]);
    expect(UNDECIDED_CLASSES.map((c) => c.key)).toEqual([...new Set(UNDECIDED_CLASSES.map((c) => c.key))]);
  });
});

describe("a scenario's declared owner (a linter's `because`, one finding per input defect)", () => {
  it('explains the check only where the owner failed on the same scenario (file)', () => {
    const f1 = (id: string, status: Status, extra: Partial<FindingScenario> = {}) => ({ ...sc(id, status, extra), scenario: 'a.xml' });
    const f2 = (id: string, status: Status, extra: Partial<FindingScenario> = {}) => ({ ...sc(id, status, extra), scenario: 'b.xml' });
    const same = findings([f1('domain.policy.valid', 'failed'), f1('domain.no-migration', 'failed', { because: ['domain.policy.valid'] })], []);
    expect(same.causes.map((c) => c.check.id)).toEqual(['domain.policy.valid']);
    expect(same.causes[0]!.symptoms.map((s) => s.id)).toEqual(['domain.no-migration']);
    expect(same.checks.find((c) => c.id === 'domain.no-migration')!.because).toEqual(['domain.policy.valid']);
    // the owner failed on another file only: b.xml's failure is a finding of its own
    const other = findings([f1('domain.policy.valid', 'failed'), f2('domain.policy.valid', 'passed'), f2('domain.no-migration', 'failed', { because: ['domain.policy.valid'] }), f1('domain.no-migration', 'failed')], []);
    expect(other.causes.map((c) => c.check.id).sort()).toEqual(['domain.no-migration', 'domain.policy.valid']);
  });
});

describe('undecided inside a virtual machine: one group, one remedy', () => {
  it("the registers a guest cannot read for the host (rules/host-cpu.ts) group together, whatever register the reason names", () => {
    // two checks' reasons on a KVM guest, as rules/host-cpu.ts words them
    const vm = (what: string) => `this is a virtual machine (/proc/cpuinfo lists "hypervisor"): ${what} is the hypervisor's emulation and says nothing about the physical host; run sevcheck on the bare-metal EPYC host`;
    const cpuInVm = [['host.cpuid.same-on-all-cpus', vm('SYSCFG')], ['host.msr.syscfg-sme', vm('SYSCFG (MSR 0xc0010010)')]] as const;
    const f = findings(cpuInVm.map(([id, reason]) => sc(id, 'undecided', { message: `undecided: ${reason}`, reason })));
    expect(f.undecided.map((g) => [g.key, g.checks.map((c) => c.id)])).toEqual([['virtual-machine', cpuInVm.map(([id]) => id)]]);
    expect(f.undecided[0]!.remedy).toMatch(/bare-metal EPYC host/);
  });
});

describe('idOrder: localeCompare\'s order without ICU for check ids and report file names', () => {
  const sign = (n: number): number => Math.sign(n);
  it('equals localeCompare on strings of [a-z0-9.-] (property), and on anything else by falling back', () => {
    const plain = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'), maxLength: 12 });
    fc.assert(fc.property(plain, plain, (a, b) => sign(idOrder(a, b)) === sign(a.localeCompare(b))), { numRuns: 20_000 });
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => sign(idOrder(a, b)) === sign(a.localeCompare(b))), { numRuns: 5_000 });
  });
  it('orders real ids as before', () => {
    const ids = ['host.kvm-amd.sev', 'host.kvm.api', 'host.kvm-amd.sev-es', 'caps.layers.agree', 'domain.no-migration', 'domain.policy.valid', 'report.html', 'results.json', 'Zeta.txt', 'zeta.txt'];
    expect([...ids].sort(idOrder)).toEqual([...ids].sort((a, b) => a.localeCompare(b)));
  });
});
