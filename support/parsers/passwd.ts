/**
 * /etc/passwd and /etc/group (passwd(5), group(5)).
 *
 * Tolerance follows glibc's files backend (nss/nss_files/files-XXX.c + files-parse.c): blank
 * lines and lines whose first non-blank character is `#` are skipped; a line that does not parse
 * (too few fields, a uid/gid that is not a number) is skipped, not fatal. We do the same and
 * record a note naming the line, so a check that then cannot find the QEMU user can say why.
 *
 * `+`/`-` lines are the NIS "compat" syntax (nsswitch `passwd: compat`). They pull users from
 * NIS, which sevcheck cannot see: such lines are recorded as notes and never resolved.
 */
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

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
}

const ID = /^\d+$/;

function parseId(text: string): number | undefined {
  if (!ID.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

function scan<T>(
  text: string,
  source: string,
  minFields: number,
  build: (fields: string[], line: number) => T | string,
): ParseResult<AccountDb<T>> {
  if (text.includes('\0')) return parseError(source, 0, 'contains NUL bytes: not a text account database');
  const entries: T[] = [];
  const notes: string[] = [];
  let hasNisCompat = false;
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trimStart();
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('+') || t.startsWith('-')) {
      hasNisCompat = true;
      notes.push(`${source}:${line}: NIS compat entry '${t.split(':')[0]}' not resolved (sevcheck cannot query NIS)`);
      continue;
    }
    const fields = raw.split(':');
    if (fields.length < minFields) {
      notes.push(`${source}:${line}: skipped: ${fields.length} fields, expected ${minFields}`);
      continue;
    }
    const r = build(fields, line);
    if (typeof r === 'string') notes.push(`${source}:${line}: skipped: ${r}`);
    else entries.push(r);
  }
  return ok({ source, entries, hasNisCompat }, notes);
}

/** name:password:UID:GID:GECOS:home:shell */
export function parsePasswd(text: string, source = '/etc/passwd'): ParseResult<AccountDb<PasswdEntry>> {
  return scan(text, source, 7, (f, line) => {
    const [name = '', , uidText = '', gidText = '', gecos = '', home = '', ...shellParts] = f;
    if (name === '') return 'empty user name';
    const uid = parseId(uidText);
    if (uid === undefined) return `uid '${uidText}' is not a number`;
    const gid = parseId(gidText);
    if (gid === undefined) return `gid '${gidText}' is not a number`;
    return { name, uid, gid, gecos, home, shell: shellParts.join(':'), line };
  });
}

/** group_name:password:GID:user_list */
export function parseGroup(text: string, source = '/etc/group'): ParseResult<AccountDb<GroupEntry>> {
  return scan(text, source, 4, (f, line) => {
    const [name = '', , gidText = '', ...memberParts] = f;
    if (name === '') return 'empty group name';
    const gid = parseId(gidText);
    if (gid === undefined) return `gid '${gidText}' is not a number`;
    const members = memberParts
      .join(':')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    return { name, gid, members, line };
  });
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
 * user as a member. Sorted, deduplicated.
 */
export function groupList(db: AccountDb<GroupEntry>, user: string, primaryGid: number): number[] {
  const set = new Set<number>([primaryGid]);
  for (const g of db.entries) if (g.members.includes(user)) set.add(g.gid);
  return [...set].sort((a, b) => a - b);
}
