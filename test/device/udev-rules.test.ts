import { describe, expect, it } from 'vitest';
import {
  effectiveRuleFiles,
  evaluateDeviceRules,
  parseUdevRules,
  udevPatternMatches,
  udevRuleVerdict,
  type UdevRulesFile,
} from '../../support/parsers/udev-rules.js';
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
    expect(r.ok && r.notes).toEqual(['x.rules:1: invalid rule, ignored: KERNEL=="sev" GROUP=kvm', 'x.rules:3: invalid rule, ignored: not a rule']);
  });
  it('patterns: globs and | alternatives', () => {
    expect(udevPatternMatches('sev|sev-guest', 'sev')).toBe(true);
    expect(udevPatternMatches('se?', 'sev')).toBe(true);
    expect(udevPatternMatches('s[a-f]v', 'sev')).toBe(true);
    expect(udevPatternMatches('s[!e]v', 'sev')).toBe(false);
    expect(udevPatternMatches('sev*', 'sev-guest')).toBe(true);
    expect(udevPatternMatches('sev-guest', 'sev')).toBe(false);
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

  it('no rule: passes only if QEMU can open the kernel default', () => {
    const o = evaluateDeviceRules([f('/usr/lib/udev/rules.d', '50-udev-default.rules', 'KERNEL=="kvm", GROUP="kvm", MODE="0666"')]);
    expect(udevRuleVerdict({ outcome: o, stat: sev(0o600), qemuCanOpen: true }).status).toBe('passed');
    const v = udevRuleVerdict({ outcome: o, stat: sev(0o600), qemuCanOpen: false });
    expect(v.status).toBe('failed');
    expect(v.message).toContain('no udev rule for /dev/sev');
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
