import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEntries, statusWord } from './lint-expected.js';
import { InputError } from '../../support/errors.js';
import { lintQemuCmdline, parseKeyval, parseQemuCmdline, shellWords, splitCmdline } from '../../support/domain/qemu-cmdline.js';
import type { HostSevFacts } from '../../support/domain/rules.js';

const dir = new URL('../../fixtures/qemu-cmdline/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, Record<string, string>> & { $host: HostSevFacts };

describe('fixtures/qemu-cmdline/expected.json', () => {
  const files = Object.keys(expected).filter((k) => !k.startsWith('$'));
  it.each(files)('%s', (file) => {
    const q = parseQemuCmdline(readFileSync(new URL(file, dir)), file);
    const got = lintQemuCmdline(q, expected.$host);
    for (const [id, status] of checkEntries(expected[file]!)) {
      expect(`${id}: ${statusWord(got[id])}`, got[id]?.message).toBe(`${id}: ${status}`);
    }
  });
});

describe('parsing', () => {
  it('extracts the SEV object, machine and firmware from the qemu-server shaped command', () => {
    const q = parseQemuCmdline(readFileSync(new URL('pve-sev-es-i440fx.args', dir)), 'pve.args');
    expect(q.sevObjects).toEqual([{ qomType: 'sev-guest', id: 'sev0', props: { 'qom-type': 'sev-guest', id: 'sev0', cbitpos: '51', 'reduced-phys-bits': '6', policy: '0xc' } }]);
    expect(q.machine).toMatchObject({ type: 'pc+pve0', 'confidential-guest-support': 'sev0', pflash0: 'pflash0' });
    expect(q.pflash[0]).toBe('/usr/share/pve-edk2-firmware//OVMF_SEV_CODE_4M.fd');
    expect(q.memoryMiB).toBe(512);
  });
  it('splits /proc/<pid>/cmdline on NUL', () => {
    expect(splitCmdline(Buffer.from('qemu\u0000-m\u00001G\u0000'), 'p')).toEqual(['qemu', '-m', '1G']);
  });
  it('splits shell words', () => {
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g \\\n h # comment\n i`, 's')).toEqual(['a', 'b c', 'd "e"', 'f g', 'h', 'i']);
  });
  it('parses keyval with implied key and escaped commas', () => {
    expect(parseKeyval('sev-guest,id=s,,x,policy=0x1', 'qom-type')).toEqual({ 'qom-type': 'sev-guest', 'id': 's,x', policy: '0x1' });
  });
  it.each([
    ['empty', ''],
    ['unterminated quote', "qemu -object 'sev-guest"],
    ['bare word', 'qemu -m 1G stray'],
    ['option without argument', 'qemu -object'],
    ['bad JSON', `qemu -object '{"qom-type":'`],
    ['bad -m', 'qemu -m lots'],
    ['bad policy is a failed check, not a crash', null],
  ])('%s', (_w, text) => {
    if (text === null) {
      const q = parseQemuCmdline('qemu -machine q35,confidential-guest-support=s -object sev-guest,id=s,cbitpos=51,reduced-phys-bits=1,policy=zz', 'p');
      expect(lintQemuCmdline(q)['domain.policy.valid']!.status).toBe('failed');
      return;
    }
    expect(() => parseQemuCmdline(text, 'bad.args')).toThrow(InputError);
  });
  it('requires explicit iommu_platform when the machine uses the old memory-encryption= property', () => {
    const q = parseQemuCmdline('qemu -machine q35,memory-encryption=s -object sev-guest,id=s,cbitpos=51,reduced-phys-bits=1,policy=0xb -device virtio-net-pci,netdev=n', 'p');
    expect(lintQemuCmdline(q)['domain.virtio.iommu']!.status).toBe('failed');
  });
});
