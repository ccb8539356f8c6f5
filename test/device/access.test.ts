import { describe, expect, it } from 'vitest';
import { canOpen, notWorldWritableVerdict, openVerdict, wantBits, type Want } from '../../support/device/access.js';
import type { ProcessIdentity } from '../../support/device/identity.js';
import type { Acl, AclEntry } from '../../support/parsers/getfacl.js';
import type { StatInfo } from '../../support/host/types.js';

const WANTS: Want[] = ['r', 'w', 'rw'];
const dev = (mode: number, uid = 0, gid = 0): StatInfo => ({ path: '/dev/sev', type: 'char', mode, uid, gid });
const qemu = (over: Partial<ProcessIdentity> = {}): ProcessIdentity => ({ uid: 107, gid: 107, groups: [36, 107], capDacOverride: false, ...over });

/** The relation of the process to the file, and which mode class the kernel must use for it. */
const RELATIONS = [
  { name: 'owner', stat: (m: number) => dev(m, 107, 0), who: qemu(), shift: 6, cls: 'owner' },
  { name: 'owning group via egid', stat: (m: number) => dev(m, 0, 107), who: qemu(), shift: 3, cls: 'group' },
  { name: 'owning group via supplementary gid', stat: (m: number) => dev(m, 0, 36), who: qemu(), shift: 3, cls: 'group' },
  { name: 'other', stat: (m: number) => dev(m, 0, 0), who: qemu(), shift: 0, cls: 'other' },
  { name: 'root owner without CAP_DAC_OVERRIDE', stat: (m: number) => dev(m, 0, 0), who: qemu({ uid: 0, gid: 0, groups: [0] }), shift: 6, cls: 'owner' },
] as const;

describe('canOpen: mode bits, every class x every permission (512 modes)', () => {
  for (const rel of RELATIONS)
    it(`${rel.name}: the ${rel.cls} class decides`, () => {
      let checked = 0;
      for (let mode = 0; mode <= 0o777; mode++)
        for (const want of WANTS) {
          const bits = (mode >> rel.shift) & 7;
          const d = canOpen(rel.stat(mode), rel.who, want);
          expect(d.decidedBy).toBe(rel.cls);
          expect(d.allowed, `mode ${mode.toString(8)} want ${want}`).toBe((bits & wantBits(want)) === wantBits(want));
          checked++;
        }
      expect(checked).toBe(512 * 3);
    });

  it('owner bits are final even when group or other would grant (kernel does not fall through)', () => {
    for (const want of WANTS) expect(canOpen(dev(0o077, 107, 107), qemu(), want).allowed).toBe(false);
  });

  it('a group member with weaker group bits than other is denied', () => {
    expect(canOpen(dev(0o606, 0, 36), qemu(), 'rw')).toMatchObject({ allowed: false, decidedBy: 'group' });
  });

  it('CAP_DAC_OVERRIDE grants anything DAC denies, and says so', () => {
    for (let mode = 0; mode <= 0o777; mode += 7)
      for (const want of WANTS) {
        const d = canOpen(dev(mode, 0, 0), qemu({ uid: 0, gid: 0, groups: [], capDacOverride: true }), want);
        expect(d.allowed).toBe(true);
        const dacAllowed = (((mode >> 6) & 7) & wantBits(want)) === wantBits(want);
        expect(d.decidedBy).toBe(dacAllowed ? 'owner' : 'capability');
      }
  });

  it('the kernel default crw------- root root denies libvirt\'s qemu user, allows root-without-caps', () => {
    expect(canOpen(dev(0o600), qemu(), 'rw')).toMatchObject({ allowed: false, decidedBy: 'other' });
    expect(canOpen(dev(0o600), qemu({ uid: 0, gid: 0, groups: [0] }), 'rw')).toMatchObject({ allowed: true, decidedBy: 'owner' });
  });
});

describe('canOpen: POSIX ACLs (fs/posix_acl.c posix_acl_permission)', () => {
  const acl = (...named: AclEntry[]): ((mask: number, groupObj?: number, other?: number) => Acl) =>
    (mask, groupObj = 0, other = 0) => ({
      entries: [
        { tag: 'user_obj', perm: 6 },
        ...named.filter((e) => e.tag === 'user'),
        { tag: 'group_obj', perm: groupObj },
        ...named.filter((e) => e.tag === 'group'),
        { tag: 'mask', perm: mask },
        { tag: 'other', perm: other },
      ],
    });
  // with an extended ACL, stat's group bits are the mask
  const statFor = (mask: number, other = 0, gid = 0) => dev(0o600 | (mask << 3) | other, 0, gid);

  it('named user entry AND mask decides, for every perm x mask x want', () => {
    for (let perm = 0; perm < 8; perm++)
      for (let mask = 1; mask < 8; mask++)
        for (const want of WANTS) {
          const d = canOpen(statFor(mask, 7), qemu(), want, acl({ tag: 'user', id: 107, perm })(mask, 7, 7));
          expect(d.decidedBy).toBe('named-user');
          expect(d.allowed).toBe((perm & mask & wantBits(want)) === wantBits(want));
        }
  });

  it('named user matched by name when getfacl could not resolve it', () => {
    const d = canOpen(statFor(6), qemu({ userName: 'qemu' }), 'rw', acl({ tag: 'user', name: 'qemu', perm: 6 })(6));
    expect(d).toMatchObject({ allowed: true, decidedBy: 'named-user' });
  });

  it('named group (supplementary) AND mask decides; a miss with a matching group denies instead of using other', () => {
    for (let perm = 0; perm < 8; perm++)
      for (let mask = 1; mask < 8; mask++)
        for (const want of WANTS) {
          const w = wantBits(want);
          const d = canOpen(statFor(mask, 7), qemu(), want, acl({ tag: 'group', id: 36, perm })(mask, 0, 7));
          expect(d.decidedBy).toBe('named-group');
          // other::rwx never rescues a process whose group matched (posix_acl_permission "found")
          expect(d.allowed).toBe((perm & w) === w && (perm & mask & w) === w);
        }
  });

  it('any one matching group entry holding the bits grants (owning group lacks, named group has)', () => {
    const d = canOpen(statFor(6, 0, 107), qemu(), 'rw', acl({ tag: 'group', id: 36, perm: 6 })(6, 0, 0));
    expect(d).toMatchObject({ allowed: true, decidedBy: 'named-group' });
    const e = canOpen(statFor(6, 0, 107), qemu(), 'rw', acl({ tag: 'group', id: 36, perm: 0 })(6, 6, 0));
    expect(e).toMatchObject({ allowed: true, decidedBy: 'group' });
  });

  it('no matching entry: other decides', () => {
    for (let other = 0; other < 8; other++)
      for (const want of WANTS) {
        const d = canOpen(statFor(6, other), qemu(), want, acl({ tag: 'user', id: 999, perm: 6 }, { tag: 'group', id: 999, perm: 6 })(6, 0, other));
        expect(d.decidedBy).toBe('other');
        expect(d.allowed).toBe((other & wantBits(want)) === wantBits(want));
      }
  });

  it('owner ignores the ACL entirely', () => {
    const d = canOpen(dev(0o070, 107, 0), qemu(), 'r', acl({ tag: 'user', id: 107, perm: 7 })(7, 7, 7));
    expect(d).toMatchObject({ allowed: false, decidedBy: 'owner' });
  });

  it('mask --- makes the kernel skip the ACL (acl_permission_check) and use mode bits', () => {
    const d = canOpen(dev(0o606, 0, 0), qemu(), 'rw', acl({ tag: 'user', id: 107, perm: 6 })(0, 0, 6));
    expect(d).toMatchObject({ allowed: true, decidedBy: 'other' });
    expect(d.notes.join()).toMatch(/skips the ACL/);
  });

  it('a minimal ACL is the mode bits', () => {
    const d = canOpen(dev(0o660, 0, 36), qemu(), 'rw', { entries: [{ tag: 'user_obj', perm: 6 }, { tag: 'group_obj', perm: 6 }, { tag: 'other', perm: 0 }] });
    expect(d).toMatchObject({ allowed: true, decidedBy: 'group' });
  });
});

describe('verdicts', () => {
  it('openVerdict failure names found, expected, class and a udev fix', () => {
    const v = openVerdict('/dev/sev', dev(0o600), { ...qemu({ groupNames: ['kvm', 'qemu'] }), description: 'qemu (uid 107)' }, 'rw');
    expect(v.status).toBe('failed');
    expect(v.message).toContain('/dev/sev 0600 uid 0 gid 0');
    expect(v.message).toContain('other class');
    expect(v.message).toContain('KERNEL=="sev", GROUP="kvm", MODE="0660"');
    expect(v.message).toContain('udevadm trigger');
  });
  it('openVerdict pass says why', () => {
    const v = openVerdict('/dev/sev', dev(0o660, 0, 36), { ...qemu(), description: 'qemu' }, 'rw');
    expect(v).toMatchObject({ status: 'passed' });
    expect(v.message).toContain('group class rw-');
  });
  it('world-writable', () => {
    expect(notWorldWritableVerdict('/dev/sev', dev(0o660)).status).toBe('passed');
    expect(notWorldWritableVerdict('/dev/sev', dev(0o666)).status).toBe('failed');
  });
});
