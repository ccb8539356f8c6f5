/**
 * HostProbe over small fixture hosts: facts are read only when needed, and an absent fact that
 * does not decide anything is not an error (issue 13 §1); CPUID bits of a non-AMD CPU are not SEV.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { CountingHost } from '../../support/host/counting-host.js';
import { HostError } from '../../support/host/types.js';
import { HostProbe } from '../../support/probes/host.js';
import * as rules from '../../support/rules/host.js';
import { fixtureDir } from '../helpers.js';

const fixture = (files: Record<string, string | Buffer>): string => fixtureDir('sevcheck-probe', files);

const INTEL = 'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338\nflags\t\t: fpu vmx\n';
const AMD = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763\nflags\t\t: fpu svm sme sev sev_es\n';
// what an Intel CPU may answer for an extended leaf it lacks: data with bit 1 set (Intel SDM Vol. 2A)
const GARBAGE_1F = { eax: '0x00000d0a', ebx: '0x00000733', ecx: '0x00000040', edx: '0x00000001' };
const MILAN_1F = { eax: '0x0101fd3f', ebx: '0x00004173', ecx: '0x000001fd', edx: '0x00000080' };

function probe(files: Record<string, string | Buffer>): { p: HostProbe; reads: () => Record<string, number> } {
  const counts = new CountingHost(new FixtureHost(fixture(files)));
  return { p: new HostProbe(counts), reads: () => Object.fromEntries(counts.counts) };
}

describe('HostProbe.kernelConfig without /proc/sys/kernel/osrelease', () => {
  it('reads /proc/config.gz when the release is unknown', async () => {
    const { p } = probe({ 'files/proc/config.gz': gzipSync('CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=y\n') });
    expect(await p.kernelConfig()).toMatchObject({ source: '/proc/config.gz' });
  });

  it('rejects with the release error when /proc/config.gz is absent too (/boot/config-<release> may exist)', async () => {
    const { p } = probe({});
    await expect(p.kernelConfig()).rejects.toBeInstanceOf(HostError);
  });

  it('host.kernel.mem-encrypt is decided by the command line alone (was undecided)', async () => {
    for (const [cmdline, cpuinfo, status] of [
      ['mem_encrypt=off quiet', AMD, 'failed'],
      ['mem_encrypt=on quiet', AMD, 'passed'],
      ['quiet', AMD, 'passed'], // "sme" listed: SME active
    ] as const) {
      const { p, reads } = probe({ 'files/proc/cmdline': cmdline, 'files/proc/cpuinfo': cpuinfo });
      const v = await rules.memEncrypt(await p.cmdline(), () => p.kernelConfig(), () => p.cpuinfo());
      expect(v.status, cmdline).toBe(status);
      expect(Object.keys(reads()).filter((r) => /osrelease|config/.test(r)), cmdline).toEqual([]);
    }
  });
});

describe('HostProbe.encryptedMemory on a non-AMD CPU', () => {
  it('reports the leaf absent from the vendor, without reading 0x8000001F, whether or not 0x80000000 was recorded', async () => {
    const { p, reads } = probe({ 'files/proc/cpuinfo': INTEL, 'cpuid.json': JSON.stringify({ '0x8000001f': GARBAGE_1F }) });
    const caps = await p.encryptedMemory();
    expect(caps).toMatchObject({ implemented: false, vendor: 'GenuineIntel', vendorSource: '/proc/cpuinfo vendor_id', sev: false });
    expect(Object.keys(reads()).filter((r) => r.startsWith('cpuid'))).toEqual([]);
    const cbit = rules.cbitpos(caps);
    expect(cbit.status).toBe('failed');
    expect(cbit.message).toMatch(/GenuineIntel processor.*no C-bit position/);
    expect(cbit.message).not.toMatch(/BIOS/);
    const asids = rules.asids(caps);
    expect(asids.message).toMatch(/GenuineIntel processor.*no SEV ASIDs/);
    expect(asids.message).not.toMatch(/BIOS|ECX \(max encrypted guests\)/);
    expect(rules.esAsids(caps).message).not.toMatch(/BIOS/);
    expect(rules.cpuidFeature(caps, 'sev').message).toMatch(/GenuineIntel processor/);
  });

  it('takes the vendor from CPUID 0 when /proc/cpuinfo has none', async () => {
    // "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel" (little-endian)
    const leaf0 = { eax: '0x0000001b', ebx: '0x756e6547', ecx: '0x6c65746e', edx: '0x49656e69' };
    const { p } = probe({ 'cpuid.json': JSON.stringify({ '0x00000000': leaf0, '0x8000001f': GARBAGE_1F }) });
    expect(await p.encryptedMemory()).toMatchObject({ implemented: false, vendor: 'GenuineIntel', vendorSource: 'CPUID 0x00000000' });
  });

  it('an AMD CPU still reads the leaf', async () => {
    const { p } = probe({ 'files/proc/cpuinfo': AMD, 'cpuid.json': JSON.stringify({ '0x8000001f': MILAN_1F }) });
    const caps = await p.encryptedMemory();
    expect(caps).toMatchObject({ implemented: true, vendor: 'AuthenticAMD', cbitpos: 51 });
    expect(rules.cbitpos(caps).status).toBe('passed');
  });
});
