import { describe, expect, it } from 'vitest';
import { aclFromMode, aclProblem, encodeAclXattr, parseAclXattr, parseGetfacl } from '../../support/parsers/getfacl.js';
import { parseGroup, parsePasswd } from '../../support/parsers/passwd.js';
import { canOpen } from '../../support/device/access.js';

const passwd = parsePasswd('qemu:x:107:107::/:/sbin/nologin\n');
const group = parseGroup('kvm:x:36:\n');
const names = { passwd: passwd.ok ? passwd.value : undefined, group: group.ok ? group.value : undefined };

const OUT = `getfacl: Removing leading '/' from absolute path names
# file: dev/sev
# owner: root
# group: root
user::rw-
user:qemu:rw-
group::---
group:kvm:rw-\t\t#effective:r--
mask::r--
other::---

`;

describe('parseGetfacl', () => {
  it('parses entries, resolves names, ignores #effective comments', () => {
    const r = parseGetfacl(OUT, 'getfacl /dev/sev', names);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.file).toBe('dev/sev');
    expect(r.value.acl.entries).toEqual([
      { tag: 'user_obj', perm: 6 },
      { tag: 'user', perm: 6, id: 107, name: 'qemu' },
      { tag: 'group_obj', perm: 0 },
      { tag: 'group', perm: 6, id: 36, name: 'kvm' },
      { tag: 'mask', perm: 4 },
      { tag: 'other', perm: 0 },
    ]);
    // the mask r-- leaves qemu read only
    const stat = { path: '/dev/sev', type: 'char' as const, mode: 0o640, uid: 0, gid: 0 };
    const who = { uid: 107, gid: 107, groups: [36, 107], capDacOverride: false };
    expect(canOpen(stat, who, 'rw', r.value.acl)).toMatchObject({ allowed: false, decidedBy: 'named-user' });
    expect(canOpen(stat, who, 'r', r.value.acl)).toMatchObject({ allowed: true });
  });

  it('getfacl -n numeric ids and abbreviated tags; skips default: entries', () => {
    const r = parseGetfacl('u::rw-\nu:107:rw-\ng::r--\nm::rw-\no::---\ndefault:user::rwx\n');
    expect(r.ok && r.value.acl.entries.map((e) => [e.tag, e.id, e.perm])).toEqual([
      ['user_obj', undefined, 6],
      ['user', 107, 6],
      ['group_obj', undefined, 4],
      ['mask', undefined, 6],
      ['other', undefined, 0],
    ]);
  });

  it('keeps unresolved names and notes them', () => {
    const r = parseGetfacl('user::rw-\nuser:ghost:rw-\ngroup::---\nmask::rw-\nother::---\n');
    expect(r.ok && r.value.acl.entries[1]).toEqual({ tag: 'user', perm: 6, name: 'ghost' });
    expect(r.ok && r.notes[0]).toMatch(/ghost.*could not be resolved/);
  });

  it.each([
    ['', 0, 'no ACL entries found'],
    ['user::rw-\nuser:qemu\n', 2, "not an ACL entry: 'user:qemu'"],
    ['user::rwz\n', 1, "bad permissions 'rwz'"],
    ['bogus::rw-\n', 1, "unknown ACL tag 'bogus'"],
    ['mask:x:rw-\n', 1, 'mask entry takes no qualifier'],
    ['user::rw-\nuser:5:rw-\ngroup::---\nother::---\n', 0, 'invalid ACL: named entries without a mask entry'],
    ['user::rw-\nuser::r--\ngroup::---\nother::---\n', 0, 'invalid ACL: needs exactly one user_obj entry, has 2'],
    ['getfacl: /dev/sev: No such file or directory\n', 1, 'getfacl reported: /dev/sev: No such file or directory'],
    ['# file: a\nuser::rw-\ngroup::---\nother::---\n# file: b\n', 5, 'output for more than one file'],
  ])('rejects %j', (text, line, problem) => {
    const r = parseGetfacl(text, 'g');
    expect(!r.ok && r.error).toEqual({ source: 'g', line, problem });
  });
});

describe('system.posix_acl_access xattr', () => {
  it('decodes a hand-assembled little-endian buffer', () => {
    // version 2; USER_OBJ rw; USER 107 rw; GROUP_OBJ ---; MASK rw; OTHER ---
    const hex = '02000000' + '01000600ffffffff' + '020006006b000000' + '04000000ffffffff' + '10000600ffffffff' + '20000000ffffffff';
    const r = parseAclXattr(Buffer.from(hex, 'hex'));
    expect(r.ok && r.value.entries).toEqual([
      { tag: 'user_obj', perm: 6 },
      { tag: 'user', perm: 6, id: 107 },
      { tag: 'group_obj', perm: 0 },
      { tag: 'mask', perm: 6 },
      { tag: 'other', perm: 0 },
    ]);
  });

  it('round-trips every minimal ACL of every mode', () => {
    for (let mode = 0; mode <= 0o777; mode++) {
      const acl = aclFromMode(mode);
      expect(aclProblem(acl)).toBeUndefined();
      const r = parseAclXattr(encodeAclXattr(acl));
      expect(r.ok && r.value).toEqual(acl);
    }
  });

  it.each([
    ['', 'too short'],
    ['020000000100', 'not a 4-byte header plus 8-byte entries'],
    ['01000000', 'version 1, expected 2'],
    ['02000000' + '40000600ffffffff', 'unknown tag 0x40'],
    ['02000000' + '01000800ffffffff', 'permission bits 0x8 out of range'],
    ['02000000' + '01000600ffffffff', 'invalid ACL: needs exactly one group_obj entry, has 0'],
    ['02000000' + '04000000ffffffff01000600ffffffff20000000ffffffff', 'invalid ACL: entries not in tag order'],
  ])('rejects %j', (hex, problem) => {
    const r = parseAclXattr(Buffer.from(hex, 'hex'));
    expect(!r.ok && r.error.problem).toContain(problem);
  });
});
