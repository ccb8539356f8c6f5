/**
 * /etc/passwd and /etc/group (passwd(5), group(5)).
 *
 * Both are read as glibc's files backend reads them (cited at parsePasswd and parseGroup): blank
 * lines and lines whose first non-blank character is `#` are skipped by lookups; a line that does
 * not parse is skipped, not fatal. We do the same and record a note naming the line, so a check
 * that then cannot find the QEMU user can say why.
 *
 * `+`/`-` lines are the NIS "compat" syntax (nsswitch `passwd: compat`). They pull users from
 * NIS, which sevcheck cannot see: such lines are recorded as notes and never resolved.
 */
import { ok, parseError, type ParseResult } from './parse-result.js';

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
  readonly line: number;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
  readonly line: number;
}

export interface AccountDb<T> {
  readonly source: string;
  readonly entries: readonly T[];
  /** NIS compat lines present: a name not found here might still exist on the host */
  readonly hasNisCompat: boolean;
  /** group only: lines lookups skip (comments) that glibc's initgroups still reads */
  readonly initgroupsOnly?: readonly T[] | undefined;
}



/**
 * name:password:UID:GID:GECOS:home:shell, as glibc's nss_files reads it for getpwnam/getpwuid:
 * lines through __nss_readline() (leading whitespace dropped, empty and "#" lines skipped), then
 * the LINE_PARSER of nss/fgetpwent_r.c (bminor/glibc 0ac35d181edd): UID and GID are strtoul()
 * fields (blanks and sign allowed, at least one digit, then ":" or end of line); GECOS and home
 * may be missing; the shell is the rest of the line. So "qemu:x:107:107" is a valid entry and
 * " 107" a valid uid; a line without a GID is skipped.
 */
export function parsePasswd(text: string, source = '/etc/passwd'): ParseResult<AccountDb<PasswdEntry>> {
  if (text.includes('\0')) return parseError(source, 0, 'contains NUL bytes: not a text account database');
  const entries: PasswdEntry[] = [];
  const notes: string[] = [];
  let hasNisCompat = false;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const t = raw.replace(/^[ \t\n\v\f\r]+/, '');
    if (t === '' || t.startsWith('#')) return;
    if (t.startsWith('+') || t.startsWith('-')) {
      hasNisCompat = true;
      notes.push(`${source}:${line}: NIS compat entry '${t.split(':')[0]}' not resolved (sevcheck cannot query NIS)`);
      return;
    }
    const r = parsePasswdLine(t);
    if (typeof r === 'string') notes.push(`${source}:${line}: skipped: ${r}`);
    else entries.push({ ...r, line });
  });
  return ok({ source, entries, hasNisCompat }, notes);
}

/**
 * The first three fields both files share, name:password:ID, as the LINE_PARSER macros read them:
 * the ID through strtou32(), then ":" or the end of the line.
 */
function nameAndId(line: string, what: 'user' | 'group', id: 'uid' | 'gid'): { name: string; value: number; rest: string } | string {
  const c1 = line.indexOf(':');
  if (c1 < 0) return `no ":" after the ${what} name`;
  const name = line.slice(0, c1);
  if (name === '') return `empty ${what} name`;
  const c2 = line.indexOf(':', c1 + 1);
  if (c2 < 0) return `no ${id.toUpperCase()} field`;
  const text = line.slice(c2 + 1);
  const n = strtou32(text);
  if (!n || (n.rest !== '' && !n.rest.startsWith(':'))) return `${id} '${text.split(':')[0]}' is not a number`;
  return { name, value: n.value, rest: n.rest };
}

function parsePasswdLine(line: string): Omit<PasswdEntry, 'line'> | string {
  const u = nameAndId(line, 'user', 'uid');
  if (typeof u === 'string') return u;
  const name = u.name;
  const gidText = u.rest.slice(1);
  const g = u.rest === '' ? undefined : strtou32(gidText);
  if (!g || (g.rest !== '' && !g.rest.startsWith(':'))) return u.rest === '' ? 'no GID field' : `gid '${gidText.split(':')[0]}' is not a number`;
  const [gecos = '', home = '', ...shell] = g.rest.slice(1).split(':');
  return { name, uid: u.value, gid: g.value, gecos, home, shell: shell.join(':') };
}

/**
 * group_name:password:GID:user_list, as glibc's nss_files reads it (bminor/glibc; cited per rule):
 * - getgrnam/getgrgid read lines with __nss_readline() (nss/nss_readline.c 2642002380aa): leading
 *   whitespace removed, empty lines and lines starting with "#" skipped; names starting with "+"
 *   or "-" never match (nss/nss_files/files-grp.c DB_LOOKUP, 04277e02d7f5).
 * - The line parser (nss/fgetgrent_r.c LINE_PARSER 2642002380aa, macros of
 *   nss/nss_files/files-parse.c cc4d6614b592): only "\n" ends the line, so a "\r" stays part of the
 *   last field; the GID is strtoul(): leading blanks and a sign allowed, at least one digit, then
 *   ":" or the end of the line, else the line is invalid and skipped; a line may end after the GID
 *   (no member list). The member list (parse_list(), TRAILING_LIST_SEPARATOR_P ','): split on
 *   ",", *leading* whitespace of each member skipped, trailing whitespace kept ("qemu " is not
 *   "qemu"), empty members dropped.
 * - getgrouplist()/initgroups() — how libvirt gives QEMU its supplementary groups — read every
 *   line with getline() and the same parser, without skipping comments or leading whitespace
 *   (nss/nss_files/files-initgroups.c 6d7e8eda9b85): a commented-out "#kvm:x:36:qemu" still makes
 *   qemu a member of gid 36. Those entries are kept apart in `initgroupsOnly`.
 */
export function parseGroup(text: string, source = '/etc/group'): ParseResult<AccountDb<GroupEntry>> {
  if (text.includes('\0')) return parseError(source, 0, 'contains NUL bytes: not a text account database');
  const entries: GroupEntry[] = [];
  const initgroupsOnly: GroupEntry[] = [];
  const notes: string[] = [];
  let hasNisCompat = false;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const t = raw.replace(/^[ \t\n\v\f\r]+/, '');
    const skippedByLookups = t === '' || t.startsWith('#');
    const r = parseGroupLine(skippedByLookups ? raw : t);
    if (skippedByLookups) {
      if (typeof r !== 'string' && r.members.length > 0) {
        initgroupsOnly.push({ ...r, line });
        notes.push(`${source}:${line}: a comment for getgrnam, but glibc's initgroups still reads it: gid ${r.gid} members ${r.members.join(',')}`);
      }
      return;
    }
    if (t.startsWith('+') || t.startsWith('-')) {
      hasNisCompat = true;
      notes.push(`${source}:${line}: NIS compat entry '${t.split(':')[0]}' not resolved (sevcheck cannot query NIS)`);
      return;
    }
    if (typeof r === 'string') notes.push(`${source}:${line}: skipped: ${r}`);
    else entries.push({ ...r, line });
  });
  return ok({ source, entries, hasNisCompat, initgroupsOnly }, notes);
}

/** strtoul() as files-parse.c strtou32() uses it: [blanks][sign]digits, clipped to 32 bits. */
function strtou32(s: string): { value: number; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (!m) return undefined;
  const n = BigInt(m[2] as string);
  const v = m[1] === '-' ? (n === 0n ? 0n : 0xffffffffn) : n > 0xffffffffn ? 0xffffffffn : n;
  return { value: Number(v), rest: s.slice(m[0].length) };
}

/** One group line through glibc's parser; a string says why glibc skips it. */
function parseGroupLine(line: string): Omit<GroupEntry, 'line'> | string {
  const g = nameAndId(line, 'group', 'gid');
  if (typeof g === 'string') return g;
  const name = g.name;
  const list = g.rest.startsWith(':') ? g.rest.slice(1) : '';
  const members = list
    .split(',')
    .map((m) => m.replace(/^[ \t\n\v\f\r]+/, ''))
    .filter((m) => m !== '');
  return { name, gid: g.value, members };
}

/** First entry wins, as getpwnam(3) on the files backend returns the first match. */
export function findUser(db: AccountDb<PasswdEntry>, name: string): PasswdEntry | undefined {
  return db.entries.find((e) => e.name === name);
}
export function findUserById(db: AccountDb<PasswdEntry>, uid: number): PasswdEntry | undefined {
  return db.entries.find((e) => e.uid === uid);
}
export function findGroup(db: AccountDb<GroupEntry>, name: string): GroupEntry | undefined {
  return db.entries.find((e) => e.name === name);
}
export function findGroupById(db: AccountDb<GroupEntry>, gid: number): GroupEntry | undefined {
  return db.entries.find((e) => e.gid === gid);
}

/**
 * getgrouplist(3) on the files backend: the user's primary gid plus every group that lists the
 * user as a member, compared byte for byte (strcmp in files-initgroups.c). Sorted, deduplicated.
 */
export function groupList(db: AccountDb<GroupEntry>, user: string, primaryGid: number): number[] {
  const set = new Set<number>([primaryGid]);
  for (const g of [...db.entries, ...(db.initgroupsOnly ?? [])]) if (g.members.includes(user)) set.add(g.gid);
  return [...set].sort((a, b) => a - b);
}
