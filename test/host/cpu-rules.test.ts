import { describe, expect, it } from 'vitest';
import * as rules from '../../support/rules/host-cpu.js';
import { HostCpuProbe, mapBounded, CPU_READ_PARALLELISM, type CpuIdentity, type EveryCpu } from '../../support/probes/host-cpu.js';
import { HostProbe } from '../../support/probes/host.js';
import type { CapsProbe } from '../../support/probes/caps.js';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { HostError, type Host } from '../../support/host/types.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import { decodeSyscfg } from '../../support/sev/msr.js';
import { known } from '../../support/facts.js';
import { fixtureDir } from '../helpers.js';

const milan: CpuIdentity = { vendor: 'AuthenticAMD', vendorSource: '/proc/cpuinfo vendor_id', modelName: 'AMD EPYC 7713P 64-Core Processor', family: 0x19, model: 0x01, generation: 'milan', virtual: false };
const rome: CpuIdentity = { ...milan, modelName: 'AMD EPYC 7302P 16-Core Processor', family: 0x17, model: 0x31, generation: 'rome' };
const caps = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x4173, ecx: 0x1fd, edx: 0x80 });
const noThrow = (): Promise<never> => Promise.reject(new Error('must not be read'));

describe('CPU identity rules', () => {
  it('host.cpu.amd fails on Intel with the fix', () => {
    const v = rules.cpuAmd({ ...milan, vendor: 'GenuineIntel', modelName: 'Intel(R) Xeon(R) Gold 6430', family: 6, model: 0x8f, generation: undefined });
    expect(v).toMatchObject({ status: 'failed', expected: 'an AuthenticAMD processor' });
    expect(v.message).not.toContain('generation');
  });
  it('host.cpu.epyc applies the generation minimum of each profile feature', () => {
    expect(rules.cpuEpyc(milan, 'sev-snp').status).toBe('passed');
    expect(rules.cpuEpyc(rome, 'sev-es').status).toBe('passed');
    const v = rules.cpuEpyc(rome, 'sev-snp');
    expect(v).toMatchObject({ status: 'failed', expected: 'an AMD EPYC processor of EPYC 7003 (Milan) or later for SEV-SNP' });
    expect(v.status === 'failed' && v.fix).toContain('--profile sev-es');
    expect(rules.cpuEpyc({ ...milan, family: 0x19, model: 0x21, generation: undefined, modelName: 'AMD Ryzen 9 5950X 16-Core Processor' }, 'sev').status).toBe('failed');
    // Ryzen 1000 shares family 17h model 01h with Naples: the brand string decides (the probe gives it no generation)
    const ryzen = rules.cpuEpyc({ ...milan, family: 0x17, model: 0x01, generation: undefined, modelName: 'AMD Ryzen 7 1800X Eight-Core Processor' }, 'sev');
    expect(ryzen.status === 'failed' && ryzen.found).toContain('not an EPYC server processor');
    expect(rules.cpuEpyc({ ...milan, family: 0x1a, model: 0x30, generation: undefined }, 'sev').status).toBe('undecided');
    expect(rules.cpuEpyc({ ...milan, family: undefined, model: undefined, generation: undefined }, 'sev').status).toBe('undecided');
  });
  it('host.cpuid.secure-tsc is skipped before Genoa, failed on Genoa without it', async () => {
    const noTsc = decodeEncryptedMemory({ eax: 0x0101fc3f, ebx: 0x4173, ecx: 0x1fd, edx: 0x80 });
    expect((await rules.cpuidSecureTsc(caps, noThrow)).status).toBe('passed');
    expect((await rules.cpuidSecureTsc(noTsc, known(milan))).status).toBe('skipped');
    expect((await rules.cpuidSecureTsc(noTsc, known({ ...milan, family: 0x19, model: 0x11, generation: 'genoa' }))).status).toBe('failed');
    expect((await rules.cpuidSecureTsc(noTsc, known({ ...milan, generation: undefined }))).status).toBe('undecided');
  });
  it('informational checks pass with the value, and are skipped without the leaf', () => {
    expect(rules.cpuidPageFlush(caps).message).toMatch(/^informational: .*page flush MSR.*offered/);
    expect(rules.cpuidPhysAddrReduction(caps).message).toContain('costs 5 physical address bits');
    const intel = { ...decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 }), implemented: false, vendor: 'GenuineIntel', vendorSource: 'CPUID 0x00000000' };
    expect(rules.cpuidPageFlush(intel).status).toBe('skipped');
  });
});

describe('SYSCFG and RMP rules', () => {
  it('inside a VM the MSR checks are undecided without reading the MSR', async () => {
    const v = await rules.syscfgBit('snp', known(true), noThrow, noThrow);
    expect(v.status).toBe('undecided');
    expect(v.message).toContain('virtual machine');
    expect((await rules.snpRmp(known(true), noThrow)).status).toBe('undecided');
  });
  it('an unreadable MSR propagates its HostError (decide() makes it undecided with the fix)', async () => {
    const err = new HostError('ENOENT', 'MSR', 'MSR 0xc0010010 on CPU 0 (/dev/cpu/0/msr): no such file or directory (load the msr module: modprobe msr)');
    await expect(rules.syscfgBit('memEncrypt', known(false), () => Promise.reject(err), noThrow)).rejects.toBe(err);
  });
  it('SNPEn clear: the BIOS fix without a reserved RMP, the kernel fix with one', async () => {
    const sys = known(decodeSyscfg(0xf40000n));
    const bios = await rules.syscfgBit('snp', known(false), sys, known(caps), known({ base: 0n, end: 0n, segmented: false }));
    expect(bios.status === 'failed' && bios.fix).toContain('SNP Memory Coverage');
    const kernel = await rules.syscfgBit('snp', known(false), sys, known(caps), known({ base: 0xf9e9600000n, end: 0xfa297fffffn, segmented: false }));
    expect(kernel.status === 'failed' && kernel.fix).toContain('the kernel did not enable SEV-SNP');
    expect((await rules.syscfgBit('memEncrypt', known(false), sys, noThrow)).status).toBe('passed');
  });
  it('RMP not reserved quotes the kernel; a reserved one reports range and size', async () => {
    const zero = await rules.snpRmp(known(false), known({ base: 0n, end: 0n, segmented: false }));
    expect(zero.status === 'failed' && zero.found).toContain('Memory for the RMP table has not been reserved by BIOS');
    const ok = await rules.snpRmp(known(false), known({ base: 0xf9e9600000n, end: 0xfa297fffffn, segmented: false }));
    expect(ok.message).toContain('RMP table physical range [0x000000f9e9600000 - 0x000000fa297fffff], 1026 MiB');
    expect((await rules.snpRmp(known(false), known({ base: 0x2000000n, end: 0x1000000n, segmented: false }))).status).toBe('failed');
  });
  it('MSRs unreadable: the kernel log RMP line decides, and the verdict names it (issue 12 item 4)', async () => {
    const noMsr = () => Promise.reject(new HostError('ENOENT', '/dev/cpu/0/msr', '/dev/cpu/0/msr: no such file or directory (modprobe msr)'));
    const log = (rmp: unknown) => known({ source: 'journalctl -k -b -o short-monotonic', tried: [], facts: { kvm: {}, lines: 9, bootBanner: true, rmp } } as never);
    const range = await rules.snpRmp(known(false), noMsr, log({ lineNo: 7, text: 'SEV-SNP: RMP table physical range [0x000000f9e9600000 - 0x000000fa297fffff]', range: { base: 0xf9e9600000n, end: 0xfa297fffffn } }));
    expect(range.status).toBe('passed');
    expect(range.message).toContain('journalctl -k -b -o short-monotonic line 7: "SEV-SNP: RMP table physical range');
    expect(range.message).toContain('1026 MiB');
    expect(range.message).toContain('modprobe msr');
    const none = await rules.snpRmp(known(false), noMsr, log({ lineNo: 3, text: 'SEV-SNP: Memory for the RMP table has not been reserved by BIOS' }));
    expect(none.status === 'failed' && none.found).toContain('line 3: "SEV-SNP: Memory for the RMP table has not been reserved by BIOS"');
    const inverted = await rules.snpRmp(known(false), noMsr, log({ lineNo: 2, text: 'x', range: { base: 0x2000n, end: 0x1000n } }));
    expect(inverted.status).toBe('failed');
    // no RMP line: undecided with the MSR's reason, never a pass
    const noLine = await rules.snpRmp(known(false), noMsr, log(undefined));
    expect(noLine.status).toBe('undecided');
    expect(noLine.message).toContain('modprobe msr');
    expect((await rules.snpRmp(known(false), noMsr)).status).toBe('undecided');
    // in a VM neither the MSRs nor the (guest's) log speak for the physical host
    expect((await rules.snpRmp(known(true), noMsr, log({ lineNo: 1, text: 'x', range: { base: 1n, end: 2n } }))).status).toBe('undecided');
  });
});

describe('host.kvm.api', () => {
  const dev = known({ path: '/dev/kvm', type: 'char' as const, mode: 0o660, uid: 0, gid: 993 });
  it('fails without /dev/kvm before asking QEMU', async () => {
    expect((await rules.kvmApi(known(undefined), noThrow)).status).toBe('failed');
  });
  it('passes when query-kvm says present and enabled; permission denied gets the access fix', async () => {
    expect((await rules.kvmApi(dev, known({ ok: true as const, value: { present: true, enabled: true }, context: undefined }))).status).toBe('passed');
    const ctx = { qemu: '9.2.0', ranAs: 'nobody', asLibvirtUser: false, stderr: 'Could not access KVM kernel module: Permission denied' };
    const v = await rules.kvmApi(dev, known({ ok: true as const, value: { present: true, enabled: false }, context: ctx }));
    expect(v.status === 'failed' && v.fix).toContain('device.kvm.qemu-access');
    const other = await rules.kvmApi(dev, known({ ok: true as const, value: { present: true, enabled: false }, context: { ...ctx, stderr: 'failed to initialize kvm: No such device' } }));
    expect(other.status === 'failed' && other.fix).toContain('modprobe kvm_amd');
  });
});

const fixture = (files: Record<string, string>): string => fixtureDir('sevcheck-cpus', files);

/** Counts reads in flight, to show the every-CPU read is bounded. */
function inFlight(inner: Host): { host: Host; max: () => number; reads: () => number; msrReads: () => number } {
  let msrReads = 0;
  let now = 0;
  let max = 0;
  let reads = 0;
  const track = async <T>(p: () => Promise<T>): Promise<T> => {
    now++;
    reads++;
    max = Math.max(max, now);
    try {
      await new Promise((r) => setTimeout(r, 1));
      return await p();
    } finally {
      now--;
    }
  };
  const host = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === 'cpuid') return (leaf: number, cpu?: number) => track(() => target.cpuid(leaf, cpu));
      if (prop === 'readMsr') return (cpu: number, index: number) => (msrReads++, track(() => target.readMsr(cpu, index)));
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { host, max: () => max, reads: () => reads, msrReads: () => msrReads };
}

const leaf = (eax: string) => ({ eax, ebx: '0x00004173', ecx: '0x000001fd', edx: '0x00000080' });
const cpuinfo = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7713P 64-Core Processor\nflags\t\t: fpu sev sev_es sev_snp\n';

describe('host.cpuid.same-on-all-cpus over every CPU', () => {
  it('reads all 384 CPUs, at most CPU_READ_PARALLELISM at a time, and names the CPUs that differ', async () => {
    const fx = new FixtureHost(
      fixture({
        'files/proc/cpuinfo': cpuinfo,
        'files/sys/devices/system/cpu/online': '0-383\n',
        'cpuid.json': JSON.stringify({ '0x8000001f': leaf('0x0101fd3f'), cpu64: { '0x8000001f': leaf('0x0101fd2f') }, cpu300: { '0x8000001f': leaf('0x0101fd2f') } }),
        'msr.json': JSON.stringify({ '*': { '0xc0010010': '0x0000000003f40000' }, '200': { '0xc0010010': '0x0000000002f40000' } }),
      }),
    );
    const counted = inFlight(fx);
    const host = new CachingHost(counted.host);
    const hp = new HostProbe(host);
    const probe = new HostCpuProbe(host, hp, {} as CapsProbe);
    const every = await probe.everyCpu();
    expect(every.cpus).toHaveLength(384);
    expect(counted.reads()).toBe(384 * 2);
    expect(counted.max()).toBeLessThanOrEqual(CPU_READ_PARALLELISM);
    expect(counted.max()).toBeGreaterThan(1);
    const v = await rules.sameOnAllCpus(() => hp.encryptedMemory(), () => probe.virtual(), known(every));
    expect(v.status).toBe('failed');
    expect(v.status === 'failed' && v.found).toMatch(/on 2 of 384 CPUs read .*CPU 64: EAX=0x0101fd2f.*CPU 300: EAX=0x0101fd2f/);
  });
  it('SYSCFG that differs only is a failure naming the CPU; equal everywhere passes with the count', async () => {
    const base = (msr: object) =>
      new FixtureHost(fixture({ 'files/proc/cpuinfo': cpuinfo, 'files/sys/devices/system/cpu/online': '0-3\n', 'cpuid.json': JSON.stringify({ '0x8000001f': leaf('0x0101fd3f') }), 'msr.json': JSON.stringify(msr) }));
    const run = async (h: Host) => {
      const hp = new HostProbe(h);
      const p = new HostCpuProbe(h, hp, {} as CapsProbe);
      return rules.sameOnAllCpus(() => hp.encryptedMemory(), () => p.virtual(), () => p.everyCpu());
    };
    const diff = await run(base({ '*': { '0xc0010010': '0x0000000003f40000' }, '2': { '0xc0010010': '0x0000000002f40000' } }));
    expect(diff.status === 'failed' && diff.found).toContain('CPU 2: 0x0000000002f40000');
    const same = await run(base({ '*': { '0xc0010010': '0x0000000003f40000' }, '2': { '0xc0010010': '0x0000000003f40001' } }));
    expect(same.message).toContain('are the same on all 4 CPUs read');
  });
  it('SYSCFG unreadable on CPU 0: undecided with the reason, and no other CPU is tried', async () => {
    const fx = new FixtureHost(
      fixture({
        'files/proc/cpuinfo': cpuinfo,
        'files/sys/devices/system/cpu/online': '0-7\n',
        'cpuid.json': JSON.stringify({ '0x8000001f': leaf('0x0101fd3f') }),
        'errors.json': JSON.stringify({ msr: { '0:0xc0010010': { code: 'ENOENT', message: 'MSR 0xc0010010 on CPU 0 (/dev/cpu/0/msr): no such file or directory (load the msr module: modprobe msr)' } } }),
      }),
    );
    const counted = inFlight(fx);
    const hp = new HostProbe(counted.host);
    const p = new HostCpuProbe(counted.host, hp, {} as CapsProbe);
    const v = await rules.sameOnAllCpus(() => hp.encryptedMemory(), () => p.virtual(), () => p.everyCpu());
    expect(v).toMatchObject({ status: 'undecided' });
    expect(v.message).toContain('modprobe msr');
    expect(counted.msrReads()).toBe(1);
  });
  it('a summary of many mismatches says how many more there are', async () => {
    const e: EveryCpu = {
      source: '/sys/devices/system/cpu/online',
      listed: '0-299',
      syscfgSkipped: undefined,
      cpus: Array.from({ length: 300 }, (_, cpu) => ({ cpu, cpuid: { ok: true as const, regs: { eax: cpu < 100 ? 1 : 2, ebx: 0, ecx: 0, edx: 0 } }, syscfg: { ok: true as const, value: 0n } })),
    };
    const v = await rules.sameOnAllCpus(known(caps), known(false), known(e));
    expect(v.status === 'failed' && v.found).toMatch(/on 200 of 300 CPUs read.*and 192 more/);
  });
  it('mapBounded keeps the order', async () => {
    expect(await mapBounded([3, 1, 2], 2, async (x) => x * 10)).toEqual([30, 10, 20]);
    expect(await mapBounded([], 8, async (x: number) => x)).toEqual([]);
  });
});
