/**
 * HostSevFacts (what the guest rules compare with) from what a host says about itself.
 *
 * - cbitpos: CPUID 0x8000001F EBX[5:0] (AMD APM Vol. 3, E.4.17). QEMU refuses to start an SEV
 *   guest whose cbitpos differs from it (target/i386/sev.c sev_common_kvm_init: "cbitpos check
 *   failed").
 * - reducedPhysBits: QEMU reports 1 for every SEV host (target/i386/sev.c sev_get_capabilities:
 *   "When SEV feature is enabled, we loose one bit in guest physical addressing",
 *   cap->reduced_phys_bits = 1), and libvirt's domcapabilities <sev><reducedPhysBits> repeats
 *   that. CPUID EBX[11:6] is the *host's* own address-space reduction (5 on Rome/Milan), which is
 *   not what a guest definition is expected to carry, so it is not used.
 */
import type { EncryptedMemoryCaps } from '../sev/cpuid.js';
import type { DomainCapabilities } from '../parsers/domcaps.js';
import { sevFirmware, type FirmwareDescriptor } from '../parsers/firmware-descriptor.js';
import type { ParseResult } from '../parsers/parse-result.js';
import { failed, type Verdict } from '../verdict.js';
import type { DomainModel } from './model.js';
import { checkCbitposMatchesHost, type HostSevFacts } from './rules.js';

export const QEMU_REDUCED_PHYS_BITS = 1;

export function hostFactsFromCpuid(c: EncryptedMemoryCaps, where: string): HostSevFacts | undefined {
  if (c.implemented === false || !c.sev) return undefined;
  return {
    cbitpos: c.cbitpos,
    reducedPhysBits: QEMU_REDUCED_PHYS_BITS,
    es: c.sevEs,
    snp: c.sevSnp,
    source: `${where}: CPUID 0x8000001F EBX[5:0] = ${c.cbitpos}; reducedPhysBits ${QEMU_REDUCED_PHYS_BITS} as QEMU reports it for every SEV host`,
  };
}

/** From `virsh domcapabilities`; undefined unless <sev supported='yes'> gives both numbers. */
export function hostFactsFromDomcaps(caps: DomainCapabilities, where: string): HostSevFacts | undefined {
  const sev = caps.sev;
  if (!sev?.supported || sev.cbitpos === undefined || sev.reducedPhysBits === undefined) return undefined;
  return {
    cbitpos: sev.cbitpos,
    reducedPhysBits: sev.reducedPhysBits,
    es: sev.maxESGuests !== undefined ? sev.maxESGuests > 0 : undefined,
    snp: caps.snpSupported,
    source: `${where}: virsh domcapabilities <sev>`,
  };
}

/**
 * domain.cbitpos.matches-host against the host's CPUID: a host whose CPUID has no SEV cannot
 * start the guest at all (QEMU's C-bit check has nothing to match).
 */
export function checkCbitposAgainstCpuid(d: DomainModel, caps: EncryptedMemoryCaps, where: string): Verdict {
  const facts = hostFactsFromCpuid(caps, where);
  if (!facts) {
    return failed(
      `guest cbitpos ${d.launchSecurity?.cbitpos ?? '(unset)'} in ${d.source}, but ${where} has ${caps.implemented === false ? 'no CPUID leaf 0x8000001F' : 'CPUID 0x8000001F EAX bit 1 (SEV) clear'}`,
      'a host whose CPUID 0x8000001F reports SEV and a C-bit position equal to the guest cbitpos',
      'enable SEV on the host (see host.cpuid.sev) or define the guest on an SEV host',
    );
  }
  return checkCbitposMatchesHost(d, facts);
}

/**
 * The firmware images a host offers SEV and SEV-SNP guests, from its QEMU firmware descriptors as
 * the distro layer reads them (probes/distro.ts DistroProbe.descriptors(): libvirt's directories,
 * order and masking, each image checked to exist): what a loader fix names (rules.ts
 * firmwareChoice). `unreadable`: why the descriptors could not be read (then nothing is named).
 */
export function firmwareFromDescriptors(
  descriptors: ReadonlyArray<{ readonly parsed: ParseResult<FirmwareDescriptor>; readonly imageExists?: boolean | undefined }> | { readonly unreadable: string },
  source: string,
): NonNullable<HostSevFacts['firmware']> {
  if ('unreadable' in descriptors) return { source, unreadable: descriptors.unreadable };
  const usable = descriptors.flatMap((d) => (d.parsed.ok ? [{ descriptor: d.parsed.value, imageExists: d.imageExists === true }] : []));
  return { sev: sevFirmware(usable, 'amd-sev'), snp: sevFirmware(usable, 'amd-sev-snp'), source };
}
