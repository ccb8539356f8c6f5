/**
 * POSIX access ACLs: `getfacl` text output and the raw `system.posix_acl_access` xattr.
 *
 * Text form (acl(5) "ACL TEXT FORMS", getfacl(1)):
 *   # file: dev/sev            header comments (# file/# owner/# group/# flags)
 *   user::rw-                  ACL_USER_OBJ
 *   user:qemu:rw-              ACL_USER (name, or number with getfacl -n)
 *   group::---                 ACL_GROUP_OBJ
 *   group:kvm:rw-   #effective:r--   ACL_GROUP; the trailing comment is advisory
 *   mask::rw-                  ACL_MASK
 *   other::---                 ACL_OTHER
 *   default:...                default ACL (directories): not part of the access check, skipped
 * Tags may be abbreviated u/g/m/o; permissions are rwx or - in fixed positions.
 *
 * Binary form (linux include/uapi/linux/posix_acl_xattr.h): little-endian
 *   u32 a_version = 2; then entries { u16 e_tag; u16 e_perm; u32 e_id }
 *   tags: USER_OBJ 0x01, USER 0x02, GROUP_OBJ 0x04, GROUP 0x08, MASK 0x10, OTHER 0x20
 *   (include/linux/posix_acl.h / uapi posix_acl.h); e_id is ACL_UNDEFINED_ID (0xffffffff) for the
 *   non-named tags.
 *
 * Validity (fs/posix_acl.c posix_acl_valid): exactly one USER_OBJ, GROUP_OBJ and OTHER; MASK
 * required when any named entry exists; entries in tag order; no duplicate named ids.
 */
import type { AccountDb, GroupEntry, PasswdEntry } from './passwd.js';
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

export type AclTag = 'user_obj' | 'user' | 'group_obj' | 'group' | 'mask' | 'other';

export interface AclEntry {
  readonly tag: AclTag;
  /** uid/gid for named entries when known */
  readonly id?: number | undefined;
  /** the name as written (getfacl without -n), for entries not resolvable to an id */
  readonly name?: string | undefined;
  /** rwx bits: 4 read, 2 write, 1 execute */
  readonly perm: number;
}

export interface Acl {
  readonly entries: readonly AclEntry[];
}

export interface GetfaclOutput {
  readonly acl: Acl;
  readonly file?: string | undefined;
  readonly owner?: string | undefined;
  readonly group?: string | undefined;
}

export const ACL_TAG_CODES: Readonly<Record<AclTag, number>> = {
  user_obj: 0x01,
  user: 0x02,
  group_obj: 0x04,
  group: 0x08,
  mask: 0x10,
  other: 0x20,
};
const TAG_BY_CODE = new Map<number, AclTag>(Object.entries(ACL_TAG_CODES).map(([k, v]) => [v, k as AclTag]));
export const ACL_UNDEFINED_ID = 0xffffffff;
export const POSIX_ACL_XATTR_VERSION = 2;
const ORDER: Readonly<Record<AclTag, number>> = { user_obj: 0, user: 1, group_obj: 2, group: 3, mask: 4, other: 5 };

export function permString(perm: number): string {
  return `${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`;
}

function parsePerm(text: string): number | undefined {
  if (!/^[r-][w-][xX-]$/.test(text)) return undefined;
  return (text[0] === 'r' ? 4 : 0) | (text[1] === 'w' ? 2 : 0) | (text[2] === 'x' || text[2] === 'X' ? 1 : 0);
}

/** The minimal ACL equivalent to permission bits (acl(7): owner, group, other classes). */
export function aclFromMode(mode: number): Acl {
  return {
    entries: [
      { tag: 'user_obj', perm: (mode >> 6) & 7 },
      { tag: 'group_obj', perm: (mode >> 3) & 7 },
      { tag: 'other', perm: mode & 7 },
    ],
  };
}

/** posix_acl_valid, as a reason string, or undefined when valid. */
export function aclProblem(acl: Acl): string | undefined {
  const count = (t: AclTag): number => acl.entries.filter((e) => e.tag === t).length;
  for (const t of ['user_obj', 'group_obj', 'other'] as const) if (count(t) !== 1) return `needs exactly one ${t} entry, has ${count(t)}`;
  if (count('mask') > 1) return 'more than one mask entry';
  if ((count('user') > 0 || count('group') > 0) && count('mask') === 0) return 'named entries without a mask entry';
  for (let i = 1; i < acl.entries.length; i++) {
    const a = acl.entries[i - 1];
    const b = acl.entries[i];
    if (a && b && ORDER[a.tag] > ORDER[b.tag]) return 'entries not in tag order';
  }
  for (const t of ['user', 'group'] as const) {
    const keys = acl.entries.filter((e) => e.tag === t).map((e) => (e.id !== undefined ? `#${e.id}` : `@${e.name ?? ''}`));
    if (new Set(keys).size !== keys.length) return `duplicate ${t} entries`;
  }
  return undefined;
}

/** Stable sort into kernel order; text output is already ordered, a hand-written one may not be. */
function sorted(entries: AclEntry[]): AclEntry[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => ORDER[a.e.tag] - ORDER[b.e.tag] || a.i - b.i)
    .map((x) => x.e);
}

export interface NameResolver {
  readonly passwd?: AccountDb<PasswdEntry> | undefined;
  readonly group?: AccountDb<GroupEntry> | undefined;
}

/** Parse `getfacl [-n] <path>` output for one file. */
export function parseGetfacl(text: string, source = 'getfacl', names: NameResolver = {}): ParseResult<GetfaclOutput> {
  const entries: AclEntry[] = [];
  const notes: string[] = [];
  let file: string | undefined;
  let owner: string | undefined;
  let group: string | undefined;
  let files = 0;
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    if (t.startsWith('getfacl: ')) {
      // stderr merged in: "getfacl: Removing leading '/' from absolute path names" is harmless
      if (/Removing leading/.test(t)) continue;
      return parseError(source, line, `getfacl reported: ${t.slice(9)}`);
    }
    if (t.startsWith('#')) {
      const m = /^#\s*(file|owner|group|flags):\s*(.*)$/.exec(t);
      if (m?.[1] === 'file') {
        files++;
        if (files > 1) return parseError(source, line, 'output for more than one file');
        file = m[2];
      } else if (m?.[1] === 'owner') owner = m[2];
      else if (m?.[1] === 'group') group = m[2];
      continue;
    }
    const body = t.replace(/\s+#.*$/, '');
    if (/^(d|default):/.test(body)) continue; // default ACL: inheritance only
    const parts = body.split(':');
    if (parts.length !== 3) return parseError(source, line, `not an ACL entry: '${t}'`);
    const [tagText = '', qual = '', permText = ''] = parts;
    const perm = parsePerm(permText);
    if (perm === undefined) return parseError(source, line, `bad permissions '${permText}'`);
    const TAGS: Record<string, 'user' | 'group' | 'mask' | 'other'> = { u: 'user', user: 'user', g: 'group', group: 'group', m: 'mask', mask: 'mask', o: 'other', other: 'other' };
    const tagWord = Object.hasOwn(TAGS, tagText) ? TAGS[tagText] : undefined;
    if (tagWord === undefined) return parseError(source, line, `unknown ACL tag '${tagText}'`);
    if (tagWord === 'mask' || tagWord === 'other') {
      if (qual !== '') return parseError(source, line, `${tagWord} entry takes no qualifier`);
      entries.push({ tag: tagWord, perm });
      continue;
    }
    if (qual === '') {
      entries.push({ tag: tagWord === 'user' ? 'user_obj' : 'group_obj', perm });
      continue;
    }
    let id: number | undefined;
    if (/^\d+$/.test(qual)) id = Number(qual);
    else if (tagWord === 'user') id = names.passwd?.entries.find((e) => e.name === qual)?.uid;
    else id = names.group?.entries.find((e) => e.name === qual)?.gid;
    if (id === undefined) notes.push(`${source}:${line}: ${tagWord} '${qual}' could not be resolved to an id; matched by name`);
    entries.push({ tag: tagWord, perm, ...(id !== undefined ? { id } : {}), ...(/^\d+$/.test(qual) ? {} : { name: qual }) });
  }
  if (entries.length === 0) return parseError(source, 0, 'no ACL entries found');
  const acl = { entries: sorted(entries) };
  const problem = aclProblem(acl);
  if (problem) return parseError(source, 0, `invalid ACL: ${problem}`);
  return ok({ acl, file, owner, group }, notes);
}

/** Decode the raw `system.posix_acl_access` xattr value. */
export function parseAclXattr(buf: Uint8Array, source = 'system.posix_acl_access'): ParseResult<Acl> {
  if (buf.length < 4) return parseError(source, 0, `${buf.length} bytes: too short for the version header`);
  if ((buf.length - 4) % 8 !== 0) return parseError(source, 0, `${buf.length} bytes: not a 4-byte header plus 8-byte entries`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.getUint32(0, true);
  if (version !== POSIX_ACL_XATTR_VERSION) return parseError(source, 0, `version ${version}, expected ${POSIX_ACL_XATTR_VERSION}`);
  const entries: AclEntry[] = [];
  for (let off = 4; off < buf.length; off += 8) {
    const code = view.getUint16(off, true);
    const perm = view.getUint16(off + 2, true);
    const id = view.getUint32(off + 4, true);
    const tag = TAG_BY_CODE.get(code);
    if (!tag) return parseError(source, 0, `entry ${(off - 4) / 8}: unknown tag 0x${code.toString(16)}`);
    if (perm > 7) return parseError(source, 0, `entry ${(off - 4) / 8}: permission bits 0x${perm.toString(16)} out of range`);
    entries.push(tag === 'user' || tag === 'group' ? { tag, perm, id } : { tag, perm });
  }
  const acl = { entries };
  const problem = aclProblem(acl);
  return problem ? parseError(source, 0, `invalid ACL: ${problem}`) : ok(acl);
}

/** Encode an ACL as the xattr value (for fixtures and round-trip tests). */
export function encodeAclXattr(acl: Acl): Uint8Array {
  const buf = new Uint8Array(4 + 8 * acl.entries.length);
  const view = new DataView(buf.buffer);
  view.setUint32(0, POSIX_ACL_XATTR_VERSION, true);
  acl.entries.forEach((e, i) => {
    view.setUint16(4 + i * 8, ACL_TAG_CODES[e.tag], true);
    view.setUint16(6 + i * 8, e.perm, true);
    view.setUint32(8 + i * 8, e.tag === 'user' || e.tag === 'group' ? (e.id ?? ACL_UNDEFINED_ID) : ACL_UNDEFINED_ID, true);
  });
  return buf;
}

/**
 * `ls -ld -- PATH` (GNU coreutils) for one path: does the file carry an extended ACL? The mode
 * string is followed by "+" when the file has an ACL (or another alternate access method) and
 * "." when it has only an SELinux context (coreutils ls.c, "alternate access method" flag; info
 * coreutils "What information is listed"). Used when getfacl is not installed.
 */
export function parseLsAclFlag(text: string, source = 'ls -ld'): ParseResult<boolean> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return parseError(source, lines.length === 0 ? 0 : 2, `expected one line, got ${lines.length}`);
  const m = /^[-bcdlpsD][-rwxsStT]{9}([+.]?)\s/.exec(lines[0] ?? '');
  if (!m) return parseError(source, 1, `not an ls -l line: '${(lines[0] ?? '').slice(0, 60)}'`);
  return ok(m[1] === '+');
}
