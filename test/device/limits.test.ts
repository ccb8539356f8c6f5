import { describe, expect, it } from 'vitest';
import { effectiveMemlock, memlockVerdict, parseLimitsConf, parsePrlimitMemlock, parseUlimitL } from '../../support/parsers/limits.js';

const entries = (text: string, source: string) => {
  const r = parseLimitsConf(text, source);
  if (!r.ok) throw new Error('fixture');
  return r.value;
};

describe('limits.conf', () => {
  it('parses entries, skips bad lines with notes', () => {
    const r = parseLimitsConf('# comment\n*  soft  memlock  65536\n@kvm hard memlock unlimited # trailing\nqemu - memlock\nqemu bogus memlock 1\nqemu - memlock lots\n', 'l.conf');
    expect(r.ok && r.value.map((e) => [e.domain, e.type, e.value])).toEqual([
      ['*', 'soft', 65536],
      ['@kvm', 'hard', 'unlimited'],
    ]);
    expect(r.ok && r.notes).toEqual([
      'l.conf:4: skipped: 3 fields, expected 4',
      "l.conf:5: skipped: unknown type 'bogus'",
      "l.conf:6: skipped: value 'lots' is not a number",
    ]);
  });

  it('user beats group beats wildcard; later wins among equals; limits.d after limits.conf', () => {
    const main = entries('*  -  memlock  64\n@kvm - memlock 1024\n', '/etc/security/limits.conf');
    const d = entries('* - memlock 128\nqemu soft memlock 8388608\n', '/etc/security/limits.d/90-sev.conf');
    const r = effectiveMemlock([main, d], { user: 'qemu', uid: 107, groups: ['kvm', 'qemu'] });
    expect(r.soft).toEqual({ value: 8388608, from: '/etc/security/limits.d/90-sev.conf:2' });
    expect(r.hard).toEqual({ value: 1024, from: '/etc/security/limits.conf:2' });
    const other = effectiveMemlock([main, d], { user: 'bob', uid: 1000, groups: [] });
    expect(other.soft?.value).toBe(128);
  });

  it('group and wildcard entries do not apply to root; uid ranges do', () => {
    const e = entries('* - memlock 64\n@root - memlock 64\n0:0 hard memlock 99\n', 'l');
    const r = effectiveMemlock([e], { user: 'root', uid: 0, groups: ['root'] });
    expect(r.soft).toBeUndefined();
    expect(r.hard?.value).toBe(99);
  });
});

describe('ulimit / prlimit', () => {
  it('ulimit -l', () => {
    expect(parseUlimitL('8192\n')).toMatchObject({ ok: true, value: 8192 });
    expect(parseUlimitL('unlimited')).toMatchObject({ ok: true, value: 'unlimited' });
    expect(parseUlimitL('bash: ulimit: error').ok).toBe(false);
  });
  it('prlimit --memlock (bytes -> KiB)', () => {
    const out = 'RESOURCE DESCRIPTION                             SOFT      HARD UNITS\nMEMLOCK  max locked-in-memory address space 8388608 unlimited bytes\n';
    expect(parsePrlimitMemlock(out)).toMatchObject({ ok: true, value: { soft: 8192, hard: 'unlimited' } });
    expect(parsePrlimitMemlock('prlimit: failed to get the MEMLOCK resource limit').ok).toBe(false);
  });
});

describe('memlock rule (launch_security_sev: locked, or hard_limit with 256 MiB headroom)', () => {
  const G = 4194304; // 4 GiB in KiB, the doc's example
  it.each([
    [{ guestMemoryKiB: G, locked: true }, 'passed'],
    [{ guestMemoryKiB: G, hardLimitKiB: 4456448 }, 'passed'], // the doc's example: exactly +256 MiB
    [{ guestMemoryKiB: G, hardLimitKiB: 4456447 }, 'failed'],
    [{ guestMemoryKiB: G, memlockKiB: 'unlimited' as const }, 'passed'],
    [{ guestMemoryKiB: G, memlockKiB: 65536 }, 'failed'],
    [{ guestMemoryKiB: G }, 'undecided'],
  ])('%j -> %s', (input, status) => expect(memlockVerdict(input).status).toBe(status));
});
