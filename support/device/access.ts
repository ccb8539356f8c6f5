/**
 * The kernel's DAC decision for open(2) of a device node, as a pure function.
 *
 * Order (linux fs/namei.c acl_permission_check + generic_permission, fs/posix_acl.c
 * posix_acl_permission; acl(5) "ACCESS CHECK ALGORITHM"):
 * 1. fsuid == owner  -> the owner bits decide, ACLs are not consulted at all.
 * 2. the file has an extended ACL AND its group mode bits (== the ACL mask) are not all zero ->
 *    posix_acl_permission: a named user entry matching fsuid decides (ANDed with the mask);
 *    else among the owning-group entry and named-group entries that match one of the process's
 *    groups, any one that holds all wanted bits grants (ANDed with the mask); if some matched but
 *    none holds the bits -> denied; if none matched -> the other entry decides.
 * 3. no ACL (or mask 000): a member of the owning group gets the group bits, everyone else the
 *    other bits (a group member whose group bits are weaker than other's is still denied).
 * 4. if DAC denied: CAP_DAC_OVERRIDE grants read and write on a non-directory
 *    (generic_permission). QEMU under libvirt normally has no capabilities (see identity.ts).
 * "In a group" means fsgid or any supplementary gid equals it (kernel/groups.c in_group_p).
 * SELinux is checked separately, after DAC (see support/parsers/sesearch.ts).
 */
import type { StatInfo } from '../host/types.js';
import { failed, passed, type Verdict } from '../verdict.js';
import { permString, type Acl, type AclEntry } from '../parsers/getfacl.js';
import type { ProcessIdentity } from './identity.js';

export type Want = 'r' | 'w' | 'rw';
export type DecidingClass = 'owner' | 'named-user' | 'group' | 'named-group' | 'other' | 'capability';

export interface OpenDecision {
  readonly allowed: boolean;
  /** which class of the kernel's check produced the answer */
  readonly decidedBy: DecidingClass;
  readonly want: Want;
  /** the class's permission bits that were compared (after the mask, for ACL entries) */
  readonly effective: number;
  /** one line for messages, e.g. "group class rw- (gid 36 matches)" */
  readonly reason: string;
  readonly notes: readonly string[];
}

export function wantBits(want: Want): number {
  return (want.includes('r') ? 4 : 0) | (want.includes('w') ? 2 : 0);
}

function inGroup(who: ProcessIdentity, gid: number): boolean {
  return who.gid === gid || who.groups.includes(gid);
}

function matchesUser(e: AclEntry, who: ProcessIdentity): boolean {
  return e.id !== undefined ? e.id === who.uid : e.name !== undefined && e.name === who.userName;
}
function matchesGroup(e: AclEntry, who: ProcessIdentity): boolean {
  return e.id !== undefined ? inGroup(who, e.id) : e.name !== undefined && (who.groupNames ?? []).includes(e.name);
}

function isExtended(acl: Acl | undefined): acl is Acl {
  return acl !== undefined && acl.entries.some((e) => e.tag === 'user' || e.tag === 'group' || e.tag === 'mask');
}

const octal = (m: number): string => `0${(m & 0o7777).toString(8).padStart(3, '0')}`;

/** DAC decision without capabilities. */
function dac(stat: StatInfo, who: ProcessIdentity, want: Want, acl: Acl | undefined, notes: string[]): OpenDecision {
  const w = wantBits(want);
  const decide = (decidedBy: DecidingClass, effective: number, reason: string): OpenDecision => ({
    allowed: (effective & w) === w,
    decidedBy,
    want,
    effective,
    reason,
    notes,
  });

  if (who.uid === stat.uid) {
    const bits = (stat.mode >> 6) & 7;
    return decide('owner', bits, `owner class ${permString(bits)} (uid ${who.uid} owns it, mode ${octal(stat.mode)})`);
  }

  if (isExtended(acl)) {
    const mask = acl.entries.find((e) => e.tag === 'mask');
    if (mask && mask.perm !== ((stat.mode >> 3) & 7))
      notes.push(`ACL mask ${permString(mask.perm)} differs from the stat group bits ${permString((stat.mode >> 3) & 7)}; inputs are from different moments?`);
    if ((stat.mode & 0o070) !== 0) {
      const masked = (p: number): number => (mask ? p & mask.perm : p);
      const maskNote = mask ? ` with mask ${permString(mask.perm)}` : '';
      const named = acl.entries.find((e) => e.tag === 'user' && matchesUser(e, who));
      if (named)
        return decide('named-user', masked(named.perm), `ACL entry user:${named.name ?? named.id}:${permString(named.perm)}${maskNote}`);
      let found: AclEntry | undefined;
      for (const e of acl.entries) {
        const match = e.tag === 'group_obj' ? inGroup(who, stat.gid) : e.tag === 'group' && matchesGroup(e, who);
        if (!match) continue;
        found ??= e;
        if ((e.perm & w) === w) {
          const cls: DecidingClass = e.tag === 'group_obj' ? 'group' : 'named-group';
          const label = e.tag === 'group_obj' ? `group::${permString(e.perm)} (owning gid ${stat.gid})` : `group:${e.name ?? e.id}:${permString(e.perm)}`;
          return decide(cls, masked(e.perm), `ACL entry ${label}${maskNote}`);
        }
      }
      if (found) {
        const cls: DecidingClass = found.tag === 'group_obj' ? 'group' : 'named-group';
        const label = found.tag === 'group_obj' ? `group::${permString(found.perm)}` : `group:${found.name ?? found.id}:${permString(found.perm)}`;
        return { ...decide(cls, masked(found.perm), `matching ACL group entries lack ${want} (first: ${label}${maskNote})`), allowed: false };
      }
      const other = acl.entries.find((e) => e.tag === 'other');
      const bits = other ? other.perm : stat.mode & 7;
      return decide('other', bits, `ACL entry other::${permString(bits)} (no user or group entry matches)`);
    }
    notes.push('the file has an extended ACL but its mask is ---: the kernel skips the ACL and uses the mode bits');
  }

  if (inGroup(who, stat.gid)) {
    const bits = (stat.mode >> 3) & 7;
    return decide('group', bits, `group class ${permString(bits)} (member of owning gid ${stat.gid}, mode ${octal(stat.mode)})`);
  }
  const bits = stat.mode & 7;
  return decide('other', bits, `other class ${permString(bits)} (not owner uid ${stat.uid}, not in gid ${stat.gid}, mode ${octal(stat.mode)})`);
}

/** Can `who` open `stat`'s file for `want`? `acl` is the file's access ACL when it has one. */
export function canOpen(stat: StatInfo, who: ProcessIdentity, want: Want, acl?: Acl): OpenDecision {
  const notes: string[] = [];
  const d = dac(stat, who, want, acl, notes);
  if (d.allowed || !who.capDacOverride || stat.type === 'dir') return d;
  return {
    allowed: true,
    decidedBy: 'capability',
    want,
    effective: 7,
    reason: `CAP_DAC_OVERRIDE overrides the DAC denial (${d.reason})`,
    notes: [...notes, `without the capability: ${d.reason}`],
  };
}

const WANT_WORDS: Record<Want, string> = { r: 'reading', w: 'writing', rw: 'reading and writing' };

/**
 * Verdict for device.sev.qemu-access / device.kvm.qemu-access. `who` is described by `label`
 * (e.g. the identity's description). The fix persists via udev, since /dev is rebuilt at boot.
 */
export function openVerdict(
  path: string,
  stat: StatInfo,
  who: ProcessIdentity & { readonly description?: string },
  want: Want,
  acl?: Acl,
): Verdict {
  const d = canOpen(stat, who, want, acl);
  const label = who.description ?? `uid ${who.uid} gid ${who.gid}`;
  if (d.allowed) return passed(`${label} can open ${path} for ${WANT_WORDS[want]}: ${d.reason}`);
  const node = path.replace(/^\/dev\//, '');
  const groupName = who.groupNames?.includes('kvm') ? 'kvm' : (who.groupNames?.[0] ?? String(who.gid));
  return failed(
    `${path} ${octal(stat.mode)} uid ${stat.uid} gid ${stat.gid}; ${label} is denied ${want} by the ${d.decidedBy} class: ${d.reason}`,
    `the QEMU user or one of its groups to have ${want} on ${path}`,
    `echo 'KERNEL=="${node}", GROUP="${groupName}", MODE="0660"' > /etc/udev/rules.d/65-${node}.rules && udevadm control --reload-rules && udevadm trigger --action=add --sysname-match=${node}`,
  );
}

/** device.sev.not-world-writable */
export function notWorldWritableVerdict(path: string, stat: StatInfo): Verdict {
  if ((stat.mode & 0o002) === 0) return passed(`${path} mode ${octal(stat.mode)} is not writable by other`);
  return failed(
    `${path} mode ${octal(stat.mode)} (writable by every user)`,
    'no write bit for other: any local user could issue SEV firmware commands',
    `chmod o-w ${path}, and drop MODE="0666" from the udev rule that sets it`,
  );
}

export { octal as formatMode };
