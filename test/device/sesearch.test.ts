import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evalCondition, parseGetsebool, parseSesearch, policyAccess, svirtAccessVerdict } from '../../support/parsers/sesearch.js';

const sample = (name: string): string => readFileSync(new URL(`../../fixtures/device-samples/${name}`, import.meta.url), 'utf8');

describe('parseSesearch on recorded Debian 12 output (setools 4.4.1, selinux-policy-default 2:2.20221101-9)', () => {
  it('svirt_t chr_file: 25 rules, attributes, single perms and conditionals', () => {
    const r = parseSesearch(sample('sesearch-svirt-chr-file-debian12.stdout'));
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.kind !== 'rules') return;
    expect(r.value.rules).toHaveLength(25);
    const evdev = r.value.rules.find((x) => x.target === 'event_device_t');
    expect(evdev).toMatchObject({ source: 'svirt_t', tclass: 'chr_file', perms: ['ioctl'], condition: { expr: 'virt_use_evdev', branch: true } });
    const kvm = r.value.rules.find((x) => x.target === 'kvm_device_t');
    expect(kvm).toMatchObject({ source: 'virt_domain', perms: ['append', 'getattr', 'ioctl', 'lock', 'open', 'read', 'write'] });
    expect(kvm?.condition).toBeUndefined();
  });

  it('svirt_t -> kvm_device_t grants what QEMU needs (an attribute rule)', () => {
    const r = parseSesearch(sample('sesearch-svirt-kvm-debian12.stdout'));
    expect(r.ok && svirtAccessVerdict(r.value, new Map(), 'svirt_t', 'kvm_device_t').status).toBe('passed');
  });

  it('sev_device_t unknown in refpolicy: exit 1 with the message on stdout -> failed', () => {
    expect(sample('sesearch-svirt-sev-debian12.exitcode').trim()).toBe('1');
    const r = parseSesearch(sample('sesearch-svirt-sev-debian12.stdout'));
    expect(r.ok && r.value).toEqual({ kind: 'unknown-type', name: 'sev_device_t', text: 'sev_device_t is not a valid type attribute' });
    if (!r.ok) return;
    const v = svirtAccessVerdict(r.value);
    expect(v.status).toBe('failed');
    expect(v.message).toContain('has no type sev_device_t');
  });

  it('no rule at all (svirt_t -> device_t, empty output) -> failed', () => {
    const r = parseSesearch(sample('sesearch-svirt-device-t-debian12.stdout'));
    expect(r.ok && r.value).toEqual({ kind: 'rules', rules: [] });
    if (r.ok) expect(svirtAccessVerdict(r.value, new Map(), 'svirt_t', 'device_t').message).toContain('grants nothing (no rule)');
  });
});

describe('conditional rules (authored sample)', () => {
  const r = parseSesearch(sample('sesearch-svirt-sev-authored.stdout'));
  const res = r.ok ? r.value : undefined;
  it('unknown boolean state -> undecided naming the boolean', () => {
    const v = svirtAccessVerdict(res!);
    expect(v.status).toBe('undecided');
    expect(v.message).toContain('[ virt_use_sev ]:True');
  });
  it('boolean on -> passed; off -> failed missing ioctl write', () => {
    expect(svirtAccessVerdict(res!, new Map([['virt_use_sev', true]])).status).toBe('passed');
    const off = svirtAccessVerdict(res!, new Map([['virt_use_sev', false]]));
    expect(off.status).toBe('failed');
    expect(off.message).toContain('missing: write ioctl');
  });
  it('policyAccess splits granted / missing / conditional', () => {
    if (res?.kind !== 'rules') throw new Error('fixture');
    expect(policyAccess(res)).toMatchObject({ granted: ['open', 'read'], missing: ['write', 'ioctl'] });
  });
});

describe('evalCondition', () => {
  const b = new Map([['a', true], ['b', false]]);
  it.each([
    ['a', true],
    ['!a', false],
    ['a && b', false],
    ['a || b', true],
    ['a ^ b', true],
    ['a == b', false],
    ['a != b', true],
    ['!(a && b) && a', true],
    ['c', undefined],
    ['a && (', undefined],
  ])('%s', (expr, want) => expect(evalCondition(expr, b)).toBe(want));
});

describe('malformed sesearch output', () => {
  it.each([
    ['allow svirt_t sev_device_t:chr_file { open read', 1],
    ['Traceback (most recent call last):', 1],
    ['allow svirt_t sev_device_t:chr_file { open };\nrandom text', 2],
    ['allow svirt_t sev_device_t:chr_file open read;', 1],
  ])('%j -> parse error at line %i', (text, line) => {
    const r = parseSesearch(text);
    expect(!r.ok && r.error.line).toBe(line);
  });
  it('allowxperm and dontaudit are noted', () => {
    const r = parseSesearch('allowxperm svirt_t sev_device_t:chr_file ioctl { 0x5300 };\ndontaudit svirt_t sev_device_t:chr_file getattr;\n');
    expect(r.ok && r.notes.length).toBe(2);
  });
});

describe('getsebool -a', () => {
  it('parses and rejects garbage', () => {
    const r = parseGetsebool('virt_use_nfs --> on\nvirt_use_sev --> off pending: on\n');
    expect(r.ok && [...r.value]).toEqual([['virt_use_nfs', true], ['virt_use_sev', false]]);
    expect(parseGetsebool('getsebool:  SELinux is disabled').ok).toBe(false);
  });
});
