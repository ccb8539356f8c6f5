/**
 * libvirt domain XML -> typed model, for the SEV rules in rules.ts.
 *
 * Element and attribute names follow libvirt docs/formatdomain.rst and the domain RNG schema
 * (src/conf/schemas/domaincommon.rng). Only what the SEV checks need is modelled; everything a
 * device says is kept in `attrs`/`driver` so rules can quote it back.
 */
import { InputError } from '../errors.js';
import { child, parseXml, path, type ParseXmlOptions, type XNode } from './xml.js';

export interface Loader {
  readonly path?: string | undefined;
  /** 'rom' | 'pflash' */
  readonly type?: string | undefined;
  readonly readonly?: string | undefined;
  readonly secure?: string | undefined;
  readonly stateless?: string | undefined;
}

export type LaunchSecurityType = 'sev' | 'sev-snp' | 's390-pv' | string;

export interface LaunchSecurity {
  readonly type: LaunchSecurityType;
  readonly cbitpos?: number | undefined;
  readonly reducedPhysBits?: number | undefined;
  /** policy text exactly as written (libvirt reads it as hex); undefined when absent */
  readonly policyText?: string | undefined;
  readonly dhCert?: string | undefined;
  readonly session?: string | undefined;
  readonly kernelHashes?: string | undefined;
  readonly authorKey?: string | undefined;
  readonly vcek?: string | undefined;
  readonly idBlock?: string | undefined;
  readonly idAuth?: string | undefined;
  readonly hostData?: string | undefined;
  readonly guestVisibleWorkarounds?: string | undefined;
}

export type DeviceKind =
  | 'disk'
  | 'controller'
  | 'interface'
  | 'rng'
  | 'memballoon'
  | 'vsock'
  | 'video'
  | 'input'
  | 'serial'
  | 'console'
  | 'channel'
  | 'filesystem'
  | 'other';

export interface Device {
  readonly kind: DeviceKind;
  /** element name as written (e.g. 'hostdev' for kind 'other') */
  readonly element: string;
  /** n-th element of this name under <devices>, 1-based, for messages */
  readonly ordinal: number;
  /** short, human label: "disk vda", "interface 52:54:00:..", "controller virtio-serial index 0" */
  readonly label: string;
  /** the element's own attributes (type=, model=, bus= for input, ...) */
  readonly attrs: Readonly<Record<string, string>>;
  /** device model: model attr (rng, memballoon, vsock, controller), <model type> (interface, video) */
  readonly model?: string | undefined;
  /** bus: <target bus> for disks, bus attr for input */
  readonly bus?: string | undefined;
  /** <target> attributes (disk dev/bus, console type, ...) */
  readonly target?: Readonly<Record<string, string>> | undefined;
  /** <driver> attributes (iommu, ats, name, type, ...), undefined when there is no <driver> */
  readonly driver?: Readonly<Record<string, string>> | undefined;
  /** <boot order='N'/> on the device */
  readonly bootOrder?: number | undefined;
}

export interface DomainModel {
  readonly source: string;
  /** <domain type='kvm'> */
  readonly hypervisor?: string | undefined;
  readonly name?: string | undefined;
  readonly os: {
    readonly type?: string | undefined;
    readonly arch?: string | undefined;
    readonly machine?: string | undefined;
    /** <os firmware='efi|bios'> (firmware autoselection) */
    readonly firmware?: string | undefined;
    readonly loader?: Loader | undefined;
    readonly nvram?: string | undefined;
  };
  readonly memoryKiB?: number | undefined;
  readonly currentMemoryKiB?: number | undefined;
  readonly maxMemoryKiB?: number | undefined;
  readonly memtune: {
    readonly hardLimitKiB?: number | undefined;
    readonly softLimitKiB?: number | undefined;
  };
  readonly memoryBacking: {
    readonly present: boolean;
    readonly locked: boolean;
    readonly hugepages: boolean;
    readonly sourceType?: string | undefined;
    readonly accessMode?: string | undefined;
  };
  readonly cpu?: { readonly mode?: string | undefined; readonly migratable?: string | undefined } | undefined;
  readonly launchSecurity?: LaunchSecurity | undefined;
  readonly devices: readonly Device[];
  /**
   * Values of well-formed XML that libvirt's domain schema rejects ("<launchSecurity><cbitpos>
   * 'forty-seven' is not an unsigned integer"); the model leaves them unset. A compliance
   * failure of domain.schema-valid (as virt-xml-validate reports it), not an input error.
   */
  readonly invalid: readonly string[];
}

export interface ParseDomainOptions extends ParseXmlOptions {}

/**
 * Parse domain XML text (or bytes). Throws InputError(source, problem) for anything unreadable
 * (not well-formed, not a <domain>); values the schema rejects are listed in `invalid`.
 */
export function parseDomainXml(input: string | Buffer, source: string, opts: ParseDomainOptions = {}): DomainModel {
  const root = parseXml(input, source, opts);
  const invalid: string[] = [];
  if (root.name !== 'domain') {
    throw new InputError(source, `root element is <${root.name}>, expected <domain> (libvirt domain XML)`);
  }
  const os = child(root, 'os');
  const osType = child(os, 'type');
  const loader = child(os, 'loader');
  const mb = child(root, 'memoryBacking');
  const memtune = child(root, 'memtune');
  const cpu = child(root, 'cpu');
  const ls = child(root, 'launchSecurity');
  return {
    source,
    hypervisor: root.attrs['type'],
    name: textOf(child(root, 'name')),
    os: {
      type: textOf(osType),
      arch: osType?.attrs['arch'],
      machine: osType?.attrs['machine'],
      firmware: os?.attrs['firmware'],
      loader: loader
        ? {
            path: textOf(loader),
            type: loader.attrs['type'],
            readonly: loader.attrs['readonly'],
            secure: loader.attrs['secure'],
            stateless: loader.attrs['stateless'],
          }
        : undefined,
      nvram: child(os, 'nvram') ? (textOf(child(os, 'nvram')) ?? child(os, 'nvram')?.attrs['template'] ?? '') : undefined,
    },
    memoryKiB: memKiB(child(root, 'memory'), source, invalid),
    currentMemoryKiB: memKiB(child(root, 'currentMemory'), source, invalid),
    maxMemoryKiB: memKiB(child(root, 'maxMemory'), source, invalid),
    memtune: {
      hardLimitKiB: memKiB(child(memtune, 'hard_limit'), source, invalid),
      softLimitKiB: memKiB(child(memtune, 'soft_limit'), source, invalid),
    },
    memoryBacking: {
      present: mb !== undefined,
      locked: child(mb, 'locked') !== undefined,
      hugepages: child(mb, 'hugepages') !== undefined,
      sourceType: child(mb, 'source')?.attrs['type'],
      accessMode: child(mb, 'access')?.attrs['mode'],
    },
    cpu: cpu ? { mode: cpu.attrs['mode'], migratable: cpu.attrs['migratable'] } : undefined,
    launchSecurity: ls ? launchSecurity(ls, invalid) : undefined,
    devices: devices(child(root, 'devices')),
    invalid,
  };
}

function textOf(n: XNode | undefined): string | undefined {
  return n ? n.text : undefined;
}

function launchSecurity(ls: XNode, invalid: string[]): LaunchSecurity {
  const type = ls.attrs['type'] ?? '';
  // libvirt src/conf/schemas/domaincommon.rng: <cbitpos>/<reducedPhysBits> are unsignedInt
  const uint = (name: string): number | undefined => {
    const n = child(ls, name);
    if (!n) return undefined;
    if (!/^\d+$/.test(n.text)) {
      invalid.push(`<launchSecurity><${name}> '${n.text}' is not an unsigned integer`);
      return undefined;
    }
    return Number(n.text);
  };
  const str = (name: string): string | undefined => textOf(child(ls, name));
  return {
    type,
    cbitpos: uint('cbitpos'),
    reducedPhysBits: uint('reducedPhysBits'),
    policyText: str('policy'),
    dhCert: str('dhCert'),
    session: str('session'),
    kernelHashes: ls.attrs['kernelHashes'],
    authorKey: ls.attrs['authorKey'],
    vcek: ls.attrs['vcek'],
    idBlock: str('idBlock'),
    idAuth: str('idAuth'),
    hostData: str('hostData'),
    guestVisibleWorkarounds: str('guestVisibleWorkarounds'),
  };
}

// --- memory units ------------------------------------------------------------------------------

/**
 * libvirt scaled integers (docs/formatdomain.rst "Memory Allocation"): b/bytes, KB (10^3),
 * k/KiB (2^10), MB, M/MiB, GB, G/GiB, TB, T/TiB, PB, P/PiB, EB, E/EiB; default unit KiB.
 * Case-insensitive except that libvirt treats "KB"/"MB"... as powers of 10 and "k"/"KiB" as 2^10.
 */
const UNIT_BYTES: Record<string, bigint> = {
  b: 1n,
  bytes: 1n,
  kb: 1000n,
  k: 1024n,
  kib: 1024n,
  mb: 1000n ** 2n,
  m: 1024n ** 2n,
  mib: 1024n ** 2n,
  gb: 1000n ** 3n,
  g: 1024n ** 3n,
  gib: 1024n ** 3n,
  tb: 1000n ** 4n,
  t: 1024n ** 4n,
  tib: 1024n ** 4n,
  pb: 1000n ** 5n,
  p: 1024n ** 5n,
  pib: 1024n ** 5n,
  eb: 1000n ** 6n,
  e: 1024n ** 6n,
  eib: 1024n ** 6n,
};

/** Convert a libvirt memory value and unit to KiB (rounded up, as libvirt does). */
export function toKiB(value: string, unit: string | undefined, source = 'memory'): number {
  if (!/^\d+$/.test(value.trim())) throw new InputError(source, `'${value}' is not a non-negative integer`);
  const u = (unit ?? 'KiB').trim().toLowerCase();
  const mul = UNIT_BYTES[u];
  if (mul === undefined) throw new InputError(source, `unknown memory unit '${unit}'`);
  const bytes = BigInt(value.trim()) * mul;
  const kib = (bytes + 1023n) / 1024n;
  if (kib > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(source, `memory value ${value} ${unit ?? 'KiB'} is too large`);
  return Number(kib);
}

function memKiB(n: XNode | undefined, source: string, invalid: string[]): number | undefined {
  if (!n) return undefined;
  try {
    return toKiB(n.text, n.attrs['unit'], source);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    invalid.push(`<${n.name}>: ${e.problem}`); // scaledInteger / unit in domaincommon.rng
    return undefined;
  }
}

// --- devices -----------------------------------------------------------------------------------

const KINDS = new Set<DeviceKind>([
  'disk',
  'controller',
  'interface',
  'rng',
  'memballoon',
  'vsock',
  'video',
  'input',
  'serial',
  'console',
  'channel',
  'filesystem',
]);

function devices(devs: XNode | undefined): Device[] {
  if (!devs) return [];
  const counters = new Map<string, number>();
  const out: Device[] = [];
  for (const el of devs.children) {
    const ordinal = (counters.get(el.name) ?? 0) + 1;
    counters.set(el.name, ordinal);
    const kind: DeviceKind = KINDS.has(el.name as DeviceKind) ? (el.name as DeviceKind) : 'other';
    const target = child(el, 'target');
    const driver = child(el, 'driver');
    const boot = child(el, 'boot');
    const model = modelOf(el);
    const bus = el.name === 'disk' ? target?.attrs['bus'] : el.attrs['bus'];
    out.push({
      kind,
      element: el.name,
      ordinal,
      label: labelOf(el, ordinal, model),
      attrs: el.attrs,
      model,
      bus,
      target: target?.attrs,
      driver: driver?.attrs,
      bootOrder: boot?.attrs['order'] !== undefined ? Number(boot.attrs['order']) : undefined,
    });
  }
  return out;
}

function modelOf(el: XNode): string | undefined {
  switch (el.name) {
    case 'interface':
      return child(el, 'model')?.attrs['type'];
    case 'video':
      return child(el, 'model')?.attrs['type'];
    case 'filesystem':
      return child(el, 'driver')?.attrs['type'] ?? el.attrs['model'];
    default:
      return el.attrs['model'];
  }
}

function labelOf(el: XNode, ordinal: number, model: string | undefined): string {
  const a = el.attrs;
  switch (el.name) {
    case 'disk': {
      const dev = child(el, 'target')?.attrs['dev'];
      return dev ? `disk ${dev}` : `disk #${ordinal}`;
    }
    case 'interface': {
      const mac = child(el, 'mac')?.attrs['address'];
      return mac ? `interface ${mac}` : `interface #${ordinal}`;
    }
    case 'controller':
      return `controller ${a['type'] ?? '?'}${a['model'] ? ` (${a['model']})` : ''} index ${a['index'] ?? '?'}`;
    case 'input':
      return `input ${a['type'] ?? '?'} (bus ${a['bus'] ?? 'default'})`;
    case 'video':
      return `video ${model ?? '?'}`;
    case 'filesystem': {
      const t = path(el, 'target')?.attrs['dir'];
      return t ? `filesystem ${t}` : `filesystem #${ordinal}`;
    }
    case 'console':
    case 'serial':
    case 'channel': {
      const t = child(el, 'target')?.attrs;
      return `${el.name} #${ordinal}${t?.['type'] ? ` (target ${t['type']}${t['name'] ? ` ${t['name']}` : ''})` : ''}`;
    }
    default:
      return `${el.name}${model ? ` ${model}` : ''}${ordinal > 1 ? ` #${ordinal}` : ''}`;
  }
}

/** Convenience filters. */
export function devicesOf(d: DomainModel, kind: DeviceKind): Device[] {
  return d.devices.filter((x) => x.kind === kind);
}
