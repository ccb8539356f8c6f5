/**
 * Cross-layer consistency: every layer of the stack (CPU, KVM, QEMU, libvirt, libvirt's cache)
 * reports SEV facts of its own; a host is healthy only if they agree. Pure: takes what each
 * layer said, tagged with where it came from, and returns every disagreement with both values
 * and both sources. Absent facts are not disagreements (a layer that was not asked says nothing).
 *
 * Where the facts come from, and which ones must agree:
 *
 * - C-bit position: CPUID Fn8000_001F EBX[5:0] (AMD APM vol. 2 §15.34.1 / vol. 3 CPUID
 *   Fn8000_001F). QEMU reports exactly that (target/i386/sev.c sev_get_capabilities():
 *   `cap->cbitpos = ebx & 0x3f`), libvirt copies QEMU's value into domcapabilities,
 *   nodesevinfo and its cache. So every layer's cbitpos must equal CPUID's.
 *
 * - reduced-phys-bits: QEMU does NOT read CPUID here; sev_get_capabilities() hard-codes
 *   `cap->reduced_phys_bits = 1` (verified in target/i386/sev.c from QEMU 2.12 through the
 *   SNP-era 9.x code), while CPUID EBX[11:6] is the hardware's physical-address reduction (often
 *   5 or 6 on EPYC). They legitimately differ, so no rule compares CPUID EBX[11:6] with QEMU's
 *   value. The libvirt layers copy QEMU's number, so domcaps / nodesevinfo / cache must equal
 *   QMP's (and each other).
 *
 * - ASID counts: libvirt qemu_capabilities.c virQEMUCapsGetSEVMaxGuests() derives
 *   maxGuests = ECX - EDX + 1 and maxESGuests = EDX - 1 from CPUID Fn8000_001F (ECX = max SEV
 *   ASID, EDX = min SEV ASID; both 0 when unset), following the SEV API's ASID split that KVM
 *   also uses (arch/x86/kvm/svm/sev.c: SEV guests use ASIDs EDX..ECX, SEV-ES guests 1..EDX-1).
 *   domcaps and nodesevinfo counts must equal that derivation.
 *
 * - Support bits: CPUID EAX bit 1 SEV, bit 3 SEV-ES, bit 4 SEV-SNP (APM vol. 3, Fn8000_001F).
 *   domcaps `<sev supported='yes'>` without the SEV bit, or an `sev-snp` launchSecurity sectype
 *   without the SNP bit, is a disagreement; so is QEMU answering query-sev-capabilities while
 *   domcaps says supported='no' or the cache has no <sev> (stale cache: libvirt only re-probes
 *   when its invalidation keys change), and the reverse.
 *
 * - pdh / cert-chain / cpu0-id: nodesevinfo and domcaps are served from libvirt's cache, so they
 *   must equal the cache; the live QMP answer must equal the cache too — a PDH regenerated
 *   since (platform reset / PDH_GEN) leaves libvirt handing guest owners a stale PDH.
 */

import type { EncryptedMemoryCaps } from './cpuid.js';
import type { DomCapsSev } from '../parsers/domcaps.js';

export interface Reported<T> {
  readonly source: string;
  readonly value: T;
}

/** CPUID 0x8000001F as decoded by ./cpuid.ts (physAddrReduction is informational; see the header). */
export type CpuidFacts = Pick<
  EncryptedMemoryCaps,
  'sev' | 'sevEs' | 'sevSnp' | 'cbitpos' | 'physAddrReduction' | 'maxEncryptedGuests' | 'minSevAsid'
> & {
  /** e.g. "CPUID 0x8000001F (cpu 0)" */
  readonly source: string;
};

/** libvirt's <sev> of `virsh domcapabilities` (support/parsers/domcaps.ts), plus SNP from its sectypes. */
export type DomCapsFacts = Omit<Partial<DomCapsSev>, 'supported'> & {
  readonly source: string;
  /** undefined: no <sev> element */
  readonly sevSupported?: boolean | undefined;
  /** undefined: libvirt does not report launchSecurity sectypes */
  readonly snpSupported?: boolean | undefined;
};

export interface QmpFacts {
  readonly source: string;
  /** query-sev-capabilities answered with a return (true) or an error (false) */
  readonly capabilitiesOk: boolean;
  /** the error desc when capabilitiesOk is false */
  readonly errorDesc?: string | undefined;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  readonly pdh?: string | undefined;
  readonly certChain?: string | undefined;
  readonly cpu0Id?: string | undefined;
}

export interface NodeSevInfoFacts {
  readonly source: string;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  readonly maxGuests?: number | undefined;
  readonly maxESGuests?: number | undefined;
  readonly pdh?: string | undefined;
  readonly certChain?: string | undefined;
  readonly cpu0Id?: string | undefined;
}

export interface CacheFacts {
  readonly source: string;
  /** the cache has a <sev> element */
  readonly hasSev: boolean;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  readonly pdh?: string | undefined;
  readonly certChain?: string | undefined;
  readonly cpu0Id?: string | undefined;
}

/**
 * kvm_amd module parameters (/sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}): what KVM
 * actually offers. libvirt and QEMU can only offer what KVM does (QEMU's query-sev-capabilities
 * fails with "SEV is not enabled in KVM" when KVM_MEMORY_ENCRYPT_OP is refused, target/i386/sev.c).
 */
export interface KernelFacts {
  readonly source: string;
  readonly sev?: boolean | undefined;
  readonly sevEs?: boolean | undefined;
  readonly snp?: boolean | undefined;
}

export interface LayerFacts {
  readonly kernel?: KernelFacts | undefined;
  readonly cpuid?: CpuidFacts | undefined;
  readonly domcaps?: DomCapsFacts | undefined;
  readonly qmp?: QmpFacts | undefined;
  readonly nodesevinfo?: NodeSevInfoFacts | undefined;
  readonly cache?: CacheFacts | undefined;
}

export interface Disagreement {
  /** the fact in question, e.g. "cbitpos", "reducedPhysBits", "maxGuests", "sev-supported" */
  readonly fact: string;
  /** the catalog check this disagreement fails, when there is one (docs/checks.md) */
  readonly checkId?: string | undefined;
  readonly a: Reported<string | number | boolean>;
  readonly b: Reported<string | number | boolean>;
  /** one sentence: why these must agree, and what the mismatch usually means */
  readonly why: string;
}

type Scalar = string | number | boolean;

/** base64 blobs (pdh, cert-chain: thousands of chars) are shown by head…tail and length */
function short(v: Scalar): Scalar {
  return typeof v === 'string' && v.length > 24 && /^[A-Za-z0-9+/=\s]+$/.test(v) ? `${v.slice(0, 12)}…${v.slice(-8)} (${v.length} chars)` : v;
}

function differ(
  out: Disagreement[],
  fact: string,
  a: { source: string; value: Scalar | undefined } | undefined,
  b: { source: string; value: Scalar | undefined } | undefined,
  why: string,
  checkId?: string,
): void {
  if (!a || !b || a.value === undefined || b.value === undefined) return;
  const norm = (v: Scalar): Scalar => (typeof v === 'string' ? v.replace(/\s+/g, '') : v);
  if (norm(a.value) === norm(b.value)) return;
  out.push({
    fact,
    ...(checkId ? { checkId } : {}),
    a: { source: a.source, value: short(a.value) },
    b: { source: b.source, value: short(b.value) },
    why,
  });
}

/** libvirt's derivation of SEV / SEV-ES guest counts from CPUID (see header). */
export function asidGuestCounts(cpuid: Pick<CpuidFacts, 'maxEncryptedGuests' | 'minSevAsid'>): { maxGuests: number; maxESGuests: number } {
  if (cpuid.maxEncryptedGuests === 0 || cpuid.minSevAsid === 0) return { maxGuests: 0, maxESGuests: 0 };
  return { maxGuests: cpuid.maxEncryptedGuests - cpuid.minSevAsid + 1, maxESGuests: cpuid.minSevAsid - 1 };
}

export function findDisagreements(f: LayerFacts): Disagreement[] {
  const out: Disagreement[] = [];
  const { cpuid, domcaps, qmp, nodesevinfo, cache } = f;
  const at = <T extends { source: string }>(layer: T | undefined, value: Scalar | undefined) =>
    layer ? { source: layer.source, value } : undefined;

  // --- C-bit position ----------------------------------------------------------------------
  const cbitWhy = 'QEMU reports CPUID Fn8000_001F EBX[5:0] and libvirt copies it; a different value means a stale libvirt cache or a different host';
  differ(out, 'cbitpos', at(cpuid, cpuid?.cbitpos), at(domcaps, domcaps?.cbitpos), cbitWhy, 'caps.domcaps.cbitpos-matches-cpuid');
  differ(out, 'cbitpos', at(cpuid, cpuid?.cbitpos), at(qmp, qmp?.cbitpos), cbitWhy, 'caps.qmp.cbitpos-matches-cpuid');
  differ(out, 'cbitpos', at(cpuid, cpuid?.cbitpos), at(nodesevinfo, nodesevinfo?.cbitpos), cbitWhy);
  differ(out, 'cbitpos', at(cpuid, cpuid?.cbitpos), at(cache, cache?.cbitpos), cbitWhy, 'caps.cache.fresh');
  if (!cpuid) {
    // without CPUID the libvirt layers still must echo QEMU
    differ(out, 'cbitpos', at(qmp, qmp?.cbitpos), at(domcaps, domcaps?.cbitpos), cbitWhy);
    differ(out, 'cbitpos', at(qmp, qmp?.cbitpos), at(cache, cache?.cbitpos), cbitWhy, 'caps.cache.fresh');
  }

  // --- reduced-phys-bits: libvirt layers echo QEMU (never compared with CPUID EBX[11:6]) -----
  const rpbWhy = 'libvirt copies QEMU query-sev-capabilities reduced-phys-bits (QEMU hard-codes 1, target/i386/sev.c); a different value comes from another QEMU or a stale cache';
  differ(out, 'reducedPhysBits', at(qmp, qmp?.reducedPhysBits), at(domcaps, domcaps?.reducedPhysBits), rpbWhy);
  differ(out, 'reducedPhysBits', at(qmp, qmp?.reducedPhysBits), at(nodesevinfo, nodesevinfo?.reducedPhysBits), rpbWhy);
  differ(out, 'reducedPhysBits', at(qmp, qmp?.reducedPhysBits), at(cache, cache?.reducedPhysBits), rpbWhy, 'caps.cache.fresh');
  if (!qmp?.capabilitiesOk) differ(out, 'reducedPhysBits', at(cache, cache?.reducedPhysBits), at(domcaps, domcaps?.reducedPhysBits), rpbWhy);

  // --- ASID-derived guest counts -------------------------------------------------------------
  if (cpuid) {
    const want = asidGuestCounts(cpuid);
    const src = `${cpuid.source} (ECX ${cpuid.maxEncryptedGuests}, EDX ${cpuid.minSevAsid})`;
    const asidWhy = 'libvirt computes these from CPUID Fn8000_001F ECX/EDX at every start (maxGuests = ECX-EDX+1, maxESGuests = EDX-1)';
    differ(out, 'maxGuests', { source: src, value: want.maxGuests }, at(domcaps, domcaps?.maxGuests), asidWhy);
    differ(out, 'maxESGuests', { source: src, value: want.maxESGuests }, at(domcaps, domcaps?.maxESGuests), asidWhy);
    differ(out, 'maxGuests', { source: src, value: want.maxGuests }, at(nodesevinfo, nodesevinfo?.maxGuests), asidWhy);
    differ(out, 'maxESGuests', { source: src, value: want.maxESGuests }, at(nodesevinfo, nodesevinfo?.maxESGuests), asidWhy);
  }

  // --- support -------------------------------------------------------------------------------
  if (cpuid && domcaps?.sevSupported === true && !cpuid.sev) {
    differ(out, 'sev-supported', { source: `${cpuid.source} EAX[1]`, value: false }, { source: domcaps.source, value: true },
      "libvirt claims SEV although the CPU does not report it: domcapabilities is not describing this host's CPU");
  }
  if (cpuid && domcaps?.snpSupported === true && !cpuid.sevSnp) {
    differ(out, 'sev-snp-supported', { source: `${cpuid.source} EAX[4]`, value: false }, { source: `${domcaps.source} launchSecurity sectype`, value: true },
      'libvirt offers sev-snp launch security although the CPU does not report SEV-SNP');
  }
  if (qmp && domcaps?.sevSupported !== undefined && qmp.capabilitiesOk !== domcaps.sevSupported) {
    differ(out, 'sev-supported',
      { source: qmp.source, value: qmp.capabilitiesOk ? true : `false (${qmp.errorDesc ?? 'error'})` },
      { source: domcaps.source, value: domcaps.sevSupported },
      qmp.capabilitiesOk
        ? "QEMU answers query-sev-capabilities but libvirt says supported='no': libvirt's cached probe predates SEV being enabled"
        : 'libvirt says SEV is supported but QEMU (probed now) refuses query-sev-capabilities: the cache predates a change (kvm_amd sev, /dev/sev, firmware)',
      'caps.cache.fresh');
  }
  if (qmp && cache && qmp.capabilitiesOk !== cache.hasSev) {
    differ(out, 'sev-cached',
      { source: qmp.source, value: qmp.capabilitiesOk ? true : `false (${qmp.errorDesc ?? 'error'})` },
      { source: cache.source, value: cache.hasSev },
      qmp.capabilitiesOk
        ? 'QEMU answers query-sev-capabilities but the cached capabilities have no <sev>: libvirt will keep reporting SEV unsupported until the cache is invalidated'
        : 'the cache still holds SEV capabilities that QEMU no longer reports',
      'caps.cache.fresh');
  }

  // --- kvm_amd vs what libvirt offers ------------------------------------------------------
  const { kernel } = f;
  if (kernel && domcaps?.sevSupported === true && kernel.sev === false) {
    differ(out, 'sev-supported', { source: `${kernel.source}/sev`, value: false }, { source: domcaps.source, value: true },
      "libvirt offers SEV although kvm_amd has it off: libvirt's cached capabilities predate the change");
  }
  if (kernel && domcaps?.snpSupported === true && kernel.snp === false) {
    differ(out, 'sev-snp-supported', { source: `${kernel.source}/sev_snp`, value: false }, { source: `${domcaps.source} launchSecurity sectype`, value: true },
      "libvirt offers sev-snp launch security although kvm_amd has SEV-SNP off: libvirt's cached capabilities predate the change");
  }
  if (kernel?.snp === true && cpuid?.sevSnp && domcaps?.snpSupported === false) {
    differ(out, 'sev-snp-supported', { source: `${kernel.source}/sev_snp and ${cpuid.source} EAX[4]`, value: true }, { source: `${domcaps.source} launchSecurity sectype`, value: false },
      'CPU and KVM offer SEV-SNP but libvirt does not: libvirt < 10.5 or QEMU < 9.1 (no sev-snp-guest), or a stale cache');
  }
  if (kernel && cpuid && domcaps?.maxESGuests !== undefined && domcaps.maxESGuests > 0 && kernel.sevEs === false) {
    differ(out, 'sev-es-supported', { source: `${kernel.source}/sev_es`, value: false }, { source: `${domcaps.source} maxESGuests`, value: domcaps.maxESGuests },
      'libvirt counts SEV-ES guests from CPUID, but kvm_amd has SEV-ES off: SEV-ES guests will fail to start');
  }

  // --- pdh / cert-chain / cpu0-id ------------------------------------------------------------
  for (const [fact, key] of [
    ['pdh', 'pdh'],
    ['cert-chain', 'certChain'],
    ['cpu0-id', 'cpu0Id'],
  ] as const) {
    const cacheWhy = `libvirt serves ${fact} from its capabilities cache; the live value differs, so the cache is stale`;
    differ(out, fact, at(qmp, qmp?.[key]), at(cache, cache?.[key]), cacheWhy, 'caps.cache.fresh');
    differ(out, fact, at(cache, cache?.[key]), at(nodesevinfo, nodesevinfo?.[key]), `virsh nodesevinfo reports the cached ${fact}; they cannot differ unless they describe different hosts or libvirt versions`);
    if (!cache) differ(out, fact, at(qmp, qmp?.[key]), at(nodesevinfo, nodesevinfo?.[key]), cacheWhy);
  }
  differ(out, 'cpu0-id', at(cache ?? qmp, (cache ?? qmp)?.cpu0Id), at(domcaps, domcaps?.cpu0Id), 'domcapabilities cpu0Id comes from the same cached QEMU answer');

  return out;
}
