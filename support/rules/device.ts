/**
 * Device-permission rules: typed facts in, Verdict out. No I/O. The kernel's open(2) decision is
 * support/device/access.ts, who QEMU runs as is support/device/identity.ts; this file decides what
 * a missing node, an unknown ACL or an unresolvable identity means, and writes the fix text.
 *
 * Sources:
 * - /dev/sev is the "sev" misc device the ccp driver registers when the PSP reports SEV
 *   (Linux drivers/crypto/ccp/sev-dev.c sev_misc_init); without a udev rule devtmpfs gives it
 *   0600 root:root (udev-rules.ts, udev-node.c).
 * - QEMU opens /dev/sev O_RDWR (qemu target/i386/sev.c sev_common_kvm_init: "Failed to open
 *   /dev/sev") and /dev/kvm O_RDWR (accel/kvm/kvm-all.c kvm_init).
 * - libvirt clears QEMU's capabilities, so the mode bits apply even to uid 0 (identity.ts).
 * - libvirt's mount namespace (qemu.conf `namespaces`, default ["mount"] on Linux): QEMU sees a
 *   private /dev, and for a domain with <launchSecurity type='sev'> libvirt creates /dev/sev
 *   there (src/qemu/qemu_namespace.c qemuDomainSetupLaunchSecurity), copying the host node's
 *   owner, mode, ACLs and label (qemuNamespaceMknodOne). The host node's permissions decide.
 * - Memory: libvirt docs/kbase/launch_security_sev.rst "Memory"; limits.conf(5); see limits.ts.
 */
import type { StatInfo } from '../host/types.js';
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { canOpen, formatMode, notWorldWritableVerdict, type OpenDecision } from '../device/access.js';
import type { IdentityResult, QemuIdentity } from '../device/identity.js';
import { cgroupAclVerdict } from '../device/cgroup-acl.js';
import { parseErrorVerdict, type ParseResult } from '../parsers/parse-result.js';
import { findGroup, findGroupById, type AccountDb, type GroupEntry, type PasswdEntry } from '../parsers/passwd.js';
import type { QemuConf } from '../parsers/qemu-conf.js';
import { expectedNode, KERNEL_DEFAULT_NODE, type RuleRef, type UdevPermOutcome } from '../parsers/udev-rules.js';
import type { ProcessIdentity } from '../device/identity.js';
import { optional, type Fact } from '../facts.js';
import { effectiveMemlock, SEV_MEMLOCK_HEADROOM_KIB, type LimitsEntry } from '../parsers/limits.js';

export const SEV_DEV = '/dev/sev';
export const KVM_DEV = '/dev/kvm';

import type { AclFact, Loaded } from '../probes/device.js';
// moved to the probe (rules import probe types, never the reverse); re-exported for the rules' users
export type { AclFact, Loaded };

const RESTART = 'systemctl restart libvirtd (or virtqemud)';
const SEV_EXISTS_SKIP = 'no /dev/sev on this host: device.sev.exists fails and says why; there is no node to check';

/** device.sev.exists */
export function sevExists(node: StatInfo | undefined): Verdict {
  const fix =
    'enable SEV in the BIOS and in kvm_amd (see host.*), make sure the ccp driver is loaded (modprobe ccp; CONFIG_CRYPTO_DEV_SP_PSP=y), then check dmesg | grep -i -e ccp -e sev for PSP or SEV INIT errors';
  if (!node) return failed('no /dev/sev', 'the SEV firmware character device /dev/sev, created by the ccp driver when the PSP offers SEV', fix);
  if (node.type !== 'char')
    return failed(`/dev/sev is a ${node.type}, not a character device`, 'the SEV firmware character device /dev/sev', `rm /dev/sev (it is not the driver's node), then ${fix}`);
  return passed(`/dev/sev is a character device (${formatMode(node.mode)} uid ${node.uid} gid ${node.gid})`);
}

/** The note about where QEMU sees the node, from qemu.conf `namespaces`. */
export function namespaceNote(conf: QemuConf | undefined, path: string): string {
  if (conf?.namespaces && !conf.namespaces.includes('mount'))
    return `qemu.conf namespaces = [${conf.namespaces.map((n) => `"${n}"`).join(', ')}]: QEMU uses the host's /dev directly`;
  return `libvirt's mount namespace gives QEMU a private /dev with a copy of ${path} (same owner, mode and ACLs), so the host node decides`;
}

export interface AccessInput {
  readonly path: string;
  readonly node: StatInfo | undefined;
  /** facts are read in this order, each only when the verdict still needs it */
  readonly who: Fact<IdentityResult>;
  /** read only when the owner class does not decide (fs/namei.c acl_permission_check) */
  readonly acl: Fact<AclFact>;
  /** context for the fix text and the namespace note: absent when unreadable */
  readonly group?: Fact<AccountDb<GroupEntry> | undefined> | undefined;
  readonly conf?: Fact<QemuConf | undefined> | undefined;
}

/** The kernel decision, or the reason it cannot be made; undefined when the node is absent. */
export type AccessResult = { decision: OpenDecision; who: QemuIdentity } | { reason: string } | undefined;

export async function accessDecision(input: AccessInput): Promise<AccessResult> {
  const { node } = input;
  if (!node || node.type !== 'char') return undefined;
  const who = await input.who();
  if (!who.ok) return { reason: `cannot tell who QEMU runs as: ${who.reason}${who.notes.length ? ` (${who.notes.join('; ')})` : ''}` };
  // the owner class never consults the ACL (fs/namei.c acl_permission_check): not even read then
  if (who.identity.uid === node.uid) return { decision: canOpen(node, who.identity, 'rw', undefined), who: who.identity };
  const acl = await input.acl();
  if (acl.kind === 'unknown') return { reason: `${input.path}: ${acl.reason}` };
  return { decision: canOpen(node, who.identity, 'rw', acl.kind === 'acl' ? acl.acl : undefined), who: who.identity };
}

function accessFix(path: string, node: StatInfo, who: QemuIdentity, group: AccountDb<GroupEntry> | undefined): string {
  const kernelName = path.replace(/^\/dev\//, '');
  const user = who.userName ?? `+${who.uid}`;
  const inGroup = (gid: number): boolean => who.gid === gid || who.groups.includes(gid);
  const nodeGroup = group ? findGroupById(group, node.gid)?.name : undefined;
  // group class of the node already grants rw: joining that group is enough
  if (node.gid !== 0 && ((node.mode >> 3) & 6) === 6 && !inGroup(node.gid)) {
    const g = nodeGroup ?? String(node.gid);
    return `usermod -aG ${g} ${user} && ${RESTART} (or set group = "${g}" in /etc/libvirt/qemu.conf)`;
  }
  const kvm = group ? findGroup(group, 'kvm') : undefined;
  const target = kvm ? 'kvm' : (group ? findGroupById(group, who.gid)?.name : undefined) ?? String(who.gid);
  const targetGid = kvm ? kvm.gid : who.gid;
  const rule = `echo 'KERNEL=="${kernelName}", GROUP="${target}", MODE="0660"' > /etc/udev/rules.d/65-${kernelName}.rules && udevadm control --reload-rules && udevadm trigger --action=add --sysname-match=${kernelName}`;
  return inGroup(targetGid) ? rule : `${rule}; usermod -aG ${target} ${user} && ${RESTART}`;
}

/** device.sev.qemu-access, device.kvm.qemu-access */
export async function qemuAccess(input: AccessInput): Promise<Verdict> {
  const { path, node } = input;
  if (!node) {
    if (path === SEV_DEV) return skipped(SEV_EXISTS_SKIP);
    return failed(`no ${path}`, `the KVM character device ${path}`, 'load KVM: modprobe kvm_amd (kvm_intel on Intel) and check dmesg | grep -i kvm; enable virtualization (SVM) in the BIOS');
  }
  if (node.type !== 'char') {
    if (path === SEV_DEV) return skipped('/dev/sev is not a character device: device.sev.exists fails and says why');
    return failed(`${path} is a ${node.type}`, `${path} to be a character device`, `rm ${path} && modprobe -r kvm_amd kvm && modprobe kvm_amd`);
  }
  const r = await accessDecision(input);
  if (!r) return undecided(`${path}: no decision`);
  if ('reason' in r) return undecided(r.reason);
  const { decision: d, who } = r;
  const ns = namespaceNote(input.conf && (await optional(input.conf)), path);
  const notes = [...d.notes].join('; ');
  const whoText = `QEMU as ${who.description} (user: ${who.userSource}; group: ${who.groupSource})`;
  if (d.allowed) return passed(`${whoText} can open ${path} for reading and writing: ${d.reason}${notes ? `; ${notes}` : ''}; ${ns}`);
  return failed(
    `${path} ${formatMode(node.mode)} uid ${node.uid} gid ${node.gid}; ${whoText} is denied rw by the ${d.decidedBy} class: ${d.reason}${notes ? `; ${notes}` : ''}`,
    `the QEMU user or one of its groups to have rw on ${path} (libvirt clears QEMU's capabilities, so only the permission bits and ACLs count)`,
    accessFix(path, node, who, input.group && (await optional(input.group))),
  );
}

/** device.sev.not-world-writable */
export function sevNotWorldWritable(node: StatInfo | undefined): Verdict {
  if (!node || node.type !== 'char') return skipped(SEV_EXISTS_SKIP);
  return notWorldWritableVerdict(SEV_DEV, node);
}

export interface UdevInput {
  readonly node: StatInfo | undefined;
  /** the rules files are read only when there is a node to compare them with */
  readonly outcome: Fact<UdevPermOutcome>;
  readonly passwd?: Fact<AccountDb<PasswdEntry> | undefined> | undefined;
  readonly group?: Fact<AccountDb<GroupEntry> | undefined> | undefined;
  readonly access: Fact<AccessResult>;
}

/** device.udev.sev-rule */
export async function udevSevRule(input: UdevInput): Promise<Verdict> {
  const { node } = input;
  if (!node || node.type !== 'char') return skipped(SEV_EXISTS_SKIP);
  const o = await input.outcome();
  const access = await input.access();
  const qemuCanOpen = access && 'decision' in access ? access.decision.allowed : undefined;
  if (!o.mode && !o.owner && !o.group && o.uncertain.length === 0 && qemuCanOpen === undefined)
    return undecided(
      `no udev rule sets /dev/sev's permissions, so it keeps ${formatMode(node.mode)} uid ${node.uid} gid ${node.gid}; whether that is enough depends on who QEMU runs as: ${access && 'reason' in access ? access.reason : 'unknown'}`,
    );
  const who = access && 'who' in access ? access.who : undefined;
  const v = udevRuleVerdict({
    outcome: o,
    stat: node,
    passwd: input.passwd && (await optional(input.passwd)),
    group: input.group && (await optional(input.group)),
    qemuCanOpen,
    who,
  });
  const notes = o.notes.filter((n) => !/overrides/.test(n));
  if (v.status === 'passed' && notes.length) return passed(`${v.message}; notes: ${notes.join('; ')}`);
  return v;
}

/** device.libvirt.cgroup-acl */
export function cgroupAcl(conf: Loaded<QemuConf>): Verdict {
  if (!conf) return passed('no /etc/libvirt/qemu.conf, so no custom cgroup_device_acl: libvirt\'s default list applies, and libvirt adds /dev/sev for SEV domains itself');
  if (!conf.ok) return parseErrorVerdict(conf.error);
  return cgroupAclVerdict(conf.value);
}

const kib = (n: number): string => `${n} KiB (${Math.round(n / 1024)} MiB)`;

/** device.memlock, for the host (the guest's own setting is domain.memory.pinned). */
export async function memlock(
  conf: Loaded<QemuConf>,
  whoFact: Fact<IdentityResult>,
  limitsFact: Fact<readonly LimitsEntry[][]>,
  groupNames: readonly string[] = [],
): Promise<Verdict> {
  if (conf && !conf.ok) return parseErrorVerdict(conf.error);
  if (conf)
    return skipped(
      'QEMU is started by libvirt here (qemu.conf present): libvirt sets its RLIMIT_MEMLOCK per domain from <memoryBacking><locked/> or <memtune><hard_limit> (launch_security_sev.rst "Memory"), limits.conf does not apply; domain.memory.pinned checks the guest',
    );
  // only without qemu.conf do the QEMU user and limits.conf matter: read them only then
  const who = await whoFact();
  if (!who.ok) return undecided(`no libvirt qemu.conf, and the QEMU user is unknown: ${who.reason}`);
  const limits = await limitsFact();
  const id = who.identity;
  const user = id.userName ?? String(id.uid);
  const m = effectiveMemlock(limits, { user, uid: id.uid, groups: id.groupNames ?? groupNames, gids: id.groups });
  const lim = m.hard ?? m.soft;
  if (!lim)
    return undecided(
      `no libvirt qemu.conf and no memlock entry for ${user} in /etc/security/limits.conf or limits.d: QEMU started by hand gets its login session's limit (ulimit -l), which sevcheck does not read`,
    );
  if (lim.value === 'unlimited') return passed(`memlock for ${user} is unlimited (${lim.from})`);
  if (lim.value <= SEV_MEMLOCK_HEADROOM_KIB)
    return failed(
      `memlock limit ${kib(lim.value)} for ${user} (${lim.from})`,
      `guest memory + ${kib(SEV_MEMLOCK_HEADROOM_KIB)} of lockable memory (SEV pins all guest memory; libvirt launch_security_sev docs)`,
      `echo '${user} - memlock unlimited' > /etc/security/limits.d/90-sev.conf (new session), or run the guest under libvirt with <memoryBacking><locked/></memoryBacking>`,
    );
  return passed(`memlock limit ${kib(lim.value)} for ${user} (${lim.from}) leaves room for SEV guests up to ${kib(lim.value - SEV_MEMLOCK_HEADROOM_KIB)}`);
}

// ---------------------------------------------------------------- the udev rule for /dev/sev (the grammar is parsers/udev-rules.ts)

const oct = (m: number): string => `0${m.toString(8).padStart(3, '0')}`;
const where = (r: RuleRef): string => `${r.path}:${r.line}`;

export interface UdevVerdictInput {
  readonly outcome: UdevPermOutcome;
  readonly stat: StatInfo;
  readonly passwd?: AccountDb<PasswdEntry> | undefined;
  readonly group?: AccountDb<GroupEntry> | undefined;
  /** whether the QEMU identity can open the node as it is now (access.ts canOpen) */
  readonly qemuCanOpen?: boolean | undefined;
  /** who QEMU runs as: decides whether the node as the kernel creates it (no rule) is enough */
  readonly who?: ProcessIdentity | undefined;
}

/** device.udev.sev-rule */
export function udevRuleVerdict(input: UdevVerdictInput): Verdict {
  const { outcome, stat } = input;
  const path = outcome.device.devname;
  const trigger = `udevadm control --reload-rules && udevadm trigger --action=add --sysname-match=${outcome.device.kernel}`;
  const exp = expectedNode(outcome, input.passwd, input.group);
  if (!exp) {
    if (outcome.uncertain.length > 0)
      return undecided(
        `rules that may set ${path}'s permissions depend on conditions sevcheck cannot evaluate: ${outcome.uncertain.map(where).join(', ')}`,
      );
    // No rule: the node's mode now is not a rule and does not survive a reboot (a chmod is lost);
    // at the next boot the kernel creates it as devtmpfs does for a misc device without a mode.
    const live = `${oct(stat.mode)} uid ${stat.uid} gid ${stat.gid}`;
    const dflt = `${oct(KERNEL_DEFAULT_NODE.mode)} uid ${KERNEL_DEFAULT_NODE.uid} gid ${KERNEL_DEFAULT_NODE.gid}`;
    const isDefault = (stat.mode & 0o7777) === KERNEL_DEFAULT_NODE.mode && stat.uid === KERNEL_DEFAULT_NODE.uid && stat.gid === KERNEL_DEFAULT_NODE.gid;
    const now = isDefault ? `it is ${live}, the kernel default` : `it is ${live} now, but that was set by hand and is lost at reboot: the kernel creates it ${dflt}`;
    const afterBoot = input.who ? canOpen({ ...stat, ...KERNEL_DEFAULT_NODE }, input.who, 'rw').allowed : undefined;
    if (afterBoot === true) return passed(`no udev rule sets ${path}'s permissions; ${now}, which QEMU's user can open`);
    const fix = `echo 'KERNEL=="${outcome.device.kernel}", GROUP="kvm", MODE="0660"' > /etc/udev/rules.d/65-${outcome.device.kernel}.rules && ${trigger}`;
    if (afterBoot === undefined)
      return input.qemuCanOpen === false
        ? failed(`no udev rule for ${path}; ${now}`, "a rule giving the QEMU user's group access (QEMU cannot open it now)", fix)
        : undecided(`no udev rule sets ${path}'s permissions (${now}); whether QEMU can open it after a reboot depends on who QEMU runs as, which is unknown`);
    return failed(
      `no udev rule for ${path}; ${now}${input.qemuCanOpen === true && !isDefault ? ' (QEMU can open it only until then)' : ''}`,
      "a rule giving the QEMU user's group access",
      fix,
    );
  }
  const src = [outcome.mode && `MODE from ${where(outcome.mode.rule)}`, outcome.group && `GROUP from ${where(outcome.group.rule)}`, outcome.owner && `OWNER from ${where(outcome.owner.rule)}`]
    .filter(Boolean)
    .join(', ');
  if (outcome.group && exp.gid === undefined)
    return undecided(`GROUP="${outcome.group.value}" (${where(outcome.group.rule)}) does not resolve to a gid in /etc/group`);
  if (outcome.owner && exp.uid === undefined)
    return undecided(`OWNER="${outcome.owner.value}" (${where(outcome.owner.rule)}) does not resolve to a uid in /etc/passwd`);
  const diffs: string[] = [];
  if (exp.mode >= 0 && (stat.mode & 0o777) !== (exp.mode & 0o777)) diffs.push(`mode ${oct(stat.mode)} instead of ${oct(exp.mode)}`);
  if (exp.gid !== undefined && stat.gid !== exp.gid) diffs.push(`gid ${stat.gid} instead of ${exp.gid}`);
  if (exp.uid !== undefined && stat.uid !== exp.uid) diffs.push(`uid ${stat.uid} instead of ${exp.uid}`);
  if (diffs.length > 0)
    return failed(
      `${path} has ${diffs.join(', ')}: the rule was not applied (${src})`,
      `${path} as the winning udev rules set it`,
      trigger,
    );
  const extra = outcome.uncertain.length > 0 ? `; conditional rules not evaluated: ${outcome.uncertain.map(where).join(', ')}` : '';
  return passed(`${path} matches its udev rules (${src})${extra}`);
}
