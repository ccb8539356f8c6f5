import { describe, expect, it } from 'vitest';
import { asidGuestCounts, findDisagreements, type LayerFacts } from '../../support/sev/consistency.js';

const CPU0 = 'BlAwmcr4Ruya3YvEGe2EBxuWjMAfIYolslNNM92RsIKxLkWDDRqivqSBOD+qQRCYS9joBYSHMD1g+rmjY+MmVw==';
const PDH = 'AQAAAAE3AAADEAAAAwAAAAIAAAAZzB1NV5cz0ISI+tYZQHDF';
const CHAIN = 'AQAAAAE3AAACEAAAAgAAAAIAAADlaDf/WRuS84Fh+uPnOq1g';

/** A healthy Genoa host as each layer reports it (CPUID ECX 509 / EDX 451, EBX[11:6] = 6). */
function healthy(): LayerFacts {
  return {
    cpuid: { source: 'CPUID 0x8000001F (cpu 0)', sev: true, sevEs: true, sevSnp: true, cbitpos: 51, physAddrReduction: 6, maxEncryptedGuests: 509, minSevAsid: 451 },
    domcaps: { source: 'virsh domcapabilities', sevSupported: true, cbitpos: 51, reducedPhysBits: 1, maxGuests: 59, maxESGuests: 450, cpu0Id: CPU0, snpSupported: true },
    qmp: { source: 'QMP query-sev-capabilities', capabilitiesOk: true, cbitpos: 51, reducedPhysBits: 1, pdh: PDH, certChain: CHAIN, cpu0Id: CPU0 },
    nodesevinfo: { source: 'virsh nodesevinfo', cbitpos: 51, reducedPhysBits: 1, maxGuests: 59, maxESGuests: 450, pdh: PDH, certChain: CHAIN, cpu0Id: CPU0 },
    cache: { source: '/var/cache/libvirt/qemu/capabilities/3c76.xml', hasSev: true, cbitpos: 51, reducedPhysBits: 1, pdh: PDH, certChain: CHAIN, cpu0Id: CPU0 },
  };
}

describe('asidGuestCounts (libvirt virQEMUCapsGetSEVMaxGuests)', () => {
  it('splits the ASID space: SEV = ECX-EDX+1, SEV-ES = EDX-1', () => {
    expect(asidGuestCounts({ maxEncryptedGuests: 509, minSevAsid: 451 })).toEqual({ maxGuests: 59, maxESGuests: 450 });
    expect(asidGuestCounts({ maxEncryptedGuests: 509, minSevAsid: 100 })).toEqual({ maxGuests: 410, maxESGuests: 99 });
    expect(asidGuestCounts({ maxEncryptedGuests: 509, minSevAsid: 1 })).toEqual({ maxGuests: 509, maxESGuests: 0 });
    expect(asidGuestCounts({ maxEncryptedGuests: 0, minSevAsid: 0 })).toEqual({ maxGuests: 0, maxESGuests: 0 });
  });
});

describe('findDisagreements', () => {
  it('a healthy host has none — even though CPUID EBX[11:6] (6) differs from QEMU reduced-phys-bits (1)', () => {
    expect(findDisagreements(healthy())).toEqual([]);
  });

  it('no facts, no disagreements; one layer alone cannot disagree', () => {
    expect(findDisagreements({})).toEqual([]);
    expect(findDisagreements({ qmp: healthy().qmp })).toEqual([]);
  });

  it('domcaps cbitpos != CPUID: names both values and sources and the check', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, domcaps: { ...f.domcaps!, cbitpos: 47 } });
    expect(d).toEqual([
      {
        fact: 'cbitpos',
        checkId: 'caps.domcaps.cbitpos-matches-cpuid',
        a: { source: 'CPUID 0x8000001F (cpu 0)', value: 51 },
        b: { source: 'virsh domcapabilities', value: 47 },
        why: expect.stringMatching(/EBX\[5:0\]/),
      },
    ]);
  });

  it('QMP cbitpos != CPUID', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, qmp: { ...f.qmp!, cbitpos: 47 } });
    expect(d.map((x) => x.checkId)).toEqual(['caps.qmp.cbitpos-matches-cpuid']);
  });

  it('without CPUID, libvirt layers are compared with QMP', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, cpuid: undefined, cache: { ...f.cache!, cbitpos: 47 } });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ fact: 'cbitpos', a: { source: 'QMP query-sev-capabilities', value: 51 }, b: { value: 47 } });
  });

  it('reduced-phys-bits: libvirt layers must echo QEMU', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, domcaps: { ...f.domcaps!, reducedPhysBits: 5 } });
    expect(d).toEqual([expect.objectContaining({ fact: 'reducedPhysBits', a: { source: 'QMP query-sev-capabilities', value: 1 }, b: { source: 'virsh domcapabilities', value: 5 } })]);
  });

  it('maxGuests / maxESGuests must follow CPUID ECX/EDX', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, cpuid: { ...f.cpuid!, minSevAsid: 100 } });
    expect(d.map((x) => `${x.fact}:${x.a.value}!=${x.b.value}@${x.b.source}`)).toEqual([
      'maxGuests:410!=59@virsh domcapabilities',
      'maxESGuests:99!=450@virsh domcapabilities',
      'maxGuests:410!=59@virsh nodesevinfo',
      'maxESGuests:99!=450@virsh nodesevinfo',
    ]);
    expect(d[0]?.a.source).toBe('CPUID 0x8000001F (cpu 0) (ECX 509, EDX 100)');
  });

  it("stale cache after enabling SEV: QEMU answers, domcaps says supported='no', cache has no <sev>", () => {
    const f = healthy();
    const d = findDisagreements({
      ...f,
      domcaps: { source: 'virsh domcapabilities', sevSupported: false, snpSupported: false },
      nodesevinfo: undefined,
      cache: { source: 'cache.xml', hasSev: false },
    });
    expect(d.map((x) => [x.fact, x.checkId])).toEqual([
      ['sev-supported', 'caps.cache.fresh'],
      ['sev-cached', 'caps.cache.fresh'],
    ]);
    expect(d[0]?.why).toMatch(/libvirt's cached probe predates SEV being enabled/);
  });

  it('the reverse: cache and domcaps claim SEV, QEMU probed now refuses', () => {
    const f = healthy();
    const d = findDisagreements({
      ...f,
      qmp: { source: 'QMP query-sev-capabilities', capabilitiesOk: false, errorDesc: 'SEV is not enabled in KVM' },
    });
    expect(d.map((x) => x.fact)).toEqual(['sev-supported', 'sev-cached']);
    expect(d[0]?.a.value).toBe('false (SEV is not enabled in KVM)');
  });

  it('domcaps claims SEV / SNP that CPUID does not have', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, cpuid: { ...f.cpuid!, sev: false, sevSnp: false } });
    expect(d.map((x) => `${x.fact}:${x.a.source}`)).toEqual(['sev-supported:CPUID 0x8000001F (cpu 0) EAX[1]', 'sev-snp-supported:CPUID 0x8000001F (cpu 0) EAX[4]']);
  });

  it('regenerated PDH: live QMP differs from the cache (and so from nodesevinfo); long values are shortened', () => {
    const f = healthy();
    const fresh = 'AQAAAAE3AAADEAAAAwAAAAIAAABBBBBBBBBBBBBBBBBBBBB';
    const d = findDisagreements({ ...f, qmp: { ...f.qmp!, pdh: fresh } });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ fact: 'pdh', checkId: 'caps.cache.fresh', a: { value: 'AQAAAAE3AAAD…BBBBBBBB (47 chars)' }, b: { value: 'AQAAAAE3AAAD…+tYZQHDF (48 chars)' } });
  });

  it('base64 whitespace is not a difference', () => {
    const f = healthy();
    expect(findDisagreements({ ...f, nodesevinfo: { ...f.nodesevinfo!, certChain: `${CHAIN.slice(0, 20)}\n${CHAIN.slice(20)}` } })).toEqual([]);
  });

  it('cpu0-id differing between cache and domcaps', () => {
    const f = healthy();
    const d = findDisagreements({ ...f, domcaps: { ...f.domcaps!, cpu0Id: 'AAAA' } });
    expect(d.map((x) => x.fact)).toEqual(['cpu0-id']);
  });
});
