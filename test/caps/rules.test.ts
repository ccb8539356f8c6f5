import { describe, expect, it } from 'vitest';
import * as rules from '../../support/rules/caps.js';
import { parseDomainCapabilities } from '../../support/parsers/domcaps.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import type { QmpAnswer } from '../../support/probes/caps.js';
import type { SevCapabilities } from '../../support/qemu/qemu-probe.js';
import { known, type Fact } from '../../support/facts.js';

/** A fact the rule must not ask for. */
const never: Fact<never> = () => {
  throw new Error('fact read although the verdict did not need it');
};

const cpuid = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x1fd, edx: 0x80 }); // cbitpos 51
const dc = (sev: string, ls = '') => parseDomainCapabilities(`<domainCapabilities><machine>pc-q35-9.2</machine><features>${sev}${ls}</features></domainCapabilities>`, 'virsh domcapabilities');
const yes = "<sev supported='yes'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><maxGuests>382</maxGuests><maxESGuests>127</maxESGuests></sev>";
const ctx = (asLibvirtUser: boolean) => ({ qemu: '9.2.0', ranAs: asLibvirtUser ? "libvirt's QEMU user libvirt-qemu" : 'nobody (uid 65534) as a stand-in', asLibvirtUser });
const err = (desc: string, asUser = true): QmpAnswer<SevCapabilities> => ({ ok: false, error: { class: 'GenericError', desc }, context: ctx(asUser) });
const ok = (cbitpos = 51): QmpAnswer<SevCapabilities> => ({ ok: true, value: { pdh: 'AA==', certChain: 'AA==', cbitpos, reducedPhysBits: 1 }, context: ctx(true) });

describe('caps.domcaps.*', () => {
  it('sev-supported: yes with cbitpos and reducedPhysBits passes; no / absent / incomplete fail with a fix', async () => {
    expect((await rules.domcapsSevSupported(await dc(yes), never)).status).toBe('passed');
    const no = await rules.domcapsSevSupported(await dc("<sev supported='no'/>"));
    expect(no.status).toBe('failed');
    expect(no.message).toMatch(/kvm_amd.sev=1.*rm -f \/var\/cache\/libvirt\/qemu\/capabilities/);
    expect((await rules.domcapsSevSupported(await dc("<sev supported='no'/>"), known({ kvmSev: true }))).message).toMatch(/libvirt's view is stale/);
    expect((await rules.domcapsSevSupported(await dc("<sev supported='no'/>"), known({ qmp: err('SEV: Failed to open /dev/sev: Permission denied') }))).message).toMatch(/read-write access to \/dev\/sev/);
    expect((await rules.domcapsSevSupported(await dc(''), never)).message).toMatch(/no <sev> element/);
    expect((await rules.domcapsSevSupported(await dc("<sev supported='yes'><cbitpos>51</cbitpos></sev>"), never)).message).toMatch(/without <reducedPhysBits>/);
  });
  it('cbitpos: equal passes, different fails naming both values and sources, no SEV is undecided', async () => {
    expect((await rules.domcapsCbitpos(await dc(yes), known(cpuid))).status).toBe('passed');
    const bad = await rules.domcapsCbitpos(await dc(yes.replace('>51<', '>47<')), known(cpuid));
    expect(bad.status).toBe('failed');
    expect(bad.message).toMatch(/<cbitpos>47<\/cbitpos> but CPUID 0x8000001F EBX\[5:0\] = 51/);
    expect((await rules.domcapsCbitpos(await dc("<sev supported='no'/>"), never)).status).toBe('undecided');
    const intel = await rules.domcapsCbitpos(await dc(yes), known({ ...cpuid, implemented: false, vendor: 'GenuineIntel', vendorSource: '/proc/cpuinfo vendor_id' }));
    expect(intel.message).toMatch(/<cbitpos>51<\/cbitpos>, but a GenuineIntel processor/);
  });
  it('sev-snp: the sev-snp sectype passes; missing launchSecurity or sectype fails', async () => {
    const ls = (v: string) => `<launchSecurity supported='yes'><enum name='sectype'>${v}</enum></launchSecurity>`;
    expect(rules.domcapsSnp(await dc(yes, ls('<value>sev</value><value>sev-snp</value>'))).status).toBe('passed');
    expect(rules.domcapsSnp(await dc(yes, ls('<value>sev</value>'))).status).toBe('failed');
    expect(rules.domcapsSnp(await dc(yes)).message).toMatch(/libvirt ≥ 10.5/);
  });
});

describe('caps.qmp.*', () => {
  it('a return passes; each QEMU error gets its own fix', () => {
    expect(rules.qmpSevCapabilities(ok()).status).toBe('passed');
    expect(rules.qmpSevCapabilities(err('SEV is not enabled in KVM')).message).toMatch(/GenericError "SEV is not enabled in KVM".*fix: enable SEV in KVM/);
    expect(rules.qmpSevCapabilities(err('SEV: Failed to open /dev/sev: Permission denied')).message).toMatch(/KERNEL=="sev", GROUP="kvm", MODE="0660"/);
    expect(rules.qmpSevCapabilities(err('SEV: Failed to open /dev/sev: No such file or directory')).message).toMatch(/modprobe ccp/);
    expect(rules.qmpSevCapabilities(err('SEV is not available in this QEMU')).message).toMatch(/CONFIG_SEV/);
    expect(rules.qmpSevCapabilities(err('something new')).status).toBe('failed');
  });
  it('"KVM not enabled": failed as libvirt\'s user, undecided for a stand-in identity (says who)', () => {
    expect(rules.qmpSevCapabilities(err('KVM not enabled', true)).status).toBe('failed');
    const u = rules.qmpSevCapabilities(err('KVM not enabled', false));
    expect(u.status).toBe('undecided');
    expect(u.message).toMatch(/run as nobody \(uid 65534\) as a stand-in/);
  });
  it('cbitpos vs CPUID (CPUID read only when QEMU gave a cbitpos)', async () => {
    expect((await rules.qmpCbitpos(ok(51), known(cpuid))).status).toBe('passed');
    expect((await rules.qmpCbitpos(ok(47), known(cpuid))).message).toMatch(/cbitpos 47 .*but CPUID 0x8000001F EBX\[5:0\] = 51/);
    expect((await rules.qmpCbitpos(err('SEV is not enabled in KVM'), never)).status).toBe('undecided');
  });
});

describe('caps.cache.fresh', () => {
  const file = (sev: boolean) => ({
    path: '/var/cache/libvirt/qemu/capabilities/x.xml',
    cache: { arch: 'x86_64', emulator: '/usr/bin/qemu-system-x86_64', sev: sev ? { cbitpos: 51, reducedPhysBits: 1, pdh: 'a', certChain: 'b' } : undefined } as never,
  });
  const cache = (sev: boolean) => ({ dir: '/var/cache/libvirt/qemu/capabilities', files: [file(sev)] });
  it('no <sev> cached while QEMU answers: stale, with the rm + restart fix', () => {
    const v = rules.cacheFresh(cache(false), { kvmSev: true, kvmSevSource: 'kvm_amd', qmp: ok() }, []);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/has no <sev> \(cached before SEV was enabled\).*fix: clear libvirt's capabilities cache: rm -f/);
  });
  it('<sev> cached after SEV was turned off: stale', () => {
    expect(rules.cacheFresh(cache(true), { kvmSev: false, kvmSevSource: 'kvm_amd', qmp: undefined }, []).status).toBe('failed');
  });
  it('agreeing cache passes; a QEMU refusal as libvirt\'s user makes "no <sev>" current', () => {
    expect(rules.cacheFresh(cache(true), { kvmSev: true, kvmSevSource: 'kvm_amd', qmp: ok() }, []).status).toBe('passed');
    expect(rules.cacheFresh(cache(false), { kvmSev: true, kvmSevSource: 'kvm_amd', qmp: err('SEV: Failed to open /dev/sev: Permission denied') }, []).status).toBe('passed');
  });
  it('no cache, unreadable files, or no live evidence: undecided', () => {
    expect(rules.cacheFresh(undefined, { kvmSev: true, kvmSevSource: 'k', qmp: undefined }, []).status).toBe('undecided');
    expect(rules.cacheFresh({ dir: 'd', files: [{ path: 'd/x.xml', problem: 'd/x.xml: malformed XML' }] }, { kvmSev: true, kvmSevSource: 'k', qmp: undefined }, []).message).toMatch(/malformed XML/);
    expect(rules.cacheFresh(cache(true), { kvmSev: undefined, kvmSevSource: 'k', qmp: undefined }, []).status).toBe('undecided');
  });
});

describe('caps.layers.agree', () => {
  it('names each disagreement with both values and sources', () => {
    const v = rules.layersAgree([{ fact: 'cbitpos', a: { source: 'CPUID', value: 51 }, b: { source: 'virsh nodesevinfo', value: 47 }, why: 'w' }], ['CPUID', 'nodesevinfo']);
    expect(v.message).toMatch(/cbitpos: 51 \(CPUID\) vs 47 \(virsh nodesevinfo\)/);
    expect(rules.layersAgree([], ['CPUID', 'QEMU']).status).toBe('passed');
    expect(rules.layersAgree([], ['kvm_amd', 'CPUID']).status).toBe('undecided');
  });
});

describe('caps.pdh.chain-valid source selection', () => {
  it('QMP first, then nodesevinfo (asked only then), else undecided naming both', async () => {
    expect(await rules.chainSource(ok(), never)).toMatchObject({ from: 'QMP query-sev-capabilities' });
    expect(await rules.chainSource(err('KVM not enabled'), known({ ok: true, info: { source: 's', pdh: 'p', certChain: 'c', extra: {} } }))).toMatchObject({ from: 'virsh nodesevinfo' });
    const none = await rules.chainSource({ error: 'QEMU probe: no answer' }, known({ ok: false, error: 'libvirt is not running' }));
    expect(rules.chainValid(none as never).message).toMatch(/QMP could not be asked \(QEMU probe: no answer\); virsh nodesevinfo: libvirt is not running/);
  });
});
