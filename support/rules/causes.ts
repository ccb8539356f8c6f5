/**
 * The cause graph, as data: which checks a failed check explains. A check that fails (or cannot be
 * decided) because another failed is a symptom: the reports show it under its cause ("because
 * host.modprobe.sev") and lead with the causes, one fix each (support/report/findings.ts walks
 * this table; it never looks at messages).
 *
 * An edge only speaks when both ends are not passed: the cause failed, the symptom failed or is
 * undecided. It says "when A fails, B cannot pass for the same reason", from the kernel and
 * firmware code named beside it; an edge that is not always true would hide a second fix, so
 * when in doubt there is none.
 *
 * No edges between domain.* checks: each covers every guest, and one guest's invalid definition
 * does not explain another guest's failure.
 *
 * `explains` entries are check ids or a prefix ending in `.*` (`host.cpuid.*`: every id under
 * host.cpuid). A cause never explains itself.
 */
export interface CauseRule {
  /** the check whose failure is the cause */
  readonly cause: string;
  /** the checks its failure explains: ids or `prefix.*` */
  readonly explains: readonly string[];
  /** why, in a few words, with the source */
  readonly why: string;
}

/** What QEMU and libvirt report of SEV: none of it can be right without SEV in kvm_amd and /dev/sev (not the cache check). */
const CAPS_SEV = ['caps.layers.agree', 'caps.domcaps.*', 'caps.qmp.*', 'caps.pdh.chain-valid'];

/** Everything that needs AMD's SEV hardware, its firmware and kvm_amd on top of it. */
const NEEDS_SEV_HARDWARE = [
  'host.cpu.*',
  'host.cpuid.*',
  'host.msr.*',
  'host.firmware.*',
  'host.snp.*',
  'host.kvm-amd.*',
  'host.kernel.mem-encrypt',
  'host.kvm.vmsa-features',
  'host.tools.agree',
  'device.sev.*',
  'device.udev.sev-rule',
  ...CAPS_SEV,
];

export const CAUSES: readonly CauseRule[] = [
  {
    cause: 'host.cpu.amd',
    explains: NEEDS_SEV_HARDWARE,
    why: 'not an AMD processor: CPUID 0x8000001F, SYSCFG, the SEV firmware (/dev/sev) and kvm_amd are AMD-only (AMD APM Vol. 2 §15.34)',
  },
  {
    cause: 'host.cpu.epyc',
    explains: NEEDS_SEV_HARDWARE.filter((p) => p !== 'host.cpu.*').concat('host.cpu.sev-flag'),
    why: 'a processor generation without the feature: the firmware and kvm_amd cannot offer what the CPU lacks',
  },
  {
    cause: 'host.cpuid.sev',
    explains: [
      'host.cpu.sev-flag',
      'host.cpuid.asids',
      'host.cpuid.es-asids',
      'host.cpuid.cbitpos',
      'host.cpuid.vmpl',
      'host.cpuid.secure-tsc',
      'host.kvm-amd.*',
      'host.firmware.*',
      'host.snp.*',
      'host.kvm.vmsa-features',
      'host.tools.agree',
      'device.sev.*',
      'device.udev.sev-rule',
      ...CAPS_SEV,
    ],
    why: 'CPUID 0x8000001F without the SEV bit: arch/x86/kernel/cpu/amd.c clears X86_FEATURE_SEV, kvm/svm/sev.c sev_hardware_setup() leaves SEV off',
  },
  {
    cause: 'host.msr.syscfg-sme',
    explains: ['host.kernel.mem-encrypt', 'host.cpu.sev-flag', 'host.kvm-amd.*', 'host.firmware.*', 'host.snp.*', 'device.sev.*', ...CAPS_SEV],
    why: 'SYSCFG MemEncryptionModEn clear: amd.c early_detect_mem_encrypt() clears SME, SEV and SEV-ES',
  },
  {
    cause: 'host.msr.syscfg-snp',
    explains: ['host.cpu.sev-flag', 'host.kvm-amd.sev-snp', 'host.snp.*', 'host.kvm.vmsa-features'],
    why: 'SYSCFG SNPEn clear: the kernel does not enable SNP (arch/x86/virt/svm/sev.c snp_rmptable_init())',
  },
  {
    cause: 'host.snp.rmp',
    explains: ['host.snp.init', 'host.snp.rmp-init', 'host.snp.alias-check', 'host.snp.tcb', 'host.kvm-amd.sev-snp', 'host.cpu.sev-flag'],
    why: 'no RMP table: snp_rmptable_init() fails and clears X86_FEATURE_SEV_SNP',
  },
  {
    cause: 'host.cpu.sev-flag',
    explains: ['host.kvm-amd.*', 'host.firmware.*', 'host.snp.*', 'host.kvm.vmsa-features', 'device.sev.*', ...CAPS_SEV],
    why: 'the kernel cleared the SEV CPU flag: kvm/svm/sev.c sev_hardware_setup() checks boot_cpu_has(X86_FEATURE_SEV*)',
  },
  {
    cause: 'host.cpuid.asids',
    explains: ['host.kvm-amd.*', ...CAPS_SEV],
    why: 'no ASIDs for SEV guests: sev_hardware_setup() leaves SEV off when min_sev_asid > max_sev_asid',
  },
  {
    cause: 'host.cpuid.es-asids',
    explains: ['host.kvm-amd.sev-es', 'host.kvm-amd.sev-snp'],
    why: 'no SEV-ES ASIDs: sev_hardware_setup() leaves SEV-ES (and SNP) off when min_sev_asid <= 1',
  },
  {
    cause: 'host.modprobe.sev',
    explains: ['host.kvm-amd.*'],
    why: 'a persisted kvm_amd sev=0: modprobe passes it to kvm_amd, which then leaves SEV (and SEV-ES, SNP) off',
  },
  {
    cause: 'host.kvm-amd.sev',
    explains: ['host.kvm-amd.sev-es', 'host.kvm-amd.sev-snp', 'host.kvm.vmsa-features', ...CAPS_SEV],
    why: 'kvm_amd without SEV: sev_es_enabled and sev_snp_enabled need sev_enabled; QEMU and libvirt report no SEV',
  },
  {
    cause: 'host.kvm.api',
    explains: ['device.kvm.qemu-access', ...CAPS_SEV],
    why: 'no usable /dev/kvm: QEMU cannot start a KVM guest or answer query-sev-capabilities ("KVM not enabled")',
  },
  {
    cause: 'device.sev.exists',
    explains: ['device.sev.*', 'device.udev.sev-rule', 'device.libvirt.cgroup-acl', 'selinux.sev-label', 'host.firmware.*', 'host.snp.*', 'host.tools.agree', ...CAPS_SEV],
    why: 'no /dev/sev: nothing can open the SEV firmware (drivers/crypto/ccp/sev-dev.c creates it)',
  },
  {
    cause: 'device.udev.sev-rule',
    explains: ['device.sev.qemu-access', 'device.sev.not-world-writable', ...CAPS_SEV],
    why: "/dev/sev without the udev rule's owner and mode: QEMU's user cannot open it (or every user can)",
  },
  {
    cause: 'device.sev.qemu-access',
    explains: CAPS_SEV,
    why: 'QEMU cannot open /dev/sev: query-sev-capabilities fails ("SEV: Failed to open /dev/sev") and libvirt reports no SEV',
  },
  {
    cause: 'caps.cache.fresh',
    explains: ['caps.domcaps.*', 'caps.layers.agree'],
    why: "libvirt answers domcapabilities from its stale capability cache (/var/cache/libvirt/qemu/capabilities)",
  },
  {
    cause: 'host.firmware.sev-init',
    explains: ['host.firmware.sev-es-init', 'caps.pdh.chain-valid'],
    why: 'the SEV platform is not initialized: SEV-ES init and the platform certificates come after it',
  },
  {
    cause: 'host.snp.init',
    explains: ['host.snp.rmp-init', 'host.snp.alias-check', 'host.snp.tcb', 'host.kvm-amd.sev-snp'],
    why: 'SNP_INIT did not run: the RMP, the alias check and the TCB follow from it; kvm_amd leaves SNP off (sev.c sev_hardware_setup())',
  },
  {
    cause: 'launch.snp.cert-chain',
    explains: ['launch.snp.report-signature'],
    why: 'no trusted VCEK: the report signature cannot be trusted without its chain',
  },
];

/** Whether `pattern` (an id or `prefix.*`) names `id`. */
export function names(pattern: string, id: string): boolean {
  return pattern.endsWith('.*') ? id.startsWith(pattern.slice(0, -1)) : pattern === id;
}

/**
 * Why checks could not be decided, as classes with one remedy each: the reports group undecided
 * checks by the first class whose pattern matches their reason ("9 checks need the kernel log:
 * run as root / record journalctl"); a reason no class matches is a group of its own (same text).
 */
export interface UndecidedClass {
  readonly key: string;
  /** "need the kernel log": what the grouped checks lack, after "N checks" */
  readonly need: string;
  readonly remedy: string;
  readonly pattern: RegExp;
}

export const UNDECIDED_CLASSES: readonly UndecidedClass[] = [
  {
    // the log and the tools were read and none of them says: running as root changes nothing
    key: 'no-source-says',
    need: 'need a fact that neither the kernel log nor snphost/sevctl report',
    remedy: 'only a /dev/sev or /dev/kvm ioctl answers these, and the installed snphost does not make it: install a current snphost (virtee/snphost master has `ok -o json` and `ok --features`; no release has them yet) and run again',
    pattern: /has no line that decides .*reports no such test|whether KVM offers Secure TSC only KVM_GET_DEVICE_ATTR/,
  },
  {
    // rules/host-cpu.ts: inside a guest, SYSCFG and the per-CPU registers are the hypervisor's
    key: 'virtual-machine',
    need: 'need the bare-metal host (this is a virtual machine: its registers are the hypervisor\'s emulation)',
    remedy: 'run sevcheck on the bare-metal EPYC host (sevcheck run --host ssh://root@HOST from here)',
    pattern: /^this is a virtual machine \(\/proc\/cpuinfo lists "hypervisor"\)/,
  },
  {
    key: 'kernel-log',
    need: 'need the kernel log',
    remedy: 'run as root (or in the adm / systemd-journal group) so that journalctl -k -b can be read; for a fixture, record it again with sevcheck record as root',
    pattern: /^no kernel log|kernel log has no|^(?:dmesg|journalctl)[^:]* has no line/,
  },
  {
    key: 'msr',
    need: 'need the MSRs',
    remedy: 'run as root with the msr module loaded (modprobe msr); for a fixture, record it again with sevcheck record as root',
    pattern: /^MSR 0x[0-9a-f]+ on CPU/i,
  },
  {
    key: 'platform-tools',
    need: 'need snphost or sevctl',
    remedy: 'install snphost (SNP) or sevctl (github.com/virtee) and run as root; for a fixture, record it again with them installed',
    pattern: /^snphost|^sevctl/,
  },
  {
    key: 'qmp',
    need: 'need QEMU (QMP query-sev-capabilities / query-kvm)',
    remedy: 'install QEMU (qemu-system-x86) and run as root, so that sevcheck can start it with -machine none and ask QMP',
    pattern: /QMP command|QMP could not be asked|^neither QEMU nor libvirt/,
  },
  {
    key: 'libvirt',
    need: 'need libvirt (virsh domcapabilities)',
    remedy: 'run where libvirtd answers qemu:///system (root, or the libvirt group)',
    pattern: /virsh -c qemu:\/\/\/system|capabilities does not exist/,
  },
  {
    key: 'qemu-user',
    need: 'need to know who QEMU runs as',
    remedy: 'set user = and group = in /etc/libvirt/qemu.conf (or give os-release an ID= line)',
    pattern: /cannot tell who QEMU runs as|QEMU user is unknown/,
  },
  {
    key: 'amd-certs',
    need: "need AMD's root certificates (ASK/ARK)",
    remedy: 'give --amd-certs DIR (offline) or --kds (fetch them from AMD)',
    pattern: /AMD's ASK\/ARK are not available|AMD's (?:root )?certificates/,
  },
  {
    key: 'cpu-online',
    need: 'need /sys/devices/system/cpu (every CPU)',
    remedy: 'run on the host itself (not in a container that hides /sys); for a fixture, record it again',
    pattern: /\/sys\/devices\/system\/cpu\/online/,
  },
  {
    key: 'not-recorded',
    need: 'read something this fixture did not record',
    remedy: 'record the host again with sevcheck record (as root, with its tools installed)',
    pattern: /not recorded in this fixture/,
  },
];
