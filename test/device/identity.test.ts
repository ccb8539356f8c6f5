import { describe, expect, it } from 'vitest';
import { groupList, parseGroup, parsePasswd, type AccountDb, type GroupEntry, type PasswdEntry } from '../../support/parsers/passwd.js';
import { parseOsRelease, prettyName, type OsRelease } from '../../support/parsers/os-release.js';
import { parseQemuConf, type QemuConf } from '../../support/parsers/qemu-conf.js';
import { distroDefaultQemuUser, resolveQemuIdentity } from '../../support/device/identity.js';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment line
qemu:x:107:107:qemu user:/:/sbin/nologin
libvirt-qemu:x:64055:36:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin
100:x:4242:4242::/:/bin/false
broken:x:12
bad:x:abc:1::/:/bin/sh
+nisuser::::::
`;
const GROUP = `root:x:0:
kvm:x:36:qemu,libvirt-qemu
qemu:x:107:
libvirt-qemu:x:64055:libvirt-qemu
sev:x:990:qemu
short:x
`;
const db = <T>(r: { ok: true; value: T } | { ok: false }): T => {
  if (!r.ok) throw new Error('fixture does not parse');
  return r.value;
};
const passwd: AccountDb<PasswdEntry> = db(parsePasswd(PASSWD));
const group: AccountDb<GroupEntry> = db(parseGroup(GROUP));
const os = (text: string): OsRelease => db(parseOsRelease(text));
const conf = (text: string): QemuConf => db(parseQemuConf(text));

describe('passwd / group', () => {
  it('parses entries and skips comments, short lines, bad ids and NIS lines with notes', () => {
    const r = parsePasswd(PASSWD);
    expect(r.ok && r.value.entries.map((e) => e.name)).toEqual(['root', 'qemu', 'libvirt-qemu', '100']);
    expect(r.ok && r.value.hasNisCompat).toBe(true);
    expect(r.ok && r.notes).toEqual([
      '/etc/passwd:6: skipped: no GID field',
      "/etc/passwd:7: skipped: uid 'abc' is not a number",
      "/etc/passwd:8: NIS compat entry '+nisuser' not resolved (sevcheck cannot query NIS)",
    ]);
    const g = parseGroup(GROUP);
    expect(g.ok && g.value.entries.find((e) => e.name === 'kvm')?.members).toEqual(['qemu', 'libvirt-qemu']);
    expect(g.ok && g.notes).toEqual(['/etc/group:6: skipped: no GID field']);
  });
  it('rejects binary garbage as a whole', () => {
    const r = parsePasswd('root:x:0:0\0\0\0');
    expect(!r.ok && r.error.problem).toMatch(/NUL/);
  });
  it('groupList = primary + memberships (getgrouplist)', () => {
    expect(groupList(group, 'qemu', 107)).toEqual([36, 107, 990]);
  });

  // glibc nss_files: nss/fgetgrent_r.c LINE_PARSER (2642002380aa), nss/nss_files/files-parse.c
  // parse_list() (cc4d6614b592), nss/nss_readline.c (2642002380aa),
  // nss/nss_files/files-initgroups.c (6d7e8eda9b85)
  // glibc nss/fgetpwent_r.c LINE_PARSER (0ac35d181edd) + nss/nss_readline.c
  it('/etc/passwd as glibc reads it: GECOS/home/shell optional, strtoul uid/gid, leading blanks dropped', () => {
    const r = parsePasswd('qemu:x:107:107\n  kvmuser:x: 36:+36:\nbad:x:1x:1::/:/bin/sh\nshell:x:5:5::/:/bin/a:b\n');
    expect(r.ok && r.value.entries.map((e) => [e.name, e.uid, e.gid, e.shell])).toEqual([
      ['qemu', 107, 107, ''],
      ['kvmuser', 36, 36, ''],
      ['shell', 5, 5, '/bin/a:b'],
    ]);
    expect(r.ok && r.notes).toEqual(["/etc/passwd:3: skipped: uid '1x' is not a number"]);
  });

  describe('/etc/group as glibc nss_files reads it', () => {
    const g = (text: string): AccountDb<GroupEntry> => db(parseGroup(text));
    it('keeps trailing whitespace and a CR in a member name: "qemu " and "qemu\\r" are not qemu (false passes before)', () => {
      expect(groupList(g('kvm:x:36:qemu \n'), 'qemu', 107)).toEqual([107]);
      expect(groupList(g('kvm:x:36:qemu\r\n'), 'qemu', 107)).toEqual([107]);
      expect(groupList(g('kvm:x:36:libvirt-qemu,qemu\t\n'), 'qemu', 107)).toEqual([107]);
    });
    it('skips leading whitespace of each member and drops empty members (parse_list)', () => {
      expect(g('kvm:x:36: qemu,\tlibvirt-qemu,,\n').entries[0]?.members).toEqual(['qemu', 'libvirt-qemu']);
      expect(g('kvm:x:36:a b,c\n').entries[0]?.members).toEqual(['a b', 'c']);
    });
    it('reads the GID with strtoul: blanks and sign allowed, anything but ":" after it invalid; members optional', () => {
      expect(g('kvm:x: 36:qemu\n').entries.map((e) => e.gid)).toEqual([36]);
      expect(g('kvm:x:+36:qemu\n').entries.map((e) => e.gid)).toEqual([36]);
      expect(g('kvm:x:36\n').entries.map((e) => [e.gid, e.members])).toEqual([[36, []]]);
      expect(g('kvm:x:36x:qemu\nkvm2:x::qemu\n').entries).toEqual([]);
      expect(g('big:x:99999999999:\n').entries.map((e) => e.gid)).toEqual([0xffffffff]);
    });
    it('lookups skip comments and leading whitespace; initgroups reads a commented line as a group', () => {
      const db2 = g('  kvm:x:36:\n#sev:x:990:qemu\n   # x:x:5:qemu\n');
      expect(db2.entries.map((e) => e.name)).toEqual(['kvm']);
      expect(groupList(db2, 'qemu', 107)).toEqual([5, 107, 990]); // "   # x" is a group named "   # x" for initgroups
    });
  });
});

describe('os-release', () => {
  it('prettyName: the host line of a report, only when set (no "Linux" default), quotes as os-release(5) has them', () => {
    expect(prettyName('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\n')).toBe('Debian GNU/Linux 13 (trixie)');
    expect(prettyName("PRETTY_NAME='Fedora Linux 42'\n")).toBe('Fedora Linux 42');
    expect(prettyName('PRETTY_NAME="a \\"quoted\\" name"\n')).toBe('a "quoted" name');
    expect(prettyName('ID=debian\n')).toBeUndefined();
    expect(prettyName(undefined)).toBeUndefined();
  });
  it('parses quoting and ID_LIKE', () => {
    const r = parseOsRelease('NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME=\'RHEL 9\'\nX="a\\"b"\n');
    expect(r.ok && r.value).toMatchObject({ id: 'rhel', idLike: ['fedora'], versionId: '9.4', prettyName: 'RHEL 9' });
    expect(r.ok && r.value.fields.X).toBe('a"b');
  });
  it('defaults ID to linux and notes garbage lines', () => {
    const r = parseOsRelease('garbage line\nNAME="unterminated\n');
    expect(r.ok && r.value.id).toBe('linux');
    expect(r.ok && r.notes.length).toBe(2);
  });
});

describe('distro defaults (libvirt meson.build)', () => {
  it.each([
    ['ID=fedora', 'qemu', 'qemu'],
    ['ID="rhel"\nID_LIKE="fedora"', 'qemu', 'qemu'],
    ['ID="centos"\nID_LIKE="rhel fedora"', 'qemu', 'qemu'],
    ['ID="opensuse-leap"\nID_LIKE="suse opensuse"', 'qemu', 'qemu'],
    ['ID=ubuntu\nID_LIKE=debian', 'libvirt-qemu', 'kvm'],
    ['ID=debian', 'libvirt-qemu', 'libvirt-qemu'],
    ['ID=arch', 'libvirt-qemu', 'libvirt-qemu'],
    ['ID=alpine', 'root', 'root'],
  ])('%j -> %s:%s', (text, user, grp) => {
    expect(distroDefaultQemuUser(os(text))).toMatchObject({ user, group: grp });
  });
});

describe('resolveQemuIdentity', () => {
  it('Fedora default qemu:qemu with kvm and sev memberships', () => {
    const r = resolveQemuIdentity({ osRelease: os('ID=fedora'), passwd, group });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.identity).toMatchObject({ uid: 107, gid: 107, groups: [36, 107, 990], capDacOverride: false, userName: 'qemu' });
    expect(r.identity.description).toBe('qemu (uid 107), group qemu (gid 107), groups kvm(36),qemu(107),sev(990)');
    expect(r.identity.userSource).toMatch(/meson/);
  });

  it('Debian: gid libvirt-qemu but kvm (passwd primary group) still among the groups', () => {
    const r = resolveQemuIdentity({ osRelease: os('ID=debian'), passwd, group });
    expect(r.ok && r.identity).toMatchObject({ uid: 64055, gid: 64055, groups: [36, 64055] });
  });

  it('qemu.conf user = "+0": root, caps cleared by default (no CAP_DAC_OVERRIDE)', () => {
    const r = resolveQemuIdentity({ qemuConf: conf('user = "+0"\ngroup = "+0"\n'), passwd, group });
    expect(r.ok && r.identity).toMatchObject({ uid: 0, gid: 0, capDacOverride: false });
    expect(r.ok && r.notes.join()).toMatch(/clears its capabilities/);
  });

  it('root with clear_emulator_capabilities = 0 keeps CAP_DAC_OVERRIDE', () => {
    const r = resolveQemuIdentity({ qemuConf: conf('user = "root"\ngroup = "root"\nclear_emulator_capabilities = 0\n'), passwd, group });
    expect(r.ok && r.identity.capDacOverride).toBe(true);
  });

  it('"100" is a user name first (virGetUserID), a uid only if no such user', () => {
    const a = resolveQemuIdentity({ qemuConf: conf('user = "100"\ngroup = "kvm"\n'), passwd, group });
    expect(a.ok && a.identity.uid).toBe(4242);
    const b = resolveQemuIdentity({ qemuConf: conf('user = "555"\ngroup = "kvm"\n'), passwd, group });
    expect(b.ok && b.identity).toMatchObject({ uid: 555, gid: 36, groups: [36] });
  });

  it('only the user set in qemu.conf: group stays the compiled-in default', () => {
    const r = resolveQemuIdentity({ qemuConf: conf('user = "qemu"\n'), osRelease: os('ID=ubuntu\nID_LIKE=debian'), passwd, group });
    expect(r.ok && r.identity).toMatchObject({ uid: 107, gid: 36 });
    expect(r.ok && r.identity.groupSource).toMatch(/ubuntu/);
  });

  it('a user that does not exist cannot be resolved, and NIS lines are mentioned', () => {
    const r = resolveQemuIdentity({ qemuConf: conf('user = "ghost"\n'), passwd, group });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/user 'ghost' is not in \/etc\/passwd \(it has NIS compat lines/);
    expect(!r.ok && r.reason).toMatch(/qemu.conf:1 user = "ghost"/);
  });

  it('a missing group is reported', () => {
    const r = resolveQemuIdentity({ qemuConf: conf('user = "qemu"\ngroup = "nosuch"\n'), passwd, group });
    expect(!r.ok && r.reason).toMatch(/group 'nosuch' does not exist/);
  });
});
