/**
 * SEV rules over a libvirt domain model: one pure function per `domain.*` check id of the check
 * catalog, docs/checks.md (domain.schema-valid lives in schema.ts: it needs xmllint).
 *
 * Main source: libvirt docs/kbase/launch_security_sev.rst ("VM Configuration": machine type,
 * boot loader, memory, virtio) and docs/formatdomain.rst "Launch Security". Policy bits: see
 * support/sev/policy.ts.
 */
import {
  decodeSevPolicy,
  decodeSnpPolicy,
  explainSevPolicy,
  explainSnpPolicy,
  parseHexPolicy,
  sevPolicyProblems,
  snpPolicyProblems,
  SEV_POLICY_BITS,
  SEV_POLICY_RESERVED_MASK,
  SNP_DEFAULT_POLICY,
  SNP_POLICY_BITS,
  SNP_POLICY_RESERVED_MASK,
  type PolicyProblem,
  type SevPolicy,
  type SnpPolicy,
} from '../sev/policy.js';
import { failed, failedBecause, passed, skipped, undecided, undecidedBecause, type Verdict } from '../verdict.js';
import type { Device, DomainModel } from './model.js';

export const SEV_DOC = 'libvirt docs/kbase/launch_security_sev.rst';

/** What is known about the host the guest will run on. Undefined fields are not judged. */
export interface HostSevFacts {
  /** C-bit position (CPUID 0x8000001F EBX[5:0], or domcapabilities <sev><cbitpos>) */
  readonly cbitpos?: number | undefined;
  /** physical address bits lost (CPUID 0x8000001F EBX[11:6], domcapabilities <reducedPhysBits>) */
  readonly reducedPhysBits?: number | undefined;
  readonly es?: boolean | undefined;
  readonly snp?: boolean | undefined;
  /** where the facts came from, quoted in messages ("--host-cbitpos", "virsh domcapabilities") */
  readonly source?: string | undefined;
  /**
   * A host was given but has no C-bit to compare with: `sevAbsent` when it has no SEV at all (a
   * guest with <launchSecurity> cannot start there: QEMU's cbitpos check, target/i386/sev.c),
   * otherwise its facts could not be read. `why` says which.
   */
  readonly unavailable?: { readonly sevAbsent: boolean; readonly why: string } | undefined;
  /**
   * The firmware images the host's QEMU firmware descriptors offer for SEV guests (parsers/
   * firmware-descriptor.ts sevFirmware), so that a fix names a file that exists there; `source`
   * says whose descriptors were read.
   */
  readonly firmware?: {
    readonly sev?: { readonly image: string; readonly bios: boolean; readonly descriptor: string } | undefined;
    readonly snp?: { readonly image: string; readonly bios: boolean; readonly descriptor: string } | undefined;
    readonly source: string;
    /** why the descriptors could not be read (then no image is known) */
    readonly unreadable?: string | undefined;
  } | undefined;
}

/**
 * The firmware image a loader fix names: the one the host's descriptors offer for SEV (or SNP)
 * guests and that exists there (HostSevFacts.firmware), with the descriptor it came from; when
 * none is known, why — the fix then names no path (a path from another distribution is a file
 * this host does not have).
 */
export function firmwareChoice(host: HostSevFacts, snp: boolean): { readonly image: string; readonly bios: boolean; readonly from: string } | { readonly none: string } {
  const fw = host.firmware;
  if (!fw) return { none: 'no firmware descriptors were read' };
  if (fw.unreadable !== undefined) return { none: `the firmware descriptors of ${fw.source} could not be read: ${fw.unreadable}` };
  const f = snp ? fw.snp : fw.sev;
  if (f) return { image: f.image, bios: f.bios, from: `from ${f.descriptor}` };
  return { none: `no firmware descriptor of ${fw.source} lists ${snp ? 'amd-sev-snp' : 'amd-sev'} for an image it has` };
}

/**
 * domain.cbitpos.matches-host when the host's C-bit is not known: failed when the host given has
 * no SEV, undecided (with the reason) when it could not be read or no host was given.
 */
export function unknownHostCbit(host: HostSevFacts, hint: string): Verdict | undefined {
  if (host.cbitpos !== undefined || host.reducedPhysBits !== undefined) return undefined;
  const u = host.unavailable;
  if (u?.sevAbsent) {
    return failed(
      `${host.source ?? 'the host'} has no SEV: ${u.why}`,
      "a host whose CPU and KVM offer SEV, with the guest's cbitpos",
      'lint against the SEV host that will run the guest, or enable SEV there (sevcheck run --host ... reports what is missing)',
    );
  }
  if (u) return undecided(`the host C-bit position is not known: ${u.why}; ${hint}`);
  return undecided(`the host C-bit position is not known: ${hint}`);
}

export const DOMAIN_CHECK_IDS = [
  'domain.schema-valid',
  'domain.launch-security',
  'domain.policy.valid',
  'domain.cbitpos.matches-host',
  'domain.machine.q35',
  'domain.loader.ovmf',
  'domain.virtio.iommu',
  'domain.memory.pinned',
  'domain.no-migration',
] as const;
export type DomainCheckId = (typeof DOMAIN_CHECK_IDS)[number];

/** 256 MiB headroom over guest RAM for the memtune hard limit (launch_security_sev.rst "Memory"). */
export const SEV_HARD_LIMIT_HEADROOM_KIB = 256 * 1024;

// --- shared policy judgement (also used by qemu-cmdline.ts and proxmox.ts) ----------------------

export type DecodedPolicy = SevPolicy | SnpPolicy;

export interface PolicyJudgement {
  readonly policy: DecodedPolicy;
  readonly explanation: string;
  readonly errors: PolicyProblem[];
  readonly warnings: PolicyProblem[];
  /** the same policy with every error corrected (reserved bits cleared, bit 17 set, ...) */
  readonly corrected: bigint;
}

export function judgePolicy(kind: 'sev' | 'snp', value: bigint, host: HostSevFacts = {}): PolicyJudgement {
  if (kind === 'sev') {
    const p = decodeSevPolicy(value);
    const problems = sevPolicyProblems(p, { es: host.es });
    let fixed = p.raw & ~SEV_POLICY_RESERVED_MASK;
    if (p.es && host.es === false) fixed &= ~(1 << SEV_POLICY_BITS.ES);
    return split(p, explainSevPolicy(p), problems, BigInt(fixed >>> 0));
  }
  const p = decodeSnpPolicy(value);
  const problems = snpPolicyProblems(p);
  const fixed =
    (p.raw | (1n << BigInt(SNP_POLICY_BITS.RESERVED_MBO))) &
    ~SNP_POLICY_RESERVED_MASK &
    ~(1n << BigInt(SNP_POLICY_BITS.MIGRATE_MA));
  return split(p, explainSnpPolicy(p), problems, fixed);
}

function split(policy: DecodedPolicy, explanation: string, problems: PolicyProblem[], corrected: bigint): PolicyJudgement {
  return {
    policy,
    explanation,
    errors: problems.filter((x) => x.severity === 'error'),
    warnings: problems.filter((x) => x.severity === 'warning'),
    corrected,
  };
}

/** libvirt writes policies as 0x%04x (SEV) in its own output; keep that look. */
export function policyHex(kind: 'sev' | 'snp', v: bigint): string {
  return kind === 'sev' ? `0x${v.toString(16).padStart(4, '0')}` : `0x${v.toString(16)}`;
}

// --- helpers --------------------------------------------------------------------------------

function amdKind(d: DomainModel): 'sev' | 'snp' | undefined {
  const t = d.launchSecurity?.type;
  return t === 'sev' ? 'sev' : t === 'sev-snp' ? 'snp' : undefined;
}

export const notAmd = (d: DomainModel): Verdict =>
  skipped(
    d.launchSecurity
      ? `<launchSecurity type='${d.launchSecurity.type}'> is not AMD SEV; see domain.launch-security`
      : 'no <launchSecurity> in the domain; see domain.launch-security',
  );

export type PolicyRead =
  | { ok: true; kind: 'sev' | 'snp'; value: bigint; defaulted: boolean }
  | { ok: false; verdict: Verdict; /** the check that reports why the policy cannot be read */ owner: string };

export function readPolicy(d: DomainModel): PolicyRead | undefined {
  const kind = amdKind(d);
  if (!kind) return undefined;
  const text = d.launchSecurity?.policyText;
  if (text === undefined || text === '') {
    if (kind === 'snp') return { ok: true, kind, value: SNP_DEFAULT_POLICY, defaulted: true };
    if (text === undefined) {
      // domain.launch-security owns a missing <policy> (its fix adds it): one finding, one fix
      return {
        ok: false,
        owner: 'domain.launch-security',
        verdict: failedBecause(
          'domain.launch-security',
          `<launchSecurity type='sev'> without <policy> in ${d.source}`,
          'a <policy> element (required for type sev by the libvirt domain schema)',
        ),
      };
    }
    return {
      ok: false,
      owner: 'domain.policy.valid',
      verdict: failed(
        `<launchSecurity type='sev'> with an empty <policy> in ${d.source}`,
        'a <policy> element (required for type sev by the libvirt domain schema)',
        "<policy>0x000b</policy> inside <launchSecurity> (0x000b = no debugging, no key sharing, no sending; use 0x000f for SEV-ES)",
      ),
    };
  }
  try {
    const value = parseHexPolicy(text);
    const max = kind === 'sev' ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn;
    if (value > max) {
      return {
        ok: false,
        owner: 'domain.policy.valid',
        verdict: failed(
          `<policy>${text}</policy> in ${d.source}`,
          `a ${kind === 'sev' ? '32' : '64'}-bit policy`,
          kind === 'sev' ? '<policy>0x000b</policy>' : '<policy>0x30000</policy>',
        ),
      };
    }
    return { ok: true, kind, value, defaulted: false };
  } catch {
    return {
      ok: false,
      owner: 'domain.policy.valid',
      verdict: failed(
        `<policy>${text}</policy> in ${d.source}, which is not hexadecimal`,
        'a hex number (libvirt reads <policy> as hex, with or without 0x; schema pattern (0x)?[0-9a-f]+)',
        kind === 'sev' ? '<policy>0x000b</policy>' : '<policy>0x30000</policy>',
      ),
    };
  }
}

// --- domain.launch-security ----------------------------------------------------------------

export function checkLaunchSecurity(d: DomainModel, host: HostSevFacts = {}): Verdict {
  const ls = d.launchSecurity;
  const example = `<launchSecurity type='sev'><cbitpos>${host.cbitpos ?? 47}</cbitpos><reducedPhysBits>${host.reducedPhysBits ?? 1}</reducedPhysBits><policy>0x000b</policy></launchSecurity>`;
  const whereNumbers =
    host.cbitpos === undefined ? ' (take cbitpos and reducedPhysBits from `virsh domcapabilities` <sev>)' : '';
  if (!ls) {
    return failed(
      `no <launchSecurity> element in ${d.source}`,
      "<launchSecurity type='sev'> (or 'sev-snp') with <cbitpos>, <reducedPhysBits> and <policy> (libvirt formatdomain 'Launch Security'; " +
        SEV_DOC +
        ' "VM Configuration")',
      `add inside <domain>: ${example}${whereNumbers}`,
    );
  }
  if (ls.type !== 'sev' && ls.type !== 'sev-snp') {
    return failed(
      `<launchSecurity type='${ls.type}'> in ${d.source}${ls.type === 's390-pv' ? ' (IBM Secure Execution, not AMD SEV)' : ''}`,
      "type 'sev' or 'sev-snp'",
      `replace it with ${example}${whereNumbers}`,
    );
  }
  const missing: string[] = [];
  if (ls.cbitpos === undefined) missing.push(`<cbitpos>${host.cbitpos ?? 'N'}</cbitpos>`);
  if (ls.reducedPhysBits === undefined) missing.push(`<reducedPhysBits>${host.reducedPhysBits ?? 'N'}</reducedPhysBits>`);
  if (ls.policyText === undefined) missing.push(ls.type === 'sev' ? '<policy>0x000b</policy>' : '<policy>0x30000</policy>');
  if (missing.length > 0) {
    const bad = (d.invalid ?? []).filter((p) => p.startsWith('<launchSecurity>'));
    const names = missing.map((m) => m.replace(/>.*$/, '>'));
    if (bad.length && names.every((n) => bad.some((b) => b.startsWith(`<launchSecurity>${n}`)))) {
      // present but not a value libvirt's schema accepts: domain.schema-valid owns that defect and its fix
      return failedBecause(
        'domain.schema-valid',
        `<launchSecurity type='${ls.type}'> in ${d.source} without ${names.join(', ')} usable: ${bad.join('; ')}`,
        'cbitpos, reducedPhysBits and policy all stated, so sevcheck can compare them with the host',
      );
    }
    return failed(
      `<launchSecurity type='${ls.type}'> in ${d.source} without ${missing.map((m) => m.replace(/>.*$/, '>')).join(', ')}${bad.length ? ` usable (${bad.join('; ')}; see domain.schema-valid)` : ''}`,
      'cbitpos, reducedPhysBits and policy all stated, so sevcheck can compare them with the host (libvirt otherwise fills cbitpos/reducedPhysBits from the host at start)',
      `add inside <launchSecurity>: ${missing.join('')}${host.cbitpos === undefined && (ls.cbitpos === undefined || ls.reducedPhysBits === undefined) ? ' (values from `virsh domcapabilities` <sev>)' : ''}`,
    );
  }
  return passed(
    `<launchSecurity type='${ls.type}'> with cbitpos ${ls.cbitpos}, reducedPhysBits ${ls.reducedPhysBits}, policy ${ls.policyText}`,
  );
}

// --- domain.policy.valid -------------------------------------------------------------------

export function checkPolicyValid(d: DomainModel, host: HostSevFacts = {}): Verdict {
  const r = readPolicy(d);
  if (!r) return notAmd(d);
  if (!r.ok) return r.verdict;
  if (r.kind === 'snp' && host.snp === false) {
    return failed(
      `<launchSecurity type='sev-snp'> but the host does not offer SEV-SNP${host.source ? ` (${host.source})` : ''}`,
      'an SNP-capable host for an sev-snp guest',
      "run the guest on an SNP host, or use <launchSecurity type='sev'> with <policy>0x000f</policy> (SEV-ES)",
    );
  }
  const j = judgePolicy(r.kind, r.value, host);
  const what = `${r.defaulted ? "no <policy> (QEMU's sev-snp-guest default) " : '<policy> '}${j.explanation}`;
  if (j.errors.length > 0) {
    return failed(
      `${what}: ${j.errors.map((e) => e.message).join('; ')}`,
      r.kind === 'sev'
        ? 'a policy with bits 15:6 clear and ES only on an SEV-ES host (AMD SEV API spec §3 "Guest Policy")'
        : 'a policy with bit 17 set, bits 63:26 clear and MIGRATE_MA clear (SNP ABI spec §4.3 "Guest Policy")',
      `<policy>${policyHex(r.kind, j.corrected)}</policy>`,
    );
  }
  const notes = j.warnings.length ? `; note: ${j.warnings.map((w) => w.message).join('; ')}` : '';
  return passed(`${what}${notes}`);
}

// --- domain.cbitpos.matches-host -----------------------------------------------------------

export function checkCbitposMatchesHost(d: DomainModel, host: HostSevFacts = {}): Verdict {
  if (!amdKind(d)) return notAmd(d);
  const ls = d.launchSecurity!;
  const unknown = unknownHostCbit(host, 'pass --host-cbitpos N --host-reduced-phys-bits N (from `virsh domcapabilities` <sev>) or check against a host');
  if (unknown) return unknown;
  return compareCbit(
    { cbitpos: ls.cbitpos, reducedPhysBits: ls.reducedPhysBits },
    host,
    d.source,
    (name, v) => `<${name}>${v}</${name}>`,
    'libvirt fills in the host value at start',
  );
}

/** Shared with qemu-cmdline.ts: compare guest cbitpos/reducedPhysBits with the host's. */
export function compareCbit(
  guest: { cbitpos?: number | undefined; reducedPhysBits?: number | undefined },
  host: HostSevFacts,
  source: string,
  line: (name: 'cbitpos' | 'reducedPhysBits', v: number) => string,
  whenAbsent: string,
): Verdict {
  const bad: string[] = [];
  const fixes: string[] = [];
  const found: string[] = [];
  const from = host.source ? ` (${host.source})` : '';
  for (const [name, g, h] of [
    ['cbitpos', guest.cbitpos, host.cbitpos],
    ['reducedPhysBits', guest.reducedPhysBits, host.reducedPhysBits],
  ] as const) {
    if (g === undefined) {
      found.push(`${name} not set (${whenAbsent})`);
      continue;
    }
    if (h === undefined) {
      found.push(`${name} ${g} (host value not given)`);
      continue;
    }
    found.push(`${name} ${g}`);
    if (g !== h) {
      bad.push(`${name} ${g} in ${source} but the host has ${h}${from}`);
      fixes.push(line(name, h));
    }
  }
  if (bad.length > 0) {
    return failed(
      bad.join('; '),
      "cbitpos equal to the host's C-bit position (CPUID 0x8000001F EBX[5:0]; QEMU refuses to start an SEV guest otherwise, target/i386/sev.c \"cbitpos check failed\") and reducedPhysBits equal to the value the host publishes (libvirt domcapabilities <sev> / QEMU query-sev-capabilities, which report 1)",
      fixes.join(' and '),
    );
  }
  return passed(`${found.join(', ')}: matches the host${from}`);
}

// --- domain.machine.q35 --------------------------------------------------------------------

export function isQ35(machine: string): boolean {
  return /(^|-)q35(-|$)/.test(machine);
}

export function isI440fx(machine: string): boolean {
  return machine === 'pc' || /^pc-i440fx/.test(machine) || /^pc-\d/.test(machine);
}

export function checkMachineQ35(d: DomainModel): Verdict {
  const m = d.os.machine;
  const arch = d.os.arch;
  const fixType = `<type arch='x86_64' machine='q35'>hvm</type>`;
  if (arch !== undefined && arch !== 'x86_64' && arch !== 'i686') {
    return failed(`<os><type arch='${arch}'> in ${d.source}`, 'an x86_64 q35 machine (AMD SEV is x86 only)', fixType);
  }
  if (m !== undefined && isQ35(m)) return passed(`machine type '${m}' (Q35)`);
  const caveat = virtioNonTransitionalCaveat(d);
  if (m === undefined || isI440fx(m)) {
    const found =
      m === undefined
        ? `no machine attribute on <os><type> in ${d.source} (QEMU's x86 default machine is i440fx 'pc')`
        : `machine type '${m}' (i440fx) in ${d.source}`;
    return failed(
      found + caveat,
      `q35: ${SEV_DOC} says the legacy PC machine type is "strongly discouraged" (OVMF built with SecureBoot/SMM needs Q35); on i440fx every virtio device must be model 'virtio-non-transitional' (libvirt >= 5.2.0) because SEV does not work with virtio < 1.0, and virtio GPU cannot be used`,
      `${fixType} in <os> (new PCIe topology: re-create controllers/addresses, e.g. with virt-install --machine q35)`,
    );
  }
  return failed(`machine type '${m}' in ${d.source}`, 'a q35 machine type (pc-q35-*)', fixType);
}

function virtioNonTransitionalCaveat(d: DomainModel): string {
  const transitional = d.devices.filter(
    (x) => isVirtioDevice(x) && x.model !== 'virtio-non-transitional',
  );
  const gpu = d.devices.filter((x) => x.kind === 'video' && x.model === 'virtio');
  const parts: string[] = [];
  if (transitional.length)
    parts.push(`not virtio-non-transitional: ${transitional.map((x) => x.label).join(', ')}`);
  if (gpu.length) parts.push('virtio GPU present (no non-transitional model exists)');
  return parts.length ? `; ${parts.join('; ')}` : '';
}

// --- domain.loader.ovmf --------------------------------------------------------------------

export function looksLikeOvmf(path: string): boolean {
  return /ovmf|edk2|aavmf/i.test(path);
}

/** A loader for an SEV-SNP guest: the host's stateless OVMF as ROM, or firmware autoselection. */
function snpLoaderFix(host: HostSevFacts): string {
  const c = firmwareChoice(host, true);
  if ('image' in c) return `<loader type='rom'>${c.image}</loader> (${c.from}), or <os firmware='efi'>`;
  return `<os firmware='efi'> once an OVMF build for SEV-SNP is installed (edk2 OvmfPkg/AmdSev, e.g. Fedora edk2-ovmf's OVMF.amdsev.fd), or <loader type='rom'> naming that build (${c.none})`;
}

/** A loader for an SEV / SEV-ES guest: firmware autoselection, or the host's own OVMF code image. */
function sevLoaderFix(host: HostSevFacts): string {
  const c = firmwareChoice(host, false);
  if ('image' in c) {
    const line = c.bios ? `<loader type='rom'>${c.image}</loader>` : `<loader readonly='yes' type='pflash'>${c.image}</loader>`;
    return `<os firmware='efi'> (libvirt picks an SEV-capable OVMF), or ${line} (${c.from})`;
  }
  return `<os firmware='efi'> once an OVMF with SEV support is installed (Debian/Ubuntu: apt-get install ovmf; Fedora/RHEL: edk2-ovmf), or <loader readonly='yes' type='pflash'> naming its code image (${c.none})`;
}

export function checkLoaderOvmf(d: DomainModel, host: HostSevFacts = {}): Verdict {
  const kind = amdKind(d);
  const l = d.os.loader;
  const fw = d.os.firmware;
  const snpLine = kind === 'snp' ? snpLoaderFix(host) : '';
  const fix = kind === 'snp' ? snpLine : sevLoaderFix(host);
  if (fw === 'efi' && (!l || !l.path)) {
    return passed(`<os firmware='efi'>: libvirt selects a UEFI (OVMF) build from the firmware descriptors`);
  }
  if (!l || !l.path) {
    return failed(
      `${fw === 'bios' ? "<os firmware='bios'>" : 'no <loader> and no firmware=\'efi\''} in ${d.source}: QEMU boots SeaBIOS`,
      `an OVMF (UEFI) loader: "SEV is only going to work with OVMF (UEFI)" (${SEV_DOC} "Boot loader")`,
      fix,
    );
  }
  const type = l.type ?? 'rom';
  if (!looksLikeOvmf(l.path)) {
    if (type === 'pflash') {
      return undecided(
        `pflash loader ${l.path} is not a recognised OVMF/edk2 file name; sevcheck cannot tell whether it is UEFI`,
      );
    }
    return failed(`loader ${l.path} (type ${type}) in ${d.source}, not OVMF`, `an OVMF (UEFI) loader (${SEV_DOC} "Boot loader")`, fix);
  }
  if (kind === 'snp') {
    if (type === 'pflash') {
      return failed(
        `SEV-SNP guest with pflash loader ${l.path} in ${d.source}`,
        "a read-only, stateless OVMF loaded as ROM (-bios): SNP guests cannot use pflash (Proxmox qemu-server PVE/QemuServer/OVMF.pm refuses it: 'Attempting to configure SEV-SNP with pflash devices instead of using -bios')",
        snpLine,
      );
    }
    return passed(`OVMF loader ${l.path} (type ${type}) for an SEV-SNP guest`);
  }
  if (type !== 'pflash') {
    return failed(
      `OVMF loader ${l.path} with type '${type}' in ${d.source}`,
      `type='pflash' (${SEV_DOC} "Boot loader" example)`,
      `<loader readonly='yes' type='pflash'>${l.path}</loader>`,
    );
  }
  return passed(`OVMF pflash loader ${l.path}${l.readonly === 'yes' ? ' (read-only)' : ''}`);
}

// --- domain.virtio.iommu -------------------------------------------------------------------

/** Devices that QEMU realises as virtio (libvirt formatdomain device sections). */
export function isVirtioDevice(x: Device): boolean {
  const virtioModel = (m: string | undefined) => m !== undefined && m.startsWith('virtio');
  switch (x.kind) {
    case 'disk':
      return x.bus === 'virtio';
    case 'interface':
    case 'rng':
    case 'memballoon':
      return virtioModel(x.model);
    case 'vsock':
      return x.model === undefined || virtioModel(x.model); // only model is virtio
    case 'video':
      return x.model === 'virtio';
    case 'input':
      return x.bus === 'virtio';
    case 'controller':
      return x.attrs['type'] === 'virtio-serial' || (x.attrs['type'] === 'scsi' && virtioModel(x.model));
    case 'filesystem':
      return true; // QEMU filesystems are virtio-9p or vhost-user-fs (virtiofs)
    default:
      return false;
  }
}

function usesVirtioSerial(x: Device): boolean {
  return (x.kind === 'console' || x.kind === 'channel') && x.target?.['type'] === 'virtio';
}

function driverLine(x: Device): string {
  const attrs = { ...(x.driver ?? {}), iommu: 'on' };
  return `<driver ${Object.entries(attrs)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ')}/>`;
}

export function checkVirtioIommu(d: DomainModel): Verdict {
  const virtio = d.devices.filter(isVirtioDevice);
  const offenders: string[] = [];
  const fixes: string[] = [];
  for (const x of virtio) {
    if (x.driver?.['iommu'] === 'on') continue;
    const iommu = x.driver?.['iommu'];
    const state = iommu !== undefined ? `iommu='${iommu}'` : x.driver ? 'no iommu attribute' : 'no <driver>';
    offenders.push(`${x.label} (${state})`);
    fixes.push(
      x.driver
        ? `${x.label}: change its <driver> to ${driverLine(x)}`
        : `${x.label}: add ${driverLine(x)} inside <${x.element}>`,
    );
  }
  const serialUsers = d.devices.filter(usesVirtioSerial);
  const serialCtrls = d.devices.filter((x) => x.kind === 'controller' && x.attrs['type'] === 'virtio-serial');
  if (serialUsers.length > 0 && serialCtrls.length === 0) {
    offenders.push(
      `${serialUsers.map((x) => x.label).join(', ')} (on an implicit virtio-serial controller without <driver iommu='on'/>)`,
    );
    fixes.push(`add <controller type='virtio-serial' index='0'><driver iommu='on'/></controller> to <devices>`);
  }
  if (offenders.length > 0) {
    return failed(
      `${offenders.length} virtio device(s) in ${d.source} without iommu='on': ${offenders.join('; ')}`,
      `<driver iommu='on'/> on every virtio device so virtio DMA goes through unencrypted bounce buffers (${SEV_DOC} "Virtio"; QEMU >= 6.0 also defaults iommu_platform=on when confidential-guest-support is set, but an explicit iommu='off' still breaks the guest)`,
      fixes.join('; '),
    );
  }
  if (virtio.length === 0 && serialUsers.length === 0) return passed('no virtio devices');
  return passed(`all ${virtio.length} virtio device(s) have <driver iommu='on'/>: ${virtio.map((x) => x.label).join(', ')}`);
}

// --- domain.memory.pinned ------------------------------------------------------------------

export function checkMemoryPinned(d: DomainModel): Verdict {
  if (d.memoryBacking.locked) {
    return passed(
      `<memoryBacking><locked/>: libvirt sets no hard limit on the guest; protect the host with machine.slice MemoryHigh/MemoryMax (${SEV_DOC} "Memory")`,
    );
  }
  const mem = d.memoryKiB;
  if (mem === undefined) return undecided(`no <memory> in ${d.source}: cannot size the hard limit`);
  const need = mem + SEV_HARD_LIMIT_HEADROOM_KIB;
  const lockedLine = '<memoryBacking><locked/></memoryBacking>';
  const limitLine = `<memtune><hard_limit unit='KiB'>${need}</hard_limit></memtune>`;
  const expected = `<memoryBacking><locked/> (preferred) or a memtune hard_limit >= memory + 256 MiB = ${need} KiB: SEV pins all guest memory plus QEMU's own encrypted regions (${SEV_DOC} "Memory")`;
  const hl = d.memtune.hardLimitKiB;
  const huge = d.memoryBacking.hugepages ? ' (hugepages alone do not lift the cgroup hard limit)' : '';
  if (hl === undefined) {
    return failed(`neither <memoryBacking><locked/> nor <memtune><hard_limit> in ${d.source}${huge}`, expected, `${lockedLine} or ${limitLine}`);
  }
  if (hl < need) {
    return failed(
      `<memtune><hard_limit> ${hl} KiB for ${mem} KiB of guest memory in ${d.source} (headroom ${hl - mem} KiB)${huge}`,
      expected,
      `${limitLine} or ${lockedLine}`,
    );
  }
  return passed(`memtune hard_limit ${hl} KiB >= memory ${mem} KiB + 256 MiB`);
}

// --- domain.no-migration -------------------------------------------------------------------

export function checkNoMigration(d: DomainModel): Verdict {
  const r = readPolicy(d);
  if (!r) return notAmd(d);
  if (!r.ok) return undecidedBecause(r.owner, 'the policy cannot be read');
  if (r.kind === 'sev') {
    const p = decodeSevPolicy(r.value);
    if (!p.noSend) {
      return failed(
        `<policy>${d.launchSecurity?.policyText}</policy> (${explainSevPolicy(p)}) in ${d.source}: NOSEND (bit 3) is clear`,
        'NOSEND set: libvirt and QEMU cannot migrate SEV guests, and a policy that allows SEND_START lets a host with a forged platform key export the guest (the "amd-sev-migration-attack"; Proxmox qemu-server CPUConfig.pm always sets bit 3 for this reason)',
        `<policy>${policyHex('sev', BigInt(p.raw | (1 << SEV_POLICY_BITS.NOSEND)))}</policy>`,
      );
    }
    return passed(`policy ${policyHex('sev', r.value)} sets NOSEND: the firmware refuses to send this guest`);
  }
  const p = decodeSnpPolicy(r.value);
  if (p.migrateMa) {
    // domain.policy.valid owns MIGRATE_MA (snpPolicyProblems: KVM rejects the policy), with the one fix
    return failedBecause(
      'domain.policy.valid',
      `policy ${policyHex('snp', r.value)} in ${d.source} sets MIGRATE_MA (bit 18)`,
      'MIGRATE_MA clear: KVM has no migration-agent support and rejects the policy (arch/x86/kvm/svm/sev.c KVM_SNP_POLICY_MASK_VALID)',
    );
  }
  return passed(`SNP policy ${policyHex('snp', r.value)} does not allow a migration agent`);
}

// --- all rules ------------------------------------------------------------------------------

export type DomainRule = (d: DomainModel, host?: HostSevFacts) => Verdict;

/** Every rule except domain.schema-valid (see schema.ts), in catalog order. */
export const DOMAIN_RULES: ReadonlyArray<readonly [Exclude<DomainCheckId, 'domain.schema-valid'>, DomainRule]> = [
  ['domain.launch-security', checkLaunchSecurity],
  ['domain.policy.valid', checkPolicyValid],
  ['domain.cbitpos.matches-host', checkCbitposMatchesHost],
  ['domain.machine.q35', checkMachineQ35],
  ['domain.loader.ovmf', checkLoaderOvmf],
  ['domain.virtio.iommu', checkVirtioIommu],
  ['domain.memory.pinned', checkMemoryPinned],
  ['domain.no-migration', checkNoMigration],
];

export function lintDomainModel(d: DomainModel, host: HostSevFacts = {}): Record<string, Verdict> {
  const out: Record<string, Verdict> = {};
  for (const [id, rule] of DOMAIN_RULES) out[id] = rule(d, host);
  return out;
}
