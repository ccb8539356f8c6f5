/**
 * The SEV facts the kernel logs at boot, from the text of `journalctl -k -b`, `dmesg` or
 * /var/log/kern.log (pure: text in, facts out). Only whole, well-formed lines count: a pattern is
 * anchored at the line's end (a closing parenthesis or bracket, or the last number), so a truncated
 * line is not a fact, and anything else on a line (timestamps, host names, garbage) is ignored.
 *
 * Wordings, by source (each quoted from the file named; kernel commits as blamed in torvalds/linux):
 * - ccp (drivers/crypto/ccp/psp-dev.c since v4.16, then sev-dev.c): `dev_info(…, "SEV API:%d.%d
 *   build:%d\n", …)`; at torvalds/linux 0410c612 sev-dev.c sev_pci_init prints
 *   `"SEV%s API:%d.%d build:%d\n"` with "-SNP" when SNP is initialized; later kernels print
 *   `SEV API:` at the end of __sev_platform_init_locked and `SEV-SNP API:` at the end of
 *   __sev_snp_init_locked (sev-dev.c at torvalds/linux e606073b).
 * - ccp, firmware hot-load (sev-dev.c sev_pci_init / sev_update_firmware, torvalds/linux
 *   e606073b): `"SEV firmware updated from %d.%d.%d to %d.%d.%d\n"`.
 * - ccp INIT failures (sev-dev.c): `"SEV: failed to INIT error %#x, rc %d\n"` (0410c612),
 *   `"SEV: failed to INIT rc %d, error %#x\n"` and `"SEV-SNP: failed to INIT rc %d, error %#x\n"`
 *   (e606073b).
 * - kvm_amd, three wordings (pr_fmt "kvm_amd: "):
 *   v4.16–v5.10 arch/x86/kvm/svm.c sev_hardware_setup: `"SEV supported\n"`;
 *   v5.11–v6.4 arch/x86/kvm/svm/sev.c: `"SEV supported: %u ASIDs\n"`, `"SEV-ES supported: %u
 *   ASIDs\n"` (replaced by commit 6d1bc9754b04, 2023-05-22, "enhance info printk's in SEV init");
 *   v6.5+: `"SEV %s (ASIDs %u - %u)\n"`, `"SEV-ES %s (ASIDs %u - %u)\n"` with enabled/disabled,
 *   "unusable" added by commit 0aa6b90ef9d7 (2024-01-31), `"SEV-SNP %s (ASIDs %u - %u)\n"` with
 *   SNP support (arch/x86/kvm/svm/sev.c at torvalds/linux 0097f9df).
 * - RMP (arch/x86/virt/svm/sev.c, pr_fmt "SEV-SNP: "): `"RMP table physical range [0x%016llx -
 *   0x%016llx]\n"` and `"Memory for the RMP table has not been reserved by BIOS\n"`.
 * Boot boundary: `Linux version …` is the first line every boot logs (init/main.c
 * start_kernel → linux_banner); kern.log holds several boots, only the lines after the last banner
 * are read.
 */

export type KvmFeature = 'SEV' | 'SEV-ES' | 'SEV-SNP';
export type KvmState = 'enabled' | 'disabled' | 'unusable';

export interface LogLine {
  /** 1-based line number in the source text */
  readonly lineNo: number;
  /** the line as logged, trimmed */
  readonly text: string;
}

export interface ApiVersion extends LogLine {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface KvmLine extends LogLine {
  readonly state: KvmState;
  /** [first, last] ASID, when the wording gives the range */
  readonly asids?: readonly [number, number];
  /** which kernel wording the line has (for messages) */
  readonly wording: 'v6.5+' | 'v5.11-v6.4' | 'v4.16-v5.10';
}

export interface RmpLine extends LogLine {
  /** undefined when the log says BIOS reserved no RMP table */
  readonly range?: { readonly base: bigint; readonly end: bigint };
}

export interface KernelLogFacts {
  /** the last `SEV API:x.y build:z` line of the boot */
  readonly sevApi?: ApiVersion;
  /** the last `SEV-SNP API:x.y build:z` line of the boot */
  readonly snpApi?: ApiVersion;
  readonly firmwareUpdate?: LogLine & { readonly from: string; readonly to: string };
  /** `SEV: failed to INIT …` / `SEV-SNP: failed to INIT …` (the last of each) */
  readonly sevInitFailed?: LogLine;
  readonly snpInitFailed?: LogLine;
  readonly kvm: Partial<Record<KvmFeature, KvmLine>>;
  readonly rmp?: RmpLine;
  /** lines of the last boot that were read */
  readonly lines: number;
  /** whether a boot banner was seen (the lines read start at it) */
  readonly bootBanner: boolean;
}

const BANNER = /\bLinux version \d/;
const API = /\bccp \S+: SEV(-SNP)? API:(\d{1,3})\.(\d{1,3}) build:(\d{1,5})\s*$/;
const FW_UPDATE = /\bccp \S+: SEV firmware updated from (\d+\.\d+\.\d+) to (\d+\.\d+\.\d+)\s*$/;
const INIT_FAILED = /\bccp \S+: (SEV|SEV-SNP): failed to INIT (?:error 0x[0-9a-f]+, rc -?\d+|rc -?\d+, error 0x[0-9a-f]+)\s*$/;
const KVM_NEW = /\bkvm_amd: (SEV|SEV-ES|SEV-SNP) (enabled|disabled|unusable) \(ASIDs (\d+) - (\d+)\)\s*$/;
const KVM_MID = /\bkvm_amd: (SEV|SEV-ES) supported: (\d+) ASIDs\s*$/;
const KVM_OLD = /\bkvm_amd: SEV supported\s*$/;
const RMP_RANGE = /\bSEV-SNP: RMP table physical range \[0x([0-9a-f]{16}) - 0x([0-9a-f]{16})\]\s*$/;
const RMP_NONE = /\bSEV-SNP: Memory for the RMP table has not been reserved by BIOS\s*$/;

export function parseKernelLog(text: string): KernelLogFacts {
  const all = text.split(/\r?\n/);
  let start = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    if (BANNER.test(all[i] as string)) {
      start = i;
      break;
    }
  }
  const bootBanner = start > 0 || BANNER.test(all[0] ?? '');
  let sevApi: ApiVersion | undefined;
  let snpApi: ApiVersion | undefined;
  let firmwareUpdate: KernelLogFacts['firmwareUpdate'];
  let sevInitFailed: LogLine | undefined;
  let snpInitFailed: LogLine | undefined;
  let rmp: RmpLine | undefined;
  const kvm: Partial<Record<KvmFeature, KvmLine>> = {};
  let lines = 0;
  for (let i = start; i < all.length; i++) {
    const raw = all[i] as string;
    // journalctl's own markers ("-- No entries --", "-- Boot <id> --") are not kernel lines
    if (raw.trim() === '' || /^-- .* --$/.test(raw.trim())) continue;
    lines++;
    const at = { lineNo: i + 1, text: raw.trim() };
    let m: RegExpExecArray | null;
    if ((m = API.exec(raw))) {
      const v = { ...at, major: Number(m[2]), minor: Number(m[3]), build: Number(m[4]) };
      if (m[1]) snpApi = v;
      else sevApi = v;
    } else if ((m = FW_UPDATE.exec(raw))) {
      firmwareUpdate = { ...at, from: m[1] as string, to: m[2] as string };
    } else if ((m = INIT_FAILED.exec(raw))) {
      if (m[1] === 'SEV-SNP') snpInitFailed = at;
      else sevInitFailed = at;
    } else if ((m = KVM_NEW.exec(raw))) {
      kvm[m[1] as KvmFeature] = { ...at, state: m[2] as KvmState, asids: [Number(m[3]), Number(m[4])], wording: 'v6.5+' };
    } else if ((m = KVM_MID.exec(raw))) {
      kvm[m[1] as KvmFeature] = { ...at, state: 'enabled', wording: 'v5.11-v6.4' };
    } else if (KVM_OLD.test(raw)) {
      kvm.SEV = { ...at, state: 'enabled', wording: 'v4.16-v5.10' };
    } else if ((m = RMP_RANGE.exec(raw))) {
      rmp = { ...at, range: { base: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`) } };
    } else if (RMP_NONE.test(raw)) {
      rmp = at;
    }
  }
  return {
    ...(sevApi ? { sevApi } : {}),
    ...(snpApi ? { snpApi } : {}),
    ...(firmwareUpdate ? { firmwareUpdate } : {}),
    ...(sevInitFailed ? { sevInitFailed } : {}),
    ...(snpInitFailed ? { snpInitFailed } : {}),
    ...(rmp ? { rmp } : {}),
    kvm,
    lines,
    bootBanner,
  };
}

/** Whether the log holds any of the SEV lines above (an empty or unrelated log decides nothing). */
export function hasSevLines(f: KernelLogFacts): boolean {
  return !!(f.sevApi || f.snpApi || f.firmwareUpdate || f.sevInitFailed || f.snpInitFailed || f.rmp || Object.keys(f.kvm).length > 0);
}
