import { describe, expect, it } from 'vitest';
import { parseCmdline, cmdlineValue, cmdlineParam, splitKernelArgs, x86CmdlineFindOption } from '../../support/parsers/cmdline.js';
import { parseModprobeConf, effectiveConfFiles, kmodLines, kmodUnderscores, moduleParams } from '../../support/parsers/modprobe.js';
import { parseCpuinfo } from '../../support/parsers/cpuinfo.js';
import { kstrtobool, paramSetBool, parseBoolParam } from '../../support/parsers/bool-param.js';

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

// torvalds/linux 0ea09083116d lib/cmdline.c next_arg(): the kernel's own tokenizer
describe('kernel parameter strings, split as next_arg() does', () => {
  const split = (t: string) => splitKernelArgs(t).map((a) => [a.name, a.value]);
  it('unquotes a value that starts with a quote, and a whole argument that does', () => {
    expect(split('foo="a b" "bar=c d" baz')).toEqual([['foo', 'a b'], ['bar', 'c d'], ['baz', undefined]]);
    expect(split('foo=a"b c"d')).toEqual([['foo', 'a"b c"d']]); // a quote in the middle stays
    expect(split('foo="unterminated bar=1')).toEqual([['foo', 'unterminated bar=1']]);
  });
  it('splits on any isspace() character and ignores repeated spaces', () => {
    expect(split('  a=1\tb=2\n\r c \f d=')).toEqual([['a', '1'], ['b', '2'], ['c', undefined], ['d', '']]);
  });
  it('finds the first "=" but not at the first character', () => {
    expect(split('a=b=c =x')).toEqual([['a', 'b=c'], ['=x', undefined]]);
  });
  it('keeps a bare parameter apart from an empty one on the command line', () => {
    const c = parseCmdline('kvm_amd.sev kvm-amd.sev_es= ro');
    expect(cmdlineParam(c, 'kvm_amd.sev')).toEqual({ value: undefined });
    expect(cmdlineParam(c, 'kvm_amd.sev_es')).toEqual({ value: '' });
    expect(cmdlineParam(c, 'kvm_amd.sev_snp')).toBeUndefined();
  });
});

// torvalds/linux arch/x86/lib/cmdline.c __cmdline_find_option() (as used by sme_enable(),
// arch/x86/mm/mem_encrypt_identity.c 0604aa87b098): no quoting, last occurrence, 15-byte value
describe('x86 early command-line option lookup (mem_encrypt)', () => {
  it('finds OPTION=value at a word start, the last one wins', () => {
    expect(x86CmdlineFindOption('ro mem_encrypt=off quiet mem_encrypt=on', 'mem_encrypt')).toBe('on');
    expect(x86CmdlineFindOption('ro quiet', 'mem_encrypt')).toBeUndefined();
    expect(x86CmdlineFindOption('mem_encrypt= ro', 'mem_encrypt')).toBe('');
  });
  it('does not unquote, does not match inside words or bare, and cuts the value to 15 bytes', () => {
    expect(x86CmdlineFindOption('"mem_encrypt=on"', 'mem_encrypt')).toBeUndefined();
    expect(x86CmdlineFindOption('mem_encrypt="on"', 'mem_encrypt')).toBe('"on"');
    expect(x86CmdlineFindOption('xmem_encrypt=on foo.mem_encrypt=on mem_encrypt mem_encryptx=on', 'mem_encrypt')).toBeUndefined();
    expect(x86CmdlineFindOption('mem_encrypt=on\tro', 'mem_encrypt')).toBe('on');
    expect(x86CmdlineFindOption('mem_encrypt=0123456789abcdefgh', 'mem_encrypt')).toBe('0123456789abcde');
  });
});

// kmod-project/kmod 84fa569b2eb3: shared/util.c freadline_wrapped(), libkmod/libkmod-config.c
// kmod_config_parse() / conf_files_filter_out() / kmod_config_parse_kcmdline(), and the kmod test
// suite testsuite/rootfs-pristine/test-util/freadline_wrapped-{input,correct}.txt,
// testsuite/test-util.c test_underscores, testsuite/rootfs-pristine/test-modprobe/module-param-kcmdline*.
describe('modprobe.d, as kmod reads it', () => {
  const opts = (text: string, file = '/etc/modprobe.d/x.conf') =>
    parseModprobeConf(file, text).flatMap((d) => (d.kind === 'options' ? [{ line: d.line, module: d.module, options: d.options }] : []));
  const sev = (text: string, cmdline = '') =>
    moduleParams(parseModprobeConf('/etc/modprobe.d/x.conf', text), 'kvm_amd', parseCmdline(cmdline)).filter((p) => p.name === 'sev');

  it('joins continuation lines with nothing in between (kmod test-util freadline_wrapped)', () => {
    // input and expected output of kmod's own test, one logical line each
    const input = 'this is the first line \\\nwrapped by one \\\\\nthis is a single line\nthree line \\\nlines \\\nin a row\nwrapped without newline\\';
    expect(kmodLines(input).map((l) => l.text)).toEqual([
      'this is the first line wrapped by one \\',
      'this is a single line',
      'three line lines in a row',
      'wrapped without newline',
    ]);
    expect(sev('options kvm_amd nested=0 se\\\nv=0')).toEqual([{ name: 'sev', value: '0', where: '/etc/modprobe.d/x.conf:1' }]);
  });
  it('treats "#" as a comment only in the first column; mid-line "#" reaches the kernel', () => {
    expect(opts('# options kvm_amd sev=0\n  # options kvm_amd sev=0\n')).toEqual([]);
    // kernel receives "sev=1 # was: sev=0": '#' and 'was:' are unknown parameters, sev=0 is last
    expect(sev('options kvm_amd sev=1 # was: sev=0').map((p) => p.value)).toEqual(['1', '0']);
    expect(sev('options kvm_amd #sev=1 sev=0').map((p) => p.value)).toEqual(['0']);
  });
  it('passes everything after the module name verbatim (tabs become spaces)', () => {
    expect(opts('options\tkvm-amd\tnested=0\tsev=1\n')).toEqual([{ line: 1, module: 'kvm_amd', options: 'nested=0 sev=1' }]);
    expect(opts('options kvm_amd\noptions kvm_amd \noptions\n')).toEqual([]); // no REST: syntax error, ignored
  });
  it('splits the options with the kernel\'s next_arg(): quotes group, a quoted argument is unquoted', () => {
    expect(sev('options kvm_amd "sev=0"')).toEqual([{ name: 'sev', value: '0', where: '/etc/modprobe.d/x.conf:1' }]);
    expect(sev('options kvm_amd sev="1"').map((p) => p.value)).toEqual(['1']);
    expect(sev('options kvm_amd foo="a sev=0" sev=1').map((p) => p.value)).toEqual(['1']);
    // an unbalanced quote on one line swallows the next options line of the same module
    expect(sev('options kvm_amd foo="abc\noptions kvm_amd sev=0')).toEqual([]);
  });
  it('keeps a bare parameter apart from an empty value, and treats dashes in names as underscores', () => {
    expect(sev('options kvm_amd sev').map((p) => p.value)).toEqual([undefined]);
    expect(sev('options kvm_amd sev=').map((p) => p.value)).toEqual(['']);
    expect(moduleParams(parseModprobeConf('f', 'options kvm-amd sev-es=1'), 'kvm_amd').map((p) => p.name)).toEqual(['sev_es']);
  });
  it('appends the module\'s parameters from the kernel command line last (kmod module-param-kcmdline2/5/8)', () => {
    const p = moduleParams(parseModprobeConf('/etc/modprobe.d/x.conf', 'options psmouse bar=0'), 'psmouse', parseCmdline('psmouse.foo psmouse.bar=1 psmouse.foobar="test 1" quiet rw'));
    expect(p).toEqual([
      { name: 'bar', value: '0', where: '/etc/modprobe.d/x.conf:1' },
      { name: 'foo', value: undefined, where: '/proc/cmdline' },
      { name: 'bar', value: '1', where: '/proc/cmdline' },
      { name: 'foobar', value: 'test 1', where: '/proc/cmdline' },
    ]);
    expect(moduleParams([], 'parport', parseCmdline('psmouse.foo "parport.dyndbg=file drivers/parport/ieee1284_ops.c +mpf" quiet rw'))).toEqual([
      { name: 'dyndbg', value: 'file drivers/parport/ieee1284_ops.c +mpf', where: '/proc/cmdline' },
    ]);
    expect(sev('', 'kvm-amd.sev=0').map((p) => p.value)).toEqual(['0']);
  });
  it('reads install, remove and blacklist lines', () => {
    expect(parseModprobeConf('f', 'install kvm_amd /sbin/modprobe --ignore-install kvm_amd sev=0\nblacklist kvm-amd\nremove kvm_amd\n')).toEqual([
      { kind: 'install', file: 'f', line: 1, module: 'kvm_amd', command: '/sbin/modprobe --ignore-install kvm_amd sev=0' },
      { kind: 'blacklist', file: 'f', line: 2, module: 'kvm_amd' },
    ]);
  });
  it('converts module names like kmod underscores() (kmod test_underscores)', () => {
    expect(['aa-bb-cc_', '-aa-bb-cc-', '-aa[-bb-]cc-', '-aa-[bb]-cc-', '-aa-[b-b]-cc-', '-aa-b[-]b-cc'].map(kmodUnderscores)).toEqual([
      'aa_bb_cc_',
      '_aa_bb_cc_',
      '_aa[-bb-]cc_',
      '_aa_[bb]_cc_',
      '_aa_[b-b]_cc_',
      '_aa_b[-]b_cc',
    ]);
    expect(kmodUnderscores('a]b')).toBeUndefined();
    expect(kmodUnderscores('a[b')).toBeUndefined();
    expect(opts('options kvm]amd sev=0')).toEqual([]);
  });
  it('orders files as kmod does: .conf only, no dot files, earlier directory wins a name, strcmp order', () => {
    expect(
      effectiveConfFiles([
        { dir: '/etc/modprobe.d', names: ['sev.conf', 'z.conf', 'README', '.hidden.conf', 'x.conf.bak', 'Z.conf'] },
        { dir: '/run/modprobe.d', names: ['.conf'] },
        { dir: '/lib/modprobe.d', names: ['sev.conf', 'a.conf'] },
      ]),
    ).toEqual(['/etc/modprobe.d/Z.conf', '/lib/modprobe.d/a.conf', '/etc/modprobe.d/sev.conf', '/etc/modprobe.d/z.conf']);
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
  it('reads the family and model the kernel prints in decimal (extended fields already added)', () => {
    const c = parseCpuinfo('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9654\n\nprocessor\t: 1\ncpu family\t: 6\nmodel\t\t: 1\n');
    expect([c.family, c.model, c.modelName]).toEqual([25, 17, 'AMD EPYC 9654']);
    expect(parseCpuinfo('cpu family\t: unknown\nmodel\t\t: 0x11\n')).toMatchObject({ family: undefined, model: undefined });
  });
  it('gives empty facts for garbage', () => {
    const c = parseCpuinfo('\u0000\u0001 no colons here\n');
    expect([c.vendor, c.flags.size, c.processors]).toEqual([undefined, 0, 0]);
  });
});

// torvalds/linux 05909cd9a0c8 lib/kstrtox.c kstrtobool(); 012e060c95e5 kernel/params.c param_set_bool()
describe('module bool parameters', () => {
  it('reads what sysfs prints', () => {
    expect(['Y', '1', 'y\n', 'on'].map(parseBoolParam)).toEqual([true, true, true, true]);
    expect(['N', '0', 'off'].map(parseBoolParam)).toEqual([false, false, false]);
    expect(['', '2', 'maybe'].map(parseBoolParam)).toEqual([undefined, undefined, undefined]);
  });
  it('decides by the first character as kstrtobool does (o/O by the second)', () => {
    expect(['y', 'Yes', 'yellow', '1', '1abc', 'on', 'ON', 'true', 'T'].map(kstrtobool)).toEqual(Array(9).fill(true));
    expect(['n', 'No', '0', '0x1', 'off', 'oFF', 'false', 'F'].map(kstrtobool)).toEqual(Array(8).fill(false));
    expect(['', ' 1', '2', '-1', 'o', 'ok', 'enable'].map(kstrtobool)).toEqual(Array(7).fill(undefined));
  });
  it('sets a bool given without "=" (param_set_bool: no equals means set)', () => {
    expect(paramSetBool(undefined)).toBe(true);
    expect(paramSetBool('')).toBeUndefined(); // "sev=": -EINVAL, the module does not load
    expect(paramSetBool(' 1')).toBeUndefined();
  });
});

describe('HostProbe.modprobeOptions, the files kmod reads', () => {
  it('skips a directory named *.conf and dot files, and lets /etc shadow /lib by name', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { FixtureHost } = await import('../../support/host/fixture-host.js');
    const { HostProbe } = await import('../../support/probes/host.js');
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-kmod-'));
    const files: Record<string, string> = {
      'host.json': '{"name":"t"}',
      'files/etc/modprobe.d/sev.conf': 'options kvm_amd sev=1\n',
      'files/etc/modprobe.d/.hidden.conf': 'options kvm_amd sev=0\n',
      'files/etc/modprobe.d/dir.conf/x': 'options kvm_amd sev=0\n',
      'files/lib/modprobe.d/sev.conf': 'options kvm_amd sev=0\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const got = await new HostProbe(new FixtureHost(dir)).modprobeOptions();
    expect(got.map((d) => `${d.file}:${d.kind === 'options' ? d.options : d.kind}`)).toEqual(['/etc/modprobe.d/sev.conf:sev=1']);
  });
});
