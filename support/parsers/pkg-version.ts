/**
 * Package version comparison, rpm and dpkg flavours, and the selinux-policy minimum.
 *
 * rpm (rpm rpmio/rpmvercmp.c rpmvercmp, lib/rpmvercmp EVR compare):
 * - compare epoch numerically (missing = 0), then version, then release with rpmvercmp; when
 *   either side has no release (a bare "3.14.2" in a requirement) releases are not compared.
 * - rpmvercmp: skip runs of non-alphanumerics (except ~ and ^); "~" sorts before anything, even
 *   the end of the string; "^" sorts after the end of the string but before anything else;
 *   then take a run of digits or a run of letters from both; a numeric run beats an alpha run;
 *   numeric runs compare by value (leading zeros dropped, then length, then digits); alpha runs
 *   compare with strcmp; if all runs compared equal, the string with characters left wins.
 *
 * dpkg (dpkg lib/dpkg/version.c dpkg_version_compare/verrevcmp, Debian Policy 5.6.12):
 * - [epoch:]upstream_version[-debian_revision]; epoch numeric (default 0), revision after the
 *   LAST hyphen (default empty, and "1.0" == "1.0-0").
 * - verrevcmp alternates non-digit and digit parts; non-digit parts compare character by
 *   character with the order: "~" < end of part < letters (ASCII) < everything else;
 *   digit parts compare numerically.
 *
 * selinux-policy minimum: libvirt docs/kbase/launch_security_sev.rst says SELinux on
 * "selinux-policy <3.14.2.40" prevents QEMU from touching /dev/sev. Fedora packages selinux-policy
 * as VERSION-RELEASE, so that text is 3.14.2 release 40 (EVR 3.14.2-40); comparing "3.14.2.40" as a
 * plain version would wrongly fail 3.14.2-57. We take EVR 3.14.2-40. Debian's refpolicy packages
 * (selinux-policy-default 2:2.2022...) use a different numbering: this minimum does not apply there.
 */
import { failed, passed, skipped, type Verdict } from '../verdict.js';
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** rpm's rpmvercmp: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const num = isDigit(a[i]);
    const take = (s: string, k: number): number => {
      while (k < s.length && (num ? isDigit(s[k]) : isAlpha(s[k]))) k++;
      return k;
    };
    const ie = take(a, i);
    const je = take(b, j);
    if (je === j) return num ? 1 : -1; // different kinds: numeric is newer
    let one = a.slice(i, ie);
    let two = b.slice(j, je);
    if (num) {
      one = one.replace(/^0+/, '');
      two = two.replace(/^0+/, '');
      if (one.length !== two.length) return one.length > two.length ? 1 : -1;
    }
    if (one !== two) return one < two ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export interface Evr {
  readonly epoch: number;
  readonly version: string;
  readonly release?: string | undefined;
}

/** "[epoch:]version[-release]"; "(none):" as rpm --qf prints it counts as no epoch. */
export function parseRpmEvr(text: string): Evr | undefined {
  let t = text.trim();
  if (t === '' || /\s/.test(t)) return undefined;
  let epoch = 0;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    const e = t.slice(0, colon);
    if (e === '(none)' || e === '') epoch = 0;
    else if (/^\d+$/.test(e)) epoch = Number(e);
    else return undefined;
    t = t.slice(colon + 1);
  }
  const dash = t.lastIndexOf('-');
  const version = dash >= 0 ? t.slice(0, dash) : t;
  const release = dash >= 0 ? t.slice(dash + 1) : undefined;
  if (version === '' || release === '' || version.includes('-')) return undefined;
  return { epoch, version, ...(release !== undefined ? { release } : {}) };
}

export function rpmEvrCompare(a: Evr, b: Evr): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) return 0;
  return rpmvercmp(a.release, b.release);
}

export interface DebVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** Parse a Debian version; undefined when dpkg would reject it. */
export function parseDebVersion(text: string): DebVersion | undefined {
  const t = text.trim();
  if (t === '' || /\s/.test(t)) return undefined;
  let rest = t;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const e = rest.slice(0, colon);
    if (!/^\d+$/.test(e)) return undefined;
    epoch = Number(e);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '' || (dash >= 0 && revision === '')) return undefined;
  if (!isDigit(upstream[0])) return undefined;
  if (!/^[A-Za-z0-9.+~:-]+$/.test(upstream) || !/^[A-Za-z0-9.+~]*$/.test(revision)) return undefined;
  return { epoch, upstream, revision };
}

function debOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg verrevcmp: negative, 0 or positive (normalised to -1/0/1). */
export function debVerrevcmp(a: string, b: string): -1 | 0 | 1 {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = debOrder(a[i]);
      const bc = debOrder(b[j]);
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = (a.charCodeAt(i) - b.charCodeAt(j));
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

export function debVersionCompare(a: DebVersion, b: DebVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  return debVerrevcmp(a.upstream, b.upstream) || debVerrevcmp(a.revision, b.revision);
}

export const SELINUX_POLICY_MIN: Evr = { epoch: 0, version: '3.14.2', release: '40' };

export type InstalledPolicy =
  | { readonly kind: 'rpm'; readonly name: string; readonly evr: Evr; readonly text: string }
  | { readonly kind: 'deb'; readonly name: string; readonly version: DebVersion; readonly text: string }
  | { readonly kind: 'absent'; readonly text: string };

/**
 * `rpm -q selinux-policy` output: "selinux-policy-3.14.3-108.el8.noarch" (NVRA, one line per
 * installed instance), or "package selinux-policy is not installed". Also accepts
 * `rpm -q --qf '%{EPOCH}:%{VERSION}-%{RELEASE}\n' selinux-policy` ("(none):3.14.3-108.el8").
 * With several instances the newest is returned.
 */
export function parseRpmQuery(text: string, name = 'selinux-policy', source = 'rpm -q'): ParseResult<InstalledPolicy> {
  let best: InstalledPolicy | undefined;
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    if (/is not installed$/.test(t)) return ok({ kind: 'absent', text: t });
    let evrText = t;
    if (t.startsWith(`${name}-`)) {
      evrText = t.slice(name.length + 1).replace(/\.(noarch|x86_64|i686|aarch64|ppc64le|s390x)$/, '');
    }
    const evr = parseRpmEvr(evrText);
    if (!evr || evr.release === undefined) return parseError(source, line, `cannot read a version-release from '${t}'`);
    if (!best || (best.kind === 'rpm' && rpmEvrCompare(evr, best.evr) > 0)) best = { kind: 'rpm', name, evr, text: t };
  }
  return best ? ok(best) : parseError(source, 0, 'empty output');
}

/** `dpkg-query -W -f='${Version}' <pkg>` output (one version), or dpkg-query's "no packages found". */
export function parseDpkgQuery(text: string, name: string, source = 'dpkg-query'): ParseResult<InstalledPolicy> {
  const t = text.trim();
  if (/no packages found|not installed/i.test(t) || t === '') return ok({ kind: 'absent', text: t });
  const v = parseDebVersion(t.split(/\s+/).pop() ?? '');
  return v ? ok({ kind: 'deb', name, version: v, text: t }) : parseError(source, 1, `not a Debian version: '${t.slice(0, 60)}'`);
}

export const formatEvr = (e: Evr): string => `${e.epoch ? `${e.epoch}:` : ''}${e.version}${e.release !== undefined ? `-${e.release}` : ''}`;

/** selinux.policy-version */
export function policyVersionVerdict(installed: InstalledPolicy, min: Evr = SELINUX_POLICY_MIN): Verdict {
  if (installed.kind === 'absent') return skipped(`selinux-policy is not installed (${installed.text || 'no output'})`);
  if (installed.kind === 'deb')
    return skipped(
      `${installed.name} ${installed.text} uses Debian/refpolicy numbering; the ${formatEvr(min)} minimum is Fedora's, selinux.svirt-access decides`,
    );
  const c = rpmEvrCompare(installed.evr, min);
  if (c >= 0) return passed(`selinux-policy ${formatEvr(installed.evr)} >= ${formatEvr(min)}`);
  return failed(
    `selinux-policy ${formatEvr(installed.evr)} (${installed.text})`,
    `selinux-policy >= ${formatEvr(min)}, which labels /dev/sev sev_device_t and lets svirt_t use it (libvirt launch_security_sev docs)`,
    'dnf upgrade selinux-policy selinux-policy-targeted && restorecon -v /dev/sev',
  );
}
