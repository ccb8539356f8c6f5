/**
 * `virsh nodesevinfo` text. virsh (tools/virsh-host.c cmdNodeSEVInfo) prints each typed
 * parameter of virNodeGetSEVInfo() as `vshPrint("%-18s: %s\n", field, value)`, e.g.
 *
 *   pdh               : AQAAAAE3AAADEAAA…
 *   cert-chain        : AQAAAAE3AAACEAAA…
 *   cpu0-id           : BlAwmcr4Ruya3YvE…
 *   cbitpos           : 51
 *   reduced-phys-bits : 1
 *   max-guests        : 59
 *   max-es-guests     : 450
 *
 * Field names are the VIR_NODE_SEV_* macros of include/libvirt/libvirt-host.h. libvirt answers
 * from its cached QEMU capabilities (pdh, cert-chain, cpu0-id, cbitpos, reduced-phys-bits) and
 * CPUID (max-guests, max-es-guests), so a stale cache shows up here too.
 */
import { InputError } from '../errors.js';

export interface NodeSevInfo {
  readonly source: string;
  readonly pdh?: string | undefined;
  readonly certChain?: string | undefined;
  readonly cpu0Id?: string | undefined;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  readonly maxGuests?: number | undefined;
  readonly maxESGuests?: number | undefined;
  /** fields this parser does not know, verbatim (a newer libvirt may add some) */
  readonly extra: Readonly<Record<string, string>>;
}

const NUMERIC = {
  cbitpos: 'cbitpos',
  'reduced-phys-bits': 'reducedPhysBits',
  'max-guests': 'maxGuests',
  'max-es-guests': 'maxESGuests',
} as const;
const TEXT = { pdh: 'pdh', 'cert-chain': 'certChain', 'cpu0-id': 'cpu0Id' } as const;

export function parseNodeSevInfo(text: string, source = 'virsh nodesevinfo'): NodeSevInfo {
  const out: Record<string, string | number> = {};
  const extra: Record<string, string> = {};
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  let n = 0;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/^error:/i.test(line.trim())) {
      throw new InputError(source, `virsh reported an error instead of SEV info: ${line.trim()}`);
    }
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9_-]*)\s*:\s?(.*)$/.exec(line);
    if (!m) throw new InputError(source, `line ${i + 1} is not "field : value": ${JSON.stringify(line.slice(0, 80))}`);
    const key = m[1] as string;
    const value = (m[2] as string).trim();
    if (seen.has(key)) throw new InputError(source, `field "${key}" appears twice (line ${i + 1})`);
    seen.add(key);
    n++;
    if (key in NUMERIC) {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new InputError(source, `${key} is ${JSON.stringify(value)}; expected an unsigned integer`);
      }
      out[NUMERIC[key as keyof typeof NUMERIC]] = Number(value);
    } else if (key in TEXT) {
      if (value === '') throw new InputError(source, `${key} is empty`);
      out[TEXT[key as keyof typeof TEXT]] = value;
    } else {
      extra[key] = value;
    }
  }
  if (n === 0) throw new InputError(source, 'no "field : value" lines (is SEV enabled on this host?)');
  const num = (k: string): number | undefined => (typeof out[k] === 'number' ? (out[k] as number) : undefined);
  const str = (k: string): string | undefined => (typeof out[k] === 'string' ? (out[k] as string) : undefined);
  return {
    source,
    pdh: str('pdh'),
    certChain: str('certChain'),
    cpu0Id: str('cpu0Id'),
    cbitpos: num('cbitpos'),
    reducedPhysBits: num('reducedPhysBits'),
    maxGuests: num('maxGuests'),
    maxESGuests: num('maxESGuests'),
    extra,
  };
}
