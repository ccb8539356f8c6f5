/**
 * The distro layer's facts: what probes/distro.ts reads from a root file system, in the shapes
 * rules/distro.ts judges, and the derivations the probe needs to read the right things (the node
 * udev would create at boot, the LSM the image boots with, the template guest validated against
 * the image's libvirt schema). Below both: rules import these, probes never import rules (the
 * layering, test/structure/imports.test.ts). Sources as in rules/distro.ts.
 */
import type { FirmwareDescriptor } from '../parsers/firmware-descriptor.js';
import type { KernelConfig } from '../parsers/kernel-config.js';
import { formatParseError, type ParseResult } from '../parsers/parse-result.js';
import type { SesearchResult } from '../parsers/sesearch.js';
import { expectedNode, KERNEL_DEFAULT_NODE, type UdevPermOutcome } from '../parsers/udev-rules.js';
import type { AccountDb, GroupEntry, PasswdEntry } from '../parsers/passwd.js';
import type { OvmfImage } from '../sev/ovmf.js';
import type { SchemaOutcome } from '../domain/schema.js';
import type { Profile } from '../profile.js';
import type { GuestRules, ProfileFile } from '../device/apparmor.js';

export interface InstalledKernel {
  /** the file the configuration came from */
  readonly source: string;
  /** the release (directory or file suffix: "6.12.117+deb13-amd64") */
  readonly release: string;
  readonly config: ParseResult<KernelConfig>;
}


export type QemuObjects =
  | { readonly kind: 'absent'; readonly searched: readonly string[] }
  | { readonly kind: 'broken'; readonly binary: string; readonly reason: string }
  | { readonly kind: 'listed'; readonly binary: string; readonly version?: string | undefined; readonly types: readonly string[] };


export interface DescriptorFact {
  readonly path: string;
  readonly parsed: ParseResult<FirmwareDescriptor>;
  /** whether the image file it names exists in the root file system; undefined: not asked */
  readonly imageExists?: boolean | undefined;
}


export interface OvmfFact {
  readonly path: string;
  readonly image: OvmfImage | { readonly error: string };
}


/** A minimal guest: the smallest domain libvirt's RNG accepts, with the profile's launchSecurity (formatdomain.rst "Launch Security"). */
export function templateDomain(p: Profile): string {
  const ls =
    p === 'sev-snp'
      ? "<launchSecurity type='sev-snp'><policy>0x00030000</policy></launchSecurity>"
      : `<launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>${p === 'sev-es' ? '0x0007' : '0x0003'}</policy></launchSecurity>`;
  return `<domain type='kvm'><name>sevcheck-template</name><memory unit='MiB'>1024</memory><os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>${ls}</domain>\n`;
}


export type SchemaFact =
  | { readonly kind: 'absent'; readonly searched: string }
  | { readonly kind: 'checked'; readonly via: string; readonly outcome: SchemaOutcome };


export type SelinuxPolicyFact =
  | { readonly kind: 'none'; readonly why: string }
  | { readonly kind: 'unusable'; readonly policy: string; readonly reason: string }
  | { readonly kind: 'searched'; readonly policy: string; readonly mode?: string | undefined; readonly result: SesearchResult };


/** The node udev would create at boot: the winning rules, or the kernel default when none applies. */
export interface BootNode {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** where each value comes from */
  readonly source: string;
  readonly fromRules: boolean;
}

const oct = (m: number): string => `0${m.toString(8).padStart(3, '0')}`;

/** undefined + reason when the rules set something that cannot be resolved in the image's accounts */
export function bootNode(o: UdevPermOutcome, passwd: AccountDb<PasswdEntry> | undefined, group: AccountDb<GroupEntry> | undefined): BootNode | { reason: string } {
  const path = o.device.devname;
  const exp = expectedNode(o, passwd, group);
  if (!exp) {
    if (o.uncertain.length > 0) return { reason: `rules that may set ${path}'s permissions depend on conditions sevcheck cannot evaluate: ${o.uncertain.map((r) => `${r.path}:${r.line}`).join(', ')}` };
    return { path, ...KERNEL_DEFAULT_NODE, source: `no udev rule matches KERNEL=="${o.device.kernel}": the kernel default (devtmpfs 0600 root:root)`, fromRules: false };
  }
  if (o.group && exp.gid === undefined) return { reason: `GROUP="${o.group.value}" (${o.group.rule.path}:${o.group.rule.line}) is not a group in the image's /etc/group` };
  if (o.owner && exp.uid === undefined) return { reason: `OWNER="${o.owner.value}" (${o.owner.rule.path}:${o.owner.rule.line}) is not a user in the image's /etc/passwd` };
  const src = [o.mode && `MODE="${oct(o.mode.value)}" ${o.mode.rule.path}:${o.mode.rule.line}`, o.group && `GROUP="${o.group.value}" ${o.group.rule.path}:${o.group.rule.line}`, o.owner && `OWNER="${o.owner.value}" ${o.owner.rule.path}:${o.owner.rule.line}`]
    .filter(Boolean)
    .join(', ');
  return { path, mode: exp.mode >= 0 ? exp.mode : KERNEL_DEFAULT_NODE.mode, uid: exp.uid ?? 0, gid: exp.gid ?? 0, source: src, fromRules: true };
}


/**
 * The "exclusive" major LSMs: at most one of them is active, the first in the boot order that is
 * built in and enabled (torvalds/linux security/security.c ordered_lsm_init() / lsm_allowed():
 * an LSM with LSM_FLAG_EXCLUSIVE is skipped once another exclusive one is active; DEFINE_LSM in
 * security/selinux/hooks.c, security/smack/smack_lsm.c and security/apparmor/lsm.c sets
 * LSM_FLAG_LEGACY_MAJOR | LSM_FLAG_EXCLUSIVE; TOMOYO is a legacy major LSM but not exclusive).
 */
export const EXCLUSIVE_LSMS = ['selinux', 'smack', 'apparmor'] as const;
export type ExclusiveLsm = (typeof EXCLUSIVE_LSMS)[number];
const LEGACY_MAJOR = new Set(['selinux', 'smack', 'tomoyo', 'apparmor']);
const LSM_OPTION: Readonly<Record<ExclusiveLsm, string>> = { selinux: 'CONFIG_SECURITY_SELINUX', smack: 'CONFIG_SECURITY_SMACK', apparmor: 'CONFIG_SECURITY_APPARMOR' };
const LSM_NAME: Readonly<Record<ExclusiveLsm | 'none', string>> = { selinux: 'SELinux', smack: 'Smack', apparmor: 'AppArmor', none: 'no major LSM' };

/** The kernel parameters the image's boot loader defaults give (see probes/distro.ts bootParams). */
export interface BootParams {
  /** name → value of the last occurrence (the kernel's __setup handlers keep the last) */
  readonly params: ReadonlyMap<string, string | undefined>;
  /** the files they came from, e.g. "/etc/default/grub:9 GRUB_CMDLINE_LINUX" */
  readonly sources: readonly string[];
  /** settings that could not be evaluated (a shell conditional, a command substitution) */
  readonly uncertain: readonly string[];
}

export type BootLsm =
  | { readonly kind: 'decided'; readonly lsm: ExclusiveLsm | 'none'; readonly why: string }
  | { readonly kind: 'unknown'; readonly why: string };

/** Which exclusive LSM one kernel configuration activates with these boot parameters. */
export function kernelLsm(k: InstalledKernel, boot: BootParams): BootLsm {
  if (!k.config.ok) return { kind: 'unknown', why: `${k.release}: cannot parse ${formatParseError(k.config.error)}` };
  const c = k.config.value.options;
  const built = (l: ExclusiveLsm): boolean => c.get('CONFIG_SECURITY') === 'y' && c.get(LSM_OPTION[l]) === 'y';
  const lsmParam = boot.params.get('lsm');
  const securityParam = boot.params.get('security');
  const configLsm = c.get('CONFIG_LSM')?.replace(/^"(.*)"$/, '$1');
  // before Linux 5.1 (no CONFIG_LSM) the major LSM was CONFIG_DEFAULT_SECURITY_<NAME>=y
  const legacyDefault = EXCLUSIVE_LSMS.find((l) => c.get(`CONFIG_DEFAULT_SECURITY_${l.toUpperCase()}`) === 'y');
  let order: string[];
  let from: string;
  if (lsmParam !== undefined) {
    order = lsmParam.split(',');
    from = `the boot parameter lsm=${lsmParam} (${boot.sources.join(', ')})`;
  } else if (configLsm !== undefined) {
    order = configLsm.split(',');
    from = `${k.source}: CONFIG_LSM="${configLsm}"`;
  } else if (legacyDefault) {
    order = [legacyDefault];
    from = `${k.source}: CONFIG_DEFAULT_SECURITY_${legacyDefault.toUpperCase()}=y (a kernel before CONFIG_LSM, Linux 5.1)`;
  } else return { kind: 'unknown', why: `${k.source} has neither CONFIG_LSM nor CONFIG_DEFAULT_SECURITY_*` };
  // security=NAME (ignored when lsm= is given): every other legacy major LSM is disabled, NAME is appended if missing
  const major = lsmParam === undefined ? securityParam : undefined;
  const disabled = (l: ExclusiveLsm): string | undefined => {
    if (major !== undefined && LEGACY_MAJOR.has(l) && l !== major) return `security=${major}`;
    const v = boot.params.get(l);
    // selinux= takes effect only with CONFIG_SECURITY_SELINUX_BOOTPARAM; apparmor= always (security/apparmor/lsm.c apparmor_enabled_setup)
    if (v !== undefined && /^0+$/.test(v) && (l !== 'selinux' || c.get('CONFIG_SECURITY_SELINUX_BOOTPARAM') === 'y')) return `${l}=${v}`;
    return undefined;
  };
  if (major !== undefined && !order.includes(major)) order = [...order, major];
  const notes: string[] = [];
  for (const name of order) {
    const l = EXCLUSIVE_LSMS.find((x) => x === name);
    if (!l) continue;
    if (!built(l)) {
      notes.push(`${l} is not built in (${LSM_OPTION[l]}=${c.get(LSM_OPTION[l]) ?? 'unset'})`);
      continue;
    }
    const off = disabled(l);
    if (off) {
      notes.push(`${l} is turned off by ${off}`);
      continue;
    }
    const boots = boot.sources.length ? `the boot defaults (${boot.sources.join(', ')}) do not change that` : 'the image sets no boot parameter (no GRUB_CMDLINE_LINUX, no /etc/kernel/cmdline)';
    return { kind: 'decided', lsm: l, why: `${k.release} boots ${LSM_NAME[l]}: ${from}, ${l} is the first exclusive LSM there that is built in and enabled${notes.length ? ` (${notes.join('; ')})` : ''}; ${major !== undefined ? `security=${major} applies; ` : ''}${boots}` };
  }
  return { kind: 'decided', lsm: 'none', why: `${k.release} boots no SELinux, Smack or AppArmor: ${from}${notes.length ? `; ${notes.join('; ')}` : ''}` };
}

/** The LSM the image boots with: every installed kernel must agree; boot parameters that cannot be evaluated leave it unknown. */
export function bootLsm(kernels: readonly InstalledKernel[], boot: BootParams): BootLsm {
  if (kernels.length === 0) return { kind: 'unknown', why: 'the image ships no kernel' };
  if (boot.uncertain.length > 0) return { kind: 'unknown', why: `the boot parameters cannot be evaluated: ${boot.uncertain.join('; ')}` };
  const each = kernels.map((k) => kernelLsm(k, boot));
  const unknown = each.find((e) => e.kind === 'unknown');
  if (unknown) return unknown;
  const lsms = new Set(each.map((e) => (e.kind === 'decided' ? e.lsm : '')));
  if (lsms.size > 1) return { kind: 'unknown', why: `the installed kernels boot different LSMs: ${each.map((e) => e.why).join('; ')}` };
  return each.length === 1 ? (each[0] as BootLsm) : { kind: 'decided', lsm: (each[0] as { lsm: ExclusiveLsm | 'none' }).lsm, why: each.map((e) => e.why).join('; ') };
}


/**
 * What the image's libvirt would confine a SEV guest's QEMU with. Whether virt-aa-helper grants
 * `"/dev/sev" rw,` per guest is read from the image's own helper (dry run), never from its
 * version: the string is in Debian testing's libvirt 12.8.0 /usr/lib/libvirt/virt-aa-helper and
 * not in 11.3.0's (Debian 13) or 9.0.0's (Debian 12); Debian's 12.8.0-1 changelog has no patch
 * for it, so it is upstream's, between v11.3.0 and v12.8.0. Its upstream commit could not be
 * found in the libvirt sources available to this project (they end before it; NEWS.rst is silent).
 */
export type AppArmorAccessFact =
  /** the libvirt QEMU abstraction is not installed: libvirt's AppArmor driver has nothing to confine QEMU with */
  | { readonly kind: 'no-profiles'; readonly searched: string }
  | {
      readonly kind: 'profiles';
      /** the abstraction and the files it includes (libvirt-qemu.d/, local/) */
      readonly files: readonly ProfileFile[];
      /** the per-guest rules virt-aa-helper generated, or why they could not be had */
      readonly generated: GuestRules;
      /** qemu.conf security_driver, when set */
      readonly securityDriver?: readonly string[] | undefined;
    };
