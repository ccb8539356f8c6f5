import { describe, expect, it } from 'vitest';
import { aaGlob, apparmorSevVerdict, fileRules, includesOf, LIBVIRT_QEMU_ABSTRACTION } from '../../support/device/apparmor.js';
import { parseLsAclFlag } from '../../support/parsers/getfacl.js';

const abstraction = (extra = '') => ({ path: LIBVIRT_QEMU_ABSTRACTION, content: `  #include <abstractions/base>\n  /dev/kvm rw,\n  /dev/net/tun rw,\n${extra}  include if exists <abstractions/libvirt-qemu.d>\n` });

describe('AppArmor profile fragments', () => {
  it('reads file rules in both orders, with qualifiers, quotes and comments', () => {
    const rules = fileRules({ path: 'p', content: '  /dev/kvm rw,\n  deny "/dev/sev" w, # no\n  owner rw /dev/shm/x,\n  capability ipc_lock,\n  # /dev/sev rw,\n' });
    expect(rules.map((r) => [r.pattern, r.perms, r.deny])).toEqual([
      ['/dev/kvm', 'rw', false],
      ['/dev/sev', 'w', true],
      ['/dev/shm/x', 'rw', false],
    ]);
  });

  it('globs: *, **, {a,b}, [..]', () => {
    expect(aaGlob('/dev/{kvm,sev}').test('/dev/sev')).toBe(true);
    expect(aaGlob('/dev/se?').test('/dev/sev')).toBe(true);
    expect(aaGlob('/dev/*').test('/dev/sev')).toBe(true);
    expect(aaGlob('/dev/*').test('/dev/net/tun')).toBe(false);
    expect(aaGlob('/dev/**').test('/dev/net/tun')).toBe(true);
    expect(aaGlob('/dev/sev[0-9]').test('/dev/sev')).toBe(false);
  });

  it('finds the includes', () => {
    expect(includesOf(abstraction().content)).toEqual(['/etc/apparmor.d/abstractions/base', '/etc/apparmor.d/abstractions/libvirt-qemu.d']);
  });
});

describe('selinux.apparmor-sev', () => {
  it("libvirt's stock abstraction (no /dev/sev) fails with the rule to add", () => {
    const v = apparmorSevVerdict({ enabled: true, files: [abstraction()] });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/fix: echo '  \/dev\/sev rw,' > \/etc\/apparmor.d\/abstractions\/libvirt-qemu.d\/sev/);
  });

  it('a rule in libvirt-qemu.d or the abstraction passes; a deny or r-only rule fails', () => {
    expect(apparmorSevVerdict({ enabled: true, files: [abstraction(), { path: `${LIBVIRT_QEMU_ABSTRACTION}.d/sev`, content: '/dev/sev rw,\n' }] }).status).toBe('passed');
    expect(apparmorSevVerdict({ enabled: true, files: [abstraction('  /dev/{kvm,sev} rw,\n')] }).status).toBe('passed');
    expect(apparmorSevVerdict({ enabled: true, files: [abstraction('  /dev/sev rw,\n  deny /dev/sev w,\n')] }).message).toMatch(/denies/);
    expect(apparmorSevVerdict({ enabled: true, files: [abstraction('  /dev/sev r,\n')] }).message).toMatch(/only/);
  });

  it('skips without AppArmor, with another security driver, or without the abstraction', () => {
    expect(apparmorSevVerdict({ enabled: false, files: [] }).status).toBe('skipped');
    expect(apparmorSevVerdict({ enabled: true, securityDriver: ['none'], files: [abstraction()] }).status).toBe('skipped');
    expect(apparmorSevVerdict({ enabled: true, files: [] }).status).toBe('skipped');
  });
});

describe('ls -ld ACL flag', () => {
  it('"+" means an ACL, "." or nothing means none; garbage is an error', () => {
    expect(parseLsAclFlag('crw-rw----+ 1 root kvm 10, 124 Sep 30 09:00 /dev/sev\n')).toMatchObject({ ok: true, value: true });
    expect(parseLsAclFlag('crw-rw----. 1 root kvm 10, 124 Sep 30 09:00 /dev/sev\n')).toMatchObject({ ok: true, value: false });
    expect(parseLsAclFlag('crw------- 1 root root 10, 232 Nov 19 17:40 /dev/kvm\n')).toMatchObject({ ok: true, value: false });
    expect(parseLsAclFlag('ls: cannot access')).toMatchObject({ ok: false });
    expect(parseLsAclFlag('')).toMatchObject({ ok: false });
  });
});
