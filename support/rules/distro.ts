/**
 * The distro layer's rules: does a distribution's root file system (`--host rootfs:DIR`) carry a
 * software stack that can run SEV, SEV-ES and SEV-SNP guests? Pure: facts in, Verdict out. The
 * probe (probes/distro.ts) reads the image; docs/distro.md explains every verdict.
 *
 * Sources, per check:
 * - kernel: torvalds/linux 0542972950ef arch/x86/kvm/Kconfig (KVM_AMD, KVM_AMD_SEV "depends on
 *   CRYPTO_DEV_SP_PSP && !(KVM_AMD=y && CRYPTO_DEV_CCP_DD=m)"), drivers/crypto/ccp/Kconfig
 *   (CRYPTO_DEV_CCP_DD, CRYPTO_DEV_SP_PSP: the PSP that runs the SEV firmware), arch/x86/Kconfig
 *   AMD_MEM_ENCRYPT. KVM's SEV-ES host support came in Linux 5.11; SEV-SNP host support with
 *   kvm/next ab978c62e72d "Merge branch 'kvm-6.11-sev-snp' into HEAD", released in Linux 6.11.
 * - QEMU object types: qemu/qemu target/i386/sev.c TYPE_SEV_GUEST "sev-guest",
 *   TYPE_SEV_SNP_GUEST "sev-snp-guest" (first released in QEMU 9.1.0).
 * - firmware descriptors: qemu/qemu 06bb74985f42 docs/interop/firmware.json (FirmwareFeature
 *   amd-sev, amd-sev-es, amd-sev-snp); libvirt/libvirt 1839c5c46eab src/qemu/qemu_firmware.c
 *   qemuFirmwareMatchDomain(): a guest with <launchSecurity type='sev'> only gets a firmware whose
 *   descriptor lists amd-sev, with the ES policy bit (VIR_QEMU_FIRMWARE_AMD_SEV_ES_POLICY) only
 *   one listing amd-sev-es, and type='sev-snp' only one listing amd-sev-snp.
 * - OVMF: support/sev/ovmf.ts (edk2 OvmfPkg/ResetVector, QEMU hw/i386/pc_sysfw_ovmf.c).
 * - libvirt: docs/formatdomain.rst "Launch Security", docs/kbase/launch_security_sev.rst;
 *   type='sev-snp' accepted from libvirt 10.5.0 (NEWS.rst; domain/schema.ts).
 * - udev: support/parsers/udev-rules.ts (systemd udev(7), override order /etc > /run > /usr/lib
 *   > /lib by file name); the kernel default node support/parsers/udev-rules.ts KERNEL_DEFAULT_NODE.
 */
import { canOpen } from '../device/access.js';
import type { IdentityResult, QemuIdentity } from '../device/identity.js';
import type { StatInfo } from '../host/types.js';
import type { FirmwareDescriptor } from '../parsers/firmware-descriptor.js';
import { kernelAtLeast, type KernelConfig } from '../parsers/kernel-config.js';
import { formatParseError, type ParseResult } from '../parsers/parse-result.js';
import { policyAccess, SEV_NEEDED_PERMS, type SesearchResult } from '../parsers/sesearch.js';
import { expectedNode, KERNEL_DEFAULT_NODE, type UdevPermOutcome } from '../parsers/udev-rules.js';
import type { AccountDb, GroupEntry, PasswdEntry } from '../parsers/passwd.js';
import { findGroupById } from '../parsers/passwd.js';
import { SectionType, OVMF_SEV_METADATA_GUID, SEV_ES_RESET_BLOCK_GUID, type OvmfImage } from '../sev/ovmf.js';
import type { SchemaOutcome } from '../domain/schema.js';
import type { Profile } from '../profile.js';
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { apparmorSevVerdict, LIBVIRT_QEMU_ABSTRACTION, type GuestRules, type ProfileFile } from '../device/apparmor.js';

/** The reason every distro check gives on a target that is not a root file system. */
export const NOT_ROOTFS_REASON =
  "the distro layer judges a distribution's root file system: run it with --host rootfs:DIR (the host, device and caps layers judge a running host)";

/** distro.* on live, ssh and fixture hosts */
/** Host.system: the same verdict for a live host and its recording (record → replay gives identical messages). */
export function gate(system: 'running' | 'rootfs'): Verdict | undefined {
  return system === 'rootfs' ? undefined : skipped(`${NOT_ROOTFS_REASON}; this target is a running system`);
}

const label = (p: Profile): string => (p === 'sev' ? 'SEV' : p === 'sev-es' ? 'SEV-ES' : 'SEV-SNP');

// ---------------------------------------------------------------- distro.kernel.sev-host

export interface InstalledKernel {
  /** the file the configuration came from */
  readonly source: string;
  /** the release (directory or file suffix: "6.12.117+deb13-amd64") */
  readonly release: string;
  readonly config: ParseResult<KernelConfig>;
}

/** options and the values that satisfy them (arch/x86/kvm/Kconfig, drivers/crypto/ccp/Kconfig, arch/x86/Kconfig) */
export const KERNEL_SEV_OPTIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['CONFIG_AMD_MEM_ENCRYPT', ['y']],
  ['CONFIG_KVM_AMD', ['y', 'm']],
  ['CONFIG_KVM_AMD_SEV', ['y']],
  ['CONFIG_CRYPTO_DEV_CCP_DD', ['y', 'm']],
  ['CONFIG_CRYPTO_DEV_SP_PSP', ['y']],
];

/** first upstream release with KVM host support for the feature (SEV-ES: 5.11; SNP: kvm-6.11-sev-snp, 6.11) */
export const KERNEL_MIN: Readonly<Record<Profile, readonly [number, number] | undefined>> = {
  sev: undefined,
  'sev-es': [5, 11],
  'sev-snp': [6, 11],
};

function kernelProblems(k: InstalledKernel, p: Profile): string[] | string {
  if (!k.config.ok) return `cannot parse ${formatParseError(k.config.error)}`;
  const c = k.config.value;
  const out: string[] = [];
  for (const [name, ok] of KERNEL_SEV_OPTIONS) {
    const v = c.options.get(name);
    if (v === undefined || !ok.includes(v)) out.push(`${name}=${v ?? '(absent)'} (needs ${ok.join(' or ')})`);
  }
  // KVM_AMD=y with CCP_DD=m cannot have KVM_AMD_SEV (the Kconfig dependency above)
  const min = KERNEL_MIN[p];
  const version = c.version ?? k.release;
  if (min) {
    const atLeast = kernelAtLeast(version, min);
    if (atLeast === undefined) out.push(`version "${version}" unreadable (needs ≥ ${min.join('.')})`);
    else if (!atLeast) out.push(`Linux ${version} is older than ${min.join('.')}, the first release with KVM ${label(p)} host support`);
  }
  return out;
}

export function kernelSevHost(kernels: readonly InstalledKernel[], p: Profile): Verdict {
  if (kernels.length === 0)
    return skipped('the image ships no kernel (no /boot/config-*, /lib/modules/*/config or /usr/lib/modules/*/config): the kernel is judged where it is installed');
  const report = kernels.map((k) => ({ k, problems: kernelProblems(k, p) }));
  const good = report.filter((r) => Array.isArray(r.problems) && r.problems.length === 0);
  const desc = (r: (typeof report)[number]): string => {
    const v = r.k.config.ok && r.k.config.value.version ? ` (Linux ${r.k.config.value.version})` : '';
    return `${r.k.release}${v} from ${r.k.source}: ${typeof r.problems === 'string' ? r.problems : r.problems.length === 0 ? 'ok' : r.problems.join(', ')}`;
  };
  if (good.length > 0) return passed(`${good.length} of ${kernels.length} installed kernel(s) can host ${label(p)} guests: ${report.map(desc).join('; ')}`);
  if (report.every((r) => typeof r.problems === 'string')) return undecided(`no installed kernel's configuration could be read: ${report.map(desc).join('; ')}`);
  const min = KERNEL_MIN[p];
  return failed(
    `no installed kernel can host ${label(p)} guests: ${report.map(desc).join('; ')}`,
    `a kernel built with ${KERNEL_SEV_OPTIONS.map(([n, v]) => `${n}=${v.join('/')}`).join(', ')}${min ? `, Linux ≥ ${min.join('.')}` : ''}`,
    min && min[0] === 6 ? `install a kernel ≥ ${min.join('.')} built with those options (Debian: linux-image-amd64 from trixie or bookworm-backports)` : 'install a kernel built with those options (every major distribution kernel has them)',
  );
}

// ---------------------------------------------------------------- distro.qemu.sev-object

export const QEMU_SEV_OBJECT: Readonly<Record<Profile, string>> = { sev: 'sev-guest', 'sev-es': 'sev-guest', 'sev-snp': 'sev-snp-guest' };

export type QemuObjects =
  | { readonly kind: 'absent'; readonly searched: readonly string[] }
  | { readonly kind: 'broken'; readonly binary: string; readonly reason: string }
  | { readonly kind: 'listed'; readonly binary: string; readonly version?: string | undefined; readonly types: readonly string[] };

export function qemuSevObject(q: QemuObjects, p: Profile): Verdict {
  const want = QEMU_SEV_OBJECT[p];
  if (q.kind === 'absent')
    return failed(`no QEMU system emulator for x86_64 in the image (looked for ${q.searched.join(', ')})`, `a qemu-system-x86_64 offering object type ${want}`, 'install qemu-system-x86 (Debian/Ubuntu) or qemu-kvm (Fedora/RHEL) in the image');
  if (q.kind === 'broken') return undecided(`the image's ${q.binary} could not list its object types: ${q.reason}`);
  const v = q.version ? `QEMU ${q.version}` : 'QEMU (version unknown)';
  if (q.types.includes(want)) return passed(`${q.binary} (${v}) offers object type ${want}`);
  return failed(
    `${q.binary} (${v}) does not offer object type ${want} (its SEV types: ${q.types.filter((t) => t.startsWith('sev')).join(', ') || 'none'})`,
    `object type ${want}${want === 'sev-snp-guest' ? ' (QEMU ≥ 9.1)' : ''}`,
    want === 'sev-snp-guest' ? 'ship QEMU ≥ 9.1 (Debian 13 has 10.0; Debian 12: bookworm-backports)' : 'ship a QEMU built for x86_64 with KVM and SEV support (CONFIG_SEV, the default on x86_64 Linux builds)',
  );
}

// ---------------------------------------------------------------- distro.firmware.descriptor

export const FIRMWARE_FEATURE: Readonly<Record<Profile, string>> = { sev: 'amd-sev', 'sev-es': 'amd-sev-es', 'sev-snp': 'amd-sev-snp' };

export interface DescriptorFact {
  readonly path: string;
  readonly parsed: ParseResult<FirmwareDescriptor>;
  /** whether the image file it names exists in the root file system; undefined: not asked */
  readonly imageExists?: boolean | undefined;
}

export function firmwareDescriptor(descs: readonly DescriptorFact[], searched: readonly string[], p: Profile): Verdict {
  const want = FIRMWARE_FEATURE[p];
  if (descs.length === 0)
    return failed(`no QEMU firmware descriptor in ${searched.join(' or ')}`, `a descriptor listing feature ${want}`, 'install the distribution\'s OVMF package (Debian: ovmf; Fedora: edk2-ovmf), which ships descriptors in /usr/share/qemu/firmware');
  const x86 = descs.filter((d) => !d.parsed.ok || d.parsed.value.architectures.length === 0 || d.parsed.value.architectures.includes('x86_64'));
  const offering = x86.filter((d) => d.parsed.ok && d.parsed.value.features.includes(want));
  const usable = offering.filter((d) => d.imageExists === true);
  if (usable.length > 0)
    return passed(`${usable.map((d) => `${d.path} lists ${want} for ${d.parsed.ok ? d.parsed.value.image : '?'}, which exists`).join('; ')}`);
  if (offering.length > 0)
    return failed(
      `${offering.map((d) => `${d.path} lists ${want} but its image ${d.parsed.ok ? d.parsed.value.image : '?'} is missing`).join('; ')}`,
      `the image named by a descriptor listing ${want} to exist (libvirt skips a descriptor whose file is missing)`,
      'reinstall the OVMF package, or fix the descriptor\'s "filename" in a copy under /etc/qemu/firmware',
    );
  const broken = descs.filter((d) => !d.parsed.ok);
  if (broken.length > 0)
    return undecided(`no readable descriptor lists ${want}, and ${broken.map((d) => (d.parsed.ok ? d.path : formatParseError(d.parsed.error))).join('; ')} could not be parsed`);
  const have = x86.map((d) => `${d.path} [${d.parsed.ok ? d.parsed.value.features.filter((f) => f.startsWith('amd-sev')).join(', ') || 'no amd-sev*' : '?'}]`);
  return failed(
    `no firmware descriptor lists ${want}: ${have.join('; ')}`,
    `a descriptor listing ${want}, so that libvirt can pick a firmware for a ${label(p)} guest (qemu_firmware.c qemuFirmwareMatchDomain)`,
    p === 'sev-snp'
      ? 'ship an SNP-capable stateless OVMF (edk2 OvmfPkg/AmdSev or OvmfPkgX64 as a "memory" mapping) with a descriptor listing amd-sev-snp (Fedora: edk2-ovmf ships 60-edk2-ovmf-x64-amdsev.json)'
      : `ship a descriptor listing ${want} for an OVMF that supports it (a copy in /etc/qemu/firmware/ with the feature added takes precedence by file name)`,
  );
}

// ---------------------------------------------------------------- distro.firmware.sev-metadata

export interface OvmfFact {
  readonly path: string;
  readonly image: OvmfImage | { readonly error: string };
}

/** the SNP sections OVMF must declare for an SNP launch (edk2 OvmfSevMetadata.asm; the launch layer's sev/ovmf.ts) */
export const SNP_SECTIONS: readonly number[] = [SectionType.SNP_SEC_MEM, SectionType.SNP_SECRETS, SectionType.CPUID];

function ovmfFits(img: OvmfImage, p: Profile): string | undefined {
  if (!img.hasFooterTable) return 'no OVMF footer GUID table';
  if (!img.table.has(SEV_ES_RESET_BLOCK_GUID)) return 'no SEV-ES reset block in the footer table';
  if (p !== 'sev-snp') return undefined;
  if (!img.table.has(OVMF_SEV_METADATA_GUID)) return 'no SEV metadata (ASEV) entry';
  const types = new Set(img.metadata.map((s) => s.type));
  const missing = SNP_SECTIONS.filter((t) => !types.has(t));
  return missing.length ? `SEV metadata lacks section types ${missing.join(', ')} (SNP_SEC_MEM 1, SNP_SECRETS 2, CPUID 3)` : undefined;
}

export function sevMetadata(images: readonly OvmfFact[], p: Profile): Verdict {
  const need = p === 'sev-snp' ? 'the SEV-ES reset block and SEV metadata with the SNP sections' : 'the OVMF footer table with the SEV-ES reset block';
  if (images.length === 0)
    return failed('no OVMF image in the image (descriptor targets, /usr/share/OVMF, /usr/share/edk2)', `an OVMF image with ${need}`, 'install the distribution\'s OVMF package (Debian: ovmf; Fedora: edk2-ovmf)');
  const judged = images.map((i) => ({ path: i.path, why: 'error' in i.image ? undefined : ovmfFits(i.image, p), error: 'error' in i.image ? i.image.error : undefined }));
  const good = judged.filter((j) => j.error === undefined && j.why === undefined);
  if (good.length > 0) return passed(`${good.length} of ${images.length} OVMF image(s) carry ${need}: ${good.map((g) => g.path).join(', ')}`);
  const errors = judged.filter((j) => j.error !== undefined);
  if (errors.length > 0) return undecided(`no readable OVMF image carries ${need}, and ${errors.map((e) => e.error).join('; ')}`);
  return failed(
    `no OVMF image carries ${need}: ${judged.map((j) => `${j.path}: ${j.why}`).join('; ')}`,
    `an OVMF image with ${need}`,
    'ship OVMF from edk2-stable202202 or later (OvmfPkgX64 or the AmdSev build)',
  );
}

// ---------------------------------------------------------------- distro.libvirt.launch-security

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

export function launchSecurity(s: SchemaFact, p: Profile): Verdict {
  const type = p === 'sev-snp' ? 'sev-snp' : 'sev';
  if (s.kind === 'absent')
    return failed(`no libvirt domain schema in the image (${s.searched})`, `libvirt accepting <launchSecurity type='${type}'>`, 'install libvirt-daemon-system / libvirt-clients (Debian) or libvirt (Fedora) in the image');
  const o = s.outcome;
  if (o.status === 'valid') return passed(`a template guest with <launchSecurity type='${type}'> validates against the image's libvirt schema (${s.via})`);
  if (o.status === 'unavailable') return undecided(`the template guest could not be validated: ${o.reason}`);
  const errs = o.errors.slice(0, 3).map((e) => e.message).join('; ');
  if (o.status === 'unreadable') return undecided(`the image's libvirt schema could not be used (${s.via}): ${errs}`);
  return failed(
    `the image's libvirt schema rejects <launchSecurity type='${type}'> (${s.via}): ${errs}`,
    `libvirt accepting <launchSecurity type='${type}'>${type === 'sev-snp' ? ' (libvirt ≥ 10.5.0)' : ''}`,
    type === 'sev-snp' ? 'ship libvirt ≥ 10.5 (Debian 13 has 11.3; Debian 12: bookworm-backports)' : 'ship libvirt ≥ 4.5 (first with <launchSecurity type=\'sev\'>)',
  );
}

// ---------------------------------------------------------------- distro.selinux.sev-policy

export type SelinuxPolicyFact =
  | { readonly kind: 'none'; readonly why: string }
  | { readonly kind: 'unusable'; readonly policy: string; readonly reason: string }
  | { readonly kind: 'searched'; readonly policy: string; readonly mode?: string | undefined; readonly result: SesearchResult };

export function selinuxPolicy(f: SelinuxPolicyFact): Verdict {
  if (f.kind === 'none') return skipped(`the image ships no SELinux policy (${f.why})`);
  if (f.kind === 'unusable') return undecided(`cannot query ${f.policy}: ${f.reason}`);
  const query = `sesearch -A -s svirt_t -t sev_device_t -c chr_file ${f.policy}`;
  const mode = f.mode ? `; /etc/selinux/config has SELINUX=${f.mode}` : '';
  const fix = 'ship a policy defining sev_device_t with svirt_t access (refpolicy/Fedora selinux-policy ≥ 3.14.2-40), or a local module: allow svirt_t sev_device_t:chr_file { open read write ioctl };';
  if (f.result.kind === 'unknown-type')
    return failed(`${f.policy} has no type ${f.result.name} (${query}: "${f.result.text}")${mode}`, `a policy defining sev_device_t and allowing svirt_t ${SEV_NEEDED_PERMS.join(' ')} on it`, fix);
  const a = policyAccess(f.result);
  if (a.missing.length === 0) return passed(`${f.policy} allows svirt_t ${SEV_NEEDED_PERMS.join(' ')} on sev_device_t:chr_file (${a.rules.map((r) => r.text).join('; ')})${mode}`);
  if (a.missing.every((m) => a.conditional.some((c) => c.perm === m)))
    return undecided(`${a.missing.join(' ')} on sev_device_t come only from conditional rules (${[...new Set(a.conditional.map((c) => c.expr))].join(', ')}), whose default the policy file does not say`);
  return failed(`${query} grants ${a.granted.join(' ') || 'nothing'}${mode}`, `svirt_t allowed ${SEV_NEEDED_PERMS.join(' ')} on sev_device_t:chr_file (missing: ${a.missing.join(' ')})`, fix);
}

// ---------------------------------------------------------------- distro.udev.sev-rule / distro.qemu-user

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

const asStat = (n: BootNode): StatInfo => ({ path: n.path, type: 'char', mode: n.mode, uid: n.uid, gid: n.gid });
const who = (id: QemuIdentity): string => `QEMU as ${id.description} (user: ${id.userSource}; group: ${id.groupSource})`;

export function udevSevRule(node: BootNode | { reason: string }, identity: IdentityResult, group?: AccountDb<GroupEntry>): Verdict {
  if ('reason' in node) return undecided(node.reason);
  if (!identity.ok) return undecided(`cannot tell who the image's QEMU runs as: ${identity.reason}${identity.notes.length ? ` (${identity.notes.join('; ')})` : ''}`);
  const d = canOpen(asStat(node), identity.identity, 'rw');
  const desc = `/dev/sev would be ${oct(node.mode)} uid ${node.uid} gid ${node.gid}${group && findGroupById(group, node.gid) ? ` (${findGroupById(group, node.gid)?.name})` : ''} after boot: ${node.source}`;
  if (d.allowed) return passed(`${desc}; ${who(identity.identity)} can open it: ${d.reason}`);
  const g = group?.entries.some((e) => e.name === 'kvm') ? 'kvm' : group && findGroupById(group, identity.identity.gid)?.name || String(identity.identity.gid);
  return failed(
    `${desc}; ${who(identity.identity)} is denied rw: ${d.reason}`,
    'a udev rule giving /dev/sev a group the QEMU user is in, mode 0660',
    `ship /usr/lib/udev/rules.d/65-sev.rules (or /etc/udev/rules.d/65-sev.rules in the image) with: KERNEL=="sev", GROUP="${g}", MODE="0660"`,
  );
}

export function qemuUser(identity: IdentityResult, kvm: BootNode | { reason: string }, sev: BootNode | { reason: string }): Verdict {
  if (!identity.ok) {
    const missing = /does not exist/.test(identity.reason);
    return missing
      ? failed(`${identity.reason}${identity.notes.length ? ` (${identity.notes.join('; ')})` : ''}`, "the libvirt QEMU user (qemu.conf user/group, else the distribution's default) to exist in the image", 'install libvirt-daemon-system (Debian) / libvirt-daemon-driver-qemu (Fedora), whose maintainer scripts create it, or set user/group in /etc/libvirt/qemu.conf to an existing account')
      : undecided(`cannot tell who the image's QEMU runs as: ${identity.reason}`);
  }
  const id = identity.identity;
  const parts: string[] = [];
  const denied: string[] = [];
  for (const n of [kvm, sev]) {
    if ('reason' in n) return undecided(n.reason);
    if (n.path === '/dev/sev' && !n.fromRules) {
      // no rule: which group owns /dev/sev is distro.udev.sev-rule's finding (and its fix); do not fail twice
      parts.push(`/dev/sev: no udev rule gives it a group (distro.udev.sev-rule judges that)`);
      continue;
    }
    const inGroup = id.gid === n.gid || id.groups.includes(n.gid);
    const line = `${n.path} group ${n.gid} (${n.source}): ${inGroup ? 'member' : 'not a member'}`;
    (inGroup || id.uid === n.uid ? parts : denied).push(line);
  }
  if (denied.length === 0) return passed(`${who(id)} exists (uid ${id.uid}); ${parts.join('; ')}`);
  return failed(
    `${who(id)}; ${denied.join('; ')}`,
    'the QEMU user in the group that owns /dev/kvm and /dev/sev according to the udev rules',
    `make the QEMU user a member of that group in the image (usermod -aG <group> ${id.userName ?? id.uid}, or the distribution's sysusers.d entry), or set group = "<group>" in /etc/libvirt/qemu.conf`,
  );
}

// ---------------------------------------------------------------- the LSM the image boots with

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
 * distro.selinux.sev-policy's gate: skipped when the image boots another LSM, or SELinux without
 * a policy (/etc/selinux/config SELINUX=disabled: libselinux's load_policy is not run and nothing
 * is enforced). undefined: judge the policy.
 */
export function selinuxGate(lsm: BootLsm, selinuxMode: string | undefined): Verdict | undefined {
  if (lsm.kind === 'decided' && lsm.lsm !== 'selinux')
    return skipped(`SELinux is not the LSM this image boots with, so its policy confines nothing: ${lsm.why}${lsm.lsm === 'apparmor' ? ' (distro.apparmor.sev-access judges AppArmor)' : ''}`);
  if (lsm.kind === 'decided' && selinuxMode?.toLowerCase() === 'disabled')
    return skipped(`the kernel would start SELinux, but /etc/selinux/config has SELINUX=disabled: no policy is loaded (${lsm.why})`);
  return undefined;
}

// ---------------------------------------------------------------- distro.apparmor.sev-access

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

export function apparmorSevAccess(lsm: BootLsm, f: AppArmorAccessFact): Verdict {
  if (lsm.kind === 'decided' && lsm.lsm !== 'apparmor') return skipped(`AppArmor is not the LSM this image boots with: ${lsm.why}`);
  if (f.kind === 'no-profiles') return skipped(`${f.searched} is not in the image: libvirt's AppArmor profiles for QEMU are not installed, so QEMU would run unconfined`);
  const files = f.generated.ok ? [...f.files, f.generated.file] : f.files;
  const v = apparmorSevVerdict({ enabled: true, securityDriver: f.securityDriver, files });
  const boots = lsm.kind === 'decided' ? 'the image boots AppArmor' : `the boot LSM is unknown (${lsm.why}), and the image ships libvirt's AppArmor profiles`;
  if (f.generated.ok) {
    const gen = `${f.generated.helper} -d -c for a template <launchSecurity type='sev'> guest`;
    if (v.status === 'passed') return passed(`${v.message}; ${boots}`);
    if (v.status === 'failed' && !/ denies /.test(v.found))
      return failed(
        `neither libvirt's QEMU abstraction nor the per-guest rules ${gen} generates have a rule for /dev/sev (read: ${files.map((x) => x.path).join(', ')}); ${boots}`,
        `"/dev/sev" rw, in a SEV guest's AppArmor profile: otherwise its QEMU fails with "sev_guest_init: Failed to open /dev/sev 'Permission denied'"`,
        `ship a libvirt whose virt-aa-helper adds "/dev/sev" rw, for a SEV guest (Debian testing's libvirt 12.8 does), or add "/dev/sev rw," after "/dev/kvm rw," in the package's ${LIBVIRT_QEMU_ABSTRACTION}`,
      );
    if (v.status === 'failed') return failed(`${v.found}; ${boots}`, v.expected, v.fix);
    return v;
  }
  // without the generated rules only a grant in the abstraction decides; its absence does not (libvirt ≥ 12 adds /dev/sev per guest)
  if (v.status === 'passed') return passed(`${v.message} (the per-guest rules were not generated: ${f.generated.reason}); ${boots}`);
  if (v.status === 'failed' && !f.generated.absent)
    return undecided(`libvirt's QEMU abstraction has no rule for /dev/sev, and the per-guest rules libvirt would add could not be generated: ${f.generated.reason}`);
  if (v.status === 'failed') return failed(`${v.found}; no virt-aa-helper in the image (${f.generated.reason}); ${boots}`, v.expected, v.fix);
  return v;
}
