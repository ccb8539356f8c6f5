/**
 * SELinux mode and labels.
 *
 * - `getenforce` prints Enforcing, Permissive or Disabled (libselinux utils/getenforce.c).
 * - /sys/fs/selinux/enforce reads "1" (enforcing) or "0" (permissive); its absence means SELinux
 *   is disabled or not built in (selinuxfs, libselinux security_getenforce).
 * - A security context is user:role:type[:level]; the MLS/MCS level may itself contain colons
 *   ("s0-s0:c0.c1023"), so only the first three colons split (selinux context(8)).
 * - `stat -c %C` prints the context, or "?" when there is none (coreutils stat).
 * - `ls -Z path` prints "context path"; `ls -lZ` puts the context after owner and group;
 *   "?" means no context. Older coreutils (RHEL 6) printed "crw-rw----. root kvm
 *   system_u:object_r:kvm_device_t:s0 /dev/kvm". We find the token that parses as a context.
 * - The security.selinux xattr value is the context, usually NUL-terminated.
 * - libvirt launch_security_sev.rst: with selinux-policy < 3.14.2-40, /dev/sev lacks the label
 *   (sev_device_t) that svirt_t may use.
 */
import { failed, passed, skipped, type Verdict } from '../verdict.js';
import { ok, parseError, type ParseResult } from './parse-result.js';

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

export interface SecurityContext {
  readonly user: string;
  readonly role: string;
  readonly type: string;
  readonly level?: string | undefined;
  readonly text: string;
}

export function parseGetenforce(text: string, source = 'getenforce'): ParseResult<SelinuxMode> {
  const t = text.trim().toLowerCase();
  if (t === 'enforcing' || t === 'permissive' || t === 'disabled') return ok(t);
  return parseError(source, 1, `expected Enforcing, Permissive or Disabled, got '${text.trim().slice(0, 40)}'`);
}

/** /sys/fs/selinux/enforce content. Callers map ENOENT to 'disabled' themselves. */
export function parseEnforceFile(text: string, source = '/sys/fs/selinux/enforce'): ParseResult<SelinuxMode> {
  const t = text.trim();
  if (t === '1') return ok('enforcing');
  if (t === '0') return ok('permissive');
  return parseError(source, 1, `expected 0 or 1, got '${t.slice(0, 20)}'`);
}

const NAME = /^[A-Za-z0-9_.-]+$/;

export function parseContext(text: string): SecurityContext | undefined {
  const t = text.replace(/\0+$/, '').trim();
  const parts = t.split(':');
  if (parts.length < 3) return undefined;
  const [user = '', role = '', type = ''] = parts;
  const level = parts.length > 3 ? parts.slice(3).join(':') : undefined;
  if (!NAME.test(user) || !NAME.test(role) || !NAME.test(type)) return undefined;
  if (level !== undefined && !/^[A-Za-z0-9_.,:-]+$/.test(level)) return undefined;
  return { user, role, type, ...(level !== undefined ? { level } : {}), text: t };
}

/** `stat -c %C path`: a context, or undefined for "?" (no label). */
export function parseStatContext(text: string, source = 'stat -c %C'): ParseResult<SecurityContext | undefined> {
  const t = text.trim();
  if (t === '?' || t === '') return ok(undefined);
  const c = parseContext(t);
  return c ? ok(c) : parseError(source, 1, `not a security context: '${t.slice(0, 80)}'`);
}

/** `ls -Z path` or `ls -lZ path` for one path. */
export function parseLsZ(text: string, source = 'ls -Z'): ParseResult<SecurityContext | undefined> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 1) return parseError(source, lines.length === 0 ? 0 : 2, `expected one line, got ${lines.length}`);
  const tokens = (lines[0] ?? '').split(/\s+/);
  for (const tok of tokens) {
    const c = parseContext(tok);
    if (c) return ok(c);
  }
  if (tokens.includes('?')) return ok(undefined);
  return parseError(source, 1, `no security context in '${(lines[0] ?? '').slice(0, 80)}'`);
}

/** The security.selinux xattr bytes. */
export function parseSelinuxXattr(buf: Uint8Array, source = 'security.selinux'): ParseResult<SecurityContext> {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  const c = parseContext(text);
  return c ? ok(c) : parseError(source, 0, 'xattr is not a security context');
}

export const SEV_DEVICE_TYPE = 'sev_device_t';

/** selinux.sev-label */
export function sevLabelVerdict(mode: SelinuxMode, label: SecurityContext | undefined, path = '/dev/sev'): Verdict {
  if (mode === 'disabled') return skipped('SELinux is disabled');
  if (label?.type === SEV_DEVICE_TYPE) return passed(`${path} is labelled ${label.text}`);
  return failed(
    `${path} labelled ${label ? label.text : '(no label)'} with SELinux ${mode}`,
    `type ${SEV_DEVICE_TYPE}`,
    `restorecon -v ${path}; if the label stays, the policy predates sev_device_t: upgrade selinux-policy (>= 3.14.2-40 on Fedora/RHEL)`,
  );
}
