/**
 * AMD's certificate downloads by name: where the AMD roots of a SEV (legacy) platform chain come
 * from and how they are checked, and the SNP Key Distribution Service paths of an ASK/ARK chain
 * and a VCEK. Pure: names and bytes in, paths or certificates out. The one client that fetches
 * and caches them is support/probes/kds-fetch.ts.
 *
 * AMD publishes each product generation's ASK and ARK as one file, ASK || ARK in the AMD public
 * key format (SEV API spec, "AMD Root Key (ARK) and AMD SEV Signing Key (ASK)"):
 * `ask_ark_<generation>.cert` under https://developer.amd.com/wp-content/resources/ (the URL
 * virtee/sev names in src/certs/sev/builtin/{naples,rome}/mod.rs and sevctl fetches from).
 * sevcheck never trusts a file for being there: every ARK must match the pinned public-key
 * fingerprint of its generation (sev-cert.ts ARK_SPKI_SHA256), whether it came from the network,
 * the cache or a directory the user named.
 */
import { ARK_SPKI_SHA256, arkGeneration, parseAmdCert, parseAskArk, spkiSha256, type AmdCert, type Generation } from './sev-cert.js';
import { InputError } from '../errors.js';
import type { SnpGeneration, SnpReport } from './snp-report.js';

/** Generations in the order sevcheck tries them when the CPU generation is not known. */
export const GENERATIONS: readonly Generation[] = ['milan', 'genoa', 'rome', 'naples', 'turin'];

export function askArkFileName(gen: Generation): string {
  return `ask_ark_${gen}.cert`;
}

export interface AmdRoots {
  readonly generation: Generation;
  readonly ask: AmdCert;
  readonly ark: AmdCert;
  /** where they came from (file path or URL), for messages */
  readonly source: string;
}

/**
 * Parse and pin an ask_ark_<gen>.cert (ASK || ARK). Throws InputError when the bytes are not
 * that format or the ARK is not the pinned root of `gen`.
 */
export function rootsFromAskArk(bytes: Uint8Array, gen: Generation, source: string): AmdRoots {
  const { ask, ark } = parseAskArk(bytes, source);
  return pinned({ generation: gen, ask, ark, source });
}

/** Separate ark.cert / ask.cert files (the layout of virtee/sev src/certs/sev/builtin/<gen>/). */
export function rootsFromPair(arkBytes: Uint8Array, askBytes: Uint8Array, gen: Generation, source: string): AmdRoots {
  return pinned({ generation: gen, ark: parseAmdCert(arkBytes, `${source} ark`), ask: parseAmdCert(askBytes, `${source} ask`), source });
}

function pinned(r: AmdRoots): AmdRoots {
  const found = arkGeneration(r.ark);
  if (found !== r.generation) {
    throw new InputError(
      r.source,
      `the ARK's public key (SHA-256 ${spkiSha256(r.ark)}) is not AMD's pinned ${r.generation} ARK (${ARK_SPKI_SHA256[r.generation]})${found ? `; it is the ${found} ARK` : ''}`,
    );
  }
  return r;
}

/**
 * Which files of a user-named directory (`--amd-certs DIR`) hold which generation: either
 * `ask_ark_<gen>.cert` (AMD's download) or `<gen>/ark.cert` + `<gen>/ask.cert`.
 */
export function rootFileCandidates(gen: Generation): { askArk: string; pair: { ark: string; ask: string } } {
  return { askArk: askArkFileName(gen), pair: { ark: `${gen}/ark.cert`, ask: `${gen}/ask.cert` } };
}

// ------------------------------------------------------------------------------------------------
// SNP: AMD KDS (VCEK spec #57230 ch. 4: /vcek/v1/{product}/cert_chain and /vcek/v1/{product}/{hwid}?...)

const KDS_PRODUCT: Partial<Record<SnpGeneration, string>> = { milan: 'Milan', genoa: 'Genoa', turin: 'Turin' };

/** The KDS product name of a generation; undefined when sevcheck knows none. */
export function kdsProduct(gen: SnpGeneration): string | undefined {
  return KDS_PRODUCT[gen];
}

function product(gen: SnpGeneration): string {
  const p = KDS_PRODUCT[gen];
  if (!p) throw new InputError('snp.generation', `AMD KDS: no known product name for ${gen}: pass --amd-certs DIR and name the VCEK in launch.json`);
  return p;
}

/** KDS path of the ASK + ARK chain of a generation (PEM, ASK then ARK). */
export function kdsChainPath(gen: SnpGeneration): string {
  return `/vcek/v1/${product(gen)}/cert_chain`;
}

/**
 * KDS path of a report's VCEK: hwID = CHIP_ID (Milan, Genoa: 64 bytes; Turin: the first 8), SPLs
 * from REPORTED_TCB as two-digit decimals (as virtee/snpguest src/fetch.rs builds it; Turin adds fmcSPL first).
 */
export function kdsVcekPath(report: SnpReport, gen: SnpGeneration): string {
  if (report.chipId.every((b) => b === 0)) {
    throw new InputError('report CHIP_ID', 'all zero (MASK_CHIP_ID): there is no VCEK to fetch; name the VCEK in launch.json ("vcek")');
  }
  const t = report.reportedTcb;
  const d2 = (n: number | undefined): string => String(n ?? 0).padStart(2, '0');
  const turin = gen === 'turin';
  const hwid = (turin ? report.chipId.subarray(0, 8) : report.chipId).toString('hex');
  const fmc = turin ? `fmcSPL=${d2(t.fmc)}&` : '';
  return `/vcek/v1/${product(gen)}/${hwid}?${fmc}blSPL=${d2(t.bootloader)}&teeSPL=${d2(t.tee)}&snpSPL=${d2(t.snp)}&ucodeSPL=${d2(t.microcode)}`;
}
