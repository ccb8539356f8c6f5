/**
 * AMD EPYC generations from CPUID family and model (the values /proc/cpuinfo prints as
 * `cpu family` / `model`, with the extended fields added), and what each generation offers.
 *
 * Sources:
 * - Milan, Genoa, Turin, Venice: the table in support/sev/snp-report.ts generationFromCpuid()
 *   (virtee/sev src/lib.rs Generation::identify_cpu), reused here.
 * - Naples and Rome (family 17h): AMD PPR for Family 17h Model 01h (Naples, pub. 54945) and
 *   Model 31h (Rome, pub. 55803); virtee/sevctl src/ok.rs @8b47f3a SevGeneration::current():
 *   family 0x17 model 0x01-0x30 → SEV, model 0x31-0x3F → SEV-ES; family 0x19/0x1A → SNP.
 * - Features per generation: AMD SEV white papers / APM Vol. 2 §15.34-15.36: SEV since Naples
 *   (EPYC 7001), SEV-ES since Rome (EPYC 7002), SEV-SNP since Milan (EPYC 7003); Secure TSC
 *   since Genoa (EPYC 9004) — virtee/snphost src/ok/mod.rs @56d5d7e hint "Requires EPYC 9004+".
 */
import { generationFromCpuid } from './snp-report.js';

export type SevGeneration = 'naples' | 'rome' | 'milan' | 'genoa' | 'turin' | 'venice';

export interface GenerationInfo {
  readonly name: string;
  readonly series: string;
  readonly sevEs: boolean;
  readonly snp: boolean;
  readonly secureTsc: boolean;
}

export const GENERATIONS: Record<SevGeneration, GenerationInfo> = {
  naples: { name: 'Naples', series: 'EPYC 7001', sevEs: false, snp: false, secureTsc: false },
  rome: { name: 'Rome', series: 'EPYC 7002', sevEs: true, snp: false, secureTsc: false },
  milan: { name: 'Milan', series: 'EPYC 7003', sevEs: true, snp: true, secureTsc: false },
  genoa: { name: 'Genoa', series: 'EPYC 9004', sevEs: true, snp: true, secureTsc: true },
  turin: { name: 'Turin', series: 'EPYC 9005', sevEs: true, snp: true, secureTsc: true },
  venice: { name: 'Venice', series: 'EPYC (Zen 6)', sevEs: true, snp: true, secureTsc: true },
};

/**
 * Client parts share family/model numbers with EPYC generations (Ryzen 1000 is family 17h model
 * 01h like Naples; Threadripper 3000 is model 31h like Rome), so the family/model says the
 * generation only of a processor whose brand string (/proc/cpuinfo "model name", CPUID
 * 0x80000002-4) says EPYC. An unknown brand string is given the benefit of the family/model.
 */
export function isEpycBrand(modelName: string | undefined): boolean {
  return modelName === undefined || /\bEPYC\b/i.test(modelName);
}

/** The EPYC generation of a family/model, or undefined for anything else (client parts, other vendors' numbers). */
export function sevGeneration(family: number, model: number): SevGeneration | undefined {
  if (family === 0x17) {
    if (model <= 0x0f) return 'naples';
    if (model >= 0x31 && model <= 0x3f) return 'rome';
    return undefined;
  }
  return generationFromCpuid(family, model);
}

/** "Milan (EPYC 7003, family 0x19 model 0x01)" */
export function describeGeneration(gen: SevGeneration | undefined, family: number, model: number): string {
  const fm = `family 0x${family.toString(16).padStart(2, '0')} model 0x${model.toString(16).padStart(2, '0')}`;
  return gen ? `${GENERATIONS[gen].name} (${GENERATIONS[gen].series}, ${fm})` : `an unknown generation (${fm})`;
}
