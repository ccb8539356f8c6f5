/**
 * Host enablement rules: typed facts in, Verdict out. No I/O.
 *
 * Sources for the rules and fix texts:
 * - libvirt docs/kbase/launch_security_sev.rst, "Enabling SEV on the host": check
 *   /sys/module/kvm_amd/parameters/sev; enable with `mem_encrypt=on kvm_amd.sev=1` on the kernel
 *   command line or `options kvm_amd sev=1` in /etc/modprobe.d/sev.conf.
 * - Linux Documentation/arch/x86/amd-memory-encryption.rst: mem_encrypt=on|off and
 *   CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT decide whether SME is active.
 * - Linux arch/x86/kernel/cpu/amd.c early_detect_mem_encrypt(): `sme` is listed in cpuinfo only
 *   when SME is active; `sev`, `sev_es`, `sev_snp` are cleared when the BIOS has not set
 *   SYSCFG[MemEncryptionModEn].
 * - Linux arch/x86/kvm/svm/sev.c sev_hardware_setup(): plain-SEV ASIDs are EDX..ECX of
 *   CPUID 0x8000001F ("SEV unusable" when EDX > ECX); SEV-ES/SNP ASIDs are 1..EDX-1.
 */
import { passed, failed, undecided, type Verdict } from '../verdict.js';
import { HostError } from '../host/types.js';
import { formatRegs, hex32, plausibleCbitpos, type EncryptedMemoryCaps } from '../sev/cpuid.js';
import type { CpuInfo } from '../parsers/cpuinfo.js';
import { x86CmdlineFindOption, type KernelCmdline } from '../parsers/cmdline.js';
import { moduleParams, type ModprobeDirective } from '../parsers/modprobe.js';
import { paramSetBool, parseBoolParam } from '../parsers/bool-param.js';
import type { KernelConfig, ModuleParam } from '../probes/host.js';
import { optional, type Fact } from '../facts.js';

export type Feature = 'sev' | 'sev-es' | 'sev-snp';

const FEATURE: Record<Feature, { name: string; flag: string; bit: number; param: string }> = {
  sev: { name: 'SEV', flag: 'sev', bit: 1, param: 'sev' },
  'sev-es': { name: 'SEV-ES', flag: 'sev_es', bit: 3, param: 'sev_es' },
  'sev-snp': { name: 'SEV-SNP', flag: 'sev_snp', bit: 4, param: 'sev_snp' },
};

/** The kvm_amd module parameter that enables a feature (arch/x86/kvm/svm/sev.c module_param sev, sev_es, sev_snp). */
export function kvmAmdParamName(feature: Feature): string {
  return FEATURE[feature].param;
}

export function featureOfFlag(flag: string): Feature {
  const f = (Object.keys(FEATURE) as Feature[]).find((k) => FEATURE[k].flag === flag || FEATURE[k].param === flag || k === flag);
  if (!f) throw new Error(`unknown SEV feature "${flag}"`);
  return f;
}

const FIX_BIOS =
  'enable SME/SMEE ("Memory Encryption", "SMEE") and SEV in the BIOS setup, set "SEV ASID Count"/"SEV-ES ASID Space Limit" as needed, and update the BIOS/microcode if the options are missing';
const FIX_CACHE =
  'then clear libvirt\'s stale capabilities: rm -f /var/cache/libvirt/qemu/capabilities/*.xml && systemctl restart libvirtd (or virtqemud)';

const CPUID_SRC = 'CPUID 0x8000001F';
const FIX_NOT_AMD = 'SEV needs an AMD EPYC processor: run SEV guests on an AMD EPYC host';

/**
 * Why the processor has no leaf 0x8000001F, or undefined when it has one. The leaf is AMD's (APM
 * Vol. 3, E.4.17) and means SEV only on an AuthenticAMD CPU (Linux arch/x86/kernel/cpu/amd.c:
 * early_detect_mem_encrypt() runs from early_init_amd(), i.e. for X86_VENDOR_AMD only); on other
 * vendors it is reserved, and a CPU returns the highest basic leaf's data for an extended leaf it
 * does not implement (Intel SDM Vol. 2A, CPUID), so its bits must not be read as SEV.
 */
export function leafAbsence(caps: EncryptedMemoryCaps): string | undefined {
  if (caps.vendor !== undefined && caps.vendor !== 'AuthenticAMD') {
    return `a ${caps.vendor} processor (${caps.vendorSource ?? 'CPUID 0x00000000'}): CPUID leaf 0x8000001F is AMD's and reports no SEV on it`;
  }
  if (caps.implemented === false) {
    return `the processor does not implement CPUID leaf 0x8000001F (highest extended leaf ${hex32(caps.maxExtendedLeaf ?? 0)} in CPUID 0x80000000 EAX)`;
  }
  return undefined;
}

/** host.cpu.sev-flag */
export async function cpuFlag(info: CpuInfo, feature: Feature, cpuid: Fact<EncryptedMemoryCaps>): Promise<Verdict> {
  const f = FEATURE[feature];
  if (info.flags.has(f.flag)) return passed(`/proc/cpuinfo lists the "${f.flag}" flag`);
  const found = `no "${f.flag}" in the /proc/cpuinfo flags${info.modelName ? ` of "${info.modelName}"` : ''}`;
  if (info.vendor !== undefined && info.vendor !== 'AuthenticAMD') {
    return failed(found + ` (vendor ${info.vendor})`, `the "${f.flag}" flag`, `${f.name} needs an AMD EPYC processor`);
  }
  // CPUID is context here: it tells a BIOS setting from a CPU without the feature
  const caps = await optional(cpuid);
  if (caps && leafAbsence(caps) === undefined && ((caps.raw.eax >>> f.bit) & 1) === 1) {
    // sev_snp is also cleared when the BIOS reserved no RMP table: arch/x86/kernel/cpu/amd.c
    // bsp_determine_snp() calls setup_clear_cpu_cap(X86_FEATURE_SEV_SNP) when snp_probe_rmptable_info() fails
    const snp = feature === 'sev-snp';
    return failed(
      `${found}, although ${CPUID_SRC} EAX bit ${f.bit} (${f.name}) is set: the kernel cleared it because the BIOS has not enabled memory encryption${snp ? ' or has not reserved memory for the RMP table (see host.snp.rmp)' : ''}`,
      `the "${f.flag}" flag`,
      snp ? `${FIX_BIOS}; enable "SEV-SNP Support" and "SNP Memory Coverage" so that the BIOS reserves the RMP table` : FIX_BIOS,
    );
  }
  if (info.flags.has('hypervisor')) {
    return failed(`${found}; this is a virtual machine ("hypervisor" flag)`, `the "${f.flag}" flag on the host`, `run sevcheck on the bare-metal EPYC host, not inside a guest`);
  }
  return failed(found, `the "${f.flag}" flag`, `${f.name} needs an EPYC processor with ${f.name}; ${FIX_BIOS}`);
}

/** host.cpuid.sev */
export function cpuidFeature(caps: EncryptedMemoryCaps, feature: Feature): Verdict {
  const f = FEATURE[feature];
  const set = ((caps.raw.eax >>> f.bit) & 1) === 1;
  const absent = leafAbsence(caps);
  if (absent !== undefined) return failed(absent, `EAX bit ${f.bit} (${f.name}) of CPUID 0x8000001F set`, `${f.name} needs an AMD EPYC processor`);
  if (set) return passed(`${CPUID_SRC} EAX bit ${f.bit} (${f.name}) is set (${formatRegs(caps.raw)})`);
  if (caps.raw.eax === 0 && caps.raw.ebx === 0) {
    return failed(
      `${CPUID_SRC} is all zero (${formatRegs(caps.raw)}): no memory-encryption support reported`,
      `EAX bit ${f.bit} (${f.name}) set`,
      `use an AMD EPYC host with ${f.name}; inside a VM the hypervisor hides this leaf; on bare metal ${FIX_BIOS}`,
    );
  }
  return failed(`${CPUID_SRC} EAX bit ${f.bit} (${f.name}) clear (${formatRegs(caps.raw)}; features: ${caps.features.join(', ') || 'none'})`, `EAX bit ${f.bit} set`, FIX_BIOS);
}

/** host.cpuid.cbitpos */
export function cbitpos(caps: EncryptedMemoryCaps): Verdict {
  const absent = leafAbsence(caps);
  if (absent !== undefined) return failed(`${absent}, so there is no C-bit position (see host.cpuid.sev)`, 'a C-bit position between 32 and 63 in CPUID 0x8000001F EBX[5:0]', FIX_NOT_AMD);
  if (plausibleCbitpos(caps.cbitpos)) {
    return passed(`C-bit position ${caps.cbitpos} (${CPUID_SRC} EBX[5:0]), physical address reduction ${caps.physAddrReduction}`);
  }
  return failed(
    `C-bit position ${caps.cbitpos} in ${CPUID_SRC} EBX[5:0] (EBX=0x${caps.raw.ebx.toString(16)})`,
    'a position between 32 and 63 (47 on Naples/Rome, 51 on Milan/Genoa/Turin)',
    caps.sev ? 'update the BIOS/microcode; a zero C-bit with SEV set is a firmware defect' : FIX_BIOS,
  );
}

/** host.cpuid.asids — plain SEV guests need ASIDs EDX..ECX. */
export function asids(caps: EncryptedMemoryCaps): Verdict {
  const absent = leafAbsence(caps);
  if (absent !== undefined) return failed(`${absent}, so there are no SEV ASIDs (see host.cpuid.sev)`, 'ECX > 0 and EDX <= ECX in CPUID 0x8000001F', FIX_NOT_AMD);
  const { maxEncryptedGuests: ecx, minSevAsid: edx } = caps;
  const found = `ECX (max encrypted guests) = ${ecx}, EDX (min SEV ASID) = ${edx} in ${CPUID_SRC}`;
  if (ecx === 0) return failed(found, 'ECX > 0', FIX_BIOS);
  if (edx > ecx) {
    return failed(
      `${found}: all ${ecx} ASIDs are reserved for SEV-ES/SNP, none for plain SEV guests (kvm_amd logs "SEV unusable")`,
      'EDX <= ECX',
      'lower the BIOS "SEV-ES ASID Space Limit" (or "SEV-ES ASID Count") below the number of ASIDs',
    );
  }
  return passed(`${found}: ${caps.sevAsids} ASIDs for SEV guests, ${caps.sevEsAsids} for SEV-ES/SNP guests`);
}

/** host.cpuid.es-asids — SEV-ES and SNP guests need ASIDs 1..EDX-1. */
export function esAsids(caps: EncryptedMemoryCaps): Verdict {
  const absent = leafAbsence(caps);
  if (absent !== undefined) return failed(`${absent}, so there are no SEV-ES ASIDs (see host.cpuid.sev)`, 'EDX > 1 in CPUID 0x8000001F', FIX_NOT_AMD);
  const found = `EDX (min SEV ASID) = ${caps.minSevAsid} in ${CPUID_SRC}, so ${caps.sevEsAsids} ASIDs for SEV-ES/SNP guests`;
  if (caps.sevEsAsids > 0) return passed(found);
  return failed(
    found,
    'EDX > 1 (ASIDs 1..EDX-1 are the only ones SEV-ES and SNP guests can use)',
    'raise the BIOS "SEV-ES ASID Space Limit" (AMD CBS > CPU Common Options), e.g. to 100, then reboot',
  );
}

/** What is persisted for kvm_amd (modprobe.d directives in kmod's order, the kernel command line). */
export interface PersistedKvmAmd {
  readonly directives: readonly ModprobeDirective[];
  readonly cmdline: KernelCmdline;
}

/** The file the persist fix names: the libvirt docs' /etc/modprobe.d/sev.conf. */
const SEV_CONF = '/etc/modprobe.d/sev.conf';

/**
 * How to persist `params` (e.g. sev=1 sev_es=1) given what is already persisted: never "write
 * sev.conf" when a file already sets the value (host.modprobe.sev's modprobe-conflict: sev.conf:1
 * says sev=1, zz-kvm-tuning.conf:2 turns it off again), and never `>` over a sev.conf that exists.
 * `needed` are the parameters the feature needs (sev, and sev_es / sev_snp on top).
 */
export function persistFix(needed: readonly string[], persisted: PersistedKvmAmd | undefined, fallback: string): { fix: string; persisted: boolean } {
  if (!persisted) return { fix: fallback, persisted: false };
  const settings = moduleParams(persisted.directives, 'kvm_amd', persisted.cmdline).filter((p) => needed.includes(p.name));
  const off = settings.filter((p) => paramSetBool(p.value) !== true);
  if (off.length) {
    const where = [...new Set(off.map((p) => p.where))].join(' and ');
    const names = [...new Set(off.map((p) => p.name))].map((n) => `${n}=1`).join(' ');
    return { fix: `change ${where} to ${names} (see host.modprobe.sev)`, persisted: true };
  }
  const on = new Set(settings.map((p) => p.name));
  const missing = needed.filter((n) => !on.has(n));
  if (missing.length === 0) {
    const where = [...new Set(settings.map((p) => p.where))].join(' and ');
    return { fix: `${where} already ${settings.length > 1 ? 'set' : 'sets'} ${needed.map((n) => `${n}=1`).join(' ')}: the module was loaded without it`, persisted: true };
  }
  const line = `options kvm_amd ${missing.map((n) => `${n}=1`).join(' ')}`;
  const files = new Set(persisted.directives.map((d) => d.file));
  if (files.has(SEV_CONF)) return { fix: `add the line "${line}" to ${SEV_CONF}`, persisted: false };
  return { fix: missing.length === needed.length ? fallback : `echo "${line}" > ${SEV_CONF}`, persisted: false };
}

/** host.kvm-amd.sev / sev-es / sev-snp */
export async function kvmAmdParam(
  loaded: Fact<boolean>,
  param: Fact<ModuleParam | undefined>,
  feature: Feature,
  cpuid: Fact<EncryptedMemoryCaps>,
  persisted?: Fact<PersistedKvmAmd>,
): Promise<Verdict> {
  const f = FEATURE[feature];
  const needed = feature === 'sev' ? ['sev'] : ['sev', f.param];
  const fallback =
    feature === 'sev'
      ? `echo "options kvm_amd sev=1" > ${SEV_CONF} (or add "mem_encrypt=on kvm_amd.sev=1" to GRUB_CMDLINE_LINUX and run update-grub / grub2-mkconfig)`
      : `echo "options kvm_amd sev=1 ${f.param}=1" > ${SEV_CONF}`;
  const known = persisted ? await optional(persisted) : undefined;
  const persist = persistFix(needed, known, fallback).fix;
  const reload = 'then reload the module (modprobe -r kvm_amd && modprobe kvm_amd, with no VM running) or reboot';
  if (!(await loaded())) {
    // on a CPU without AMD's leaf (e.g. Intel) kvm_amd cannot load at all: say so, not "modprobe"
    const caps = await optional(cpuid);
    const absent = caps && leafAbsence(caps);
    const found = 'the kvm_amd module is not loaded (/sys/module/kvm_amd is missing)';
    if (absent) return failed(`${found}; ${absent}`, `kvm_amd loaded with ${f.param}=1`, FIX_NOT_AMD);
    return failed(found, `kvm_amd loaded with ${f.param}=1`, `modprobe kvm_amd; ${persist}`);
  }
  const p = await param();
  if (p === undefined) {
    return failed(
      `kvm_amd has no "${f.param}" parameter (/sys/module/kvm_amd/parameters/${f.param} is missing)`,
      `${f.param} = Y or 1`,
      `${f.name} needs a newer kernel (SEV: 4.16, SEV-ES: 5.11, SEV-SNP host: 6.11) built with CONFIG_KVM_AMD_SEV=y`,
    );
  }
  if (p.enabled === true) return passed(`${p.path} reads "${p.raw}"`);
  // CPUID is context: it tells a CPU/BIOS without the feature from a module option
  const caps = await optional(cpuid);
  const absent = caps && leafAbsence(caps);
  const hwMissing = caps !== undefined && (absent !== undefined || ((caps.raw.eax >>> f.bit) & 1) === 0);
  return failed(
    `${p.path} reads "${p.raw}"${absent ? ` and ${absent}` : hwMissing ? ` and ${CPUID_SRC} does not report ${f.name}: kvm_amd turns it off when the CPU/BIOS lacks it` : ''}`,
    '"Y" or "1"',
    absent ? FIX_NOT_AMD : hwMissing ? FIX_BIOS : `${persist}; ${reload}; ${FIX_CACHE}`,
  );
}

/**
 * host.kernel.mem-encrypt. Facts in the order that decides: the command line (mem_encrypt=off
 * decides alone), then /proc/cpuinfo (vendor; "sme" listed means SME is active), and only when
 * neither decides, the kernel config (CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT).
 */
export async function memEncrypt(cmd: KernelCmdline, kconfig: Fact<KernelConfig | undefined>, cpuinfo: Fact<CpuInfo>): Promise<Verdict> {
  // sme_enable() reads mem_encrypt with the x86 early-boot parser, not parse_args() (cmdline.ts)
  const v = x86CmdlineFindOption(cmd.raw, 'mem_encrypt');
  const fix = 'add mem_encrypt=on to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (Debian/Ubuntu) or grub2-mkconfig -o /boot/grub2/grub.cfg (Fedora/RHEL/SUSE), and reboot';
  if (v === 'off') return failed('mem_encrypt=off on the kernel command line (/proc/cmdline)', 'mem_encrypt=on, or no mem_encrypt=off', `remove mem_encrypt=off; ${fix}`);
  const info = await optional(cpuinfo);
  if (info?.vendor !== undefined && info.vendor !== 'AuthenticAMD') {
    return failed(`a ${info.vendor} processor (/proc/cpuinfo vendor_id)`, 'an AMD processor with SME active', 'SEV needs an AMD EPYC host');
  }
  if (v === 'on') {
    // amd.c early_detect_mem_encrypt(): "sme" stays in cpuinfo only when SME was activated.
    if (info !== undefined && !info.flags.has('sme')) {
      return failed(
        'mem_encrypt=on on the kernel command line, but /proc/cpuinfo does not list "sme": the kernel could not activate memory encryption',
        'SME active ("sme" in /proc/cpuinfo)',
        FIX_BIOS,
      );
    }
    return passed(`mem_encrypt=on on the kernel command line (/proc/cmdline)${info ? ' and /proc/cpuinfo lists "sme"' : ''}`);
  }
  const found = v === undefined ? 'no mem_encrypt= on the kernel command line' : `mem_encrypt=${v} on the kernel command line (not "on")`;
  if (info?.flags.has('sme')) return passed(`${found}, but /proc/cpuinfo lists "sme": SME is active`);
  let conf: KernelConfig | undefined;
  try {
    conf = await kconfig();
  } catch (e) {
    if (!(e instanceof HostError) || e.code === 'NOT_RUNNING') throw e;
    return undecided(`${found}, /proc/cpuinfo ${info ? 'does not list "sme"' : 'could not be read'}, and the kernel config cannot be read: ${e.message}`);
  }
  const byDefault = conf?.values.get('CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT');
  if (byDefault === 'y') {
    // The config says "on by default", but that is the kernel's intent, not the outcome: kernels with
    // cbebd68f59f0 and without its fix e814b59e6c2b (x86/sme, 2024) ignore it, and the BIOS may keep
    // SMEE off. amd.c early_detect_mem_encrypt() leaves "sme" in cpuinfo only when SME was activated.
    if (info !== undefined) {
      return failed(
        `${found}; ${conf?.source} has CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=y, but /proc/cpuinfo does not list "sme": memory encryption was not activated`,
        'SME active ("sme" in /proc/cpuinfo)',
        `${fix}; if it is still missing, ${FIX_BIOS}`,
      );
    }
    return passed(`${found}, and ${conf?.source} has CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=y (/proc/cpuinfo could not be read to confirm "sme")`);
  }
  if (conf === undefined) {
    return undecided(`${found}, no kernel config (/boot/config-<release>, /proc/config.gz) to tell whether memory encryption is on by default, and /proc/cpuinfo does not list "sme"`);
  }
  const why = byDefault === undefined ? 'does not set CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT' : `has CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=${byDefault}`;
  return failed(`${found}, and ${conf.source} ${why}`, 'mem_encrypt=on (or a kernel with memory encryption active by default)', fix);
}

/**
 * host.modprobe.sev: the `sev` value kvm_amd receives when modprobe loads it, read as kmod and the
 * kernel read it (parsers/modprobe.ts moduleParams(); bare `sev` is true, kstrtobool for values).
 */
export function modprobeSev(directives: readonly ModprobeDirective[], cmd: KernelCmdline): Verdict {
  // kmod: an install command replaces loading the module; what it does is a shell command
  const install = directives.find((d) => d.kind === 'install' && d.module === 'kvm_amd');
  if (install?.kind === 'install') {
    return undecided(
      `${install.file}:${install.line} "install kvm_amd ${install.command}": modprobe runs this shell command instead of loading kvm_amd with its options, and sevcheck does not evaluate shell commands`,
    );
  }
  const places = moduleParams(directives, 'kvm_amd', cmd)
    .filter((p) => p.name === 'sev')
    .map((p) => ({ where: p.where, value: p.value, on: paramSetBool(p.value) }));
  if (places.length === 0) {
    return passed('kvm_amd sev is not persisted in modprobe.d or on the kernel command line; the module default applies (see host.kvm-amd.sev)');
  }
  const show = (p: { value: string | undefined }): string => (p.value === undefined ? 'sev (bare: true)' : `sev=${p.value}`);
  const off = places.filter((p) => p.on !== true);
  const list = places.map((p) => `${show(p)} at ${p.where}`).join(', ');
  if (off.length === 0) return passed(`kvm_amd ${list}`);
  const conflicting = off.length < places.length;
  const invalid = off.some((p) => p.on === undefined) ? ' (a value the kernel rejects stops kvm_amd from loading: kstrtobool takes y/n/1/0/on/off)' : '';
  return failed(
    `${conflicting ? 'conflicting settings: ' : ''}kvm_amd ${list}${invalid}`,
    'every persisted kvm_amd sev option to be 1 (options kvm_amd sev=1)',
    `change ${[...new Set(off.map((p) => p.where))].join(' and ')} to sev=1 (modprobe.d: "options kvm_amd sev=1"; cmdline: kvm_amd.sev=1), then reload kvm_amd or reboot`,
  );
}
