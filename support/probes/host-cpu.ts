/**
 * The processor itself: identity (vendor, model, EPYC generation), SYSCFG and the RMP MSRs,
 * CPUID 0x8000001F and SYSCFG on every logical CPU, and whether KVM is usable (issue 12).
 * Reads go through the run's cached Host; /proc/cpuinfo and CPUID 0x8000001F come from the host
 * probe (one parse per run), query-kvm from the caps layer's one QEMU probe.
 */
import { Memo } from '../memo.js';
import { HostError, isHostError, type CpuidRegs, type Host, type StatInfo } from '../host/types.js';
import type { HostProbe } from './host.js';
import type { CapsProbe, QmpAnswer } from './caps.js';
import { optional } from '../facts.js';
import { decodeVendor, LEAF_ENCRYPTED_MEMORY, LEAF_VENDOR } from '../sev/cpuid.js';
import { decodeSyscfg, MSR_RMP_BASE, MSR_RMP_CFG, MSR_RMP_END, MSR_SYSCFG, type Syscfg } from '../sev/msr.js';
import { isEpycBrand, sevGeneration, type SevGeneration } from '../sev/generation.js';
import { parseCpuList } from '../parsers/cpulist.js';
import { prefetch } from '../host/read.js';

/** Linux Documentation/ABI/testing/sysfs-devices-system-cpu: "online: cpus that are online and being scheduled". */
export const CPU_ONLINE = '/sys/devices/system/cpu/online';

/**
 * Reads in flight at once when every CPU is read. The ssh backend multiplexes every read over one
 * ControlMaster connection, and sshd allows 10 sessions per connection by default
 * (sshd_config(5) MaxSessions), so 8 keeps a margin; local reads are cheap either way.
 */
export const CPU_READ_PARALLELISM = 8;

export interface CpuIdentity {
  readonly vendor: string | undefined;
  readonly vendorSource: string;
  readonly modelName: string | undefined;
  readonly family: number | undefined;
  readonly model: number | undefined;
  readonly generation: SevGeneration | undefined;
  /** cpuinfo lists "hypervisor" (CPUID 1 ECX bit 31, Linux X86_FEATURE_HYPERVISOR): a virtual machine */
  readonly virtual: boolean;
}

export interface CpuRead {
  readonly cpu: number;
  readonly cpuid: { readonly ok: true; readonly regs: CpuidRegs } | { readonly ok: false; readonly reason: string };
  readonly syscfg: { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly reason: string } | undefined;
}

export interface EveryCpu {
  /** the CPU list and where it came from */
  readonly source: string;
  readonly listed: string;
  readonly cpus: readonly CpuRead[];
  /** why SYSCFG was not read on the other CPUs (CPU 0's read failed), when it was not */
  readonly syscfgSkipped: string | undefined;
}

export interface RmpMsrs {
  readonly base: bigint;
  readonly end: bigint;
  /** RMP_CFG bit 0, read only when CPUID 0x8000001F EAX bit 23 (SegmentedRmp) is set */
  readonly segmented: boolean;
}

/** Run `fn` on every item, at most `limit` at once, keeping the order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const reasonOf = (e: unknown): string => {
  if (e instanceof HostError && e.code !== 'NOT_RUNNING') return e.message;
  throw e;
};

export class HostCpuProbe {
  private readonly memo = new Memo();
  constructor(
    private readonly host: Host,
    private readonly hostProbe: HostProbe,
    private readonly caps: CapsProbe,
  ) {}

  /**
   * Vendor, model name, family/model and generation from /proc/cpuinfo (the kernel's decoding of
   * CPUID 0 and 1, arch/x86/kernel/cpu/proc.c); the vendor falls back to CPUID 0 when cpuinfo
   * cannot be read. Throws the cpuinfo error when neither source answers.
   */
  identity(): Promise<CpuIdentity> {
    return this.memo.once('identity', async () => {
      let info;
      let infoError: unknown;
      try {
        info = await this.hostProbe.cpuinfo();
      } catch (e) {
        if (!(e instanceof HostError) || e.code === 'NOT_RUNNING') throw e;
        infoError = e;
      }
      if (info?.vendor) {
        const gen =
          info.family !== undefined && info.model !== undefined && info.vendor === 'AuthenticAMD' && isEpycBrand(info.modelName) ? sevGeneration(info.family, info.model) : undefined;
        return {
          vendor: info.vendor,
          vendorSource: '/proc/cpuinfo vendor_id',
          modelName: info.modelName,
          family: info.family,
          model: info.model,
          generation: gen,
          virtual: info.flags.has('hypervisor'),
        };
      }
      const regs = await optional(() => this.host.cpuid(LEAF_VENDOR));
      if (!regs) throw infoError ?? new HostError('NOT_RECORDED', '/proc/cpuinfo', '/proc/cpuinfo has no vendor_id and CPUID 0 could not be read');
      return { vendor: decodeVendor(regs), vendorSource: 'CPUID 0x00000000', modelName: undefined, family: undefined, model: undefined, generation: undefined, virtual: false };
    });
  }

  /** Is this a virtual machine? undefined when /proc/cpuinfo cannot tell. */
  async virtual(): Promise<boolean | undefined> {
    const info = await optional(() => this.hostProbe.cpuinfo());
    return info ? info.flags.has('hypervisor') : undefined;
  }

  /** SYSCFG (MSR C001_0010h) on one CPU. */
  syscfg(cpu = 0): Promise<Syscfg> {
    return this.memo.once(`syscfg:${cpu}`, async () => decodeSyscfg(await this.host.readMsr(cpu, MSR_SYSCFG)));
  }

  /** RMP_BASE and RMP_END on CPU 0 (and RMP_CFG when the CPU supports a segmented RMP). */
  rmp(): Promise<RmpMsrs> {
    return this.memo.once('rmp', async () => {
      const [base, end] = await Promise.all([this.host.readMsr(0, MSR_RMP_BASE), this.host.readMsr(0, MSR_RMP_END)]);
      const caps = await optional(() => this.hostProbe.encryptedMemory());
      // CPUID 0x8000001F EAX bit 23 SegmentedRmp (APM Vol. 3 E.4.17; Linux X86_FEATURE_SEGMENTED_RMP)
      const segmentedSupported = caps !== undefined && ((caps.raw.eax >>> 23) & 1) === 1;
      const segmented = segmentedSupported ? ((await this.host.readMsr(0, MSR_RMP_CFG)) & 1n) === 1n : false;
      return { base, end, segmented };
    });
  }

  /** The logical CPUs the kernel has online (/sys/devices/system/cpu/online). */
  cpuList(): Promise<{ cpus: readonly number[]; text: string }> {
    return this.memo.once('cpulist', async () => {
      const text = (await this.host.readFile(CPU_ONLINE)).toString('utf8');
      const parsed = parseCpuList(text);
      if (!parsed.ok) throw new HostError('EIO', CPU_ONLINE, `${CPU_ONLINE}: ${parsed.problem}`);
      return { cpus: parsed.cpus, text: text.trim() };
    });
  }

  /**
   * CPUID 0x8000001F and SYSCFG on every online CPU, asked as one batch (Host.readMany), then
   * taken CPU_READ_PARALLELISM at a time. CPU 0 is read first: when its SYSCFG cannot be read (no msr module, not root), no other CPU's is tried.
   */
  everyCpu(): Promise<EveryCpu> {
    return this.memo.once('every-cpu', async () => {
      const { cpus, text } = await this.cpuList();
      const readCpuid = async (cpu: number): Promise<CpuRead['cpuid']> => {
        try {
          return { ok: true, regs: await this.host.cpuid(LEAF_ENCRYPTED_MEMORY, cpu) };
        } catch (e) {
          return { ok: false, reason: reasonOf(e) };
        }
      };
      const readSyscfg = async (cpu: number): Promise<NonNullable<CpuRead['syscfg']>> => {
        try {
          return { ok: true, value: await this.host.readMsr(cpu, MSR_SYSCFG) };
        } catch (e) {
          return { ok: false, reason: reasonOf(e) };
        }
      };
      const first = cpus[0] ?? 0;
      const cpuidOf = (cpu: number) => ({ op: 'cpuid' as const, leaf: LEAF_ENCRYPTED_MEMORY, cpu });
      const syscfgOf = (cpu: number) => ({ op: 'msr' as const, cpu, index: MSR_SYSCFG });
      // at most two batches whatever the CPU count (over ssh: two batches in the one session): every CPU's
      // CPUID with the first CPU's SYSCFG, then the other CPUs' SYSCFG when the first could be
      // read; the reads below then answer from the run's cache
      await prefetch(this.host, [syscfgOf(first), ...cpus.map(cpuidOf)]);
      const firstRead: CpuRead = { cpu: first, cpuid: await readCpuid(first), syscfg: await readSyscfg(first) };
      const syscfgSkipped = firstRead.syscfg?.ok === false ? firstRead.syscfg.reason : undefined;
      if (syscfgSkipped === undefined) await prefetch(this.host, cpus.slice(1).map(syscfgOf));
      const rest = await mapBounded(cpus.slice(1), CPU_READ_PARALLELISM, async (cpu): Promise<CpuRead> => ({
        cpu,
        cpuid: await readCpuid(cpu),
        syscfg: syscfgSkipped === undefined ? await readSyscfg(cpu) : undefined,
      }));
      return { source: CPU_ONLINE, listed: text, cpus: [firstRead, ...rest], syscfgSkipped };
    });
  }

  /** /dev/kvm: its metadata, or undefined when it does not exist. */
  kvmDevice(): Promise<StatInfo | undefined> {
    return this.memo.once('dev-kvm', async () => {
      try {
        return await this.host.stat('/dev/kvm');
      } catch (e) {
        if (isHostError(e, 'ENOENT')) return undefined;
        throw e;
      }
    });
  }

  /** QEMU's query-kvm, from the caps layer's one QEMU probe. */
  queryKvm(): Promise<QmpAnswer<{ enabled: boolean; present: boolean }>> {
    return this.caps.kvm();
  }
}
