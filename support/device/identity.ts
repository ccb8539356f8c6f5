/**
 * Who QEMU runs as under the system libvirt daemon: uid, gid, supplementary groups, and whether it
 * keeps CAP_DAC_OVERRIDE. Pure: takes parsed qemu.conf, os-release, passwd and group.
 *
 * Facts carried over (cited at each use):
 * - user/group come from qemu.conf `user`/`group`; an unset key keeps the compiled-in default
 *   QEMU_USER/QEMU_GROUP (src/qemu/qemu_conf.c virQEMUDriverConfigNew + LoadSecurityEntry).
 * - compiled-in defaults (libvirt meson.build, "qemu_user = get_option('qemu_user')" block):
 *     os-release mentions fedora, gentoo or suse (RHEL/CentOS have ID_LIKE=fedora) -> qemu:qemu
 *     ubuntu                                                                        -> libvirt-qemu:kvm
 *     arch or debian                                                                -> libvirt-qemu:libvirt-qemu
 *     anything else                                                                 -> root:root
 *   Debian 12's package agrees: libvirt-daemon-system 9.0.0-4+deb12u2 ships qemu.conf with
 *   `#user = "libvirt-qemu"` / `#group = "libvirt-qemu"`, and its postinst creates user
 *   libvirt-qemu (uid 64055) with primary group kvm, also a member of group libvirt-qemu. So on
 *   Debian the process gid is libvirt-qemu but kvm is among its groups.
 * - user/group spec: "+N" is numeric; otherwise a name, falling back to a number only when no such
 *   name exists (src/util/virutil.c virGetUserID/virGetGroupID).
 * - supplementary groups: getgrouplist(user, passwd primary gid) plus the configured gid
 *   (virutil.c virGetGroupList); a uid with no passwd entry gets only the configured gid.
 * - capabilities: libvirt clears the emulator's capabilities (virCommandClearCaps;
 *   cfg->clearEmulatorCapabilities defaults to true in qemu_conf.c). virSetUIDGIDWithCaps keeps
 *   caps only when the target uid is 0 and clearing was not requested. So QEMU as uid 0 with the
 *   default config has NO CAP_DAC_OVERRIDE and is subject to mode bits like anyone else; only
 *   `user = "root"` plus `clear_emulator_capabilities = 0` (older libvirt that still reads the
 *   key) keeps the override. docs/internals/command.rst: a command with caps cleared "will only
 *   be able to access resources for which it has explicit DAC permissions".
 */
import type { OsRelease } from '../parsers/os-release.js';
import {
  findGroup,
  findGroupById,
  findUser,
  findUserById,
  groupList,
  type AccountDb,
  type GroupEntry,
  type PasswdEntry,
} from '../parsers/passwd.js';
import type { IdSpec, QemuConf } from '../parsers/qemu-conf.js';

/** The credentials the kernel checks on open(2). */
export interface ProcessIdentity {
  readonly uid: number;
  /** effective (and filesystem) gid */
  readonly gid: number;
  /** supplementary groups; may or may not include gid (the kernel checks both) */
  readonly groups: readonly number[];
  readonly userName?: string | undefined;
  /** names of gid and groups where known (for ACL entries written by name) */
  readonly groupNames?: readonly string[] | undefined;
  /** CAP_DAC_OVERRIDE in the effective set: read/write checks on files are bypassed */
  readonly capDacOverride: boolean;
}

export interface QemuIdentity extends ProcessIdentity {
  /** e.g. "qemu (uid 107), group qemu (gid 107), groups kvm(36),qemu(107)" */
  readonly description: string;
  /** where user and group came from, for messages */
  readonly userSource: string;
  readonly groupSource: string;
}

export type IdentityResult =
  | { readonly ok: true; readonly identity: QemuIdentity; readonly notes: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly notes: readonly string[] };

export interface DistroDefault {
  readonly user: string;
  readonly group: string;
  readonly rule: string;
}

const MESON = "libvirt meson.build default for QEMU_USER/QEMU_GROUP";

/** libvirt's compiled-in QEMU user/group as its meson.build picks them from os-release. */
export function distroDefaultQemuUser(os: OsRelease | undefined): DistroDefault {
  const words = os ? [os.id, ...os.idLike].join(' ').toLowerCase() : '';
  if (/fedora|gentoo|suse/.test(words)) return { user: 'qemu', group: 'qemu', rule: `${MESON}: fedora/gentoo/suse family` };
  if (/ubuntu/.test(words)) return { user: 'libvirt-qemu', group: 'kvm', rule: `${MESON}: ubuntu` };
  if (/arch|debian/.test(words))
    return { user: 'libvirt-qemu', group: 'libvirt-qemu', rule: `${MESON}: debian/arch (Debian 12 package ships the same)` };
  return { user: 'root', group: 'root', rule: `${MESON}: other distributions (${os ? `ID=${os.id}` : 'os-release unknown'})` };
}

function resolveUser(
  spec: IdSpec,
  passwd: AccountDb<PasswdEntry>,
): { uid: number; entry?: PasswdEntry | undefined } | string {
  if (spec.kind === 'id') return { uid: spec.id, entry: findUserById(passwd, spec.id) };
  const e = findUser(passwd, spec.name);
  if (e) return { uid: e.uid, entry: e };
  if (spec.numericFallback !== undefined) return { uid: spec.numericFallback, entry: findUserById(passwd, spec.numericFallback) };
  return passwd.hasNisCompat
    ? `user '${spec.name}' is not in ${passwd.source} (it has NIS compat lines sevcheck cannot resolve)`
    : `user '${spec.name}' does not exist in ${passwd.source}`;
}

function resolveGroup(spec: IdSpec, group: AccountDb<GroupEntry>): { gid: number; entry?: GroupEntry | undefined } | string {
  if (spec.kind === 'id') return { gid: spec.id, entry: findGroupById(group, spec.id) };
  const e = findGroup(group, spec.name);
  if (e) return { gid: e.gid, entry: e };
  if (spec.numericFallback !== undefined) return { gid: spec.numericFallback, entry: findGroupById(group, spec.numericFallback) };
  return group.hasNisCompat
    ? `group '${spec.name}' is not in ${group.source} (it has NIS compat lines sevcheck cannot resolve)`
    : `group '${spec.name}' does not exist in ${group.source}`;
}

export interface IdentityInput {
  readonly qemuConf?: QemuConf | undefined;
  readonly osRelease?: OsRelease | undefined;
  readonly passwd: AccountDb<PasswdEntry>;
  readonly group: AccountDb<GroupEntry>;
}

/** Resolve the QEMU process identity. Failure means a check must be undecided (or failed, if the
 *  configured user really does not exist: then libvirtd itself refuses to start). */
export function resolveQemuIdentity(input: IdentityInput): IdentityResult {
  const { qemuConf, osRelease, passwd, group } = input;
  const notes: string[] = [];
  const def = distroDefaultQemuUser(osRelease);
  const userSpec: IdSpec = qemuConf?.user ?? { kind: 'name', name: def.user, text: def.user };
  const groupSpec: IdSpec = qemuConf?.group ?? { kind: 'name', name: def.group, text: def.group };
  const userSource = qemuConf?.user
    ? `${qemuConf.source}:${qemuConf.lines.user ?? '?'} user = "${qemuConf.user.text}"`
    : `default (${def.rule})`;
  const groupSource = qemuConf?.group
    ? `${qemuConf.source}:${qemuConf.lines.group ?? '?'} group = "${qemuConf.group.text}"`
    : `default (${def.rule})`;
  if (!qemuConf?.user || !qemuConf.group)
    notes.push(
      'the compiled-in default is inferred from os-release; a distribution that builds libvirt with other -Dqemu_user/-Dqemu_group values differs',
    );

  const u = resolveUser(userSpec, passwd);
  if (typeof u === 'string') return { ok: false, reason: `${u} (from ${userSource})`, notes };
  const g = resolveGroup(groupSpec, group);
  if (typeof g === 'string') return { ok: false, reason: `${g} (from ${groupSource})`, notes };

  // virGetGroupList: getgrouplist(user, passwd primary gid) + configured gid
  const groups = new Set<number>();
  if (u.entry) for (const gid of groupList(group, u.entry.name, u.entry.gid)) groups.add(gid);
  else notes.push(`uid ${u.uid} has no ${passwd.source} entry: QEMU gets no supplementary groups`);
  groups.add(g.gid);
  const sorted = [...groups].sort((a, b) => a - b);

  const clearCaps = qemuConf?.clearEmulatorCapabilities ?? true;
  const capDacOverride = u.uid === 0 && !clearCaps;
  if (u.uid === 0 && clearCaps)
    notes.push('QEMU runs as uid 0 but libvirt clears its capabilities (no CAP_DAC_OVERRIDE): mode bits still apply');
  if (capDacOverride)
    notes.push(
      'user is root and clear_emulator_capabilities = 0: QEMU keeps CAP_DAC_OVERRIDE (on libvirt versions that still honour the key)',
    );

  const names = sorted.map((gid) => findGroupById(group, gid)?.name);
  const userName = u.entry?.name;
  const gname = g.entry?.name ?? findGroupById(group, g.gid)?.name;
  const fmtGroups = sorted.map((gid, i) => `${names[i] ?? '?'}(${gid})`).join(',');
  return {
    ok: true,
    notes,
    identity: {
      uid: u.uid,
      gid: g.gid,
      groups: sorted,
      userName,
      groupNames: names.filter((n): n is string => n !== undefined),
      capDacOverride,
      userSource,
      groupSource,
      description: `${userName ?? '?'} (uid ${u.uid}), group ${gname ?? '?'} (gid ${g.gid}), groups ${fmtGroups}`,
    },
  };
}
