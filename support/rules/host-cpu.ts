/**
 * CPU identity, SYSCFG / RMP MSR, every-CPU and KVM rules (issue 12): typed facts in, Verdict out.
 * No I/O beyond the Facts the steps bind.
 *
 * "Informational" checks (host.cpuid.page-flush-msr, host.cpuid.phys-addr-reduction, as snphost
 * ok prints them: always PASS with the value) pass whenever the value can be read, with the value
 * in the message after "informational:"; they never fail, are undecided when the leaf cannot be
 * read, and skipped on a processor without the leaf (docs/results.md).
 *
 * Sources: AMD APM Vol. 2 §15.34-15.36 and Vol. 3 E.4.17 (support/sev/cpuid.ts, sev/msr.ts);
 * Linux arch/x86/virt/svm/sev.c (the kernel sets SYSCFG SNPEn and VMPLEn itself in
 * __snp_enable() once the BIOS has reserved the RMP: snp_rmptable_init()); virtee/snphost
 * src/ok/mod.rs @56d5d7e and virtee/sevctl src/ok.rs @8b47f3a for the checks and hints they
 * share (docs/parity.md).
 */
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { formatRegs, hex32, type CpuidRegs, type EncryptedMemoryCaps } from '../sev/cpuid.js';
import { decodeRmp, formatBytes, hex64, msrName, MSR_RMP_BASE, MSR_RMP_END, MSR_SYSCFG, SYSCFG_BIT_NAMES, SYSCFG_BITS, SYSCFG_SEV_MASK, type Syscfg, type SyscfgBit } from '../sev/msr.js';
import { describeGeneration, GENERATIONS, isEpycBrand, type SevGeneration } from '../sev/generation.js';
import type { CpuIdentity, EveryCpu, RmpMsrs } from '../probes/host-cpu.js';
import type { QmpAnswer } from '../probes/caps.js';
import type { StatInfo } from '../host/types.js';
import { leafAbsence, type Feature } from './host.js';
import { attempt, optional, type Fact } from '../facts.js';
import type { KernelLog } from '../probes/host-firmware.js';
import { unknownFailureReason } from './firmware.js';

const CPUID_SRC = 'CPUID 0x8000001F';
const FIX_NOT_AMD = 'SEV needs an AMD EPYC processor: run SEV guests on an AMD EPYC host';
const BARE_METAL = 'run sevcheck on the bare-metal EPYC host';
const FIX_SNP_BIOS =
  'enable SEV-SNP in the BIOS setup ("SEV-SNP Support" and "SNP Memory Coverage", under CBS > CPU Common Options), reboot into a kernel with SEV-SNP host support (6.11 or later), and see host.snp.rmp';

const FEATURE_NAME: Record<Feature, string> = { sev: 'SEV', 'sev-es': 'SEV-ES', 'sev-snp': 'SEV-SNP' };

function who(id: CpuIdentity): string {
  const model = id.modelName ? ` "${id.modelName}"` : '';
  const amd = id.vendor === 'AuthenticAMD';
  const gen = amd && id.family !== undefined && id.model !== undefined ? `, ${describeGeneration(id.generation, id.family, id.model)}` : '';
  const virt = id.virtual ? ', a virtual CPU (cpuinfo lists "hypervisor")' : '';
  return `${id.vendor ?? 'unknown vendor'} (${id.vendorSource})${model}${gen}${virt}`;
}

/** host.cpu.amd */
export function cpuAmd(id: CpuIdentity): Verdict {
  if (id.vendor === 'AuthenticAMD') return passed(`the processor is ${who(id)}`);
  return failed(`the processor is ${who(id)}`, 'an AuthenticAMD processor', FIX_NOT_AMD);
}

/** The oldest generation that offers a feature (generation.ts). */
const FIRST: Record<Feature, SevGeneration> = { sev: 'naples', 'sev-es': 'rome', 'sev-snp': 'milan' };

function offers(gen: SevGeneration, feature: Feature): boolean {
  if (feature === 'sev') return true;
  if (feature === 'sev-es') return GENERATIONS[gen].sevEs;
  return GENERATIONS[gen].snp;
}

/** host.cpu.epyc: an EPYC whose generation offers the feature (generation-specific minimum). */
export function cpuEpyc(id: CpuIdentity, feature: Feature): Verdict {
  const f = FEATURE_NAME[feature];
  const first = GENERATIONS[FIRST[feature]];
  const expected = `an AMD EPYC processor of ${first.series} (${first.name}) or later for ${f}`;
  if (id.vendor !== 'AuthenticAMD') return failed(`the processor is ${who(id)}`, expected, FIX_NOT_AMD);
  if (id.family === undefined || id.model === undefined) {
    return undecided(`/proc/cpuinfo gives no "cpu family" / "model" (vendor from ${id.vendorSource}), so the EPYC generation is unknown`);
  }
  if (id.generation === undefined) {
    if (!isEpycBrand(id.modelName)) {
      return failed(`the processor is ${who(id)}, not an EPYC server processor`, expected, `${f} is offered on AMD EPYC server processors: run ${f} guests on an EPYC ${first.series} or later host`);
    }
    return undecided(`${describeGeneration(undefined, id.family, id.model)} is not in sevcheck's EPYC generation table (support/sev/generation.ts), so whether it offers ${f} is unknown`);
  }
  const g = GENERATIONS[id.generation];
  if (offers(id.generation, feature)) return passed(`the processor is ${who(id)}, which offers ${f}`);
  return failed(
    `the processor is ${who(id)}: ${g.name} predates ${f}`,
    expected,
    feature === 'sev-snp'
      ? `run SEV-SNP guests on an EPYC ${first.series} (${first.name}) or later host, or run this guest as ${g.sevEs ? 'SEV-ES' : 'SEV'} (--profile ${g.sevEs ? 'sev-es' : 'sev'})`
      : `run SEV-ES guests on an EPYC ${first.series} (${first.name}) or later host, or run this guest as plain SEV (--profile sev)`,
  );
}

/** The EAX bit checks that are not host.cpuid.sev: SME (bit 0), VMPL (bit 5), Secure TSC (bit 8). */
function leafOrFailure(caps: EncryptedMemoryCaps, expected: string): Verdict | undefined {
  const absent = leafAbsence(caps);
  return absent !== undefined ? failed(absent, expected, FIX_NOT_AMD) : undefined;
}

const eaxBit = (caps: EncryptedMemoryCaps, bit: number): boolean => ((caps.raw.eax >>> bit) & 1) === 1;

/** host.cpuid.sme */
export function cpuidSme(caps: EncryptedMemoryCaps): Verdict {
  const expected = `${CPUID_SRC} EAX bit 0 (SME) set`;
  const absent = leafOrFailure(caps, expected);
  if (absent) return absent;
  if (caps.sme) return passed(`${CPUID_SRC} EAX bit 0 (SME, Secure Memory Encryption) is set (${formatRegs(caps.raw)})`);
  return failed(`${CPUID_SRC} EAX bit 0 (SME) clear (${formatRegs(caps.raw)})`, expected, 'SEV builds on SME: use an AMD EPYC processor; inside a VM the hypervisor hides this bit (run sevcheck on the bare-metal host)');
}

/** host.cpuid.vmpl: EAX bit 5 and the number of VMPLs (EBX[15:12]). */
export async function cpuidVmpl(caps: EncryptedMemoryCaps, identity: Fact<CpuIdentity>): Promise<Verdict> {
  const expected = `${CPUID_SRC} EAX bit 5 (VMPL) set and EBX[15:12] (number of VMPLs) > 0`;
  const absent = leafOrFailure(caps, expected);
  if (absent) return absent;
  if (caps.vmpl && caps.numVmpl > 0) return passed(`${CPUID_SRC} EAX bit 5 (VMPL) is set; EBX[15:12]: ${caps.numVmpl} VM permission levels (${formatRegs(caps.raw)})`);
  // the generation tells a processor that predates VMPLs from a BIOS that hides them
  const id = await optional(identity);
  const old = id?.generation !== undefined && !GENERATIONS[id.generation].snp ? id : undefined;
  return failed(
    `${CPUID_SRC} EAX bit 5 (VMPL) ${caps.vmpl ? 'set' : 'clear'}, EBX[15:12] = ${caps.numVmpl} VM permission levels (${formatRegs(caps.raw)})${old ? ` on ${describeGeneration(old.generation, old.family ?? 0, old.model ?? 0)}, which predates SEV-SNP` : ''}`,
    expected,
    old
      ? 'VM permission levels come with SEV-SNP on EPYC 7003 (Milan) and later: run SEV-SNP guests on such a host (see host.cpu.epyc)'
      : 'VM permission levels come with SEV-SNP on EPYC 7003 (Milan) and later: update the BIOS to its latest version and enable SEV-SNP',
  );
}

/** host.cpuid.page-flush-msr (informational) */
export function cpuidPageFlush(caps: EncryptedMemoryCaps): Verdict {
  const absent = leafAbsence(caps);
  if (absent !== undefined) return skipped(absent);
  return passed(`informational: ${CPUID_SRC} EAX bit 2: the VM page flush MSR (0xC001_011E) is ${caps.pageFlushMsr ? 'offered' : 'not offered'} (${formatRegs(caps.raw)})`);
}

/** host.cpuid.phys-addr-reduction (informational) */
export function cpuidPhysAddrReduction(caps: EncryptedMemoryCaps): Verdict {
  const absent = leafAbsence(caps);
  if (absent !== undefined) return skipped(absent);
  return passed(`informational: ${CPUID_SRC} EBX[11:6]: memory encryption costs ${caps.physAddrReduction} physical address bit${caps.physAddrReduction === 1 ? '' : 's'} (EBX=${hex32(caps.raw.ebx)})`);
}

/** host.cpuid.secure-tsc: EAX bit 8, expected from Genoa (EPYC 9004) on; skipped on older generations. */
export async function cpuidSecureTsc(caps: EncryptedMemoryCaps, identity: Fact<CpuIdentity>): Promise<Verdict> {
  const expected = `${CPUID_SRC} EAX bit 8 (SecureTsc) set on EPYC 9004 (Genoa) and later`;
  const absent = leafOrFailure(caps, expected);
  if (absent) return absent;
  if (eaxBit(caps, 8)) return passed(`${CPUID_SRC} EAX bit 8 (Secure TSC) is set (${formatRegs(caps.raw)})`);
  const id = await optional(identity);
  const gen = id?.generation;
  if (gen !== undefined && !GENERATIONS[gen].secureTsc) {
    return skipped(`Secure TSC arrived with EPYC 9004 (Genoa); this is ${describeGeneration(gen, id?.family ?? 0, id?.model ?? 0)}, and ${CPUID_SRC} EAX bit 8 is clear`);
  }
  if (gen === undefined) return undecided(`${CPUID_SRC} EAX bit 8 (Secure TSC) is clear, and the EPYC generation (whether it should offer Secure TSC) is unknown`);
  return failed(
    `${CPUID_SRC} EAX bit 8 (Secure TSC) clear on ${describeGeneration(gen, id?.family ?? 0, id?.model ?? 0)} (${formatRegs(caps.raw)})`,
    expected,
    'update the BIOS and SEV firmware and enable SEV-SNP; inside a VM the hypervisor hides this bit (run sevcheck on the bare-metal host)',
  );
}

/** A virtual machine's MSRs are the hypervisor's emulation: they say nothing about the host. */
function inVm(virtual: boolean | undefined, what: string): Verdict | undefined {
  if (virtual !== true) return undefined;
  return undecided(`this is a virtual machine (/proc/cpuinfo lists "hypervisor"): ${what} is the hypervisor's emulation and says nothing about the physical host; ${BARE_METAL}`);
}

const FIX_BIT: Record<SyscfgBit, string> = {
  memEncrypt: 'enable SME/SMEE ("Memory Encryption" / "SMEE") in the BIOS setup and reboot',
  snp: FIX_SNP_BIOS,
  vmpl: FIX_SNP_BIOS,
};

/** host.msr.syscfg-sme / -snp / -vmpl */
export async function syscfgBit(
  bit: SyscfgBit,
  virtual: Fact<boolean | undefined>,
  syscfg: Fact<Syscfg>,
  cpuid: Fact<EncryptedMemoryCaps>,
  rmp?: Fact<RmpMsrs>,
): Promise<Verdict> {
  const n = SYSCFG_BITS[bit];
  const name = `bit ${n} (${SYSCFG_BIT_NAMES[bit]})`;
  const vm = inVm(await virtual(), msrName(MSR_SYSCFG));
  if (vm) return vm;
  const s = await syscfg();
  const source = `${msrName(MSR_SYSCFG)} = ${hex64(s.raw)} on CPU 0`;
  if (s[bit]) return passed(`${source}: ${name} is set`);
  // CPUID tells a CPU without the feature from a BIOS/kernel that did not enable it
  const caps = await optional(cpuid);
  const cpuBit = bit === 'memEncrypt' ? 1 : bit === 'snp' ? 4 : 5;
  const cpuLacks = caps !== undefined && leafAbsence(caps) === undefined && !eaxBit(caps, cpuBit);
  // SNPEn/VMPLEn are set by the kernel once the BIOS reserved the RMP (sev.c snp_rmptable_init() →
  // __snp_enable()): with the RMP reserved, the BIOS did its part and the kernel is what is missing
  const m = bit !== 'memEncrypt' && !cpuLacks && rmp ? await optional(rmp) : undefined;
  const reserved = m !== undefined && ['contiguous', 'segmented'].includes(decodeRmp(m.base, m.end, m.segmented).kind);
  return failed(
    `${source}: ${name} is clear${cpuLacks ? ` (and ${CPUID_SRC} EAX bit ${cpuBit} is clear: the processor does not offer it)` : ''}${reserved ? '; the BIOS has reserved the RMP table (host.snp.rmp)' : ''}`,
    `${name} set`,
    cpuLacks
      ? 'this processor does not offer the feature: use an EPYC generation that does (host.cpu.epyc)'
      : reserved
        ? 'the kernel did not enable SEV-SNP: boot a kernel with SEV-SNP host support (6.11 or later, CONFIG_KVM_AMD_SEV=y, not booted with mem_encrypt=off) and check its log for "SEV-SNP" errors'
        : FIX_BIT[bit],
  );
}

/** host.snp.rmp */
export async function snpRmp(virtual: Fact<boolean | undefined>, rmp: Fact<RmpMsrs>, kernelLog?: Fact<KernelLog>): Promise<Verdict> {
  const vm = inVm(await virtual(), 'RMP_BASE/RMP_END');
  if (vm) return vm;
  const read = await attempt(rmp);
  if (!read.ok) return rmpFromLog(read.reason, kernelLog);
  const m = read.value;
  const found = `${msrName(MSR_RMP_BASE)} = ${hex64(m.base)}, ${msrName(MSR_RMP_END)} = ${hex64(m.end)} on CPU 0${m.segmented ? ' (segmented RMP: RMP_CFG bit 0 set)' : ''}`;
  const r = decodeRmp(m.base, m.end, m.segmented);
  switch (r.kind) {
    case 'contiguous':
      return passed(`${found}: RMP table physical range [${hex64(r.base)} - ${hex64(r.end)}], ${formatBytes(r.size)}`);
    case 'segmented':
      return passed(`${found}: segmented RMP, segment table at ${hex64(r.base)}`);
    case 'not-reserved':
      return failed(`${found}: Memory for the RMP table has not been reserved by BIOS`, 'RMP_BASE and RMP_END set to the reserved RMP table (bits 51:13 non-zero), base < end', FIX_SNP_BIOS.replace(', and see host.snp.rmp', ''));
    case 'invalid':
      return failed(`${found}: RMP configuration not valid (base above end)`, 'RMP_BASE < RMP_END', 'update the BIOS; an RMP range whose base lies above its end is a BIOS defect');
  }
}

/**
 * host.snp.rmp when the MSRs cannot be read (no msr module, not root, not recorded): the kernel's
 * own RMP probe logs what it found at boot (arch/x86/virt/svm/sev.c, pr_fmt "SEV-SNP: "):
 * "RMP table physical range [0x… - 0x…]" or "Memory for the RMP table has not been reserved by
 * BIOS" (support/parsers/kernel-log.ts). The verdict names the line that decided it.
 */
async function rmpFromLog(msrReason: string, kernelLog: Fact<KernelLog> | undefined): Promise<Verdict> {
  const log = kernelLog ? await optional(kernelLog) : undefined;
  const line = log?.facts?.rmp;
  if (!log || !line) {
    const tried = log ? `; the kernel log has no RMP line either (${log.source ?? log.tried.join('; ')})` : '';
    return undecided(`${msrReason}${tried}`);
  }
  const src = `${log.source} line ${line.lineNo}: "${line.text}"`;
  if (!line.range) {
    return failed(src, 'the BIOS reserves an RMP table covering memory (RMP_BASE/RMP_END set, base < end)', FIX_SNP_BIOS.replace(', and see host.snp.rmp', ''));
  }
  const { base, end } = line.range;
  if (base >= end) return failed(`${src}: RMP range base lies above its end`, 'RMP_BASE < RMP_END', 'update the BIOS; an RMP range whose base lies above its end is a BIOS defect');
  const unknown = unknownFailureReason(log, ['SEV-SNP'], 'that the RMP table is usable');
  if (unknown) return undecided(`${unknown} (the MSRs themselves: ${msrReason})`);
  return passed(`${src}: the kernel found the RMP table [${hex64(base)} - ${hex64(end)}], ${formatBytes(end - base + 1n)} (the MSRs themselves: ${msrReason})`);
}

const SAMPLE = 8;

/** host.cpuid.same-on-all-cpus: CPUID 0x8000001F and SYSCFG[25:23] on every online CPU, against CPU 0's. */
export async function sameOnAllCpus(cpuid: Fact<EncryptedMemoryCaps>, virtual: Fact<boolean | undefined>, every: Fact<EveryCpu>): Promise<Verdict> {
  const absent = leafAbsence(await cpuid());
  if (absent !== undefined) return skipped(`${absent}, so there is nothing to compare across CPUs`);
  const e = await every();
  const n = e.cpus.length;
  const head = e.cpus[0];
  if (!head) return undecided(`${e.source} lists no CPUs`);
  if (!head.cpuid.ok) return undecided(`${CPUID_SRC} on CPU ${head.cpu}: ${head.cpuid.reason}`);
  const ref: CpuidRegs = head.cpuid.regs;
  const unreadable = e.cpus.filter((c) => !c.cpuid.ok);
  const cpuidDiff = e.cpus.filter((c) => c.cpuid.ok && formatRegs(c.cpuid.regs) !== formatRegs(ref));
  const listing = (cs: readonly string[]): string => (cs.length > SAMPLE ? `${cs.slice(0, SAMPLE).join('; ')}; and ${cs.length - SAMPLE} more` : cs.join('; '));
  const fix =
    'give every socket the same BIOS settings (SMEE, SEV-SNP, SNP Memory Coverage, SEV-ES ASID space) and the same BIOS/microcode and processor model; a host whose CPUs disagree cannot run SEV guests reliably';
  const expected = `the same ${CPUID_SRC} and SYSCFG bits 23-25 on all ${n} CPUs as on CPU ${head.cpu}`;
  if (cpuidDiff.length) {
    return failed(
      `${CPUID_SRC} differs from CPU ${head.cpu}'s (${formatRegs(ref)}) on ${cpuidDiff.length} of ${n} CPUs read (${e.source}: ${e.listed}): ${listing(cpuidDiff.map((c) => `CPU ${c.cpu}: ${c.cpuid.ok ? formatRegs(c.cpuid.regs) : ''}`))}`,
      expected,
      fix,
    );
  }
  const vm = inVm(await virtual(), 'SYSCFG');
  if (vm) return vm;
  if (unreadable.length) return undecided(`${CPUID_SRC} could not be read on ${unreadable.length} of ${n} CPUs: ${listing(unreadable.map((c) => `CPU ${c.cpu}: ${c.cpuid.ok ? '' : c.cpuid.reason}`))}`);
  if (e.syscfgSkipped !== undefined) return undecided(`${CPUID_SRC} is the same on all ${n} CPUs, but SYSCFG could not be compared: ${e.syscfgSkipped}`);
  const sys0 = head.syscfg?.ok ? head.syscfg.value : undefined;
  const sysUnreadable = e.cpus.filter((c) => c.syscfg?.ok === false);
  if (sys0 === undefined || sysUnreadable.length) {
    return undecided(`SYSCFG could not be read on ${sysUnreadable.length} of ${n} CPUs: ${listing(sysUnreadable.map((c) => `CPU ${c.cpu}: ${c.syscfg?.ok === false ? c.syscfg.reason : ''}`))}`);
  }
  const sysDiff = e.cpus.filter((c) => c.syscfg?.ok && (c.syscfg.value & SYSCFG_SEV_MASK) !== (sys0 & SYSCFG_SEV_MASK));
  if (sysDiff.length) {
    return failed(
      `${msrName(MSR_SYSCFG)} bits 23-25 differ from CPU ${head.cpu}'s (${hex64(sys0)}) on ${sysDiff.length} of ${n} CPUs read: ${listing(sysDiff.map((c) => `CPU ${c.cpu}: ${c.syscfg?.ok ? hex64(c.syscfg.value) : ''}`))}`,
      expected,
      fix,
    );
  }
  return passed(`${CPUID_SRC} (${formatRegs(ref)}) and SYSCFG bits 23-25 (${hex64(sys0 & SYSCFG_SEV_MASK)}) are the same on all ${n} CPUs read (${e.source}: ${e.listed})`);
}

/** host.kvm.api: /dev/kvm exists and QEMU's query-kvm says KVM is present and enabled. */
export async function kvmApi(dev: Fact<StatInfo | undefined>, queryKvm: Fact<QmpAnswer<{ enabled: boolean; present: boolean }>>): Promise<Verdict> {
  const fixLoad = 'load KVM (modprobe kvm_amd) and enable SVM ("SVM Mode" / virtualization) in the BIOS setup';
  const st = await dev();
  if (st === undefined) return failed('/dev/kvm does not exist', '/dev/kvm, a character device', fixLoad);
  if (st.type !== 'char') return failed(`/dev/kvm is a ${st.type}, not a character device`, '/dev/kvm, a character device', `remove the stray /dev/kvm and ${fixLoad}`);
  const q = await queryKvm();
  if (!q.ok) return undecided(`QMP query-kvm failed: ${q.error.class}: ${q.error.desc}`);
  const as = q.context ? ` (QEMU ${q.context.qemu} ran as ${q.context.ranAs})` : '';
  if (q.value.present && q.value.enabled) return passed(`/dev/kvm is a character device and QEMU's query-kvm says KVM is present and enabled${as}`);
  const stderr = q.context?.stderr ? `; QEMU said: ${q.context.stderr.split('\n')[0]}` : '';
  const denied = /permission denied|operation not permitted/i.test(q.context?.stderr ?? '');
  return failed(
    `/dev/kvm exists, but QEMU's query-kvm says present=${q.value.present}, enabled=${q.value.enabled}${as}${stderr}`,
    'query-kvm present=true, enabled=true',
    denied
      ? "let QEMU's user open /dev/kvm read-write (see device.kvm.qemu-access)"
      : `QEMU could not use KVM: ${fixLoad}; inside a VM, enable nested virtualization (kvm_amd nested=1 on the outer host), or ${BARE_METAL}`,
  );
}
