/**
 * The domain layer on a host: discovery of the SEV guests (DomainProbe over FixtureHost), the
 * fold of one check over several guests, host C-bit facts, the sev-snp schema gap, and the
 * scenarios end to end on the guests-misconfigured fixture host.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { DomainProbe, classify } from '../../support/probes/domain.js';
import { foldGuests, judgeGuests, judgeSchemas, type GuestDefinition, type HostGuests } from '../../support/domain/guests.js';
import { checkCbitposAgainstCpuid, hostFactsFromCpuid, hostFactsFromDomcaps } from '../../support/domain/host-facts.js';
import { parseDomainXml } from '../../support/domain/model.js';
import { checkVirtioIommu, checkLaunchSecurity } from '../../support/domain/rules.js';
import { schemaVerdict } from '../../support/domain/schema.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import { failed, failedBecause, passed, skipped, undecided, undecidedBecause } from '../../support/verdict.js';
import { sevcheck, type JsonResults } from '../helpers.js';

const fx = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
const domainXml = (f: string) => readFileSync(fx(`domains/${f}`), 'utf8');
const MILAN = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x1fd, edx: 0x80 });

/** A throwaway fixture host: host.json plus the given files (path -> content) and JSON side files. */
function fixtureHost(files: Record<string, string>, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-domain-host-'));
  writeFileSync(join(dir, 'host.json'), JSON.stringify({ name: 't', source: 'authored' }));
  for (const [p, text] of Object.entries(files)) {
    const f = join(dir, 'files', p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  for (const [name, v] of Object.entries(extra)) writeFileSync(join(dir, name), JSON.stringify(v));
  return dir;
}

const probe = (dir: string) => new DomainProbe(new CachingHost(new FixtureHost(dir, { warn: () => undefined })));

function guest(name: string, xml: string): GuestDefinition {
  return { name, source: `/etc/libvirt/qemu/${name}.xml`, text: xml, model: parseDomainXml(xml, `/etc/libvirt/qemu/${name}.xml`) };
}
const hostWith = (sev: GuestDefinition[], extra: Partial<HostGuests> = {}): HostGuests => ({
  origin: '/etc/libvirt/qemu/*.xml',
  sev,
  others: [],
  unreadable: [],
  ...extra,
});

describe('discovery of the SEV guests defined on a host', () => {
  it('no /etc/libvirt/qemu: no guests, every check skipped with the reason', async () => {
    const g = await probe(fixtureHost({ 'etc/os-release': 'ID=debian\n' })).guests();
    expect(g.none).toMatch(/\/etc\/libvirt\/qemu does not exist/);
    expect(judgeGuests(g, () => passed('x'))).toEqual(skipped('no SEV guest defined on the host: /etc/libvirt/qemu does not exist (no persistent libvirt QEMU domains on this host)'));
  });

  it('reads *.xml only, splits SEV guests from ordinary ones, reports unparseable files', async () => {
    const dir = fixtureHost({
      'etc/libvirt/qemu/a.xml': domainXml('good-sev-q35.xml'),
      'etc/libvirt/qemu/b.xml': domainXml('good-snp.xml'),
      'etc/libvirt/qemu/plain.xml': domainXml('bad-no-launchsecurity.xml'),
      'etc/libvirt/qemu/networks/default.xml': '<network><name>default</name></network>',
      'etc/libvirt/qemu/notes.txt': 'not a domain',
      'etc/libvirt/qemu/broken.xml': '<domain><name>x</name>',
    });
    const g = await probe(dir).guests();
    expect(g.sev.map((x) => [x.name, x.source])).toEqual([
      ['good-sev-q35', '/etc/libvirt/qemu/a.xml'],
      ['good-snp', '/etc/libvirt/qemu/b.xml'],
    ]);
    expect(g.others).toEqual(['bad-no-launchsecurity']);
    expect(g.unreadable).toEqual([{ source: '/etc/libvirt/qemu/broken.xml', reason: expect.stringMatching(/^cannot be parsed: not well-formed XML/) }]);
  });

  it('only ordinary guests: skipped, naming them', async () => {
    const g = await probe(fixtureHost({ 'etc/libvirt/qemu/plain.xml': domainXml('bad-no-launchsecurity.xml') })).guests();
    const v = judgeGuests(g, () => failed('a', 'b', 'c'));
    expect(v.status).toBe('skipped');
    expect(v.message).toMatch(/1 domain\(s\) in \/etc\/libvirt\/qemu\/\*\.xml \(bad-no-launchsecurity\), none with <launchSecurity type='sev'>/);
  });

  it('entity tricks and huge files in the config directory are unreadable definitions, never a crash', async () => {
    const dir = fixtureHost({
      'etc/libvirt/qemu/lol.xml': domainXml('attack-billion-laughs.xml'),
      'etc/libvirt/qemu/huge.xml': `<domain type='kvm'><name>h</name><description>${'x'.repeat(5 * 1024 * 1024)}</description></domain>`,
    });
    const g = await probe(dir).guests();
    expect(g.sev).toEqual([]);
    expect(g.unreadable.map((u) => u.reason)).toEqual([expect.stringMatching(/over the \d+-byte limit/), expect.stringMatching(/DOCTYPE/)]);
    expect(judgeGuests(g, () => passed('x')).status).toBe('undecided');
  });

  it('a permission-denied config directory falls back to virsh dumpxml --inactive', async () => {
    const virsh = ['virsh', '-c', 'qemu:///system'];
    const dir = fixtureHost(
      { 'etc/libvirt/qemu/.keep': '' },
      {
        'errors.json': { listDir: { '/etc/libvirt/qemu': { code: 'EACCES', message: '/etc/libvirt/qemu: permission denied' } } },
        'commands.json': [
          { argv: [...virsh, 'list', '--all', '--name'], exitCode: 0, stdout: 'web\n\n' },
          { argv: [...virsh, 'dumpxml', '--inactive', '--domain', 'web'], exitCode: 0, stdout: domainXml('good-sev-es.xml') },
        ],
      },
    );
    const g = await probe(dir).guests();
    expect(g.origin).toBe('virsh -c qemu:///system list --all');
    expect(g.sev.map((x) => [x.name, x.source])).toEqual([['good-sev-es', 'virsh dumpxml --inactive web']]);
  });

  it('permission denied and no virsh answer: the read error stands (undecided through decide)', async () => {
    const dir = fixtureHost({}, { 'errors.json': { listDir: { '/etc/libvirt/qemu': { code: 'EACCES', message: '/etc/libvirt/qemu: permission denied' } } } });
    await expect(probe(dir).guests()).rejects.toMatchObject({ name: 'HostError', code: 'EACCES' });
  });

  it('classify keeps the file name when <name> is missing', () => {
    const g = classify('x', [{ source: '/etc/libvirt/qemu/n.xml', fallbackName: 'n', text: "<domain type='kvm'><launchSecurity type='sev'/></domain>" }]);
    expect(g.sev[0]?.name).toBe('n');
  });
});

describe('one verdict over several guests', () => {
  const good = guest('good', domainXml('good-sev-q35.xml'));
  const bad1 = guest('bad1', domainXml('bad-iommu-missing.xml'));
  const bad2 = guest('bad2', domainXml('bad-iommu-missing.xml').replace("<driver iommu='on'/>", ''));

  it('any failure fails, and the message names each offending guest with its fix', () => {
    const v = judgeGuests(hostWith([good, bad1, bad2]), (x) => checkVirtioIommu(x.model));
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/^found 2 of 3 SEV guest\(s\) fail: guest 'bad1' \(\/etc\/libvirt\/qemu\/bad1\.xml\): .* \| guest 'bad2' .*\(1 other SEV guest\(s\) pass: 'good'\); expected .*; fix: for 'bad1': .* \| for 'bad2': .*virsh edit bad1 \/ bad2\)$/);
  });

  it("folds a guest's failure from its fields: a found value that says '; expected' stays whole", () => {
    const v = foldGuests(hostWith([bad1]), [[bad1, failed("<policy> '0x1; expected by the vendor'", 'NODBG set', 'virsh edit')]]);
    expect(v).toMatchObject({ status: 'failed', expected: 'NODBG set' });
    expect(v.status === 'failed' && v.found).toBe("1 of 1 SEV guest(s) fail: guest 'bad1' (/etc/libvirt/qemu/bad1.xml): <policy> '0x1; expected by the vendor'");
    const u = foldGuests(hostWith([bad1]), [[bad1, undecided('undecided: a reason that starts like a prefix')]]);
    expect(u.message).toBe("undecided: guest 'bad1' (/etc/libvirt/qemu/bad1.xml): undecided: a reason that starts like a prefix");
  });

  it('failure beats undecided; undecided beats passed; unreadable definitions make it undecided', () => {
    expect(foldGuests(hostWith([good, bad1]), [[good, undecided('x')], [bad1, failed('a', 'b', 'c')]]).status).toBe('failed');
    expect(foldGuests(hostWith([good, bad1]), [[good, passed('ok')], [bad1, undecided('no CPUID')]]).message).toBe(
      "undecided: guest 'bad1' (/etc/libvirt/qemu/bad1.xml): no CPUID (1 other SEV guest(s) pass: 'good')",
    );
    const v = foldGuests(hostWith([good], { unreadable: [{ source: '/etc/libvirt/qemu/x.xml', reason: 'EACCES: denied' }] }), [[good, passed('ok')]]);
    expect(v.message).toMatch(/^undecided: \/etc\/libvirt\/qemu\/x\.xml: EACCES: denied \(cannot tell whether it is an SEV guest\)/);
  });

  it("a defect another check owns stays that check's: followers fold to a follower, with no fix of their own", () => {
    const follows = failedBecause('domain.policy.valid', 'policy 0x70000 sets MIGRATE_MA (bit 18)', 'MIGRATE_MA clear');
    const v = foldGuests(hostWith([good, bad1, bad2]), [[good, passed('ok')], [bad1, follows], [bad2, follows]]);
    expect(v).toMatchObject({ status: 'failed', because: 'domain.policy.valid', fix: 'the fix under domain.policy.valid', expected: 'MIGRATE_MA clear' });
    expect(v.message).toBe(
      "because domain.policy.valid: found 2 of 3 SEV guest(s) fail: guest 'bad1' (/etc/libvirt/qemu/bad1.xml): policy 0x70000 sets MIGRATE_MA (bit 18) | guest 'bad2' (/etc/libvirt/qemu/bad2.xml): policy 0x70000 sets MIGRATE_MA (bit 18) (1 other SEV guest(s) pass: 'good'); expected MIGRATE_MA clear",
    );
    // one guest's own defect: the fold is a finding of its own, with its fix (the follower's pointer beside it)
    const mixed = foldGuests(hostWith([bad1, bad2]), [[bad1, follows], [bad2, failed('NOSEND clear', 'NOSEND set', '<policy>0x000b</policy>')]]);
    expect(mixed).toMatchObject({ status: 'failed' });
    expect('because' in mixed).toBe(false);
    expect(mixed.status === 'failed' && mixed.fix).toMatch(/for 'bad2': <policy>0x000b<\/policy>/);
    // two different owners: not one follower
    const two = foldGuests(hostWith([bad1, bad2]), [[bad1, follows], [bad2, failedBecause('domain.schema-valid', 'x', 'y')]]);
    expect('because' in two).toBe(false);
    // every undecided guest left nothing to judge by the same check's failure: undecided because of it
    const waits = undecidedBecause('domain.launch-security', 'the policy cannot be read');
    const u = foldGuests(hostWith([good, bad1]), [[good, passed('ok')], [bad1, waits]]);
    expect(u).toEqual(undecidedBecause('domain.launch-security', "guest 'bad1' (/etc/libvirt/qemu/bad1.xml): the policy cannot be read (1 other SEV guest(s) pass: 'good')"));
    // an unreadable definition might be an SEV guest with a defect of its own: not a follower
    const un = foldGuests(hostWith([bad1], { unreadable: [{ source: '/etc/libvirt/qemu/x.xml', reason: 'EACCES' }] }), [[bad1, waits]]);
    expect('because' in un).toBe(false);
  });

  it('all pass: passed, listing each guest', () => {
    const v = judgeGuests(hostWith([good]), (x) => checkLaunchSecurity(x.model));
    expect(v).toEqual(passed("1 SEV guest(s): guest 'good' (/etc/libvirt/qemu/good.xml): <launchSecurity type='sev'> with cbitpos 51, reducedPhysBits 1, policy 0x000b"));
  });
});

describe('host C-bit facts', () => {
  it('CPUID: cbitpos from EBX[5:0], reducedPhysBits 1 as QEMU reports it (not EBX[11:6])', () => {
    expect(MILAN.physAddrReduction).toBe(5);
    expect(hostFactsFromCpuid(MILAN, 'h')).toMatchObject({ cbitpos: 51, reducedPhysBits: 1, es: true, snp: true });
  });
  it('a host without SEV in CPUID fails the guest, naming why', () => {
    const none = decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    const v = checkCbitposAgainstCpuid(guest('g', domainXml('good-sev-q35.xml')).model, none, 'h');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/CPUID 0x8000001F EAX bit 1 \(SEV\) clear/);
  });
  it('a Rome guest (cbitpos 47) on Milan fails with the host value as the fix', () => {
    const v = checkCbitposAgainstCpuid(guest('g', domainXml('bad-cbitpos.xml')).model, MILAN, 'epyc1');
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/fix: <cbitpos>51<\/cbitpos>/);
  });
  it('domcapabilities without <sev supported=yes> gives no facts', () => {
    expect(hostFactsFromDomcaps({ source: 's', sev: { supported: false }, launchSecurity: undefined, snpSupported: undefined }, 'h')).toBeUndefined();
  });
});

describe('domain.schema-valid with a schema that predates sev-snp', () => {
  const snp = guest('snp', domainXml('good-snp.xml'));
  const gapErrors = {
    status: 'invalid' as const,
    errors: [
      { file: 'f', line: 72, message: '<launchSecurity>: Element launchSecurity failed to validate content' },
      { file: 'f', line: undefined, message: 'Extra element launchSecurity in interleave' },
    ],
  };
  const old = { rng: '/usr/share/libvirt/schemas/domain.rng', sevSnp: false, libvirtVersion: '9.0.0' };

  it('is undecided, naming the libvirt version and the machine, not a wrong FAIL', () => {
    const v = judgeSchemas(hostWith([snp]), [[snp, gapErrors]], old);
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/domain\.rng \(libvirt 9\.0\.0\) on the machine sevcheck runs on, not the probed host's own schema predates <launchSecurity type='sev-snp'> \(added in libvirt 10\.5\.0\)/);
  });
  it('an error elsewhere in an SNP guest is still a failure', () => {
    const other = { status: 'invalid' as const, errors: [{ file: 'f', line: undefined, message: 'Extra element vcpu in interleave' }] };
    expect(schemaVerdict('f', other, 'rng', { launchSecurityType: 'sev-snp', schema: old }).status).toBe('failed');
  });
  it('a schema that knows sev-snp judges normally', () => {
    expect(schemaVerdict('f', gapErrors, 'rng', { launchSecurityType: 'sev-snp', schema: { ...old, sevSnp: true } }).status).toBe('failed');
  });
  it('the real local schema: SNP guests are undecided when it lacks sev-snp, passed when it has it', async () => {
    const dir = fixtureHost({ 'etc/libvirt/qemu/snp.xml': domainXml('good-snp.xml') });
    const p = probe(dir);
    const g = await p.guests();
    const info = await p.schemaInfo();
    const v = judgeSchemas(g, await Promise.all(g.sev.map(async (x) => [x, await p.schema(x)] as const)), info);
    expect(v.status).toBe(info.sevSnp ? 'passed' : 'undecided');
  });
});

describe('the domain scenarios on a fixture host with misconfigured guests', () => {
  it('fails per guest, names each offender, leaves the correct SNP guest out of the failures', async () => {
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/guests-misconfigured', '--tags', '@layer:domain', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'sevcheck-gm-'))]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as JsonResults;
    const msg = (id: string) => res.checks.find((c) => c.id === id)!.message;
    expect(msg('domain.virtio.iommu')).toMatch(/2 of 3 SEV guest\(s\) fail: guest 'db1' .*memballoon virtio \(no <driver>\).* \| guest 'legacy-app' .*interface 52:54:00:4e:5f:6a \(iommu='yes'\).*pass: 'snp-web'/);
    expect(msg('domain.cbitpos.matches-host')).toMatch(/guest 'db1' .*cbitpos 47 .* but the host has 51 .*CPUID 0x8000001F/);
    expect(msg('domain.schema-valid')).toMatch(/guest 'legacy-app'/);
    expect(msg('domain.loader.ovmf')).toMatch(/^3 SEV guest\(s\): /);
  });
});
