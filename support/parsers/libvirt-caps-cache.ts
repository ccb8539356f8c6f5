/**
 * libvirt's cached QEMU capabilities (/var/cache/libvirt/qemu/capabilities/<sha256>.xml).
 * Element names follow libvirt src/qemu/qemu_capabilities.c virQEMUCapsFormatCache() and
 * virQEMUCapsLoadCache():
 *
 *   <qemuCaps>
 *     <emulator>/usr/bin/qemu-system-x86_64</emulator>
 *     <qemuctime>…</qemuctime> [<qemumoddirmtime>…</qemumoddirmtime>]
 *     <selfctime>…</selfctime> <selfvers>…</selfvers>        (libvirtd binary ctime / version)
 *     <flag name='sev-guest'/> <flag name='sev-snp-guest'/> …
 *     <version>…</version> <microcodeVersion>…</microcodeVersion>
 *     [<hostCPUSignature>…</hostCPUSignature>] [<package>…</package>] [<kernelVersion>…</kernelVersion>]
 *     <arch>x86_64</arch> … <hostCPU>, <cpu>, <machine> …
 *     <sev> <cbitpos/> <reducedPhysBits/> <pdh/> <certChain/> [<cpu0Id/>] </sev>
 *     [<kvmSupportsNesting/>] [<kvmSupportsSecureGuest/>]
 *   </qemuCaps>
 *
 * libvirt writes <sev> only when the `sev-guest` flag is set and QEMU answered
 * query-sev-capabilities at probe time; when the flag is set it *requires* <sev>
 * (virQEMUCapsParseSEVInfo: "missing SEV platform data in QEMU capabilities cache"). It never
 * caches maxGuests/maxESGuests ("We probe this every time because the values can change on every
 * reboot via firmware config tunables"). libvirt reuses the file until qemuctime, selfctime/
 * selfvers, microcodeVersion, hostCPUSignature, kernelVersion or kvmSupportsSecureGuest stop
 * matching the host — so a cache written before SEV was enabled (no <sev>,
 * no <kvmSupportsSecureGuest/>) is what "caps.cache.fresh" looks for.
 */
import { InputError } from '../errors.js';
import { child, childText, childUInt, children, parseLibvirtXml } from './domcaps.js';

export interface CachedSev {
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
  readonly pdh: string;
  readonly certChain: string;
  readonly cpu0Id?: string | undefined;
}

export interface LibvirtQemuCapsCache {
  readonly source: string;
  readonly emulator: string;
  readonly qemuctime: number;
  readonly selfctime: number;
  readonly selfvers: number;
  readonly version: number;
  readonly microcodeVersion: number;
  readonly hostCPUSignature?: string | undefined;
  readonly package?: string | undefined;
  readonly kernelVersion?: string | undefined;
  readonly arch: string;
  readonly flags: readonly string[];
  /** `<flag name='sev-guest'/>`: QEMU has the sev-guest object */
  readonly sevGuestFlag: boolean;
  /** `<flag name='sev-snp-guest'/>` (libvirt ≥ 10.5) */
  readonly snpGuestFlag: boolean;
  readonly sev: CachedSev | undefined;
  readonly kvmSupportsSecureGuest: boolean;
  readonly kvmSupportsNesting: boolean;
}

function required<T>(v: T | undefined, source: string, what: string): T {
  if (v === undefined) throw new InputError(source, `missing <${what}>`);
  return v;
}

/** `<selfctime>` etc. are time_t / %llu: integers, possibly beyond 2^31. */
function uintField(root: Parameters<typeof childUInt>[0], name: string, source: string): number {
  return required(childUInt(root, name, source), source, name);
}

export async function parseLibvirtCapsCache(xml: string, source = 'libvirt QEMU capabilities cache'): Promise<LibvirtQemuCapsCache> {
  const root = await parseLibvirtXml(xml, source, 'qemuCaps');
  const flags = children(root, 'flag').map((f, i) => {
    const name = f.$?.name;
    if (!name) throw new InputError(source, `<flag> #${i + 1} has no name`);
    return name;
  });
  const sevGuestFlag = flags.includes('sev-guest');
  const sevNode = child(root, 'sev', source);
  let sev: CachedSev | undefined;
  if (sevNode) {
    const s = `${source}: <sev>`;
    const text = (name: string): string => {
      const t = childText(sevNode, name, s);
      if (t === undefined || t === '') throw new InputError(s, `missing <${name}>`);
      return t;
    };
    sev = {
      cbitpos: required(childUInt(sevNode, 'cbitpos', s), s, 'cbitpos'),
      reducedPhysBits: required(childUInt(sevNode, 'reducedPhysBits', s), s, 'reducedPhysBits'),
      pdh: text('pdh'),
      certChain: text('certChain'),
      cpu0Id: childText(sevNode, 'cpu0Id', s),
    };
  } else if (sevGuestFlag) {
    // libvirt itself refuses such a file (virQEMUCapsParseSEVInfo)
    throw new InputError(source, "has <flag name='sev-guest'/> but no <sev> element (libvirt rejects this cache file too)");
  }
  return {
    source,
    emulator: required(childText(root, 'emulator', source), source, 'emulator'),
    qemuctime: uintField(root, 'qemuctime', source),
    selfctime: uintField(root, 'selfctime', source),
    selfvers: uintField(root, 'selfvers', source),
    version: uintField(root, 'version', source),
    microcodeVersion: uintField(root, 'microcodeVersion', source),
    hostCPUSignature: childText(root, 'hostCPUSignature', source),
    package: childText(root, 'package', source),
    kernelVersion: childText(root, 'kernelVersion', source),
    arch: required(childText(root, 'arch', source), source, 'arch'),
    flags,
    sevGuestFlag,
    snpGuestFlag: flags.includes('sev-snp-guest'),
    sev,
    kvmSupportsSecureGuest: child(root, 'kvmSupportsSecureGuest', source) !== undefined,
    kvmSupportsNesting: child(root, 'kvmSupportsNesting', source) !== undefined,
  };
}
