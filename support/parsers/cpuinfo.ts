/**
 * /proc/cpuinfo: the first processor's vendor, model name and flags. The kernel clears `sme`,
 * `sev`, `sev_es`, `sev_snp` when the BIOS has not enabled memory encryption (SYSCFG
 * MemEncryptionModEn, bit 23) — arch/x86/kernel/cpu/amd.c early_detect_mem_encrypt() — so a
 * flag missing here while CPUID reports the bit is a BIOS setting, not a CPU limitation.
 */
export interface CpuInfo {
  readonly vendor: string | undefined;
  readonly modelName: string | undefined;
  readonly flags: ReadonlySet<string>;
  readonly processors: number;
}

export function parseCpuinfo(text: string): CpuInfo {
  let vendor: string | undefined;
  let modelName: string | undefined;
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
    else if (key === 'flags' && flags === undefined) flags = new Set(value.split(/\s+/).filter(Boolean));
  }
  return { vendor, modelName, flags: flags ?? new Set(), processors };
}
