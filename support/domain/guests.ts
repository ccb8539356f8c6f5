/**
 * The SEV guests defined on a host, and how one domain.* check over several guests becomes one
 * verdict. Pure: the domain probe (support/probes/domain.ts) reads the definitions through the
 * Host and hands them here.
 *
 * An "SEV guest" is a domain whose definition has <launchSecurity type='sev'> or
 * <launchSecurity type='sev-snp'> (libvirt docs/formatdomain.rst "Launch Security";
 * docs/kbase/launch_security_sev.rst). Other domains are ordinary guests: no domain.* check is
 * about them.
 *
 * Folding (one check per scenario, any failure fails): failed if any SEV guest fails (the
 * message names each offending guest); else undecided if any SEV guest is undecided or any
 * definition could not be read (it might be an SEV guest); else passed if any passed; else
 * skipped (no SEV guest, or the check does not apply to any of them).
 */
import { failed, failedBecause, passed, skipped, undecided, undecidedBecause, type Verdict } from '../verdict.js';
import type { DomainModel } from './model.js';
import { schemaVerdict, withInvalidValues, type SchemaInfo, type SchemaOutcome } from './schema.js';

export interface GuestDefinition {
  /** <name>, else the file name without .xml */
  readonly name: string;
  /** where the definition came from: "/etc/libvirt/qemu/web1.xml" or "virsh dumpxml --inactive web1" */
  readonly source: string;
  readonly text: string;
  readonly model: DomainModel;
}

export interface UnreadableDefinition {
  readonly source: string;
  readonly reason: string;
}

export interface HostGuests {
  /** where the definitions were looked for, e.g. "/etc/libvirt/qemu/*.xml" */
  readonly origin: string;
  /** domains with <launchSecurity type='sev'|'sev-snp'> */
  readonly sev: readonly GuestDefinition[];
  /** names of the other (not SEV) domains */
  readonly others: readonly string[];
  /** definitions that could not be read or parsed (unknown whether they are SEV guests) */
  readonly unreadable: readonly UnreadableDefinition[];
  /** set when the host has no libvirt QEMU configuration at all (why) */
  readonly none?: string | undefined;
}

export function isSevGuest(d: DomainModel): boolean {
  const t = d.launchSecurity?.type;
  return t === 'sev' || t === 'sev-snp';
}

/** "guest 'web1' (/etc/libvirt/qemu/web1.xml)" */
export function guestLabel(g: GuestDefinition): string {
  return `guest '${g.name}' (${g.source})`;
}

/** An undecided or skipped verdict's reason (its field: support/verdict.ts), else its message. */
function reasonOf(v: Verdict): string {
  return v.status === 'undecided' || v.status === 'skipped' ? v.reason : v.message;
}

/** The skipped verdict for a host without SEV guests. */
export function noSevGuests(g: HostGuests): Verdict {
  if (g.none) return skipped(`no SEV guest defined on the host: ${g.none}`);
  const others = g.others.length
    ? `${g.others.length} domain(s) in ${g.origin} (${g.others.join(', ')}), none with <launchSecurity type='sev'> or 'sev-snp'`
    : `no domain definitions in ${g.origin}`;
  return skipped(`no SEV guest defined on the host: ${others}`);
}

/**
 * One verdict for a check over every SEV guest of the host. `judge` gives each guest's verdict
 * (a pure rule, or a rule over facts the probe gathered).
 */
export function foldGuests(g: HostGuests, verdicts: ReadonlyArray<readonly [GuestDefinition, Verdict]>): Verdict {
  if (g.sev.length === 0 && g.unreadable.length === 0) return noSevGuests(g);
  const by = (s: Verdict['status']) => verdicts.filter(([, v]) => v.status === s);
  const bad = by('failed');
  const open = by('undecided');
  const ok = by('passed');
  const notApplicable = by('skipped');
  const names = (xs: ReadonlyArray<readonly [GuestDefinition, Verdict]>) => xs.map(([x]) => `'${x.name}'`).join(', ');
  const passingNote = ok.length ? ` (${ok.length} other SEV guest(s) pass: ${names(ok)})` : '';
  /** the one check every verdict of `vs` names as the owner of its defect (verdict.ts because), if there is one */
  const owner = (vs: ReadonlyArray<readonly [GuestDefinition, Verdict]>): string | undefined => {
    const owners = new Set(vs.map(([, v]) => (v.status === 'failed' || v.status === 'undecided' ? v.because : undefined)));
    const [only] = owners;
    return owners.size === 1 && only !== undefined ? only : undefined;
  };
  if (bad.length > 0) {
    const found: string[] = [];
    const expected: string[] = [];
    const fixes: string[] = [];
    for (const [guest, v] of bad) {
      const [f, e, x] = v.status === 'failed' ? [v.found, v.expected, v.fix] : [v.message, 'the check to pass', 'see the message'];
      found.push(`${guestLabel(guest)}: ${f}`);
      if (!expected.includes(e)) expected.push(e);
      fixes.push(bad.length > 1 ? `for '${guest.name}': ${x}` : x);
    }
    const what = `${bad.length} of ${g.sev.length} SEV guest(s) fail: ${found.join(' | ')}${passingNote}${open.length ? ` (undecided for ${names(open)})` : ''}${g.unreadable.length ? ` (unreadable: ${g.unreadable.map((u) => u.source).join(', ')})` : ''}`;
    // every failing guest fails by a defect one other check owns (verdict.ts failedBecause, e.g. an
    // SNP policy with MIGRATE_MA is domain.policy.valid's): the folded verdict is that check's
    // follower, with no fix of its own, as a linter's is (one finding per input defect)
    const followed = owner(bad);
    if (followed !== undefined) return failedBecause(followed, what, expected.join(' | '));
    return failed(what, expected.join(' | '), `${fixes.join(' | ')} (edit with: virsh edit ${bad.map(([x]) => x.name).join(' / ')})`);
  }
  const waiting = owner(open);
  if (open.length > 0 && g.unreadable.length === 0 && waiting !== undefined) {
    // every undecided guest is left nothing to judge by another check's failure (undecidedBecause)
    const prefix = `because ${waiting}: `;
    const unprefixed = (r: string): string => (r.startsWith(prefix) ? r.slice(prefix.length) : r);
    return undecidedBecause(waiting, `${open.map(([guest, v]) => `${guestLabel(guest)}: ${unprefixed(reasonOf(v))}`).join('; ')}${passingNote}`);
  }
  if (open.length > 0 || g.unreadable.length > 0) {
    const reasons = [
      ...open.map(([guest, v]) => `${guestLabel(guest)}: ${reasonOf(v)}`),
      ...g.unreadable.map((u) => `${u.source}: ${u.reason} (cannot tell whether it is an SEV guest)`),
    ];
    return undecided(`${reasons.join('; ')}${passingNote}`);
  }
  if (ok.length > 0) {
    const na = notApplicable.length ? `; not applicable to ${notApplicable.map(([x]) => `'${x.name}'`).join(', ')}` : '';
    return passed(`${ok.length} SEV guest(s): ${ok.map(([guest, v]) => `${guestLabel(guest)}: ${v.message}`).join('; ')}${na}`);
  }
  return skipped(notApplicable.map(([guest, v]) => `${guestLabel(guest)}: ${reasonOf(v)}`).join('; '));
}

/** Apply a per-guest rule to every SEV guest and fold. */
export function judgeGuests(g: HostGuests, rule: (guest: GuestDefinition) => Verdict): Verdict {
  return foldGuests(g, g.sev.map((x) => [x, rule(x)] as const));
}

/** domain.schema-valid over the host's SEV guests, from xmllint's outcome for each. */
export function judgeSchemas(
  g: HostGuests,
  outcomes: ReadonlyArray<readonly [GuestDefinition, SchemaOutcome]>,
  info: SchemaInfo,
): Verdict {
  const where = `${info.rng}${info.libvirtVersion ? ` (libvirt ${info.libvirtVersion})` : ''} on the machine sevcheck runs on, not the probed host's own schema`;
  return foldGuests(
    g,
    outcomes.map(([x, o]) => [
      x,
      withInvalidValues(x.source, x.model.invalid, schemaVerdict(x.source, o, where, { launchSecurityType: x.model.launchSecurity?.type, policyText: x.model.launchSecurity?.policyText, schema: info }))!,
    ] as const),
  );
}
