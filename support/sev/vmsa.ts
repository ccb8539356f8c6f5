/**
 * Initial VMSA (VM save area) pages the hypervisor hands the SEV-ES/SNP firmware for each vCPU.
 * Their contents are measured, so the expected launch digest depends on every byte here.
 *
 * Layout: AMD64 APM Vol. 2, Appendix B, Table B-4 "VMSA Layout, State Save Area for SEV-ES"
 * (Linux arch/x86/include/asm/svm.h `struct sev_es_save_area`). Initial register values: what
 * QEMU/KVM (and EC2, GCE) put there at reset, as collected by virtee/sev-snp-measure vmsa.py,
 * which `sevcheck measure` matches byte for byte.
 */

/** Page size of a VMSA (APM Vol. 2 §15.35.3: the VMSA is one 4 KiB page). */
export const VMSA_SIZE = 4096;
/** The BSP starts at the x86 reset vector (APM Vol. 2 §14.1.3 "Processor Initialization State"). */
export const BSP_EIP = 0xfffffff0;

/**
 * Which initial x87/SSE state KVM writes into an SEV-ES VMSA before LAUNCH_UPDATE_VMSA (Linux
 * arch/x86/kvm/svm/sev.c `sev_es_sync_vmsa`): 'init2' for VMs set up with KVM_SEV_INIT2 (QEMU's
 * reset FCW 0x37f and MXCSR 0x1f80 are copied in; virtee/sev-snp-measure's VMSA), 'legacy' for
 * KVM_SEV_ES_INIT (no FPU state; libvirt virt-qemu-sev-validate's VMSA). Which platform produces
 * which, with the kernel and QEMU commits: support/sev/vmsa-model.ts.
 */
export type VmsaModel = 'init2' | 'legacy';
export const VMSA_MODELS: readonly VmsaModel[] = ['init2', 'legacy'];

/** Hypervisors whose initial register state differs (sev-snp-measure vmm_types.py). */
export type VmmType = 'QEMU' | 'ec2' | 'gce';
export const VMM_TYPES: readonly VmmType[] = ['QEMU', 'ec2', 'gce'];

/** Byte offsets in the save area, APM Vol. 2 Table B-4. */
const OFF = {
  es: 0x000, cs: 0x010, ss: 0x020, ds: 0x030, fs: 0x040, gs: 0x050,
  gdtr: 0x060, ldtr: 0x070, idtr: 0x080, tr: 0x090,
  efer: 0x0d0, cr4: 0x148, cr0: 0x158, dr7: 0x160, dr6: 0x168, rflags: 0x170, rip: 0x178,
  g_pat: 0x268, rdx: 0x310, sev_features: 0x3b0, xcr0: 0x3e8,
  mxcsr: 0x408, x87_fcw: 0x410,
} as const;

interface Seg { selector: number; attrib: number; limit: number; base: number }

function writeSeg(v: DataView, off: number, s: Seg): void {
  // VMCB segment: u16 selector, u16 attrib, u32 limit, u64 base (APM Vol. 2 Table B-1/B-4).
  v.setUint16(off, s.selector, true);
  v.setUint16(off + 2, s.attrib, true);
  v.setUint32(off + 4, s.limit >>> 0, true);
  v.setBigUint64(off + 8, BigInt(s.base), true);
}

function w64(v: DataView, off: number, x: number | bigint): void {
  v.setBigUint64(off, BigInt(x), true);
}

const seg = (selector: number, attrib: number, limit: number, base = 0): Seg => ({ selector, attrib, limit, base });

export interface VmsaParams {
  /** Reset address: BSP_EIP for the BSP, the OVMF SEV-ES reset block value for APs. */
  eip: number;
  /** VMSA SEV_FEATURES (SNP guest features, e.g. 0x1 SNPActive, 0x21 +DebugSwap); 0 for SEV-ES. */
  sevFeatures: bigint;
  /** CPUID Fn0000_0001_EAX signature, loaded into RDX at reset (APM Vol. 2 §14.1.3). */
  vcpuSig: number;
  vmmType: VmmType;
  /** FPU state in the VMSA (default 'init2', as sev-snp-measure); SNP VMs always get 'init2'. */
  vmsaModel?: VmsaModel | undefined;
}

/** One vCPU's initial VMSA page (sev-snp-measure vmsa.py `VMSA.build_save_area`). */
export function buildVmsa(p: VmsaParams): Uint8Array {
  const page = new Uint8Array(VMSA_SIZE);
  const v = new DataView(page.buffer);
  // Defaults are QEMU/KVM's; EC2 and GCE deviate as recorded in sev-snp-measure vmsa.py.
  let csFlags = 0x9b;
  let ssFlags = 0x93;
  let trFlags = 0x8b;
  let gPat = 0x0007040600070406n; // PAT MSR reset value, APM Vol. 2 §A.3 / KVM kvm_arch_vcpu_create
  let rdx = p.vcpuSig;
  // QEMU x86_cpu_reset: MXCSR 0x1f80, x87 FCW 0x37f; KVM copies them into the VMSA only for
  // KVM_SEV_INIT2 VMs (Linux eb4441864e03, 6.10), never for KVM_SEV_ES_INIT (vmsa-model.ts).
  const fpu = (p.vmsaModel ?? 'init2') === 'init2';
  let mxcsr = fpu ? 0x1f80 : 0;
  let fcw = fpu ? 0x37f : 0;
  if (p.vmmType === 'ec2') {
    if (p.eip === BSP_EIP) csFlags = 0x9a;
    ssFlags = 0x92;
    trFlags = 0x83;
    rdx = 0x600;
    mxcsr = 0;
    fcw = 0;
  } else if (p.vmmType === 'gce') {
    gPat = 0x00070106n; // GCE's hypervisor overwrites the default g_pat
    rdx = 0x600;
    mxcsr = 0;
    fcw = 0;
  }
  writeSeg(v, OFF.es, seg(0, 0x93, 0xffff));
  writeSeg(v, OFF.cs, seg(0xf000, csFlags, 0xffff, (p.eip & 0xffff0000) >>> 0));
  writeSeg(v, OFF.ss, seg(0, ssFlags, 0xffff));
  writeSeg(v, OFF.ds, seg(0, 0x93, 0xffff));
  writeSeg(v, OFF.fs, seg(0, 0x93, 0xffff));
  writeSeg(v, OFF.gs, seg(0, 0x93, 0xffff));
  writeSeg(v, OFF.gdtr, seg(0, 0, 0xffff));
  writeSeg(v, OFF.idtr, seg(0, 0, 0xffff));
  writeSeg(v, OFF.ldtr, seg(0, 0x82, 0xffff));
  writeSeg(v, OFF.tr, seg(0, trFlags, 0xffff));
  w64(v, OFF.efer, 0x1000); // KVM sets EFER.SVME
  w64(v, OFF.cr4, 0x40); // KVM sets CR4.MCE
  w64(v, OFF.cr0, 0x10); // CR0.ET at reset (APM Vol. 2 §14.1.3)
  w64(v, OFF.dr7, 0x400);
  w64(v, OFF.dr6, 0xffff0ff0);
  w64(v, OFF.rflags, 0x2);
  w64(v, OFF.rip, p.eip & 0xffff);
  w64(v, OFF.g_pat, gPat);
  w64(v, OFF.rdx, rdx >>> 0);
  w64(v, OFF.sev_features, p.sevFeatures);
  w64(v, OFF.xcr0, 0x1);
  v.setUint32(OFF.mxcsr, mxcsr, true);
  v.setUint16(OFF.x87_fcw, fcw, true);
  return page;
}

/**
 * The VMSA for Coconut-SVSM (32-bit protected mode entry, flat segments), sev-snp-measure
 * vmsa.py `VMSA_SVSM`; SEV_FEATURES fixed at 0x1 (SNPActive). Upstream passes `fcw=` where the
 * field is named `x87_fcw`, which ctypes ignores, so the measured x87 FCW is 0: kept for
 * byte-exactness with the published SVSM measurements (tests/test_guest.py test_snp_svsm_*).
 */
export function buildSvsmVmsa(eip: number, vcpuSig: number): Uint8Array {
  const page = new Uint8Array(VMSA_SIZE);
  const v = new DataView(page.buffer);
  writeSeg(v, OFF.es, seg(16, 0xc93, 0xffffffff));
  writeSeg(v, OFF.cs, seg(8, 0xc9b, 0xffffffff));
  writeSeg(v, OFF.ss, seg(16, 0xc93, 0xffffffff));
  writeSeg(v, OFF.ds, seg(16, 0xc93, 0xffffffff));
  writeSeg(v, OFF.fs, seg(16, 0xc93, 0xffffffff));
  writeSeg(v, OFF.gs, seg(0, 0x093, 0xffff));
  writeSeg(v, OFF.gdtr, seg(0, 0, 0xffff));
  writeSeg(v, OFF.idtr, seg(0, 0, 0xffff));
  writeSeg(v, OFF.ldtr, seg(0, 0x82, 0xffff));
  writeSeg(v, OFF.tr, seg(0, 0x8b, 0xffff));
  w64(v, OFF.efer, 0x1000);
  w64(v, OFF.cr4, 0x40);
  w64(v, OFF.cr0, 0x11); // PE | ET: protected mode
  w64(v, OFF.dr7, 0x400);
  w64(v, OFF.dr6, 0xffff0ff0);
  w64(v, OFF.rflags, 0x2);
  w64(v, OFF.rip, eip);
  w64(v, OFF.g_pat, 0x0007040600070406n);
  w64(v, OFF.rdx, vcpuSig >>> 0);
  w64(v, OFF.sev_features, 0x1n);
  w64(v, OFF.xcr0, 0x1);
  v.setUint32(OFF.mxcsr, 0x1f80, true);
  return page;
}

/**
 * VMSA pages for `vcpus` vCPUs: the BSP at the reset vector, every AP at `apEip`
 * (sev-snp-measure vmsa.py `VMSA.pages`).
 */
export function vmsaPages(vcpus: number, apEip: number, base: Omit<VmsaParams, 'eip'>): Uint8Array[] {
  const pages: Uint8Array[] = [];
  if (vcpus <= 0) return pages;
  pages.push(buildVmsa({ ...base, eip: BSP_EIP }));
  if (vcpus > 1) {
    const ap = buildVmsa({ ...base, eip: apEip });
    for (let i = 1; i < vcpus; i++) pages.push(ap);
  }
  return pages;
}

/**
 * CPUID Fn0000_0001_EAX from family/model/stepping: AMD CPUID Specification #25481,
 * "CPUID Fn0000_0001_EAX Family, Model, Stepping Identifiers" (extended family = family - 0xf
 * when family > 0xf; model split into base [7:4] and extended [19:16]).
 */
export function cpuSig(family: number, model: number, stepping: number): number {
  const familyLow = family > 0xf ? 0xf : family;
  const familyHigh = family > 0xf ? (family - 0x0f) & 0xff : 0;
  return (
    ((familyHigh << 20) | (((model >> 4) & 0xf) << 16) | (familyLow << 8) | ((model & 0xf) << 4) | (stepping & 0xf)) >>> 0
  );
}

/**
 * QEMU's AMD EPYC CPU models (target/i386/cpu.c builtin_x86_defs) and their signatures, as listed
 * in sev-snp-measure vcpu_types.py.
 */
export const CPU_SIGS: Readonly<Record<string, number>> = Object.freeze({
  EPYC: cpuSig(23, 1, 2),
  'EPYC-v1': cpuSig(23, 1, 2),
  'EPYC-v2': cpuSig(23, 1, 2),
  'EPYC-IBPB': cpuSig(23, 1, 2),
  'EPYC-v3': cpuSig(23, 1, 2),
  'EPYC-v4': cpuSig(23, 1, 2),
  'EPYC-Rome': cpuSig(23, 49, 0),
  'EPYC-Rome-v1': cpuSig(23, 49, 0),
  'EPYC-Rome-v2': cpuSig(23, 49, 0),
  'EPYC-Rome-v3': cpuSig(23, 49, 0),
  'EPYC-Milan': cpuSig(25, 1, 1),
  'EPYC-Milan-v1': cpuSig(25, 1, 1),
  'EPYC-Milan-v2': cpuSig(25, 1, 1),
  'EPYC-Genoa': cpuSig(25, 17, 0),
  'EPYC-Genoa-v1': cpuSig(25, 17, 0),
  'EPYC-Turin': cpuSig(26, 0, 0),
});
