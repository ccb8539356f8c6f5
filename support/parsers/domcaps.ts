/**
 * `virsh domcapabilities` XML (libvirt docs/formatdomaincaps.rst, "SEV capabilities"):
 *
 *   <domainCapabilities> … <features>
 *     <sev supported='yes'>
 *       <cbitpos>51</cbitpos> <reducedPhysBits>1</reducedPhysBits>
 *       <maxGuests>59</maxGuests> <maxESGuests>450</maxESGuests>   (libvirt ≥ 8.0)
 *       <cpu0Id>base64</cpu0Id>                                      (libvirt ≥ 8.x, QEMU ≥ 7.1)
 *     </sev>
 *     <launchSecurity supported='yes'>
 *       <enum name='sectype'><value>sev</value><value>sev-snp</value></enum>  (libvirt ≥ 10.5)
 *     </launchSecurity>
 *   </features>
 *
 * libvirt has no separate `<sev-snp>` domcaps element: SNP support shows up as the `sev-snp`
 * value of the launchSecurity `sectype` enum (libvirt tests/domaincapsdata/
 * qemu_10.0.0-q35.x86_64+amdsev.xml). An absent `<sev>` means "libvirt says nothing", which is
 * not the same as supported='no' (formatdomaincaps.rst, "Some XML elements may be entirely
 * omitted").
 *
 * Also home of the hardened XML entry point the libvirt parsers share.
 */
import { parseStringPromise } from 'xml2js';
import { InputError } from '../errors.js';

export interface DomCapsSev {
  readonly supported: boolean;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  readonly maxGuests?: number | undefined;
  readonly maxESGuests?: number | undefined;
  readonly cpu0Id?: string | undefined;
}

export interface DomCapsLaunchSecurity {
  readonly supported: boolean;
  /** values of <enum name='sectype'>, e.g. ['sev', 'sev-snp'] */
  readonly sectypes: readonly string[];
}

export interface DomainCapabilities {
  readonly source: string;
  readonly path?: string | undefined;
  readonly domain?: string | undefined;
  readonly machine?: string | undefined;
  readonly arch?: string | undefined;
  /** undefined: no <sev> element at all */
  readonly sev: DomCapsSev | undefined;
  /** undefined: no <launchSecurity> element (libvirt < 10.5, or not reported) */
  readonly launchSecurity: DomCapsLaunchSecurity | undefined;
  /** true/false when launchSecurity is reported; undefined when libvirt does not say */
  readonly snpSupported: boolean | undefined;
}

/** xml2js node with attributes under `$` and text under `_` (explicitArray). */
export interface XmlNode {
  $?: Record<string, string>;
  _?: string;
  [child: string]: unknown;
}

/**
 * Parse libvirt-produced XML defensively: DOCTYPE/ENTITY declarations are refused outright (no
 * libvirt output carries them; they are the vector for entity expansion), the root element must
 * be `root`, and any syntax error becomes InputError(source, problem).
 */
export async function parseLibvirtXml(text: string, source: string, root: string): Promise<XmlNode> {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new InputError(source, 'XML with a DOCTYPE/ENTITY declaration is refused');
  }
  if (text.trim() === '') throw new InputError(source, 'is empty; expected XML');
  let doc: unknown;
  try {
    doc = await parseStringPromise(text, { explicitArray: true, explicitRoot: true, strict: true, trim: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n').join(' ');
    throw new InputError(source, `malformed XML: ${msg}`);
  }
  if (typeof doc !== 'object' || doc === null) throw new InputError(source, 'no XML document');
  const keys = Object.keys(doc);
  if (keys.length !== 1 || keys[0] !== root) {
    throw new InputError(source, `root element is <${keys[0] ?? ''}>; expected <${root}>`);
  }
  const r = (doc as Record<string, unknown>)[root];
  // an empty root (<x/>) comes back as '' from xml2js
  return typeof r === 'object' && r !== null ? (r as XmlNode) : {};
}

/** The single child element `name` (undefined if absent; InputError if repeated). */
export function child(node: XmlNode | undefined, name: string, source: string): XmlNode | undefined {
  const c = node?.[name];
  if (c === undefined) return undefined;
  if (!Array.isArray(c)) throw new InputError(source, `<${name}> has an unexpected shape`);
  if (c.length !== 1) throw new InputError(source, `<${name}> appears ${c.length} times; expected once`);
  const v: unknown = c[0];
  if (typeof v === 'string') return { _: v };
  return v as XmlNode;
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const c = node?.[name];
  if (!Array.isArray(c)) return [];
  return c.map((v: unknown) => (typeof v === 'string' ? { _: v } : (v as XmlNode)));
}

/** Text content of the single child `name`. */
export function childText(node: XmlNode | undefined, name: string, source: string): string | undefined {
  const c = child(node, name, source);
  if (c === undefined) return undefined;
  return c._ ?? '';
}

/** Unsigned decimal integer text (libvirt formats these with %u) of the single child `name`. */
export function childUInt(node: XmlNode | undefined, name: string, source: string): number | undefined {
  const t = childText(node, name, source);
  if (t === undefined) return undefined;
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new InputError(source, `<${name}> is ${JSON.stringify(t)}; expected an unsigned integer`);
  }
  return Number(t);
}

function yesNo(node: XmlNode, attr: string, source: string, element: string): boolean {
  const v = node.$?.[attr];
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw new InputError(source, `<${element} ${attr}=…> is ${v === undefined ? 'missing' : JSON.stringify(v)}; expected 'yes' or 'no'`);
}

/** Parse `virsh domcapabilities` output. */
export async function parseDomainCapabilities(xml: string, source = 'virsh domcapabilities'): Promise<DomainCapabilities> {
  const root = await parseLibvirtXml(xml, source, 'domainCapabilities');
  const features = child(root, 'features', source);
  const sevNode = child(features, 'sev', `${source}: <features>`);
  let sev: DomCapsSev | undefined;
  if (sevNode) {
    const s = `${source}: <sev>`;
    sev = {
      supported: yesNo(sevNode, 'supported', source, 'sev'),
      cbitpos: childUInt(sevNode, 'cbitpos', s),
      reducedPhysBits: childUInt(sevNode, 'reducedPhysBits', s),
      maxGuests: childUInt(sevNode, 'maxGuests', s),
      maxESGuests: childUInt(sevNode, 'maxESGuests', s),
      cpu0Id: childText(sevNode, 'cpu0Id', s),
    };
  }
  const lsNode = child(features, 'launchSecurity', `${source}: <features>`);
  let launchSecurity: DomCapsLaunchSecurity | undefined;
  if (lsNode) {
    const sectypeEnum = children(lsNode, 'enum').find((e) => e.$?.name === 'sectype');
    launchSecurity = {
      supported: yesNo(lsNode, 'supported', source, 'launchSecurity'),
      sectypes: children(sectypeEnum, 'value').map((v) => v._ ?? ''),
    };
  }
  return {
    source,
    path: childText(root, 'path', source),
    domain: childText(root, 'domain', source),
    machine: childText(root, 'machine', source),
    arch: childText(root, 'arch', source),
    sev,
    launchSecurity,
    snpSupported: launchSecurity ? launchSecurity.supported && launchSecurity.sectypes.includes('sev-snp') : undefined,
  };
}
