/**
 * lint-qemu / lint-pve: a loader fix names a firmware file that exists on the host, taken from its
 * QEMU firmware descriptors (issue 20 item 2), never a path from another distribution.
 */
import { describe, expect, it } from 'vitest';
import { parseFirmwareDescriptor, sevFirmware, type FirmwareDescriptor } from '../../support/parsers/firmware-descriptor.js';
import { parseQemuCmdline, qemuCheckLoader } from '../../support/domain/qemu-cmdline.js';
import { firmwareFrom } from '../../support/cli/lint.js';
import { LocalHost } from '../../support/host/local-host.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

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
    expect(v.status === 'failed' && v.fix).toMatch(/^-bios <an OVMF build for SEV-SNP.*> \(no firmware descriptor of this machine lists amd-sev-snp\)$/);
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
