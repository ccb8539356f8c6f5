/**
 * Where the AMD roots of a SEV (legacy) platform chain come from, and how they are checked.
 * Pure: names, URLs and bytes in, certificates or a reason out. The fetching and the on-disk
 * cache are in support/host/kds-fetch.ts.
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

export const DEFAULT_KDS_URL = 'https://developer.amd.com/wp-content/resources';

/** Generations in the order sevcheck tries them when the CPU generation is not known. */
export const GENERATIONS: readonly Generation[] = ['milan', 'genoa', 'rome', 'naples', 'turin'];

export function askArkFileName(gen: Generation): string {
  return `ask_ark_${gen}.cert`;
}

export function askArkUrl(base: string, gen: Generation): string {
  return `${base.replace(/\/+$/, '')}/${askArkFileName(gen)}`;
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
