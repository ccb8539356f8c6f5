import { describe, expect, it } from 'vitest';
import { parseCmdline, cmdlineValue } from '../../support/parsers/cmdline.js';
import { parseModprobeConf, effectiveConfFiles } from '../../support/parsers/modprobe.js';
import { parseCpuinfo } from '../../support/parsers/cpuinfo.js';
import { parseBoolParam } from '../../support/parsers/bool-param.js';

describe('kernel command line', () => {
  it('splits, honours quotes, last value wins, stops at --', () => {
    const c = parseCmdline('BOOT_IMAGE=/vmlinuz ro mem_encrypt=off foo="a b" mem_encrypt=on kvm-amd.sev=1 -- mem_encrypt=off\n');
    expect(cmdlineValue(c, 'mem_encrypt')).toBe('on');
    expect(cmdlineValue(c, 'foo')).toBe('a b');
    expect(cmdlineValue(c, 'kvm_amd.sev')).toBe('1');
    expect(cmdlineValue(c, 'ro')).toBe('');
    expect(cmdlineValue(c, 'quiet')).toBeUndefined();
  });
  it('tolerates garbage: empty, NULs, unbalanced quotes', () => {
    expect(parseCmdline('').params).toEqual([]);
    expect(cmdlineValue(parseCmdline('a=1\0b=2'), 'b')).toBe('2');
    expect(() => parseCmdline('x="unterminated mem_encrypt=on')).not.toThrow();
  });
});

describe('modprobe.d', () => {
  it('parses options with continuation lines, comments and dash/underscore names', () => {
    const o = parseModprobeConf('/etc/modprobe.d/x.conf', '# c\noptions kvm-amd nested=0 \\\n    sev=0 # trailing\nblacklist foo\noptions kvm_amd sev_es="1"\n');
    expect(o).toEqual([
      { file: '/etc/modprobe.d/x.conf', line: 2, module: 'kvm_amd', name: 'nested', value: '0' },
      { file: '/etc/modprobe.d/x.conf', line: 2, module: 'kvm_amd', name: 'sev', value: '0' },
      { file: '/etc/modprobe.d/x.conf', line: 5, module: 'kvm_amd', name: 'sev_es', value: '1' },
    ]);
  });
  it('ignores malformed lines instead of inventing options', () => {
    expect(parseModprobeConf('f', 'options\noptions kvm_amd\n\\\noptions')).toEqual([]);
  });
  it('orders files as modprobe does: earlier directory wins a name, lexical order overall', () => {
    expect(
      effectiveConfFiles([
        { dir: '/etc/modprobe.d', names: ['sev.conf', 'z.conf', 'README'] },
        { dir: '/lib/modprobe.d', names: ['sev.conf', 'a.conf'] },
      ]),
    ).toEqual(['/lib/modprobe.d/a.conf', '/etc/modprobe.d/sev.conf', '/etc/modprobe.d/z.conf']);
  });
});

describe('cpuinfo', () => {
  it('reads vendor, model and flags of the first processor', () => {
    const c = parseCpuinfo('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7713P\nflags\t\t: fpu sme sev\n\nprocessor\t: 1\nflags\t\t: fpu\n');
    expect(c.vendor).toBe('AuthenticAMD');
    expect(c.modelName).toBe('AMD EPYC 7713P');
    expect([...c.flags]).toEqual(['fpu', 'sme', 'sev']);
    expect(c.processors).toBe(2);
  });
  it('gives empty facts for garbage', () => {
    const c = parseCpuinfo('\u0000\u0001 no colons here\n');
    expect([c.vendor, c.flags.size, c.processors]).toEqual([undefined, 0, 0]);
  });
});

describe('module bool parameters', () => {
  it('accepts what the kernel prints and rejects anything else', () => {
    expect(['Y', '1', 'y\n', 'on'].map(parseBoolParam)).toEqual([true, true, true, true]);
    expect(['N', '0', 'off'].map(parseBoolParam)).toEqual([false, false, false]);
    expect(['', '2', 'maybe'].map(parseBoolParam)).toEqual([undefined, undefined, undefined]);
  });
});
