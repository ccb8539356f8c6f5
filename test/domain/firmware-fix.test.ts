/**
 * lint-qemu / lint-pve: a loader fix names a firmware file that exists on the host, taken from its
 * QEMU firmware descriptors (issue 20 item 2), never a path from another distribution.
 */
import { describe, expect, it } from 'vitest';
import { parseFirmwareDescriptor, sevFirmware, type FirmwareDescriptor } from '../../support/parsers/firmware-descriptor.js';
import { parseQemuCmdline, qemuCheckLoader } from '../../support/domain/qemu-cmdline.js';
import { firmwareFrom } from '../../support/cli/lint.js';
import { LocalHost } from '../../support/host/local-host.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkLoaderOvmf } from '../../support/domain/rules.js';
import { parseDomainXml } from '../../support/domain/model.js';
import { lintDomainMain } from '../../support/cli/lint.js';

const desc = (o: object, path: string): FirmwareDescriptor => {
  const p = parseFirmwareDescriptor(JSON.stringify(o), path);
  if (!p.ok) throw new Error('bad descriptor');
  return p.value;
};
const DEBIAN = desc({ mapping: { device: 'flash', executable: { filename: '/usr/share/OVMF/OVMF_CODE_4M.fd' } }, targets: [{ architecture: 'x86_64' }], features: ['acpi-s3', 'amd-sev'] }, '/usr/share/qemu/firmware/60-edk2-x86_64.json');
const FEDORA_SNP = desc({ mapping: { device: 'memory', filename: '/usr/share/edk2/ovmf/OVMF.amdsev.fd' }, targets: [{ architecture: 'x86_64' }], features: ['amd-sev', 'amd-sev-es', 'amd-sev-snp'] }, '/usr/share/qemu/firmware/21-edk2-ovmf-x64-sev.json');
const ARM = desc({ mapping: { device: 'memory', filename: '/usr/share/AAVMF/x.fd' }, targets: [{ architecture: 'aarch64' }], features: ['amd-sev-snp'] }, '/x/arm.json');
const q = (args: string): ReturnType<typeof parseQemuCmdline> => parseQemuCmdline(Buffer.from(args.split(' ').join('\0')), 'guest.args');

describe('sevFirmware: the image libvirt would pick', () => {
  it('the first x86_64 descriptor with the feature whose image exists', () => {
    expect(sevFirmware([{ descriptor: ARM, imageExists: true }, { descriptor: FEDORA_SNP, imageExists: true }], 'amd-sev-snp')).toEqual({ image: '/usr/share/edk2/ovmf/OVMF.amdsev.fd', bios: true, descriptor: FEDORA_SNP.path });
    expect(sevFirmware([{ descriptor: FEDORA_SNP, imageExists: false }, { descriptor: DEBIAN, imageExists: true }], 'amd-sev-snp')).toBeUndefined();
    expect(sevFirmware([{ descriptor: DEBIAN, imageExists: true }], 'amd-sev')).toEqual({ image: '/usr/share/OVMF/OVMF_CODE_4M.fd', bios: false, descriptor: DEBIAN.path });
  });
});

describe('domain.loader.ovmf fix (lint-qemu)', () => {
  const snpNoBios = q('qemu-system-x86_64 -machine q35,confidential-guest-support=sev0 -object sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x30000');
  const sevSeabios = q('qemu-system-x86_64 -machine q35,confidential-guest-support=sev0 -object sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x1');

  it("names the host's SNP image, from its descriptor", () => {
    const v = qemuCheckLoader(snpNoBios, { firmware: { snp: { image: '/usr/share/edk2/ovmf/OVMF.amdsev.fd', bios: true, descriptor: FEDORA_SNP.path }, source: 'epyc1' } });
    expect(v.status === 'failed' && v.fix).toBe(`-bios /usr/share/edk2/ovmf/OVMF.amdsev.fd (from ${FEDORA_SNP.path})`);
  });

  it('a host without an SNP descriptor (Debian): no path it does not have, but what to install', () => {
    const v = qemuCheckLoader(snpNoBios, { firmware: { sev: { image: '/usr/share/OVMF/OVMF_CODE_4M.fd', bios: false, descriptor: DEBIAN.path }, source: 'this machine' } });
    expect(v.status === 'failed' && v.fix).toMatch(/^-bios <an OVMF build for SEV-SNP.*> \(no firmware descriptor of this machine lists amd-sev-snp for an image it has\)$/);
    expect(v.message).not.toMatch(/-bios \/usr\/share\/OVMF\/OVMF\.amdsev\.fd/);
  });

  it("an SEV guest without OVMF: the host's pflash image", () => {
    const v = qemuCheckLoader(sevSeabios, { firmware: { sev: { image: '/usr/share/OVMF/OVMF_CODE_4M.fd', bios: false, descriptor: DEBIAN.path }, source: 'this machine' } });
    expect(v.status === 'failed' && v.fix).toBe(`-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd (from ${DEBIAN.path})`);
  });

  it.runIf(existsSync('/usr/share/qemu/firmware'))("this machine's descriptors: every image named exists", async () => {
    const host = new LocalHost();
    try {
      const f = await firmwareFrom(host, 'this machine');
      for (const x of [f.sev, f.snp]) if (x) expect(existsSync(x.image), x.image).toBe(true);
      const sevListed = readdirSync('/usr/share/qemu/firmware').some((n) => /"amd-sev"/.test(readFileSync(`/usr/share/qemu/firmware/${n}`, 'utf8')));
      if (sevListed) expect(f.sev).toBeDefined();
    } finally {
      await host.close();
    }
  });
});

describe('domain.loader.ovmf fix (lint-domain and the run): the firmware of the host or image, from its descriptors', () => {
  const guest = (type: 'sev' | 'sev-snp') =>
    `<domain type='kvm'><name>t</name><memory unit='KiB'>4194304</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><launchSecurity type='${type}'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>${type === 'sev' ? '0x000b' : '0x30000'}</policy></launchSecurity><memoryBacking><locked/></memoryBacking><devices/></domain>`;
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-fw-fix-'));
  const sevXml = join(dir, 'sev.xml');
  const snpXml = join(dir, 'snp.xml');
  writeFileSync(sevXml, guest('sev'));
  writeFileSync(snpXml, guest('sev-snp'));
  async function loaderFix(argv: string[]): Promise<string> {
    let out = '';
    const code = await lintDomainMain([...argv, '--no-schema', '--format', 'json'], { stdout: (s) => (out += s), stderr: (s) => (out += s) });
    expect(code, out).toBe(1);
    const j = JSON.parse(out) as { files: Array<{ checks: Array<{ id: string; fix?: string }> }> };
    return j.files[0]!.checks.find((c) => c.id === 'domain.loader.ovmf')!.fix!;
  }
  /** a fixture host with the given files (path -> content) */
  function fixture(files: Record<string, string>): string {
    const h = mkdtempSync(join(dir, 'host-'));
    writeFileSync(join(h, 'host.json'), JSON.stringify({ name: 'h', source: 'authored' }));
    for (const [p, v] of Object.entries(files)) {
      mkdirSync(dirname(join(h, 'files', p)), { recursive: true });
      writeFileSync(join(h, 'files', p), v);
    }
    return h;
  }

  it('rules: no path without a descriptor that offers one; the image and its descriptor with one', () => {
    const snp = parseDomainXml(guest('sev-snp'), 'g.xml');
    for (const host of [{}, { firmware: { source: 'h' } }, { firmware: { source: 'h', unreadable: 'EACCES' } }]) {
      const v = checkLoaderOvmf(snp, host);
      expect(v.status === 'failed' && v.fix).not.toMatch(/<loader type='rom'>\//);
      expect(v.status === 'failed' && v.fix).not.toMatch(/\/usr\/share\//);
    }
    expect(checkLoaderOvmf(snp, { firmware: { source: 'h', unreadable: 'EACCES' } })).toMatchObject({ fix: expect.stringMatching(/the firmware descriptors of h could not be read: EACCES/) });
    const v = checkLoaderOvmf(snp, { firmware: { snp: { image: '/usr/share/edk2/ovmf/OVMF.amdsev.fd', bios: true, descriptor: FEDORA_SNP.path }, source: 'h' } });
    expect(v).toMatchObject({ fix: `<loader type='rom'>/usr/share/edk2/ovmf/OVMF.amdsev.fd</loader> (from ${FEDORA_SNP.path}), or <os firmware='efi'>` });
  });

  it('a fixture host without descriptors: the fix says so and names no path', async () => {
    const h = fixture({});
    for (const [xml, feature] of [[sevXml, 'amd-sev'], [snpXml, 'amd-sev-snp']] as const) {
      const fix = await loaderFix([xml, '--host', `fixture:${h}`]);
      expect(fix).toContain(`no firmware descriptor of fixture:${h} lists ${feature} for an image it has`);
      expect(fix).not.toMatch(/>\/usr\/share\//);
    }
  });

  it("Debian's ovmf-amdsev descriptor (testing/unstable): the SNP fix names /usr/share/ovmf/OVMF.amdsev.fd, not /usr/share/OVMF/", async () => {
    // 60-edk2-x86_64-amdsev.json as Debian's ovmf-amdsev ships it (forky, 2025.08; only the fields read)
    const descriptor = JSON.stringify({ description: 'UEFI firmware for x86_64, with SEV-ES support', 'interface-types': ['uefi'], mapping: { device: 'memory', filename: '/usr/share/ovmf/OVMF.amdsev.fd' }, targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }], features: ['amd-sev', 'amd-sev-es', 'amd-sev-snp', 'verbose-dynamic'], tags: [] });
    const h = fixture({ '/usr/share/qemu/firmware/60-edk2-x86_64-amdsev.json': descriptor, '/usr/share/ovmf/OVMF.amdsev.fd': 'image' });
    expect(await loaderFix([snpXml, '--host', `fixture:${h}`])).toBe("<loader type='rom'>/usr/share/ovmf/OVMF.amdsev.fd</loader> (from /usr/share/qemu/firmware/60-edk2-x86_64-amdsev.json), or <os firmware='efi'>");
    // a descriptor whose image is not there offers nothing
    const gone = fixture({ '/usr/share/qemu/firmware/60-edk2-x86_64-amdsev.json': descriptor });
    expect(await loaderFix([snpXml, '--host', `fixture:${gone}`])).not.toContain('/usr/share/ovmf/OVMF.amdsev.fd');
  });

  it.runIf(existsSync('/usr/share/qemu/firmware'))("this machine's descriptors (no --host): a named image exists and comes from a descriptor listing the feature", async () => {
    const names = readdirSync('/usr/share/qemu/firmware').filter((n) => n.endsWith('.json'));
    const lists = (feature: string) => names.some((n) => readFileSync(`/usr/share/qemu/firmware/${n}`, 'utf8').includes(`"${feature}"`));
    for (const [xml, feature] of [[sevXml, 'amd-sev'], [snpXml, 'amd-sev-snp']] as const) {
      const fix = await loaderFix([xml]);
      const named = /<loader [^>]*>(\/[^<]+)<\/loader> \(from (\/usr\/share\/qemu\/firmware\/[^)]+|\/etc\/qemu\/firmware\/[^)]+)\)/.exec(fix);
      if (named) {
        expect(existsSync(named[1]!), named[1]).toBe(true);
        expect(readFileSync(named[2]!, 'utf8')).toContain(`"${feature}"`);
      } else {
        expect(fix).toMatch(new RegExp(`no firmware descriptor of this machine lists ${feature} for an image it has`));
        expect(fix).not.toMatch(/>\/usr\/share\//);
      }
      // Debian's ovmf lists amd-sev: the SEV fix names its code image
      if (feature === 'amd-sev' && lists('amd-sev')) expect(named, fix).not.toBeNull();
    }
  });
});
