import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEntries, statusWord } from './lint-expected.js';
import { parseDomainXml, type DomainModel } from '../../support/domain/model.js';
import {
  checkCbitposMatchesHost,
  checkLaunchSecurity,
  checkLoaderOvmf,
  checkMachineQ35,
  checkMemoryPinned,
  checkNoMigration,
  checkPolicyValid,
  checkVirtioIommu,
  lintDomainModel,
  type HostSevFacts,
} from '../../support/domain/rules.js';

const dir = new URL('../../fixtures/domains/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, Record<string, string>> & {
  $host: HostSevFacts;
};
const host: HostSevFacts = expected.$host;

const dom = (body: string, extra = ''): DomainModel =>
  parseDomainXml(`<domain type='kvm'><name>t</name><memory unit='KiB'>4194304</memory>${extra}<devices>${body}</devices></domain>`, 't.xml');
const sev = (policy = '0x000b', attrs = '') =>
  `<launchSecurity type='sev'${attrs}><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>${policy}</policy></launchSecurity>`;

describe('fixtures/domains/expected.json (all rules but schema)', () => {
  const files = Object.keys(expected).filter((k) => !k.startsWith('$') && !('$input-error' in expected[k]!));
  it.each(files)('%s', (file) => {
    const d = parseDomainXml(readFileSync(new URL(file, dir)), file);
    const got = lintDomainModel(d, host);
    for (const [id, status] of checkEntries(expected[file]!)) {
      if (id === 'domain.schema-valid') continue;
      expect(`${id}: ${statusWord(got[id])}`, got[id]?.message).toBe(`${id}: ${status}`);
    }
  });
});

describe('domain.launch-security', () => {
  it('fails without launchSecurity and pastes a block with the host numbers', () => {
    const v = checkLaunchSecurity(dom(''), { cbitpos: 51, reducedPhysBits: 1 });
    expect(v.status).toBe('failed');
    expect(v.message).toContain("<launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x000b</policy></launchSecurity>");
  });
  it('fails for s390-pv, names it', () => {
    const v = checkLaunchSecurity(dom('', "<launchSecurity type='s390-pv'/>"));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('IBM Secure Execution');
  });
  it('fails when cbitpos/reducedPhysBits are left to libvirt', () => {
    const v = checkLaunchSecurity(dom('', "<launchSecurity type='sev'><policy>0x000b</policy></launchSecurity>"));
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/without <cbitpos>, <reducedPhysBits>/);
  });
  it('passes sev and sev-snp', () => {
    expect(checkLaunchSecurity(dom('', sev())).status).toBe('passed');
    expect(checkLaunchSecurity(dom('', sev('0x30000').replace("'sev'", "'sev-snp'"))).status).toBe('passed');
  });
});

describe('domain.policy.valid', () => {
  it('fails reserved bits with the corrected policy as the fix', () => {
    const v = checkPolicyValid(dom('', sev('0x804b')));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('reserved bits 6,15 are set');
    expect(v.message).toContain('fix: <policy>0x000b</policy>');
  });
  it('reads policy as hex even without 0x (libvirt base 16)', () => {
    const v = checkPolicyValid(dom('', sev('40')));
    expect(v.status).toBe('failed'); // 0x40 = bit 6
  });
  it('fails non-hex text', () => {
    expect(checkPolicyValid(dom('', sev('0xzz'))).status).toBe('failed');
  });
  it('fails ES on a host without SEV-ES, passes it when unknown', () => {
    expect(checkPolicyValid(dom('', sev('0x000f')), { es: false }).status).toBe('failed');
    expect(checkPolicyValid(dom('', sev('0x000f'))).status).toBe('passed');
  });
  it('passes 0x0003 but notes debugging warning for 0x0002', () => {
    expect(checkPolicyValid(dom('', sev('0x0003'))).message).toContain('0x0003 = no debugging, no key sharing');
    const v = checkPolicyValid(dom('', sev('0x0002')));
    expect(v.status).toBe('passed');
    expect(v.message).toContain('note: NODBG');
  });
  it('SNP: bit 17 clear fails with bit 17 set in the fix; missing policy is judged as QEMU default', () => {
    const snp = (p: string) => dom('', `<launchSecurity type='sev-snp'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits>${p}</launchSecurity>`);
    const v = checkPolicyValid(snp('<policy>0x10000</policy>'));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('fix: <policy>0x30000</policy>');
    expect(checkPolicyValid(snp('')).message).toContain("QEMU's sev-snp-guest default");
    expect(checkPolicyValid(snp('<policy>0x30000</policy>'), { snp: false }).status).toBe('failed');
  });
  it('skips without AMD launchSecurity', () => {
    expect(checkPolicyValid(dom('')).status).toBe('skipped');
  });
});

describe('domain.cbitpos.matches-host', () => {
  it('is undecided without host facts', () => {
    expect(checkCbitposMatchesHost(dom('', sev())).status).toBe('undecided');
  });
  it('fails a reducedPhysBits mismatch with the line to paste', () => {
    const v = checkCbitposMatchesHost(dom('', sev()), { cbitpos: 51, reducedPhysBits: 6 });
    expect(v.status).toBe('failed');
    expect(v.message).toContain('fix: <reducedPhysBits>6</reducedPhysBits>');
  });
  it('passes equal values', () => {
    expect(checkCbitposMatchesHost(dom('', sev()), { cbitpos: 51, reducedPhysBits: 1 }).status).toBe('passed');
  });
});

describe('domain.machine.q35', () => {
  const os = (m: string) => `<os><type arch='x86_64'${m}>hvm</type></os>`;
  it.each([" machine='q35'", " machine='pc-q35-8.2'"])('passes %s', (m) => {
    expect(checkMachineQ35(dom('', os(m))).status).toBe('passed');
  });
  it('fails i440fx and lists devices that are not virtio-non-transitional', () => {
    const v = checkMachineQ35(
      dom("<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng><memballoon model='virtio-non-transitional'/>", os(" machine='pc-i440fx-7.2'")),
    );
    expect(v.status).toBe('failed');
    expect(v.message).toContain('not virtio-non-transitional: rng virtio');
    expect(v.message).not.toContain('memballoon');
    expect(v.message).toContain('libvirt >= 5.2.0');
  });
  it('fails a missing machine attribute (QEMU default pc)', () => {
    expect(checkMachineQ35(dom('', os(''))).message).toContain("QEMU's x86 default machine is i440fx");
  });
  it('fails a non-x86 arch', () => {
    expect(checkMachineQ35(dom('', "<os><type arch='aarch64' machine='virt'>hvm</type></os>")).status).toBe('failed');
  });
});

describe('domain.loader.ovmf', () => {
  const os = (inner: string, attr = '') => `<os${attr}><type arch='x86_64' machine='q35'>hvm</type>${inner}</os>`;
  it('passes firmware=efi and an OVMF pflash loader', () => {
    expect(checkLoaderOvmf(dom('', os('', " firmware='efi'"))).status).toBe('passed');
    expect(checkLoaderOvmf(dom('', os("<loader readonly='yes' type='pflash'>/usr/share/edk2/ovmf/OVMF_CODE.fd</loader>"))).status).toBe('passed');
  });
  it('fails SeaBIOS / no loader', () => {
    expect(checkLoaderOvmf(dom('', os(''))).status).toBe('failed');
    expect(checkLoaderOvmf(dom('', os("<loader>/usr/share/seabios/bios.bin</loader>"))).status).toBe('failed');
  });
  it('fails an OVMF loaded as rom for SEV, with the pflash line as fix', () => {
    const v = checkLoaderOvmf(dom('', os("<loader type='rom'>/usr/share/OVMF/OVMF.fd</loader>") + sev()));
    expect(v.status).toBe('failed');
    expect(v.message).toContain("fix: <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF.fd</loader>");
  });
  it('fails pflash for SNP', () => {
    const v = checkLoaderOvmf(dom('', os("<loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>") + sev('0x30000').replace("'sev'", "'sev-snp'")));
    expect(v.status).toBe('failed');
  });
  it('is undecided for an unknown pflash image', () => {
    expect(checkLoaderOvmf(dom('', os("<loader type='pflash'>/opt/fw/custom.fd</loader>"))).status).toBe('undecided');
  });
});

describe('domain.virtio.iommu', () => {
  it('names each offender and keeps the existing driver attributes in the fix', () => {
    const v = checkVirtioIommu(
      dom(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/x'/><target dev='vda' bus='virtio'/></disk>
        <interface type='network'><source network='default'/><model type='virtio'/><driver iommu='on'/></interface>
        <memballoon model='virtio'><driver iommu='off'/></memballoon>
        <video><model type='virtio'/></video>
        <input type='tablet' bus='virtio'/>
        <vsock><cid auto='yes'/></vsock>
        <filesystem type='mount'><driver type='virtiofs'/><source dir='/s'/><target dir='share'/></filesystem>
        <controller type='scsi' model='virtio-scsi' index='0'/>`),
    );
    expect(v.status).toBe('failed');
    for (const name of ['disk vda (no iommu attribute)', "memballoon virtio (iommu='off')", 'video virtio (no <driver>)', 'input tablet (bus virtio)', 'vsock', 'filesystem share', 'controller scsi (virtio-scsi) index 0']) {
      expect(v.message).toContain(name);
    }
    expect(v.message).not.toContain('interface');
    expect(v.message).toContain("change its <driver> to <driver name='qemu' type='qcow2' iommu='on'/>");
    expect(v.message).toMatch(/found 7 virtio device/);
  });
  it('flags a virtio console without an explicit virtio-serial controller', () => {
    const v = checkVirtioIommu(dom("<console type='pty'><target type='virtio' port='0'/></console>"));
    expect(v.status).toBe('failed');
    expect(v.message).toContain("<controller type='virtio-serial' index='0'><driver iommu='on'/></controller>");
  });
  it('ignores non-virtio devices', () => {
    const v = checkVirtioIommu(
      dom("<disk type='file' device='disk'><source file='/x'/><target dev='sda' bus='sata'/></disk><interface type='network'><model type='e1000e'/></interface><memballoon model='none'/><video><model type='qxl'/></video><console type='pty'><target type='serial'/></console>"),
    );
    expect(v.status).toBe('passed');
    expect(v.message).toBe('no virtio devices');
  });
});

describe('domain.memory.pinned', () => {
  it('passes locked memory', () => {
    expect(checkMemoryPinned(dom('', '<memoryBacking><locked/></memoryBacking>')).status).toBe('passed');
  });
  it('passes hard_limit of exactly memory + 256 MiB (libvirt doc example 4456448)', () => {
    expect(checkMemoryPinned(dom('', "<memtune><hard_limit unit='KiB'>4456448</hard_limit></memtune>")).status).toBe('passed');
  });
  it('fails 1 KiB short, with the exact number to paste', () => {
    const v = checkMemoryPinned(dom('', "<memtune><hard_limit unit='KiB'>4456447</hard_limit></memtune>"));
    expect(v.status).toBe('failed');
    expect(v.message).toContain("<memtune><hard_limit unit='KiB'>4456448</hard_limit></memtune>");
  });
  it('fails hugepages alone, saying why', () => {
    const v = checkMemoryPinned(dom('', '<memoryBacking><hugepages/></memoryBacking>'));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('hugepages alone');
  });
});

describe('domain.no-migration', () => {
  it('fails SEV policy without NOSEND (libvirt doc example 0x0003) and sets bit 3 in the fix', () => {
    const v = checkNoMigration(dom('', sev('0x0003')));
    expect(v.status).toBe('failed');
    expect(v.message).toContain('fix: <policy>0x000b</policy>');
  });
  it('fails SNP MIGRATE_MA because domain.policy.valid, which owns that bit and its one fix', () => {
    const d = dom('', sev('0x70000').replace("'sev'", "'sev-snp'"));
    const v = checkNoMigration(d);
    expect(v).toMatchObject({ status: 'failed', because: 'domain.policy.valid' });
    expect(v.message).toMatch(/^because domain\.policy\.valid: found policy 0x70000 .*MIGRATE_MA/);
    expect(v.message).not.toContain('fix:');
    expect(checkPolicyValid(d).message).toContain('fix: <policy>0x30000</policy>');
  });
  it('passes NOSEND, skips non-SEV, undecided on unreadable policy (because the check that reports it)', () => {
    expect(checkNoMigration(dom('', sev('0x0008'))).status).toBe('passed');
    expect(checkNoMigration(dom('')).status).toBe('skipped');
    expect(checkNoMigration(dom('', sev('zz')))).toMatchObject({ status: 'undecided', because: 'domain.policy.valid' });
    // an SEV guest without <policy>: domain.launch-security owns it (its fix adds the element)
    const noPolicy = dom('', "<launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits></launchSecurity>");
    expect(checkLaunchSecurity(noPolicy)).toMatchObject({ status: 'failed', fix: expect.stringMatching(/<policy>0x000b<\/policy>/) });
    expect(checkPolicyValid(noPolicy)).toMatchObject({ status: 'failed', because: 'domain.launch-security' });
    expect(checkNoMigration(noPolicy)).toMatchObject({ status: 'undecided', because: 'domain.launch-security' });
  });
});
