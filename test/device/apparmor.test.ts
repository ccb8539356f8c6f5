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
    expect(includesOf('#include "/etc/apparmor.d/local/x"\ninclude if exists "/etc/apparmor.d/local/y"\ninclude "relative"\n')).toEqual([
      '/etc/apparmor.d/local/x',
      '/etc/apparmor.d/local/y',
    ]);
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

// AppArmor's own grammar and parser tests (apparmor/apparmor bda75d45653f): parser/apparmor.d.pod
// "FILE RULE", "Rule Qualifiers" (owner, deny, audit, priority); parser/parser_yacc.y opt_prefix and
// `rules: rules opt_prefix block`; parser/parser_lex.l comments; parser/tst/simple_tests/file/
// owner/ok_1.sd (owner blocks), ok_deny_3.sd (overlapping deny), priority/ok_1.sd, front_perms_ok_1.sd.
describe('AppArmor rules read as apparmor_parser reads them', () => {
  const v = (extra: string, ownerMatches?: boolean) =>
    apparmorSevVerdict({ enabled: true, files: [abstraction(extra)], ...(ownerMatches !== undefined ? { ownerMatches } : {}) });
  it('an owner rule grants /dev/sev only when QEMU owns it (false pass before)', () => {
    expect(v('  owner /dev/sev rw,\n').status).toBe('undecided');
    expect(v('  owner /dev/sev rw,\n', false).status).toBe('failed');
    expect(v('  owner /dev/sev rw,\n', false).message).toMatch(/does not own \/dev\/sev/);
    expect(v('  owner /dev/sev rw,\n', true).status).toBe('passed');
    expect(v('  other /dev/sev rw,\n', false).status).toBe('passed');
  });
  it('applies the prefix of a qualifier block to every rule in it (false passes before)', () => {
    expect(v('  deny {\n    /dev/sev rw,\n  }\n').status).toBe('failed');
    expect(v('  owner {\n    /dev/sev rw,\n\n    rw /dev/sev,\n  }\n', false).status).toBe('failed');
    expect(v('  audit {\n    /dev/sev rw,\n  }\n').status).toBe('passed');
  });
  it('reads rules by commas, not lines: a rule may span lines, two may share one (false passes before)', () => {
    expect(v('  deny\n    /dev/sev rw,\n').status).toBe('failed');
    expect(v('  /dev/sev rw,\n  /dev/vfio/vfio rw, deny /dev/sev w,\n').status).toBe('failed');
    expect(fileRules({ path: 'p', content: '/dev/kvm rw, /dev/sev\n r,' }).map((r) => [r.pattern, r.perms, r.line])).toEqual([
      ['/dev/kvm', 'rw', 1],
      ['/dev/sev', 'r', 1],
    ]);
  });
  it('honours priority=N: a higher-priority deny wins, a higher-priority allow overrides a deny (false pass before)', () => {
    expect(v('  /dev/sev rw,\n  priority=1 deny /dev/sev rw,\n').status).toBe('failed');
    expect(v('  priority=10 /dev/sev rw,\n  deny /dev/sev rw,\n').status).toBe('passed');
    expect(fileRules({ path: 'p', content: 'priority=-1 file r /foo1,\npriority=-1 file Px /foo2,\n' }).map((r) => [r.pattern, r.perms, r.priority])).toEqual([
      ['/foo1', 'r', -1],
      ['/foo2', 'Px', -1],
    ]);
  });
  it('an overlapping deny beats a glob allow; audit deny is a deny; prompt grants nothing', () => {
    expect(v('  /dev/** rw,\n  deny /dev/sev w,\n').status).toBe('failed');
    expect(v('  /dev/sev rw,\n  audit deny /dev/sev w,\n').status).toBe('failed');
    expect(v('  prompt /dev/sev rw,\n').status).toBe('failed');
    expect(v('  audit allow file rw /dev/sev,\n').status).toBe('passed');
  });
  it('comments start only where a token can; include lines and variable assignments are not rules', () => {
    expect(v('  /dev/sev rw, # trailing comment\n  # deny /dev/sev rw,\n').status).toBe('passed');
    expect(v('  /dev/s#ev rw,\n').status).toBe('failed'); // "#" inside a path is a character
    expect(fileRules({ path: 'p', content: 'include if exists <local/x>\n@{X}=/a /b\n/dev/sev rw,\n' }).map((r) => r.line)).toEqual([3]);
  });
  it('a bare `file,` or `all,` allows every path; `deny file,` denies them (parser_yacc.y file_rule, apparmor.d.pod "all rule")', () => {
    expect(v('  file,\n').status).toBe('passed');
    expect(v('  all,\n').status).toBe('passed');
    expect(v('  allow all,\n  /dev/sev rw,\n  deny file,\n').status).toBe('failed');
  });
  it('leaves out rules of a nested profile or hat', () => {
    expect(v('  ^hat {\n    /dev/sev rw,\n  }\n').status).toBe('failed');
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
