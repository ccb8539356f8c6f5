/**
 * Which SEV-ES VMSA a platform launches: the expected SEV-ES launch digest covers one VMSA per
 * vCPU (SEV API spec #55766 §6.4 LAUNCH_UPDATE_VMSA), and what KVM puts into it depends on the
 * host kernel and on how the VMM initialised the VM (issue 13 §6).
 *
 * Linux, arch/x86/kvm/svm/sev.c `sev_es_sync_vmsa()` (read at torvalds/linux 0097f9df996f):
 *   the guest's FPU state (x87 FCW/FSW/FTW/FOP, MXCSR, x87/XMM/YMM registers) is copied into the
 *   VMSA only `if (vcpu->kvm->arch.vm_type != KVM_X86_DEFAULT_VM)` — "Skip FPU and AVX setup with
 *   KVM_SEV_ES_INIT to avoid breaking older measurements". A VM has a non-default type only when
 *   the VMM created it as KVM_X86_SEV_ES_VM and initialised it with KVM_SEV_INIT2. Both came with
 *   commit eb4441864e03 "KVM: SEV: sync FPU and AVX state at LAUNCH_UPDATE_VMSA time"
 *   (2024-04-11) and its series (4f5defae7089 "KVM: SEV: introduce KVM_SEV_INIT2 operation"),
 *   merged for Linux 6.10 ("[GIT PULL] First batch of KVM changes for Linux 6.10 merge window":
 *   "When a SEV-ES VM is created with the new VM type ... the FPU and AVX state will be
 *   synchronized and encrypted too"). XCR0, XSS and PKRU are synced by the same function with
 *   either ioctl, so XCR0 = 1 (x87 only, the reset value) is in both models.
 *   Kernels before 6.10 have no KVM_SEV_INIT2: every SEV-ES VMSA they launch has no FPU state.
 *
 * QEMU, target/i386/sev.c `sev_kvm_type()` / `sev_common_kvm_init()`:
 *   QEMU before 9.1 only issues KVM_SEV_ES_INIT. QEMU 9.1 added KVM_SEV_INIT2 (663e2f443e57
 *   "target/i386: SEV: use KVM_SEV_INIT2 if possible") and the sev-guest property
 *   `legacy-vm-type` (023267334da3); 9d38d9dca2a8 "i386/sev: Don't allow automatic fallback to
 *   legacy KVM_SEV*_INIT", released in 9.1.0, made it on/off/auto with default auto, which keeps
 *   KVM_SEV_ES_INIT unless an option needs KVM_SEV_INIT2 — and `sev_init2_required()` returns
 *   false (qemu/qemu d4b976c0a81d). So an SEV-ES guest gets the FPU state in its VMSA only with
 *   QEMU ≥ 9.1, `legacy-vm-type=off`, and Linux ≥ 6.10 (QEMU refuses to start otherwise).
 *   The values are QEMU's reset state, x87 FCW 0x37f and MXCSR 0x1f80 (target/i386/cpu.c
 *   x86_cpu_reset), which KVM_SET_XSAVE hands to KVM before LAUNCH_UPDATE_VMSA.
 *
 * The two tools: virtee/sev-snp-measure builds the 'init2' VMSA (vmsa.py, since its PR #48
 * "Update the VMSA to match latest upstream kernel", 2024-04) — `sevcheck measure --mode seves`
 * matches it by default; libvirt's tools/virt-qemu-sev-validate (libvirt 9.0.0, Debian 12
 * libvirt-clients-qemu) builds the 'legacy' VMSA (`VMSA.amd64_cpu_init/kvm_cpu_init/
 * qemu_cpu_init`: no MXCSR, no FCW). SEV-SNP VMs are always KVM_X86_SNP_VM, i.e. 'init2'.
 *
 * Not modelled: SEV_FEATURES bits in an SEV-ES VMSA — DebugSwap, set with KVM_SEV_ES_INIT by
 * kvm_amd debug_swap=1 (its default until 5abf6dceb066 "SEV: disable SEV-ES DebugSwap by
 * default", Linux 6.8 and stable; AMDESE/AMDSEV issue #195 shows the measurement mismatch), or
 * requested through KVM_SEV_INIT2 vmsa_features. Such a launch matches neither model and fails
 * naming both digests.
 */
import type { VmsaModel } from './vmsa.js';

/** What is known of the platform's software, each with where it was read. */
export interface PlatformSoftware {
  /** kernel release as `uname -r` prints it, e.g. "6.1.0-18-amd64" */
  readonly kernel?: string | undefined;
  readonly kernelSource?: string | undefined;
  /** QEMU version, e.g. "7.2.0" (QMP query-version) */
  readonly qemu?: string | undefined;
  readonly qemuSource?: string | undefined;
}

export interface VmsaModelChoice {
  /** the models this platform can launch, the most likely first (QEMU's default first) */
  readonly models: readonly VmsaModel[];
  /** why these, for messages: the kernel/QEMU version that decided, or what is unknown */
  readonly reason: string;
}

/** First kernel release with KVM_SEV_INIT2 and the FPU sync (Linux eb4441864e03). */
export const KERNEL_INIT2: readonly [number, number] = [6, 10];
/** First QEMU release that can issue KVM_SEV_INIT2 (QEMU 663e2f443e57, 9d38d9dca2a8). */
export const QEMU_INIT2: readonly [number, number] = [9, 1];

/** "6.1.0-18-amd64" → [6, 1]; "7.2.0" → [7, 2]; undefined when it does not start with N.N. */
export function majorMinor(version: string | undefined): [number, number] | undefined {
  const m = /^\s*v?(\d+)\.(\d+)/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function before(v: readonly [number, number], limit: readonly [number, number]): boolean {
  return v[0] < limit[0] || (v[0] === limit[0] && v[1] < limit[1]);
}

const from = (source: string | undefined) => (source ? ` (${source})` : '');

/**
 * The VMSA models a platform with this software can launch. A kernel before 6.10 or a QEMU
 * before 9.1 can only launch 'legacy'; otherwise both are possible (QEMU's legacy-vm-type
 * decides, which no host fact records), 'legacy' first since it is QEMU's default.
 */
export function vmsaModelsFor(sw: PlatformSoftware): VmsaModelChoice {
  const k = majorMinor(sw.kernel);
  const q = majorMinor(sw.qemu);
  if (k && before(k, KERNEL_INIT2)) {
    return { models: ['legacy'], reason: `kernel ${sw.kernel}${from(sw.kernelSource)} is older than Linux 6.10, which has no KVM_SEV_INIT2` };
  }
  if (q && before(q, QEMU_INIT2)) {
    return { models: ['legacy'], reason: `QEMU ${sw.qemu}${from(sw.qemuSource)} is older than 9.1, which never issues KVM_SEV_INIT2` };
  }
  const known: string[] = [];
  if (sw.kernel !== undefined) known.push(`kernel ${sw.kernel}${k ? '' : ' (not a release number)'}${from(sw.kernelSource)}`);
  if (sw.qemu !== undefined) known.push(`QEMU ${sw.qemu}${q ? '' : ' (not a version number)'}${from(sw.qemuSource)}`);
  const unknown = [sw.kernel === undefined ? 'kernel release' : '', sw.qemu === undefined ? 'QEMU version' : ''].filter(Boolean);
  const what = known.length ? `${known.join(' and ')}${unknown.length ? ` (${unknown.join(' and ')} not recorded)` : ''}` : `the platform's ${unknown.join(' and ')} (not recorded)`;
  return { models: ['legacy', 'init2'], reason: `${what} can launch either VMSA (QEMU ≥ 9.1 uses KVM_SEV_INIT2 only with legacy-vm-type=off)` };
}

/** What a model is, in a person's words, for "matches the VMSA of …". */
export function describeVmsaModel(m: VmsaModel): string {
  return m === 'legacy'
    ? 'KVM_SEV_ES_INIT (no x87/SSE state: kernels before 6.10, QEMU before 9.1, or QEMU\'s default legacy-vm-type; as virt-qemu-sev-validate computes it)'
    : 'KVM_SEV_INIT2 (MXCSR 0x1f80, x87 FCW 0x37f: Linux ≥ 6.10 with QEMU ≥ 9.1 and legacy-vm-type=off; as sev-snp-measure computes it)';
}

/** Short name for lists of digests. */
export function vmsaModelName(m: VmsaModel): string {
  return m === 'legacy' ? 'KVM_SEV_ES_INIT VMSA' : 'KVM_SEV_INIT2 VMSA';
}
