/**
 * /proc/cpuinfo: the first processor's vendor, model name and flags. The kernel clears `sme`,
 * `sev`, `sev_es`, `sev_snp` when the BIOS has not enabled memory encryption (SYSCFG
 * MemEncryptionModEn, bit 23) — arch/x86/kernel/cpu/amd.c early_detect_mem_encrypt() — so a
 * flag missing here while CPUID reports the bit is a BIOS setting, not a CPU limitation.
 *
 * `cpu family` and `model` are printed in decimal from c->x86 / c->x86_model, the family and model
 * with CPUID's extended fields already added (Linux arch/x86/kernel/cpu/proc.c show_cpuinfo(),
 * "cpu family\t: %d" / "model\t\t: %u"; kernelorg-mirror/linux_kernel_git_tglx_devel @ 3676dea3bc83).
 */
export interface CpuInfo {
  readonly vendor: string | undefined;
  readonly modelName: string | undefined;
  /** `cpu family` (decimal), e.g. 25 = 0x19 */
  readonly family?: number | undefined;
  /** `model` (decimal), e.g. 1 */
  readonly model?: number | undefined;
  readonly flags: ReadonlySet<string>;
  readonly processors: number;
}

export function parseCpuinfo(text: string): CpuInfo {
  let vendor: string | undefined;
  let modelName: string | undefined;
  let family: number | undefined;
  let model: number | undefined;
  let flags: Set<string> | undefined;
  let processors = 0;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (key === 'processor') processors++;
    else if (key === 'vendor_id' && vendor === undefined) vendor = value;
    else if (key === 'model name' && modelName === undefined) modelName = value;
    else if (key === 'cpu family' && family === undefined && /^\d{1,4}$/.test(value)) family = Number(value);
    else if (key === 'model' && model === undefined && /^\d{1,4}$/.test(value)) model = Number(value);
    else if (key === 'flags' && flags === undefined) flags = new Set(value.split(/\s+/).filter(Boolean));
  }
  return { vendor, modelName, family, model, flags: flags ?? new Set(), processors };
}
