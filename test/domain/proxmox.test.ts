import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEntries, statusWord } from './lint-expected.js';
import { InputError } from '../../support/errors.js';
import { lintPveConfig, parsePveConfig, parsePveSev, pveSevPolicy, pveSevQemuArgs } from '../../support/domain/proxmox.js';

const dir = new URL('../../fixtures/proxmox/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, Record<string, string>>;

describe('qemu-server policy and QEMU args (test/cfg2cmd/sev-*.conf.cmd, amd-turin-9005 caps)', () => {
  const turin = { cbitpos: 51, reducedPhysBits: 6 };
  it.each([
    ['type=std', 'sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=6,policy=0x8'],
    ['type=es', 'sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=6,policy=0xc'],
    ['type=snp', 'sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=6,policy=0xb0000'],
  ])('amd-sev: %s', (value, obj) => {
    expect(pveSevQemuArgs(parsePveSev(value), turin)).toEqual(['-object', obj, '-machine', 'confidential-guest-support=sev0']);
  });
  it('sets each bit as CPUConfig.pm does', () => {
    expect(pveSevPolicy(parsePveSev('std,no-debug=1'))).toBe(0x9n);
    expect(pveSevPolicy(parsePveSev('type=std,no-key-sharing=1'))).toBe(0xan);
    expect(pveSevPolicy(parsePveSev('type=es,no-debug=1,no-key-sharing=1'))).toBe(0xfn);
    expect(pveSevPolicy(parsePveSev('type=snp,no-debug=1'))).toBe(0x30000n);
    expect(pveSevPolicy(parsePveSev('type=snp,allow-smt=0'))).toBe(0xa0000n);
    expect(pveSevPolicy(parsePveSev('type=snp,no-key-sharing=1'))).toBe(0xb0000n); // ignored for SNP
    expect(pveSevQemuArgs(parsePveSev('type=std,kernel-hashes=on'), turin)[1]).toMatch(/,policy=0x8,kernel-hashes=on$/);
  });
  it.each([
    ['type=std,nodbg=1', /unknown property 'nodbg'/],
    ['type=foo', /type 'foo' is not one of std, es, snp/],
    ['no-debug=1', /missing 'type'/],
    ['type=std,type=es', /duplicate key 'type'/],
    ['type=std,no-debug=maybe', /no-debug: 'maybe' is not a boolean/],
    ['type=std,no-debug=', /no-debug: empty value/],
  ])('rejects %s', (value, re) => {
    expect(() => parsePveSev(value)).toThrow(re);
  });
});

describe('fixtures/proxmox/expected.json', () => {
  const files = Object.keys(expected).filter((k) => !k.startsWith('$'));
  it.each(files)('%s', (file) => {
    const c = parsePveConfig(readFileSync(new URL(file, dir)), file);
    const got = lintPveConfig(c);
    const policy = expected[file]!['policy'];
    if (typeof policy === 'string') expect(pveSevPolicy(parsePveSev(c.main['amd-sev']!)).toString(16)).toBe(policy.replace(/^0x/, ''));
    for (const [id, status] of checkEntries(expected[file]!)) {
      expect(`${id}: ${statusWord(got[id])}`, got[id]?.message).toBe(`${id}: ${status}`);
    }
  });
});

describe('parsePveConfig', () => {
  it('reads keys, sections and the description', () => {
    const c = parsePveConfig(readFileSync(new URL('sev-std.conf', dir)), 'sev-std.conf');
    expect(c.main['amd-sev']).toBe('type=std,no-debug=1,no-key-sharing=1');
    expect(c.main['bios']).toBe('ovmf');
    expect(c.sections['before-upgrade']).toMatchObject({ bios: 'ovmf', snaptime: '1700000000' });
    expect(c.description).toContain('SEV guest');
    expect(c.warnings).toEqual([]);
  });
  it('collects unparsable lines as warnings, like qemu-server', () => {
    const c = parsePveConfig('bios: ovmf\nthis is not a key\n', 'w.conf');
    expect(c.warnings).toEqual(['line 2: unable to parse config: this is not a key']);
  });
  it.each([
    ['empty', ''],
    ['only junk', 'hello world\n'],
    ['binary', '\u0000\u0001'],
    ['duplicate key', 'bios: ovmf\nbios: seabios\n'],
    ['duplicate section', 'bios: ovmf\n[a]\nmemory: 1\n[a]\nmemory: 2\n'],
  ])('%s is an InputError', (_w, text) => {
    expect(() => parsePveConfig(text, 'bad.conf')).toThrow(InputError);
  });
});
