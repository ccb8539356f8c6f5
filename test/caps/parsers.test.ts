import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { parseDomainCapabilities } from '../../support/parsers/domcaps.js';
import { parseLibvirtCapsCache } from '../../support/parsers/libvirt-caps-cache.js';
import { parseNodeSevInfo } from '../../support/parsers/nodesevinfo.js';
import { parseQemuCertChain, parseQemuPdh, parseAmdCert, verifySevChain } from '../../support/sev/sev-cert.js';

const F = join(import.meta.dirname, '../../fixtures/caps-samples');
const V = join(import.meta.dirname, '../vectors/virtee-sev');
const fixture = (n: string): string => readFileSync(join(F, n), 'utf8');

async function inputError(p: Promise<unknown> | (() => unknown), problem: RegExp): Promise<InputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).problem).toMatch(problem);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

const CPU0 = 'BlAwmcr4Ruya3YvEGe2EBxuWjMAfIYolslNNM92RsIKxLkWDDRqivqSBOD+qQRCYS9joBYSHMD1g+rmjY+MmVw==';

describe('parseDomainCapabilities', () => {
  it('Genoa sample: SEV fields, cpu0Id and SNP via launchSecurity sectype', async () => {
    const d = await parseDomainCapabilities(fixture('domcaps-genoa-sev-snp.xml'), 'domcaps-genoa');
    expect(d).toMatchObject({ path: '/usr/bin/qemu-system-x86_64', domain: 'kvm', machine: 'pc-q35-10.0', arch: 'x86_64', snpSupported: true });
    expect(d.sev).toEqual({ supported: true, cbitpos: 51, reducedPhysBits: 1, maxGuests: 59, maxESGuests: 450, cpu0Id: CPU0 });
    expect(d.launchSecurity).toEqual({ supported: true, sectypes: ['sev', 'sev-snp'] });
  });

  it('Milan sample (older libvirt): SEV without cpu0Id; SNP not reported at all', async () => {
    const d = await parseDomainCapabilities(fixture('domcaps-milan-sev.xml'));
    expect(d.sev).toEqual({ supported: true, cbitpos: 51, reducedPhysBits: 1, maxGuests: 410, maxESGuests: 99, cpu0Id: undefined });
    expect(d.launchSecurity).toBeUndefined();
    expect(d.snpSupported).toBeUndefined();
  });

  it("supported='no' sample", async () => {
    const d = await parseDomainCapabilities(fixture('domcaps-nosev.xml'));
    expect(d.sev).toEqual({ supported: false, cbitpos: undefined, reducedPhysBits: undefined, maxGuests: undefined, maxESGuests: undefined, cpu0Id: undefined });
  });

  it('no <sev> element at all is "not reported", not "unsupported"', async () => {
    const d = await parseDomainCapabilities('<domainCapabilities><features><gic supported="no"/></features></domainCapabilities>');
    expect(d.sev).toBeUndefined();
    const e = await parseDomainCapabilities('<domainCapabilities/>');
    expect(e.sev).toBeUndefined();
  });

  it('launchSecurity supported with only sev: snpSupported false', async () => {
    const d = await parseDomainCapabilities(
      "<domainCapabilities><features><launchSecurity supported='yes'><enum name='sectype'><value>sev</value></enum></launchSecurity></features></domainCapabilities>",
    );
    expect(d.snpSupported).toBe(false);
  });

  describe('malformed', () => {
    it('not XML', () => inputError(parseDomainCapabilities('error: failed to connect to the hypervisor', 'virsh domcapabilities'), /malformed XML/));
    it('truncated XML', () => inputError(parseDomainCapabilities(fixture('domcaps-genoa-sev-snp.xml').slice(0, 500)), /malformed XML/));
    it('empty', () => inputError(parseDomainCapabilities('  \n'), /is empty/));
    it('wrong root', () => inputError(parseDomainCapabilities('<capabilities/>'), /root element is <capabilities>; expected <domainCapabilities>/));
    it('DOCTYPE', () => inputError(parseDomainCapabilities('<!DOCTYPE d [<!ENTITY x "y">]><domainCapabilities/>'), /DOCTYPE\/ENTITY declaration is refused/));
    it('ENTITY without DOCTYPE keyword case', () => inputError(parseDomainCapabilities('<!doctype d><domainCapabilities/>'), /refused/));
    it('bad supported value', () =>
      inputError(parseDomainCapabilities("<domainCapabilities><features><sev supported='maybe'/></features></domainCapabilities>"), /<sev supported=…> is "maybe"/));
    it('missing supported', () => inputError(parseDomainCapabilities('<domainCapabilities><features><sev/></features></domainCapabilities>'), /is missing/));
    it('non-numeric cbitpos', () =>
      inputError(
        parseDomainCapabilities("<domainCapabilities><features><sev supported='yes'><cbitpos>fifty-one</cbitpos></sev></features></domainCapabilities>"),
        /<cbitpos> is "fifty-one"; expected an unsigned integer/,
      ));
    it('negative maxGuests', () =>
      inputError(
        parseDomainCapabilities("<domainCapabilities><features><sev supported='yes'><maxGuests>-1</maxGuests></sev></features></domainCapabilities>"),
        /<maxGuests> is "-1"/,
      ));
    it('duplicated <sev>', () =>
      inputError(
        parseDomainCapabilities("<domainCapabilities><features><sev supported='yes'/><sev supported='no'/></features></domainCapabilities>"),
        /<sev> appears 2 times/,
      ));
    it('the error names the source', async () => {
      const e = await inputError(parseDomainCapabilities('<x', 'ssh://epyc1: virsh domcapabilities'), /malformed XML/);
      expect(e.message).toMatch(/^ssh:\/\/epyc1: virsh domcapabilities: malformed XML/);
    });
  });
});

describe('parseNodeSevInfo', () => {
  it('Genoa sample', () => {
    const n = parseNodeSevInfo(fixture('nodesevinfo-genoa.txt'));
    expect(n).toMatchObject({ cbitpos: 51, reducedPhysBits: 1, maxGuests: 59, maxESGuests: 450, cpu0Id: CPU0, extra: {} });
    expect(n.pdh).toMatch(/^UExBQ0VI/);
  });

  it('older libvirt without cpu0-id / max-es-guests, and unknown future fields kept verbatim', () => {
    const n = parseNodeSevInfo('pdh               : AAAA\ncert-chain        : BBBB\ncbitpos           : 47\nreduced-phys-bits : 1\nsnp-future        : yes\n');
    expect(n).toMatchObject({ cbitpos: 47, reducedPhysBits: 1, cpu0Id: undefined, maxESGuests: undefined, extra: { 'snp-future': 'yes' } });
  });

  it('real certificates in nodesevinfo form feed the chain verifier', () => {
    const b64 = (p: string) => readFileSync(join(V, p)).toString('base64');
    const chain = Buffer.concat(['pek', 'oca', 'cek'].map((n) => readFileSync(join(V, `tests/rome/${n}.cert`)))).toString('base64');
    const n = parseNodeSevInfo(`pdh               : ${b64('tests/rome/pdh.cert')}\ncert-chain        : ${chain}\ncbitpos           : 47\n`);
    const r = verifySevChain({
      ...parseQemuCertChain(n.certChain!, 'nodesevinfo cert-chain'),
      pdh: parseQemuPdh(n.pdh!, 'nodesevinfo pdh'),
      ark: parseAmdCert(readFileSync(join(V, 'src/certs/sev/builtin/rome/ark.cert'))),
      ask: parseAmdCert(readFileSync(join(V, 'src/certs/sev/builtin/rome/ask.cert'))),
    });
    expect(r.ok).toBe(true);
  });

  describe('malformed', () => {
    it('empty output', () => inputError(() => parseNodeSevInfo('\n\n'), /no "field : value" lines/));
    it('virsh error text', () =>
      inputError(() => parseNodeSevInfo('error: Unable to get host SEV information\nerror: this function is not supported by the connection driver'), /virsh reported an error/));
    it('line without a colon', () => inputError(() => parseNodeSevInfo('cbitpos 51\n'), /line 1 is not "field : value"/));
    it('non-numeric number', () => inputError(() => parseNodeSevInfo('cbitpos           : 0x33\n'), /cbitpos is "0x33"; expected an unsigned integer/));
    it('duplicate field', () => inputError(() => parseNodeSevInfo('cbitpos : 51\ncbitpos : 47\n'), /"cbitpos" appears twice/));
    it('empty pdh', () => inputError(() => parseNodeSevInfo('pdh               : \n'), /pdh is empty/));
  });
});

describe('parseLibvirtCapsCache', () => {
  it('Genoa cache: host facts, flags, <sev>, kvmSupportsSecureGuest', async () => {
    const c = await parseLibvirtCapsCache(fixture('libvirt-caps-cache-genoa.xml'), 'genoa.xml');
    expect(c).toMatchObject({
      emulator: '/usr/bin/qemu-system-x86_64',
      qemuctime: 1735689600,
      selfctime: 1738368000,
      selfvers: 11000000,
      version: 10000000,
      microcodeVersion: 43100285,
      hostCPUSignature: 'AMD Family 25 Model 17 Stepping 1',
      package: 'v10.0.0',
      arch: 'x86_64',
      sevGuestFlag: true,
      snpGuestFlag: true,
      kvmSupportsSecureGuest: true,
      kvmSupportsNesting: true,
    });
    expect(c.kernelVersion).toMatch(/^6\.12\.9-200\.fc41\.x86_64 #1 SMP/);
    expect(c.sev).toMatchObject({ cbitpos: 51, reducedPhysBits: 1, cpu0Id: CPU0 });
    // the sample's pdh/certChain are documented placeholders: the chain parser refuses them
    expect(() => parseQemuCertChain(c.sev!.certChain, 'genoa.xml <certChain>')).toThrow(InputError);
  });

  it('stale cache written before SEV was enabled: no flag, no <sev>, no kvmSupportsSecureGuest', async () => {
    const c = await parseLibvirtCapsCache(fixture('libvirt-caps-cache-stale-nosev.xml'));
    expect(c).toMatchObject({ sevGuestFlag: false, sev: undefined, kvmSupportsSecureGuest: false, hostCPUSignature: 'AMD Family 25 Model 17 Stepping 1' });
  });

  describe('malformed', () => {
    const base = fixture('libvirt-caps-cache-genoa.xml');
    it('not XML', () => inputError(parseLibvirtCapsCache('garbage'), /malformed XML/));
    it('wrong root', () => inputError(parseLibvirtCapsCache('<domainCapabilities/>'), /expected <qemuCaps>/));
    it('ENTITY', () => inputError(parseLibvirtCapsCache(`<!ENTITY a "b">${base}`), /refused/));
    it('missing selfvers', () => inputError(parseLibvirtCapsCache(base.replace(/<selfvers>.*<\/selfvers>/, '')), /missing <selfvers>/));
    it('non-numeric microcodeVersion', () =>
      inputError(parseLibvirtCapsCache(base.replace('<microcodeVersion>43100285', '<microcodeVersion>0x291')), /<microcodeVersion> is "0x291/));
    it("sev-guest flag without <sev> (libvirt rejects it too)", () =>
      inputError(parseLibvirtCapsCache(base.replace(/<sev>[\s\S]*<\/sev>/, '')), /has <flag name='sev-guest'\/> but no <sev> element/));
    it('<sev> without certChain', async () => {
      const e = await inputError(parseLibvirtCapsCache(base.replace(/<certChain>.*<\/certChain>/, ''), 'cache.xml'), /missing <certChain>/);
      expect(e.message).toBe('cache.xml: <sev>: missing <certChain>');
    });
    it('<sev> with a bad cbitpos', () => inputError(parseLibvirtCapsCache(base.replace('<cbitpos>51', '<cbitpos>x51')), /<cbitpos> is "x51/));
    it('flag without name', () => inputError(parseLibvirtCapsCache(base.replace("<flag name='vnc'/>", '<flag/>')), /<flag> #2 has no name/));
    it('missing arch', () => inputError(parseLibvirtCapsCache(base.replace('<arch>x86_64</arch>', '')), /missing <arch>/));
  });
});
