import { describe, expect, it } from 'vitest';
import { parseIdSpec, parseQemuConf, parseVirConf } from '../../support/parsers/qemu-conf.js';
import { cgroupAclVerdict } from '../../support/device/cgroup-acl.js';
import { formatParseError, toInputError } from '../../support/parsers/parse-result.js';

const sample = `# Master configuration file for the QEMU driver.
#user = "qemu"

user = "+107"   # numeric
group = 'kvm'
dynamic_ownership = 0
remember_owner = 1
security_driver = [ "selinux", "apparmor" ]
cgroup_device_acl = [
    "/dev/null", "/dev/full", "/dev/zero",
    "/dev/random", "/dev/urandom",
    "/dev/ptmx", "/dev/kvm", "/dev/sev",
]
namespaces = []
clear_emulator_capabilities = 1
`;

describe('parseVirConf (libvirt virconf.c grammar)', () => {
  it('parses strings, numbers, multi-line lists with a trailing comma, and comments', () => {
    const r = parseVirConf(sample);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const names = r.value.map((e) => e.name);
    expect(names).toEqual(['user', 'group', 'dynamic_ownership', 'remember_owner', 'security_driver', 'cgroup_device_acl', 'namespaces', 'clear_emulator_capabilities']);
    const acl = r.value.find((e) => e.name === 'cgroup_device_acl');
    expect(acl?.line).toBe(9);
    expect(acl?.value.type === 'list' && acl.value.items.length).toBe(8);
  });

  it('handles ; separators, triple-quoted strings and CRLF', () => {
    const r = parseVirConf('a = 1; b = "x"\r\nc = """multi\nline"""\nd = -5\n');
    expect(r.ok && r.value.map((e) => [e.name, e.value.type === 'string' ? e.value.value : e.value.type === 'number' ? e.value.value : 'list'])).toEqual([
      ['a', 1],
      ['b', 'x'],
      ['c', 'multi\nline'],
      ['d', -5],
    ]);
  });

  it('treats backslashes literally: the format has no escape sequences', () => {
    const r = parseVirConf('p = "C:\\\\tmp\\n"\n');
    expect(r.ok && r.value[0]?.value).toMatchObject({ type: 'string', value: 'C:\\\\tmp\\n' });
  });

  it.each([
    ['user = "qemu', 1, 'unterminated string'],
    ['user = \'qemu\n', 1, 'unterminated string'],
    ['user "qemu"', 1, 'expecting an assignment'],
    ['= "x"', 1, 'expecting a name'],
    ['9lives = 1', 1, 'expecting a name'],
    ['x = ', 1, 'expecting a value'],
    ['x = qemu', 1, 'expecting a value'],
    ['x = 0x10', 1, 'expecting a separator'],
    ['x = +', 1, 'unterminated number'],
    ['a = 1\nb = [ "x" "y" ]', 2, 'expecting a separator in list'],
    ['a = [\n  "x", # comment\n  "y" ]', 2, 'expecting a value'],
    ['a = [\n  "x" # comment\n  ]', 2, 'expecting a separator in list'],
    ['a = [ "x",\n "y"\n', 3, 'list is not closed with ]'],
    ['a = 1 b = 2', 1, 'expecting a separator'],
    ['a = """never closed\n\n', 1, 'unterminated string'],
  ])('rejects %j at line %i (%s)', (text, line, problem) => {
    const r = parseVirConf(text, 'qemu.conf');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual({ source: 'qemu.conf', line, problem });
  });

  it('accepts empty and comment-only files', () => {
    expect(parseVirConf('').ok).toBe(true);
    expect(parseVirConf('# only\n\n   # comments\n').ok).toBe(true);
  });
});

// libvirt's own virconf tests and grammar: libvirt/libvirt tests/virconftest.c (0d94f0245507)
// testConfMemoryNoNewline / testConfParseInt / testConfParseBool / testConfParseStringList,
// tests/confdata/fc4.conf (3bbac7cdb670), tests/confdata/no-newline.conf (3cc2a9e0d412);
// src/util/virconf.c (04e90f72a73d) virConfParseStatement/ParseLong/ParseString.
describe('virconf as libvirt reads it (libvirt test suite)', () => {
  const entries = (text: string) => {
    const r = parseVirConf(text);
    if (!r.ok) throw new Error(r.error.problem);
    return Object.fromEntries(r.value.map((e) => [e.name, e.value]));
  };
  it('fc4.conf: comments after values, both quote kinds, nested lists', () => {
    const e = entries('kernel="/boot/vmlinuz-2.6.15-1.2054_FC5xenU"\nmemory=128 # should be enough\nvif = [ \'mac=aa:00:00:00:00:11, bridge=xenbr0\' ]\n# just for testing ...\ntst = [ 1, 2, [ 3, 4 ], 5]\n');
    expect(e.memory).toMatchObject({ type: 'number', value: 128, signed: false });
    expect(e.vif).toMatchObject({ type: 'list', items: [{ type: 'string', value: 'mac=aa:00:00:00:00:11, bridge=xenbr0' }] });
    expect(e.tst).toMatchObject({ type: 'list', items: [{ value: 1 }, { value: 2 }, { type: 'list', items: [{ value: 3 }, { value: 4 }] }, { value: 5 }] });
  });
  it('no-newline.conf and memory-no-newline: the last statement needs no newline', () => {
    expect(entries('log_level=1').log_level).toMatchObject({ type: 'number', value: 1 });
    const e = entries("ullong = '123456789'\nstring = 'foo'\nuint = 12345");
    expect([e.ullong?.type, e.string?.type, e.uint?.type]).toEqual(['string', 'string', 'number']);
  });
  it('testConfParseInt: a leading "-" makes a signed (LLONG) value, digits alone unsigned', () => {
    const e = entries('int = -1729\nuint = 1729\nllong = -6963472309248\nullong = +6963472309248\n');
    expect([e.int, e.uint, e.llong, e.ullong].map((v) => v && v.type === 'number' && [v.value, v.signed])).toEqual([
      [-1729, true],
      [1729, false],
      [-6963472309248, true],
      [6963472309248, false],
    ]);
  });
  it('testConfParseBool: only unsigned 0/1 are bools; a larger number or a string is an error', () => {
    expect(parseQemuConf('dynamic_ownership = 0\nremember_owner = 1\n')).toMatchObject({ ok: true, value: { dynamicOwnership: false, rememberOwner: true } });
    expect(parseQemuConf('dynamic_ownership = 6963472309248\n')).toMatchObject({ ok: false, error: { problem: "value for 'dynamic_ownership' parameter must be 0 or 1" } });
    expect(parseQemuConf('dynamic_ownership = "1"\n')).toMatchObject({ ok: false, error: { problem: "expected a bool for 'dynamic_ownership' parameter" } });
    expect(parseQemuConf('dynamic_ownership = -0\n')).toMatchObject({ ok: false, error: { problem: "expected a bool for 'dynamic_ownership' parameter" } });
  });
  it('testConfParseStringList: a list of strings; a plain string only where compatString is set', () => {
    expect(parseQemuConf('namespaces = ["foo", "bar"]\n')).toMatchObject({ ok: true, value: { namespaces: ['foo', 'bar'] } });
    expect(parseQemuConf('namespaces = "foo"\n').ok).toBe(false);
    expect(parseQemuConf('security_driver = "foo"\n')).toMatchObject({ ok: true, value: { securityDriver: ['foo'] } });
  });
  it('a file of nothing but blank lines is a syntax error for libvirt (it accepted before)', () => {
    expect(parseVirConf('\n\n', 'qemu.conf')).toMatchObject({ ok: false, error: { line: 3, problem: 'expecting a name' } });
    expect(parseVirConf('   ', 'qemu.conf')).toMatchObject({ ok: false, error: { problem: 'expecting a name' } });
    expect(parseVirConf('a = 1\n\n\n   \n').ok).toBe(true); // trailing blanks are the separator's
  });
  it('a huge number wraps as in virConfParseLong instead of failing the file (failed before)', () => {
    expect(entries('max_core = 99999999999999999999\n').max_core).toMatchObject({ type: 'number', signed: false });
    // 2^64 + 1 wraps to 1: libvirt reads it as true
    expect(parseQemuConf('dynamic_ownership = 18446744073709551617\n')).toMatchObject({ ok: true, value: { dynamicOwnership: true } });
  });
  it('a triple quote needs at least 7 characters left to open a """ string', () => {
    expect(parseVirConf('a = """x"""\n').ok).toBe(true);
    expect(parseVirConf('a = """"""').ok).toBe(false); // 6 left: read as "" then "" → "expecting a separator"
  });
});

describe('parseQemuConf (typed like qemu_conf.c)', () => {
  it('exposes the device-layer keys', () => {
    const r = parseQemuConf(sample);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.value;
    expect(c.user).toEqual({ kind: 'id', id: 107, text: '+107' });
    expect(c.group).toEqual({ kind: 'name', name: 'kvm', text: 'kvm' });
    expect(c.dynamicOwnership).toBe(false);
    expect(c.rememberOwner).toBe(true);
    expect(c.clearEmulatorCapabilities).toBe(true);
    expect(c.securityDriver).toEqual(['selinux', 'apparmor']);
    expect(c.cgroupDeviceAcl).toContain('/dev/sev');
    expect(c.namespaces).toEqual([]);
    expect(c.lines.user).toBe(4);
  });

  it('security_driver may be a plain string; cgroup_device_acl may not', () => {
    const ok1 = parseQemuConf('security_driver = "none"\n');
    expect(ok1.ok && ok1.value.securityDriver).toEqual(['none']);
    const bad = parseQemuConf('cgroup_device_acl = "/dev/sev"\n', 'q.conf');
    expect(!bad.ok && bad.error).toEqual({ source: 'q.conf', line: 1, problem: "expected a string list for 'cgroup_device_acl' parameter" });
  });

  it.each([
    ['user = 107', "expected a string for 'user' parameter"],
    ['dynamic_ownership = 2', "value for 'dynamic_ownership' parameter must be 0 or 1"],
    ['dynamic_ownership = "1"', "expected a bool for 'dynamic_ownership' parameter"],
    ['remember_owner = -1', "expected a bool for 'remember_owner' parameter"],
    ['namespaces = [ "mount", 1 ]', "expected a string list for 'namespaces' parameter"],
    ['user = "+qemu"', "Failed to parse user '+qemu'"],
    ['group = ""', "Failed to parse group ''"],
  ])('type error %j', (text, problem) => {
    const r = parseQemuConf(`${text}\n`);
    expect(!r.ok && r.error.problem).toBe(problem);
  });

  it('first assignment wins (virConfGetValue walks from the head) and the duplicate is noted', () => {
    const r = parseQemuConf('user = "qemu"\nuser = "root"\n');
    expect(r.ok && r.value.user).toMatchObject({ name: 'qemu' });
    expect(r.ok && r.notes[0]).toMatch(/:2: 'user' set again; libvirt uses the first setting \(line 1\)/);
  });

  it('parse errors format as file:line and convert to InputError', () => {
    const r = parseQemuConf('user = "x\n', '/etc/libvirt/qemu.conf');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatParseError(r.error)).toBe('/etc/libvirt/qemu.conf:1: unterminated string');
    expect(toInputError(r.error).message).toBe('/etc/libvirt/qemu.conf:1: unterminated string');
  });
});

describe('parseIdSpec (virGetUserID)', () => {
  it.each([
    ['+0', { kind: 'id', id: 0, text: '+0' }],
    ['qemu', { kind: 'name', name: 'qemu', text: 'qemu' }],
    ['100', { kind: 'name', name: '100', numericFallback: 100, text: '100' }],
  ])('%s', (t, want) => expect(parseIdSpec(t)).toEqual(want));
  it.each(['+', '+-1', '+1x', ''])('rejects %j', (t) => expect(parseIdSpec(t)).toBeUndefined());
});

describe('cgroupAclVerdict', () => {
  const conf = (t: string) => {
    const r = parseQemuConf(t, 'qemu.conf');
    if (!r.ok) throw new Error('fixture');
    return r.value;
  };
  it('passes without a custom list and with /dev/sev in it', () => {
    expect(cgroupAclVerdict(conf('')).status).toBe('passed');
    expect(cgroupAclVerdict(conf('cgroup_device_acl = [ "/dev/sev" ]')).status).toBe('passed');
  });
  it('fails a custom list without /dev/sev, naming the line and the fix', () => {
    const v = cgroupAclVerdict(conf('\ncgroup_device_acl = [ "/dev/null", "/dev/kvm" ]'));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('qemu.conf:2');
    expect(v.message).toContain('add "/dev/sev"');
    expect(cgroupAclVerdict(conf('cgroup_device_acl = [ "/dev/kvm" ]'), { libvirtAllowsSevItself: true }).status).toBe('passed');
  });
});
