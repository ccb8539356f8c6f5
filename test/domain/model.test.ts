import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { devicesOf, parseDomainXml, toKiB } from '../../support/domain/model.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/domains/${name}`, import.meta.url));

describe('parseDomainXml', () => {
  it('reads the good SEV fixture into typed fields', () => {
    const d = parseDomainXml(fx('good-sev-q35.xml'), 'good-sev-q35.xml');
    expect(d.name).toBe('good-sev-q35');
    expect(d.hypervisor).toBe('kvm');
    expect(d.os).toMatchObject({ arch: 'x86_64', machine: 'q35', type: 'hvm' });
    expect(d.os.loader).toEqual({ path: '/usr/share/OVMF/OVMF_CODE_4M.fd', type: 'pflash', readonly: 'yes', secure: undefined, stateless: undefined });
    expect(d.os.nvram).toBe('/var/lib/libvirt/qemu/nvram/good-sev-q35_VARS.fd');
    expect(d.memoryKiB).toBe(4194304); // 4 GiB normalised
    expect(d.currentMemoryKiB).toBe(4194304);
    expect(d.memoryBacking).toMatchObject({ present: true, locked: true, hugepages: false });
    expect(d.launchSecurity).toMatchObject({ type: 'sev', cbitpos: 51, reducedPhysBits: 1, policyText: '0x000b' });
    const disks = devicesOf(d, 'disk');
    expect(disks.map((x) => [x.label, x.bus, x.bootOrder, x.driver?.['iommu']])).toEqual([
      ['disk vda', 'virtio', 1, 'on'],
      ['disk sda', 'scsi', undefined, undefined],
    ]);
    expect(devicesOf(d, 'controller').map((c) => c.label)).toEqual(['controller scsi (virtio-scsi) index 0', 'controller virtio-serial index 0']);
    expect(devicesOf(d, 'interface')[0]).toMatchObject({ model: 'virtio', label: 'interface 52:54:00:cc:56:90' });
    expect(devicesOf(d, 'vsock')[0]).toMatchObject({ model: 'virtio', driver: { iommu: 'on' } });
    expect(devicesOf(d, 'video')[0]?.model).toBe('vga');
    expect(devicesOf(d, 'console')[0]?.target).toMatchObject({ type: 'virtio' });
  });

  it('reads SNP launchSecurity fields and attributes', () => {
    const xml = `<domain type='kvm'><name>s</name><memory>1024</memory><os firmware='efi'><type machine='q35'>hvm</type></os>
      <memtune><hard_limit unit='M'>1280</hard_limit></memtune>
      <launchSecurity type='sev-snp' authorKey='yes' vcek='no' kernelHashes='yes'>
        <cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x30000</policy>
        <guestVisibleWorkarounds>AAAA</guestVisibleWorkarounds><idBlock>BBBB</idBlock><idAuth>CCCC</idAuth><hostData>DDDD</hostData>
      </launchSecurity></domain>`;
    const d = parseDomainXml(xml, 'snp.xml');
    expect(d.launchSecurity).toEqual({
      type: 'sev-snp', cbitpos: 51, reducedPhysBits: 1, policyText: '0x30000', dhCert: undefined, session: undefined,
      kernelHashes: 'yes', authorKey: 'yes', vcek: 'no', idBlock: 'BBBB', idAuth: 'CCCC', hostData: 'DDDD', guestVisibleWorkarounds: 'AAAA',
    });
    expect(d.os.firmware).toBe('efi');
    expect(d.memoryKiB).toBe(1024);
    expect(d.memtune.hardLimitKiB).toBe(1280 * 1024);
  });

  it('normalises libvirt memory units to KiB', () => {
    expect(toKiB('4', 'GiB')).toBe(4194304);
    expect(toKiB('4', 'G')).toBe(4194304);
    expect(toKiB('1', 'GB')).toBe(976563); // 10^9 bytes, rounded up
    expect(toKiB('2048', undefined)).toBe(2048);
    expect(toKiB('1', 'b')).toBe(1);
    expect(toKiB('1024', 'bytes')).toBe(1);
    expect(toKiB('1', 'KB')).toBe(1);
    expect(toKiB('1', 'TiB')).toBe(1024 ** 3);
    expect(() => toKiB('4', 'parsecs')).toThrow(InputError);
    expect(() => toKiB('-4', 'KiB')).toThrow(InputError);
    expect(() => toKiB('4.5', 'GiB')).toThrow(InputError);
  });
});

describe('parseDomainXml refuses what it cannot or must not read', () => {
  const bad: [string, string | Buffer, RegExp][] = [
    ['empty', '', /empty file/],
    ['not XML', 'hello world', /not well-formed XML: Non-whitespace before first tag/],
    ['truncated', "<domain type='kvm'><name>x</name>", /not well-formed XML: Unclosed root tag/],
    ['mismatched tags', '<domain><name>x</nam></domain>', /not well-formed XML.*line 1/],
    ['two roots', '<domain/><domain/>', /not well-formed XML/],
    ['binary', Buffer.from([0x3c, 0x64, 0x00, 0xff]), /NUL bytes/],
    ['other root', "<network><name>default</name></network>", /root element is <network>, expected <domain>/],
    ['internal DTD', '<!DOCTYPE domain><domain/>', /line 1: <!DOCTYPE> declarations are refused/],
  ];
  it.each(bad)('%s', (_what, input, re) => {
    let err: unknown;
    try {
      parseDomainXml(input, 'in.xml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).source).toMatch(/^in\.xml/);
    expect((err as InputError).problem).toMatch(re);
  });

  it('well-formed but schema-invalid values are not input errors: listed in `invalid`, left unset (issue 13)', () => {
    const d = parseDomainXml("<domain><launchSecurity type='sev'><cbitpos>x</cbitpos><policy>1</policy></launchSecurity></domain>", 'in.xml');
    expect(d.launchSecurity?.cbitpos).toBeUndefined();
    expect(d.invalid).toEqual(["<launchSecurity><cbitpos> 'x' is not an unsigned integer"]);
    const m = parseDomainXml("<domain><memory unit='furlong'>1</memory></domain>", 'in.xml');
    expect(m.memoryKiB).toBeUndefined();
    expect(m.invalid).toEqual([expect.stringMatching(/<memory>: unknown memory unit 'furlong'/)]);
    expect(parseDomainXml('<domain/>', 'in.xml').invalid).toEqual([]);
  });

  it('refuses the billion-laughs fixture quickly and without expanding anything', () => {
    const t0 = Date.now();
    expect(() => parseDomainXml(fx('attack-billion-laughs.xml'), 'bl.xml')).toThrow(/DOCTYPE> declarations are refused/);
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('refuses the external-entity fixture (never reads /etc/passwd)', () => {
    let err: unknown;
    try {
      parseDomainXml(fx('attack-xxe.xml'), 'xxe.xml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(String((err as Error).message)).not.toContain('root:');
  });

  it('refuses a bare ENTITY declaration even without DOCTYPE', () => {
    expect(() => parseDomainXml('<domain><!ENTITY x "y"></domain>', 'e.xml')).toThrow(/<!ENTITY> declarations are refused/);
  });

  it('enforces the size limit', () => {
    const big = `<domain><name>${'a'.repeat(2000)}</name></domain>`;
    expect(() => parseDomainXml(big, 'big.xml', { maxBytes: 1000 })).toThrow(/over the 1000-byte limit/);
    expect(parseDomainXml(big, 'big.xml', { maxBytes: 4000 }).name).toHaveLength(2000);
  });

  it('accepts a UTF-8 BOM and an XML declaration', () => {
    expect(parseDomainXml('\uFEFF<?xml version="1.0"?><domain><name>b</name></domain>', 'bom.xml').name).toBe('b');
  });
});
