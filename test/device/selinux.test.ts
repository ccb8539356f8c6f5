import { describe, expect, it } from 'vitest';
import {
  parseContext,
  parseEnforceFile,
  parseGetenforce,
  parseLsZ,
  parseSelinuxXattr,
  parseStatContext,
  sevLabelVerdict,
} from '../../support/parsers/selinux.js';

describe('SELinux mode', () => {
  it.each([
    ['Enforcing\n', 'enforcing'],
    ['Permissive', 'permissive'],
    ['Disabled\n', 'disabled'],
  ])('getenforce %j', (t, m) => expect(parseGetenforce(t)).toMatchObject({ ok: true, value: m }));
  it('rejects other getenforce output', () => expect(parseGetenforce('bash: getenforce: command not found').ok).toBe(false));
  it('enforce file', () => {
    expect(parseEnforceFile('1\n')).toMatchObject({ value: 'enforcing' });
    expect(parseEnforceFile('0')).toMatchObject({ value: 'permissive' });
    expect(parseEnforceFile('2').ok).toBe(false);
  });
});

describe('contexts', () => {
  it('splits on the first three colons; MCS level keeps its colons', () => {
    expect(parseContext('system_u:system_r:svirt_t:s0:c226,c540')).toMatchObject({ user: 'system_u', role: 'system_r', type: 'svirt_t', level: 's0:c226,c540' });
    expect(parseContext('system_u:object_r:sev_device_t:s0-s0:c0.c1023')?.level).toBe('s0-s0:c0.c1023');
    expect(parseContext('user_u:object_r:foo_t')?.level).toBeUndefined();
    expect(parseContext('nonsense')).toBeUndefined();
    expect(parseContext('a:b')).toBeUndefined();
    expect(parseContext('a b:c:d')).toBeUndefined();
  });
  it('stat -c %C, ls -Z, ls -lZ (old and new), xattr', () => {
    expect(parseStatContext('system_u:object_r:sev_device_t:s0\n')).toMatchObject({ ok: true, value: { type: 'sev_device_t' } });
    expect(parseStatContext('?\n')).toMatchObject({ ok: true, value: undefined });
    expect(parseStatContext('garbage').ok).toBe(false);
    expect(parseLsZ('system_u:object_r:sev_device_t:s0 /dev/sev\n')).toMatchObject({ ok: true, value: { type: 'sev_device_t' } });
    expect(parseLsZ('crw-------. 1 root root system_u:object_r:device_t:s0 10, 124 Apr  1 12:00 /dev/sev')).toMatchObject({ value: { type: 'device_t' } });
    expect(parseLsZ('crw-rw----. root kvm system_u:object_r:kvm_device_t:s0 /dev/kvm')).toMatchObject({ value: { type: 'kvm_device_t' } });
    expect(parseLsZ('? /dev/sev')).toMatchObject({ ok: true, value: undefined });
    expect(parseLsZ('ls: cannot access /dev/sev: No such file or directory').ok).toBe(false);
    expect(parseLsZ('a\nb').ok).toBe(false);
    expect(parseSelinuxXattr(Buffer.from('system_u:object_r:sev_device_t:s0\0'))).toMatchObject({ ok: true, value: { type: 'sev_device_t' } });
    expect(parseSelinuxXattr(Buffer.from([0xff, 0x00])).ok).toBe(false);
  });
  it('sev label verdict', () => {
    const sevT = parseContext('system_u:object_r:sev_device_t:s0');
    const devT = parseContext('system_u:object_r:device_t:s0');
    expect(sevLabelVerdict('enforcing', sevT).status).toBe('passed');
    expect(sevLabelVerdict('disabled', devT).status).toBe('skipped');
    const v = sevLabelVerdict('enforcing', devT);
    expect(v.status).toBe('failed');
    expect(v.message).toContain('restorecon -v /dev/sev');
  });
});
