/**
 * Property-based tests (fast-check) of every parser and every ingested format (issue 19, house
 * rule "every parser gets malformed-input and property-based tests"): generated text and bytes,
 * and mutations of a realistic input (lines dropped, duplicated, swapped, characters flipped,
 * control characters and huge numbers put in), must
 *   - never crash: a parser returns (a ParseResult, a value) or throws InputError, nothing else;
 *   - never hang: each call is timed (MAX_MS);
 *   - never turn garbage into a verdict of passed: an ingested results.json that is not valid is
 *     refused, and a valid one keeps exactly its own statuses.
 * The number of inputs generated per parser is counted (COUNTS) and printed at the end; set
 * SEVCHECK_FUZZ_RUNS to scale the runs (default 1: the counts below).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import xml2js from 'xml2js';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { parseAvcDenials } from '../../support/parsers/audit-log.js';
import { parseBoolParam } from '../../support/parsers/bool-param.js';
import { parseCmdline, x86CmdlineFindOption } from '../../support/parsers/cmdline.js';
import { parseCpuinfo } from '../../support/parsers/cpuinfo.js';
import { parseCpuList } from '../../support/parsers/cpulist.js';
import { parseDomainCapabilities } from '../../support/parsers/domcaps.js';
import { parseFirmwareDescriptor } from '../../support/parsers/firmware-descriptor.js';
import { parseAclXattr, parseGetfacl, parseLsAclFlag } from '../../support/parsers/getfacl.js';
import { parseKernelConfig } from '../../support/parsers/kernel-config.js';
import { parseKernelLog } from '../../support/parsers/kernel-log.js';
import { parseLibvirtCapsCache } from '../../support/parsers/libvirt-caps-cache.js';
import { parseLimitsConf, parsePrlimitMemlock, parseUlimitL } from '../../support/parsers/limits.js';
import { parseModprobeConf } from '../../support/parsers/modprobe.js';
import { parseNodeSevInfo } from '../../support/parsers/nodesevinfo.js';
import { parseOsRelease } from '../../support/parsers/os-release.js';
import { parseGroup, parsePasswd } from '../../support/parsers/passwd.js';
import { parseDebVersion, parseDpkgQuery, parseRpmEvr, parseRpmQuery } from '../../support/parsers/pkg-version.js';
import { parseSevctlOk, parseSnphostOkJson } from '../../support/parsers/platform-tools.js';
import { parseQemuConf } from '../../support/parsers/qemu-conf.js';
import { parseObjectHelp, parseQemuVersion } from '../../support/parsers/qemu-help.js';
import { parseGetenforce, parseLsZ, parseSelinuxXattr, parseStatContext } from '../../support/parsers/selinux.js';
import { parseGetsebool, parseSesearch } from '../../support/parsers/sesearch.js';
import { parseGrubDefaults, parseKernelCmdlineFile } from '../../support/parsers/grub-default.js';
import { parseVirtAaHelperDryRun } from '../../support/parsers/virt-aa-helper.js';
import { parseUdevRules } from '../../support/parsers/udev-rules.js';
import { includesOf, fileRules } from '../../support/device/apparmor.js';
import { parseDomainXml } from '../../support/domain/model.js';
import { parsePveConfig } from '../../support/domain/proxmox.js';
import { parseQemuCmdline } from '../../support/domain/qemu-cmdline.js';
import { parseXmllintOutput } from '../../support/domain/schema.js';
import { parseHexPolicy, parseCIntPolicy } from '../../support/sev/policy.js';
import { parseLaunchMeasurement } from '../../support/sev/sev-measurement.js';
import { parseSevCert, parseAmdCert } from '../../support/sev/sev-cert.js';
import { parseCertTable } from '../../support/sev/snp-cert-table.js';
import { parseSnpReport } from '../../support/sev/snp-report.js';
import { parseOvmf } from '../../support/sev/ovmf.js';
import { parseSecretTable } from '../../support/sev/launch-secret.js';
import { parseInventory } from '../../support/fleet/inventory.js';
import { parseWaivers } from '../../support/fleet/waivers.js';
import { resultsFromJson } from '../../support/input/results.js';
import { schemaCheck } from '../../support/input/schema.js';
import { parseJsonText } from '../../support/input/read.js';
import { md } from '../../support/report/summary.js';
import { xmlEscape } from '../../support/report/xml.js';
import { junitXml } from '../../support/report/junit.js';
import { summaryMarkdown } from '../../support/report/summary.js';
import type { Results } from '../../support/report/results.js';
import { ROOT } from '../helpers.js';

const SCALE = Number(process.env.SEVCHECK_FUZZ_RUNS ?? '1') || 1;
/** the slowest a single call may be (a hang or a pathological regular expression fails here) */
const MAX_MS = 2_000;
const COUNTS = new Map<string, number>();
const count = (name: string): void => void COUNTS.set(name, (COUNTS.get(name) ?? 0) + 1);

afterAll(() => {
  const total = [...COUNTS.values()].reduce((a, b) => a + b, 0);
  // the closing note of issue 19 quotes this table
  console.log(`fuzz: ${total} inputs over ${COUNTS.size} parsers/formats\n${[...COUNTS].map(([n, c]) => `  ${n}: ${c}`).join('\n')}`);
});

const fixture = (rel: string): string => readFileSync(join(ROOT, 'fixtures/hosts', rel), 'utf8');

/** Mutations of a realistic text: what a truncated copy, a hostile image or bit rot gives. */
function mutated(seed: string): fc.Arbitrary<string> {
  const lines = seed.split('\n');
  const nasty = fc.constantFrom('\u0000', '\uFFFE', '\uD800', '\r', '\u001b[2J', '"', "'", '\\', '{', '}', '<', '>', '&', '#', '=', ':', ' ', '\t', '-', '99999999999999999999999', '0x', '*', '%', '$(', '..', '/', ';');
  const edit = fc.oneof(
    fc.record({ k: fc.constant('drop' as const), i: fc.nat() }),
    fc.record({ k: fc.constant('dup' as const), i: fc.nat() }),
    fc.record({ k: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
    fc.record({ k: fc.constant('insert' as const), i: fc.nat(), at: fc.nat(), s: fc.oneof(nasty, fc.string({ maxLength: 20, unit: 'binary' })) }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let ls = [...lines];
    for (const e of edits) {
      if (ls.length === 0) ls = [''];
      const i = ('i' in e ? e.i : 0) % ls.length;
      if (e.k === 'drop') ls.splice(i, 1);
      else if (e.k === 'dup') ls.splice(i, 0, ls[i] as string);
      else if (e.k === 'swap') {
        const j = e.j % ls.length;
        [ls[i], ls[j]] = [ls[j] as string, ls[i] as string];
      } else if (e.k === 'insert') {
        const l = ls[i] as string;
        const at = e.at % (l.length + 1);
        ls[i] = l.slice(0, at) + e.s + l.slice(at);
      } else {
        const text = ls.join('\n');
        ls = text.slice(0, e.at % (text.length + 1)).split('\n');
      }
    }
    return ls.join('\n');
  });
}

/** Text inputs: any string (UTF-16 units, lone surrogates included), line-ish garbage, and mutations of the seed. */
function texts(seed: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }), { maxLength: 30 }).map((l) => l.join('\n')),
    mutated(seed),
  );
}

/** Runs `f`; a crash is anything thrown that is not an InputError. Returns what it returned. */
async function survive(name: string, f: () => unknown): Promise<unknown> {
  count(name);
  const t0 = performance.now();
  let out: unknown;
  try {
    out = await f();
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`${name} crashed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  const ms = performance.now() - t0;
  if (ms > MAX_MS) throw new Error(`${name} took ${Math.round(ms)} ms`);
  return out;
}

interface TextParser {
  readonly name: string;
  readonly seed: string;
  readonly runs: number;
  readonly parse: (s: string) => unknown;
}

const T = (name: string, seed: string, parse: (s: string) => unknown, runs = 400): TextParser => ({ name, seed, parse, runs });

const TEXT_PARSERS: TextParser[] = [
  T('audit-log parseAvcDenials', 'type=AVC msg=audit(1700000000.123:456): avc:  denied  { read write } for  pid=1234 comm="qemu-kvm" name="sev" dev="devtmpfs" ino=123 scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:sev_device_t:s0 tclass=chr_file permissive=0\n', (s) => parseAvcDenials(s)),
  T('bool-param parseBoolParam', 'Y\n', (s) => parseBoolParam(s)),
  T('cmdline parseCmdline', fixture('reference-milan/files/proc/cmdline'), (s) => parseCmdline(s)),
  T('cmdline x86CmdlineFindOption', fixture('reference-milan/files/proc/cmdline'), (s) => x86CmdlineFindOption(s, 'mem_encrypt')),
  T('cpuinfo parseCpuinfo', fixture('reference-milan/files/proc/cpuinfo').slice(0, 3000), (s) => parseCpuinfo(s)),
  T('cpulist parseCpuList', '0-3,8,10-15\n', (s) => parseCpuList(s)),
  T('firmware-descriptor parseFirmwareDescriptor', '{"interface-types":["uefi"],"mapping":{"device":"flash","executable":{"filename":"/usr/share/OVMF/OVMF_CODE.fd","format":"raw"}},"targets":[{"architecture":"x86_64","machines":["pc-q35-*"]}],"features":["amd-sev","amd-sev-es"],"tags":[]}', (s) => parseFirmwareDescriptor(s, 'fw.json')),
  T('getfacl parseGetfacl', '# file: dev/sev\n# owner: root\n# group: kvm\nuser::rw-\nuser:libvirt-qemu:rw-\ngroup::rw-\nmask::rw-\nother::---\n', (s) => parseGetfacl(s)),
  T('getfacl parseLsAclFlag', 'crw-rw----+ 1 root kvm 10, 124 Dec  1 10:00 /dev/sev\n', (s) => parseLsAclFlag(s)),
  T('kernel-config parseKernelConfig', fixture('reference-milan/files/boot/config-6.11.0-19-generic').slice(0, 4000), (s) => parseKernelConfig(s, 'config')),
  T('kernel-log parseKernelLog', '[    0.000000] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n[    2.1] ccp 0000:47:00.1: SEV firmware update successful\n[    2.2] ccp 0000:47:00.1: SEV API:1.55 build:21\n[    2.3] kvm_amd: SEV enabled (ASIDs 100 - 509)\n', (s) => parseKernelLog(s)),
  T('limits parseLimitsConf', '*    soft    memlock    unlimited\n@kvm hard memlock 65536\n', (s) => parseLimitsConf(s)),
  T('limits parseUlimitL', 'unlimited\n', (s) => parseUlimitL(s)),
  T('limits parsePrlimitMemlock', 'RESOURCE DESCRIPTION                         SOFT      HARD UNITS\nMEMLOCK  max locked-in-memory address space 8388608 8388608 bytes\n', (s) => parsePrlimitMemlock(s)),
  T('modprobe parseModprobeConf', fixture('reference-milan/files/etc/modprobe.d/sev.conf'), (s) => parseModprobeConf('sev.conf', s)),
  T('nodesevinfo parseNodeSevInfo', 'pdh            : AAAA\ncert-chain     : BBBB\ncbitpos        : 51\nreduced-phys-bits: 1\nmax-guests     : 509\nmax-es-guests  : 99\n', (s) => parseNodeSevInfo(s)),
  T('os-release parseOsRelease', fixture('reference-milan/files/etc/os-release'), (s) => parseOsRelease(s)),
  T('passwd parsePasswd', fixture('reference-milan/files/etc/passwd'), (s) => parsePasswd(s)),
  T('passwd parseGroup', fixture('reference-milan/files/etc/group'), (s) => parseGroup(s)),
  T('pkg-version parseRpmEvr', '3:38.1.45-3.fc40', (s) => parseRpmEvr(s)),
  T('pkg-version parseDebVersion', '1:2.14.0-1~bpo12+1', (s) => parseDebVersion(s)),
  T('pkg-version parseRpmQuery', 'selinux-policy-38.1.45-3.fc40.noarch\n', (s) => parseRpmQuery(s)),
  T('pkg-version parseDpkgQuery', 'ii  apparmor 3.0.8-3 amd64\n', (s) => parseDpkgQuery(s, 'apparmor')),
  T('platform-tools parseSnphostOkJson', '{"tests":[{"name":"SEV","stat":"pass","mesg":"SEV is enabled"}]}', (s) => parseSnphostOkJson(s)),
  T('platform-tools parseSevctlOk', '[ PASS ] - AMD CPU\n[ PASS ]   - Secure Encrypted Virtualization (SEV)\n[ FAIL ]     - SEV firmware version: 1.49\n', (s) => parseSevctlOk(s)),
  T('qemu-conf parseQemuConf', fixture('reference-milan/files/etc/libvirt/qemu.conf'), (s) => parseQemuConf(s)),
  T('qemu-help parseQemuVersion', 'QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)\n', (s) => parseQemuVersion(s)),
  T('qemu-help parseObjectHelp', 'List of user creatable objects:\n  sev-guest\n  sev-snp-guest\n', (s) => parseObjectHelp(s)),
  T('selinux parseGetenforce', 'Enforcing\n', (s) => parseGetenforce(s)),
  T('selinux parseStatContext', 'system_u:object_r:sev_device_t:s0\n', (s) => parseStatContext(s)),
  T('selinux parseLsZ', 'system_u:object_r:sev_device_t:s0 /dev/sev\n', (s) => parseLsZ(s)),
  T('sesearch parseSesearch', 'allow svirt_t sev_device_t:chr_file { append getattr ioctl lock open read write };\nallow svirt_t sev_device_t:chr_file { open read }; [ virt_use_sev ]:True\n', (s) => parseSesearch(s)),
  T('grub-default parseGrubDefaults', 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} lsm=apparmor security=apparmor"\n', (s) => parseGrubDefaults([{ path: '/etc/default/grub', content: s }])),
  T('grub-default parseKernelCmdlineFile', 'root=UUID=0 ro quiet lsm=selinux\n', (s) => parseKernelCmdlineFile(s)),
  T('virt-aa-helper parseVirtAaHelperDryRun', readFileSync(join(import.meta.dirname, '../distro/vectors/virt-aa-helper-12.8.0-1.stderr'), 'utf8'), (s) => parseVirtAaHelperDryRun(s, 'virt-aa-helper -d', 'virt-aa-helper')),
  T('sesearch parseGetsebool', 'virt_use_sev --> on\nvirt_use_nfs --> off\n', (s) => parseGetsebool(s)),
  T('udev-rules parseUdevRules', fixture('reference-milan/files/etc/udev/rules.d/65-sev.rules'), (s) => parseUdevRules('65-sev.rules', s)),
  T('apparmor includesOf', fixture('reference-milan/files/etc/apparmor.d/abstractions/libvirt-qemu').slice(0, 3000), (s) => includesOf(s)),
  T('apparmor fileRules', fixture('reference-milan/files/etc/apparmor.d/abstractions/libvirt-qemu.d/sev'), (s) => fileRules({ path: '/etc/apparmor.d/abstractions/libvirt-qemu.d/sev', content: s } as never)),
  T('domain parseDomainXml', fixture('reference-milan/files/etc/libvirt/qemu/confidential-es.xml'), (s) => parseDomainXml(s, 'guest.xml'), 300),
  T('proxmox parsePveConfig', 'amd-sev: type=std,kernel-hashes=1\nbios: ovmf\nmemory: 4096\n', (s) => parsePveConfig(s, '100.conf')),
  T('qemu-cmdline parseQemuCmdline', '/usr/bin/qemu-system-x86_64\0-machine\0q35,confidential-guest-support=sev0\0-object\0sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x5\0', (s) => parseQemuCmdline(s, 'cmdline')),
  T('schema parseXmllintOutput', 'a.xml:3: element launchSecurity: Relax-NG validity error : Invalid attribute type\na.xml fails to validate\nb.xml validates\n', (s) => parseXmllintOutput(s, ['a.xml', 'b.xml'])),
  T('policy parseHexPolicy', '0x30000', (s) => parseHexPolicy(s)),
  T('policy parseCIntPolicy', '196608', (s) => parseCIntPolicy(s)),
  T('sev-measurement parseLaunchMeasurement', Buffer.alloc(48, 7).toString('base64'), (s) => parseLaunchMeasurement(s)),
  T('inventory parseInventory', 'defaults: {profile: sev-snp}\nhosts:\n  - {name: epyc-a1, target: "ssh://root@epyc-a1:2222", tags: [rack-a]}\n  - {name: me, target: local}\n', (s) => parseInventory(s, 'inv.yaml')),
  T('waivers parseWaivers', '- {check: host.kvm-amd.sev, hosts: "epyc-*", reason: "vendor ticket 42", expires: 2099-12-31}\n', (s) => parseWaivers(s, 'waivers.yaml')),
];

const ASYNC_XML: TextParser[] = [
  T('domcaps parseDomainCapabilities', '<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><features><sev supported="yes"><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><maxGuests>509</maxGuests><maxESGuests>99</maxESGuests></sev></features></domainCapabilities>', (s) => parseDomainCapabilities(s), 200),
  T('libvirt-caps-cache parseLibvirtCapsCache', fixture('reference-milan/files/var/cache/libvirt/qemu/capabilities/926803a9278e445ec919c2b6cbd8c1c449c75b26dcb1686b774314180376c725.xml').slice(0, 4000), (s) => parseLibvirtCapsCache(s), 200),
];

interface ByteParser {
  readonly name: string;
  readonly size: number;
  readonly parse: (b: Uint8Array) => unknown;
}
const BYTE_PARSERS: ByteParser[] = [
  { name: 'getfacl parseAclXattr', size: 64, parse: (b) => parseAclXattr(b) },
  { name: 'selinux parseSelinuxXattr', size: 64, parse: (b) => parseSelinuxXattr(b) },
  { name: 'sev-cert parseSevCert', size: 2084, parse: (b) => parseSevCert(b) },
  { name: 'sev-cert parseAmdCert', size: 1600, parse: (b) => parseAmdCert(b) },
  { name: 'snp-cert-table parseCertTable', size: 256, parse: (b) => parseCertTable(b, 'certs') },
  { name: 'snp-report parseSnpReport', size: 1184, parse: (b) => parseSnpReport(b, 'report') },
  { name: 'ovmf parseOvmf', size: 4096, parse: (b) => parseOvmf(b, 'OVMF.fd') },
  { name: 'launch-secret parseSecretTable', size: 256, parse: (b) => parseSecretTable(b) },
];

const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

describe('parsers never crash, never hang on generated and mutated input', () => {
  it.each(TEXT_PARSERS.map((p) => [p.name, p] as const))('%s', async (_n, p) => {
    await fc.assert(fc.asyncProperty(texts(p.seed), async (s) => void (await survive(p.name, () => p.parse(s)))), { numRuns: runs(p.runs) });
  }, 120_000);

  it('domain parseDomainXml: text after a comment that hides the root (crash found by fast-check, fixed in domain/xml.ts)', async () => {
    const s = "<!--\n<x>\n-->\n  </memtune>\n<domain type='kvm'><name>a</name></domain>\n";
    await expect(survive('domain parseDomainXml', () => parseDomainXml(s, 'g.xml'))).resolves.toBeUndefined();
  });

  it.each(ASYNC_XML.map((p) => [p.name, p] as const))('%s', async (_n, p) => {
    await fc.assert(fc.asyncProperty(texts(p.seed), async (s) => void (await survive(p.name, () => p.parse(s)))), { numRuns: runs(p.runs) });
  }, 120_000);

  it.each(BYTE_PARSERS.map((p) => [p.name, p] as const))('%s (bytes)', async (_n, p) => {
    // random bytes of the expected size (past the length checks) and of any size
    const bytes = fc.oneof(fc.uint8Array({ minLength: p.size, maxLength: p.size }), fc.uint8Array({ maxLength: p.size * 2 }));
    await fc.assert(fc.asyncProperty(bytes, async (b) => void (await survive(p.name, () => p.parse(b)))), { numRuns: runs(300) });
  }, 120_000);
});

const STATUSES = ['passed', 'failed', 'undecided', 'skipped'];
const VALID: Results = {
  host: 'h',
  target: 'fixture:/x/h',
  profile: 'sev',
  startedAt: '2026-12-01T00:00:00.000Z',
  durationMs: 5,
  checks: [
    { id: 'host.kvm-amd.sev', status: 'failed', scenario: 'KVM', feature: 'features/host/kernel.feature', message: 'found N; expected Y; fix: f', found: 'N', expected: 'Y', fix: 'f' },
    { id: 'host.cpuid.sev', status: 'undecided', scenario: 'CPUID', feature: 'features/host/cpu.feature', message: 'undecided: no cpuid', reason: 'no cpuid' },
  ],
};

/** A JSON value changed at one path: the key removed, or its value replaced by anything. */
function mutatedDoc(doc: unknown): fc.Arbitrary<unknown> {
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, p: Array<string | number>): void => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.oneof(fc.constant(undefined), fc.jsonValue(), fc.constant(Infinity), fc.constant(Number.NaN))).map(([path, value]) => {
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    let at: Record<string | number, unknown> = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (value === undefined) {
      if (Array.isArray(at)) at.splice(last as number, 1);
      else delete at[last];
    } else at[last] = value;
    return copy;
  });
}

describe('ingested formats: garbage is refused, never a verdict of passed', () => {
  it('results.json: any JSON value or a mutated results.json is refused with one line, or taken with exactly its own statuses', async () => {
    const input = fc.oneof(fc.jsonValue(), mutatedDoc(VALID));
    await fc.assert(
      fc.asyncProperty(input, async (doc) => {
        let taken;
        try {
          count('results.json resultsFromJson');
          taken = resultsFromJson(doc);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).not.toContain('\n');
          expect((e as Error).message).toMatch(/^([A-Za-z]+(\[\d+\])?(\.[A-Za-z]+)?|the document|checks\[\d+\]\.\w+)/);
          return;
        }
        const src = doc as { checks: Array<{ status: string }> };
        expect(taken.results.checks.map((c) => c.status)).toEqual(src.checks.map((c) => c.status));
        for (const c of taken.results.checks) expect(STATUSES).toContain(c.status);
        // a failed check never becomes anything else (no passed from a broken file)
        const failedBefore = src.checks.filter((c) => c.status === 'failed').length;
        expect(taken.results.checks.filter((c) => c.status === 'failed')).toHaveLength(failedBefore);
      }),
      { numRuns: runs(1500) },
    );
  }, 120_000);

  it('results.json text: JSON syntax errors never quote the text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(JSON.stringify(VALID, null, 2)), fc.string({ unit: 'binary', maxLength: 200 })), async (s) => {
        count('results.json parseJsonText');
        try {
          parseJsonText(`SECRET${s}`, 'f.json');
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as Error).message).not.toContain('SECRET');
        }
      }),
      { numRuns: runs(1000) },
    );
  }, 120_000);

  it('fleet.json (--compare): any JSON value or a mutated fleet.json is checked without a crash', async () => {
    const fleet = { startedAt: '2026-12-01T00:00:00.000Z', durationMs: 1, complete: true, hosts: [{ name: 'a', target: 'local', profile: 'sev', tags: [], exitCode: 1, checks: VALID.checks }] };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), mutatedDoc(fleet)), async (doc) => {
        count('fleet.json schemaCheck');
        const p = schemaCheck('fleet', doc);
        if (p !== undefined) expect(p).not.toContain('\n');
      }),
      { numRuns: runs(1500) },
    );
  }, 120_000);
});

describe('report writers: any string stays text in its format', () => {
  const anyText = fc.string({ unit: 'binary', maxLength: 120 });
  it('md(): one line, no raw markup, no control characters, no lone surrogates', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (s) => {
        count('markdown md');
        const out = md(s);
        expect(out).not.toMatch(/[\r\n\u0085\u2028\u2029\u0000-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        expect(out).not.toMatch(/(^|[^\\])(\\\\)*[<>`*_|[\]#&!]/);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('junit.xml and summary.md of a run whose every string is generated: XML 1.0 characters only, every line of summary.md from sevcheck', async () => {
    const check = fc.record({ scenario: anyText, message: anyText, found: anyText, expected: anyText, fix: anyText, feature: anyText, status: fc.constantFrom('passed', 'failed', 'undecided', 'skipped') as fc.Arbitrary<'failed'> });
    await fc.assert(
      fc.asyncProperty(fc.record({ host: anyText, target: anyText, checks: fc.array(check, { minLength: 1, maxLength: 4 }) }), async (r) => {
        count('junit.xml + summary.md writers');
        const results: Results = { ...VALID, host: r.host, target: r.target, checks: r.checks.map((c) => ({ id: 'a.b', ...c })) };
        const xml = junitXml(results);
        expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        // every attribute value is closed before the next tag: no raw < or unescaped quote in data
        // well-formed for a strict parser (sax, as xml2js uses it), and the data came back as text
        const doc = (await xml2js.parseStringPromise(xml, { strict: true })) as { testsuites: { testsuite: unknown[] } };
        expect(doc.testsuites.testsuite.length).toBeGreaterThan(0);
        const summary = summaryMarkdown(results);
        for (const line of summary.split('\n')) expect(line).toMatch(/^(|# sevcheck: .*|\*\*.*|Target .*|## .*|### .*|- .*|\| .*|\|---\|---\|---\|---\|)$/);
      }),
      { numRuns: runs(500) },
    );
  }, 120_000);
});

describe('xmlEscape', () => {
  it('keeps only XML 1.0 characters and no markup', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (s) => {
        count('xml xmlEscape');
        const x = xmlEscape(s);
        expect(x).not.toMatch(/[<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\r\t]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        expect(x).not.toMatch(/&(?!(amp|lt|gt|quot|#13|#9);)/);
      }),
      { numRuns: runs(2000) },
    );
  });
});
