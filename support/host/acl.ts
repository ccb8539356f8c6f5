/**
 * A node's extended POSIX access ACL, read the same way on every live backend: `ls -ld` first
 * (coreutils, always installed) tells whether there is one at all, and only then `getfacl` (the
 * acl package, often not installed) reads it. A node without an extended ACL is decided by its
 * mode, owner and group alone (acl(5) "ACL TYPES": a minimal ACL is equivalent to the mode bits).
 *
 * - coreutils src/ls.c: the character after the permission bits is '+' when the file has "any
 *   other combination of alternate access methods" (an ACL), '.' when its only alternate access
 *   method is an SELinux security context, nothing (or ' ') otherwise (info coreutils "What
 *   information is listed").
 * - getfacl(1): `-n` numeric ids, `-p` keep the leading '/'; output lines are entries in acl(5)
 *   text form, '#' starts a comment ("# file:" headers, "#effective:" after an entry), and
 *   "default:" entries belong to a directory's default ACL, not to the access check.
 */
import { parseLsAclFlag } from '../parsers/getfacl.js';
import { formatParseError } from '../parsers/parse-result.js';
import { fromToolStderr, hostError } from './errno.js';
import { HostError, type RunResult } from './types.js';

export const ACL_TIMEOUT_MS = 10_000;

export const lsArgv = (path: string): string[] => ['ls', '-ld', '--', path];
export const getfaclArgv = (path: string): string[] => ['getfacl', '-n', '-p', '--', path];

/** The access-ACL entries of getfacl's output ("user:107:rw-", ...), comments and defaults dropped. */
export function getfaclEntries(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => (l.includes('#') ? l.slice(0, l.indexOf('#')) : l).trim())
    .filter((l) => l !== '' && !/^d(efault)?:/.test(l));
}

/**
 * Extended ACL entries of `path`, or undefined when it has none. `run` runs an argv on the host
 * (with its own timeout); errors are HostErrors (ENOENT, EACCES, UNSUPPORTED when the node has an
 * ACL but getfacl is not installed, EIO otherwise).
 */
export async function readExtendedAcl(run: (argv: readonly string[]) => Promise<RunResult>, path: string): Promise<readonly string[] | undefined> {
  const ls = await run(lsArgv(path));
  if (ls.exitCode !== 0) throw fromToolStderr(ls.stderr, path);
  const flag = parseLsAclFlag(ls.stdout, `ls -ld ${path}`);
  if (!flag.ok) throw hostError('EIO', path, `cannot parse ${formatParseError(flag.error)}`);
  if (!flag.value) return undefined;
  const g = await run(getfaclArgv(path));
  if (g.exitCode === 127) {
    throw new HostError('UNSUPPORTED', path, `${path} has an extended POSIX ACL ("+" in ls -ld) but getfacl is not installed to read it (apt-get/dnf install acl)`);
  }
  if (g.exitCode !== 0) throw hostError('EIO', path, `getfacl exited ${g.exitCode}: ${g.stderr.trim().split('\n')[0] ?? ''}`);
  return getfaclEntries(g.stdout);
}
