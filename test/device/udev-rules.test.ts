import { describe, expect, it } from 'vitest';
import {
  effectiveRuleFiles,
  evaluateDeviceRules,
  parseUdevRules,
  udevPatternMatches,
  type UdevRulesFile,
} from '../../support/parsers/udev-rules.js';
import { udevRuleVerdict } from '../../support/rules/device.js';
import { parseGroup, parsePasswd } from '../../support/parsers/passwd.js';

const groupR = parseGroup('root:x:0:\nkvm:x:36:\nsev:x:990:\n');
const passwdR = parsePasswd('root:x:0:0::/:/bin/sh\nqemu:x:107:107::/:/sbin/nologin\n');
const group = groupR.ok ? groupR.value : undefined;
const passwd = passwdR.ok ? passwdR.value : undefined;
const sev = (mode: number, uid = 0, gid = 0) => ({ path: '/dev/sev', type: 'char' as const, mode, uid, gid });
const f = (dir: string, name: string, content: string, masked = false): UdevRulesFile => ({ dir, name, content, masked });

describe('parseUdevRules', () => {
  it('parses keys, attrs, operators, continuations and comments', () => {
    const r = parseUdevRules('/etc/udev/rules.d/a.rules', '# c\n\nKERNEL=="sev", \\\n  SUBSYSTEM=="misc", GROUP:="kvm", MODE="0660"\nATTR{vendor}=="0x1022", ENV{X}="1"\n');
    expect(r.ok && r.value.map((x) => [x.line, x.keys.map((k) => `${k.key}${k.attr ? `{${k.attr}}` : ''}${k.op}${k.value}`)])).toEqual([
      [3, ['KERNEL==sev', 'SUBSYSTEM==misc', 'GROUP:=kvm', 'MODE=0660']],
      [5, ['ATTR{vendor}==0x1022', 'ENV{X}=1']],
    ]);
  });
  it('skips invalid lines with a note naming file:line (udev ignores them too)', () => {
    const r = parseUdevRules('x.rules', 'KERNEL=="sev" GROUP=kvm\nKERNEL=="sev", MODE="0660"\nnot a rule\n');
    expect(r.ok && r.value.length).toBe(1);
    expect(r.ok && r.notes).toEqual([
      'x.rules:1: invalid rule, ignored (GROUP: the value must be double-quoted (optionally prefixed e/i)): KERNEL=="sev" GROUP=kvm',
      'x.rules:3: invalid rule, ignored (no operator after not): not a rule',
    ]);
  });
  it('patterns: globs and | alternatives', () => {
    expect(udevPatternMatches('sev|sev-guest', 'sev')).toBe(true);
    expect(udevPatternMatches('se?', 'sev')).toBe(true);
    expect(udevPatternMatches('s[a-f]v', 'sev')).toBe(true);
    expect(udevPatternMatches('s[!e]v', 'sev')).toBe(false);
    expect(udevPatternMatches('sev*', 'sev-guest')).toBe(true);
    expect(udevPatternMatches('sev-guest', 'sev')).toBe(false);
    // fnmatch(3) without flags for globs, strcmp for plain strings (token_match_string())
    expect(udevPatternMatches('se\\v*', 'sev')).toBe(true);
    expect(udevPatternMatches('se\\v', 'sev')).toBe(false);
    expect(udevPatternMatches('s\\*v*', 's*v')).toBe(true);
    expect(udevPatternMatches('|sev', '')).toBe(true);
    expect(udevPatternMatches('*', 'a/b')).toBe(true);
    expect(udevPatternMatches('s[^a]v', 'sev')).toBe(true);
    // a rule file's reversed range matches nothing (glibc), and never stops the run with a RegExp error
    expect(udevPatternMatches('[z-a]*', 'sev')).toBe(false);
    expect(udevPatternMatches('[z-a]*|sev', 'sev')).toBe(true);
    // a "]" first in a set is a member of it
    expect(udevPatternMatches('[]s]ev', 'sev')).toBe(true);
  });
});

// systemd-udevd's own grammar (systemd/systemd 0052418bf8a2 src/udev/udev-rules.c:
// udev_rules_parse_file(), rule_add_line(), parse_line(), udev_rule_parse_value(), parse_token();
// 4b12ca06f3e5 src/basic/dirent-util.c dirent_is_file_with_suffix()).
describe('udev rules read as systemd-udevd reads them', () => {
  const qemu = { uid: 107, gid: 107, groups: [36, 107], capDacOverride: false };
  const verdictFor = (content: string, name = '65-sev.rules') =>
    udevRuleVerdict({ outcome: evaluateDeviceRules([f('/etc/udev/rules.d', name, content)]), stat: sev(0o660, 0, 36), group, passwd, qemuCanOpen: true, who: qemu });
  const keysOf = (content: string) => {
    const r = parseUdevRules('x.rules', content);
    return r.ok ? r.value.map((x) => [x.line, x.keys.map((k) => `${k.key}${k.op}${k.value}`).join(' ')]) : [];
  };
  it('drops a line whose key takes another operator: KERNEL="sev" (assignment) is not a match (false pass before)', () => {
    expect(keysOf('KERNEL="sev", GROUP="kvm", MODE="0660"\n')).toEqual([]);
    expect(verdictFor('KERNEL="sev", GROUP="kvm", MODE="0660"\n').status).toBe('failed');
  });
  it('drops a line with an unknown key, a -= or == on MODE/GROUP/OWNER, an {attr} where none belongs (false passes before)', () => {
    expect(keysOf('KERNEL=="sev", GRUOP="x", GROUP="kvm", MODE="0660"\n')).toEqual([]);
    expect(keysOf('KERNEL=="sev", GROUP="kvm", MODE-="0066"\n')).toEqual([]);
    expect(keysOf('KERNEL=="sev", GROUP=="kvm", MODE="0660"\n')).toEqual([]);
    expect(keysOf('KERNEL{x}=="sev", GROUP="kvm"\n')).toEqual([]);
    expect(keysOf('KERNEL=="sev", GOTO:="end"\n')).toEqual([]);
    expect(verdictFor('KERNEL=="sev", GROUP="kvm", MODE-="0066"\n').status).toBe('failed');
  });
  it('reads += on MODE/GROUP/OWNER as =', () => {
    expect(keysOf('KERNEL=="sev", GROUP+="kvm", MODE+="0660"\n')).toEqual([[1, 'KERNEL==sev GROUP=kvm MODE=0660']]);
  });
  it('takes values only double-quoted, with lowercase e/i prefixes; i only on matches, case-insensitive', () => {
    expect(keysOf('KERNEL==E"sev", GROUP="kvm"\n')).toEqual([]);
    expect(keysOf("KERNEL=='sev', GROUP=\"kvm\"\n")).toEqual([]);
    expect(keysOf('KERNEL=="sev", GROUP=i"kvm"\n')).toEqual([]);
    expect(keysOf('KERNEL==ie"s\\x65v", GROUP="k\\"vm"\n')).toEqual([[1, 'KERNEL==sev GROUP=k"vm']]);
    expect(verdictFor('KERNEL==i"SEV", GROUP="kvm"\n').status).toBe('passed');
  });
  it('ignores comment lines even inside a continuation, and a continuation open at EOF drops the line (false pass before)', () => {
    expect(keysOf('KERNEL=="sev", \\\n# MODE="0666", \\\n  GROUP="kvm"\n')).toEqual([[1, 'KERNEL==sev GROUP=kvm']]);
    expect(keysOf('# old rule \\\nKERNEL=="sev", GROUP="kvm"\n')).toEqual([[2, 'KERNEL==sev GROUP=kvm']]);
    const r = parseUdevRules('x.rules', 'KERNEL=="sev", GROUP="kvm", MODE="0660" \\');
    expect(r.ok && r.value).toEqual([]);
    expect(r.ok && r.notes.join()).toMatch(/continuation open at end of file/);
    expect(verdictFor('KERNEL=="sev", GROUP="kvm", MODE="0660" \\').status).toBe('failed');
  });
  it('skips leading commas and whitespace between keys, and accepts a missing comma (a style notice only)', () => {
    expect(keysOf(', KERNEL == "sev"   GROUP = "kvm",\n')).toEqual([[1, 'KERNEL==sev GROUP=kvm']]);
  });
  it('reads only *.rules files whose name does not start with "." (false pass before)', () => {
    expect(verdictFor('KERNEL=="sev", GROUP="kvm", MODE="0660"\n', '.65-sev.rules').status).toBe('failed');
    expect(verdictFor('KERNEL=="sev", GROUP="kvm", MODE="0660"\n', '65-sev.rules').status).toBe('passed');
  });
});

describe('precedence', () => {
  it('same name: /etc beats /run beats /usr/lib beats /lib; lexical order across directories; /dev/null masks', () => {
    const r = effectiveRuleFiles([
      f('/usr/lib/udev/rules.d', '50-udev-default.rules', 'KERNEL=="x", MODE="0600"'),
      f('/lib/udev/rules.d', '60-sev.rules', 'KERNEL=="sev", MODE="0600"'),
      f('/etc/udev/rules.d', '60-sev.rules', 'KERNEL=="sev", MODE="0660"'),
      f('/run/udev/rules.d', '10-early.rules', 'KERNEL=="sev", MODE="0644"'),
      f('/etc/udev/rules.d', '99-masked.rules', '', true),
      f('/usr/lib/udev/rules.d', '99-masked.rules', 'KERNEL=="sev", MODE="0666"'),
      f('/etc/udev/rules.d', 'README', 'not rules'),
    ]);
    expect(r.files.map((x) => `${x.dir}/${x.name}`)).toEqual([
      '/run/udev/rules.d/10-early.rules',
      '/usr/lib/udev/rules.d/50-udev-default.rules',
      '/etc/udev/rules.d/60-sev.rules',
    ]);
  });
});

describe('evaluateDeviceRules + udevRuleVerdict', () => {
  it('the last matching assignment wins and names file:line', () => {
    const o = evaluateDeviceRules([
      f('/usr/lib/udev/rules.d', '50-a.rules', 'SUBSYSTEM=="misc", KERNEL=="sev", GROUP="kvm", MODE="0660"'),
      f('/etc/udev/rules.d', '70-b.rules', '# site policy\nKERNEL=="sev", GROUP="sev"'),
    ]);
    expect(o.group).toMatchObject({ value: 'sev', rule: { path: '/etc/udev/rules.d/70-b.rules', line: 2 } });
    expect(o.mode).toMatchObject({ value: 0o660, rule: { path: '/usr/lib/udev/rules.d/50-a.rules', line: 1 } });
  });

  it(':= makes a value final', () => {
    const o = evaluateDeviceRules([
      f('/etc/udev/rules.d', '10-a.rules', 'KERNEL=="sev", MODE:="0600"'),
      f('/etc/udev/rules.d', '90-b.rules', 'KERNEL=="sev", MODE="0666"'),
    ]);
    expect(o.mode?.value).toBe(0o600);
    expect(o.notes.join()).toMatch(/made final/);
  });

  it('non-matching rules, != and GOTO/LABEL are followed', () => {
    const o = evaluateDeviceRules([
      f('/etc/udev/rules.d', '10-a.rules', [
        'KERNEL=="kvm", MODE="0666"',
        'SUBSYSTEM!="misc", MODE="0666"',
        'ACTION!="add", GOTO="end"',
        'KERNEL=="sev", GOTO="skip"',
        'KERNEL=="sev", MODE="0666"',
        'LABEL="skip"',
        'KERNEL=="sev", GROUP="kvm"',
        'LABEL="end"',
      ].join('\n')),
    ]);
    expect(o.mode).toBeUndefined();
    expect(o.group?.value).toBe('kvm');
  });

  it('rules depending on attributes are reported as uncertain, not applied', () => {
    const o = evaluateDeviceRules([f('/etc/udev/rules.d', '10-a.rules', 'KERNEL=="sev", ATTR{foo}=="1", MODE="0666"')]);
    expect(o.mode).toBeUndefined();
    expect(o.uncertain).toHaveLength(1);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o600) }).status).toBe('undecided');
  });

  it('GROUP without MODE means 0660 (udev-node.c); the live node matching passes', () => {
    const o = evaluateDeviceRules([f('/etc/udev/rules.d', '65-sev.rules', 'KERNEL=="sev", GROUP="kvm"')]);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o660, 0, 36), group, passwd })).toMatchObject({ status: 'passed' });
  });

  it('rule not applied to the live node: failed with udevadm trigger fix', () => {
    const o = evaluateDeviceRules([f('/etc/udev/rules.d', '65-sev.rules', 'KERNEL=="sev", GROUP="kvm", MODE="0660"')]);
    const v = udevRuleVerdict({ outcome: o, stat: sev(0o600, 0, 0), group, passwd });
    expect(v.status).toBe('failed');
    expect(v.message).toContain('mode 0600 instead of 0660, gid 0 instead of 36');
    expect(v.message).toContain('/etc/udev/rules.d/65-sev.rules:1');
    expect(v.message).toContain('udevadm trigger --action=add --sysname-match=sev');
  });

  const qemuWho = { uid: 107, gid: 107, groups: [36, 107], capDacOverride: false };
  const rootWho = { uid: 0, gid: 0, groups: [0], capDacOverride: false };
  it('no rule: passes only if QEMU can open the node as the kernel creates it (0600 root:root)', () => {
    const o = evaluateDeviceRules([f('/usr/lib/udev/rules.d', '50-udev-default.rules', 'KERNEL=="kvm", GROUP="kvm", MODE="0666"')]);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o600), qemuCanOpen: true, who: rootWho }).status).toBe('passed');
    const v = udevRuleVerdict({ outcome: o, stat: sev(0o600), qemuCanOpen: false, who: qemuWho });
    expect(v.status).toBe('failed');
    expect(v.message).toContain('no udev rule for /dev/sev');
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o600), qemuCanOpen: true }).status).toBe('undecided');
  });

  it("a node's current mode is not a rule: a chmod'ed /dev/sev without a rule fails (false pass before)", () => {
    const o = evaluateDeviceRules([f('/usr/lib/udev/rules.d', '50-udev-default.rules', 'KERNEL=="kvm", GROUP="kvm", MODE="0666"')]);
    const v = udevRuleVerdict({ outcome: o, stat: sev(0o666), qemuCanOpen: true, who: qemuWho });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/0666 uid 0 gid 0 now, but that was set by hand and is lost at reboot: the kernel creates it 0600 uid 0 gid 0/);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o660, 0, 36), qemuCanOpen: true, who: qemuWho }).status).toBe('failed');
  });

  it('an unknown group name is undecided, not a guess', () => {
    const o = evaluateDeviceRules([f('/etc/udev/rules.d', '65-sev.rules', 'KERNEL=="sev", GROUP="nosuch"')]);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o660), group }).status).toBe('undecided');
  });

  it('bad MODE and substitutions are noted', () => {
    const o = evaluateDeviceRules([f('/etc/udev/rules.d', '65-sev.rules', 'KERNEL=="sev", MODE="rw-rw----"\nKERNEL=="sev", OWNER="$env{X}"')]);
    expect(o.mode).toBeUndefined();
    expect(o.notes.join('\n')).toMatch(/not octal/);
    expect(o.notes.join('\n')).toMatch(/substitution/);
  });
});
