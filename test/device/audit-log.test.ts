import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { avcVerdict, parseAvcDenials, sevDenials } from '../../support/parsers/audit-log.js';

const sample = (name: string): string => readFileSync(new URL(`../../fixtures/device-samples/${name}`, import.meta.url), 'utf8');

describe('parseAvcDenials', () => {
  it('raw audit.log: denials with time, comm, perms, contexts; skips granted and non-AVC records; decodes hex comm', () => {
    const r = parseAvcDenials(sample('audit-avc-sev-authored.log'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toHaveLength(3);
    expect(r.value[0]).toMatchObject({
      epochMs: 1554136342383,
      serial: 297,
      comm: 'qemu-kvm',
      pid: 3263,
      permissions: ['read', 'write'],
      scontext: 'system_u:system_r:svirt_t:s0:c226,c540',
      tcontext: 'system_u:object_r:device_t:s0',
      tclass: 'chr_file',
      name: 'sev',
      permissive: false,
    });
    expect(r.value[1]).toMatchObject({ path: '/dev/sev', permissive: true, tcontext: 'system_u:object_r:sev_device_t:s0' });
    expect(r.value[2]?.comm).toBe('systemd-journal');
    expect(sevDenials(r.value).map((d) => d.serial)).toEqual([297, 310]);
  });

  it('ausearch -i (interpreted time, unquoted values)', () => {
    const r = parseAvcDenials(sample('ausearch-i-avc-authored.txt'), 'ausearch -m avc -i');
    expect(r.ok && r.value[0]).toMatchObject({ timeText: '04/01/2019 12:32:22.383', serial: 297, comm: 'qemu-kvm', permissions: ['ioctl'] });
    expect(r.ok && r.value[0]?.epochMs).toBeUndefined();
  });

  it('kernel log form and <no matches>', () => {
    const r = parseAvcDenials('[  12.3] audit: type=1400 audit(1554136342.383:297): avc:  denied  { open } for  pid=1 comm="qemu-system-x86" path="/dev/sev" scontext=system_u:system_r:svirt_t:s0 tcontext=system_u:object_r:sev_device_t:s0 tclass=chr_file permissive=0\n');
    expect(r.ok && r.value).toHaveLength(1);
    expect(parseAvcDenials('<no matches>\n')).toMatchObject({ ok: true, value: [] });
  });

  it.each([
    ['type=AVC msg=audit(1.0:1): avc:  denied  open for pid=1', 'AVC record not understood'],
    ['avc:  denied  { open } for  pid=1 scontext=a:b:c tcontext=a:b:c tclass=chr_file', 'without an audit(TIME:SERIAL) stamp'],
    ['type=AVC msg=audit(1.0:1): avc:  denied  { open } for  pid=1 tclass=chr_file', 'missing scontext, tcontext or tclass'],
    ['type=AVC msg=audit(1.0:1): avc:  denied  { open } for  scontext=bad tcontext=a:b:c tclass=x', 'malformed security context'],
  ])('rejects %j', (text, problem) => {
    const r = parseAvcDenials(`type=SYSCALL msg=audit(1.0:1): ok\n${text}\n`, 'audit.log');
    expect(!r.ok && r.error.line).toBe(2);
    expect(!r.ok && r.error.problem).toContain(problem);
  });
});

describe('avcVerdict', () => {
  it('fails with time, comm, perms and contexts; passes when clean', () => {
    const r = parseAvcDenials(sample('audit-avc-sev-authored.log'));
    if (!r.ok) throw new Error('fixture');
    const v = avcVerdict(r.value, '/var/log/audit/audit.log');
    expect(v.status).toBe('failed');
    expect(v.message).toContain('2 denial(s), first at 2019-04-01T16:32:22.383Z: qemu-kvm { read write } svirt_t -> system_u:object_r:device_t:s0 chr_file');
    expect(avcVerdict([]).status).toBe('passed');
  });
});
