/**
 * Writes the launch bundles under fixtures/launch/<case>/ (and their expected.json): the platform
 * side of each SEV launch (QMP replies or `virsh domlaunchsecinfo` text) is computed here the way
 * the SEV firmware computes it (SEV API spec #55766 §6.5: HMAC-SHA256 with the TIK over
 * 0x04 || API || policy || launch digest || MNONCE), with test keys that exist only for these
 * fixtures. Real vectors are never copied: bundles name them as `vectors:REL`.
 *
 *   SEVCHECK_VECTORS=test/vectors node --import tsx scripts/make-launch-fixtures.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseOvmf, sevEsResetEip } from '../support/sev/ovmf.js';
import { sevKernelHashes } from '../support/sev/sev-hashes.js';
import { sevEsLaunchDigest, sevLaunchDigest } from '../support/sev/sev-measurement.js';
import { buildLaunchSecret, buildSecretTable } from '../support/sev/launch-secret.js';
import { CPU_SIGS, vmsaPages } from '../support/sev/vmsa.js';
import { hexToBytes, parseSnpReport } from '../support/sev/snp-report.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'fixtures/launch');
const VECTORS = resolve(process.env.SEVCHECK_VECTORS ?? join(ROOT, 'test/vectors'));
const vec = (rel: string): Buffer => readFileSync(join(VECTORS, rel));

/** Test-only keys and values, derived from labels so the fixtures are reproducible. */
const derive = (label: string, n: number): Buffer => createHash('sha256').update(`sevcheck launch fixture: ${label}`).digest().subarray(0, n);
const TEST_TIK = derive('TIK', 16);
const TEST_TEK = derive('TEK', 16);
const TEST_LUKS_KEY = Buffer.from(`luks-passphrase-${derive('luks', 12).toString('hex')}`);
const MNONCE = derive('MNONCE', 16);
const IV = derive('IV', 16);

const AMDSEV = 'vectors:sev-snp-measure/tests/fixtures/ovmf_AmdSev_suffix.bin';
const OVMFX64 = 'vectors:sev-snp-measure/tests/fixtures/ovmf_OvmfX64_suffix.bin';
const fromVectors = (ref: string): Buffer => vec(ref.slice('vectors:'.length));
const KERNEL = Buffer.from(derive('kernel', 32).toString('hex').repeat(256)); // 16 KiB stand-in bzImage
const INITRD = Buffer.from(derive('initrd', 32).toString('hex').repeat(128));
const APPEND = 'console=ttyS0 root=/dev/vda1';
const API = { major: 0, minor: 24, build: 15 };

type Expected = Record<string, 'passed' | 'failed' | 'undecided' | 'skipped'>;
const ALL_SKIPPED: Expected = {
  'launch.sev.measurement': 'skipped',
  'launch.sev.secret-packet': 'skipped',
  'launch.snp.digest': 'skipped',
  'launch.snp.report-signature': 'skipped',
  'launch.snp.cert-chain': 'skipped',
};

function measure(digest: Uint8Array, policy: number): string {
  const msg = Buffer.alloc(56);
  msg[0] = 0x04;
  msg[1] = API.major;
  msg[2] = API.minor;
  msg[3] = API.build;
  msg.writeUInt32LE(policy, 4);
  msg.set(digest, 8);
  msg.set(MNONCE, 40);
  const mac = createHmac('sha256', TEST_TIK).update(msg).digest();
  return Buffer.concat([mac, MNONCE]).toString('base64');
}

/** The platform's software, as the bundle records it: QMP query-version and the kernel's osrelease. */
interface Software {
  qemu: [number, number, number];
  package: string;
  osrelease: string;
}

function qmpReplies(data: string, policy: number, es: boolean, sw?: Software): string {
  return `${JSON.stringify(
    {
      'query-sev': { return: { enabled: true, 'api-major': API.major, 'api-minor': API.minor, 'build-id': API.build, policy, state: 'launch-secret', handle: 1, 'sev-type': es ? 'sev-es' : 'sev' } },
      'query-sev-launch-measure': { return: { data } },
      ...(sw ? { 'query-version': { return: { qemu: { major: sw.qemu[0], minor: sw.qemu[1], micro: sw.qemu[2] }, package: sw.package } }, osrelease: sw.osrelease } : {}),
    },
    null,
    2,
  )}\n`;
}

function domlaunchsecinfo(data: string, policy: number): string {
  return `sev-measurement: ${data}\nsev-api-major  : ${API.major}\nsev-api-minor  : ${API.minor}\nsev-build-id   : ${API.build}\nsev-policy     : ${policy}\n`;
}

interface Case {
  name: string;
  description: string;
  files?: Record<string, Buffer | string>;
  launch: Record<string, unknown>;
  expected: Expected;
}

const sevFiles = (tik: Buffer = TEST_TIK): Record<string, Buffer> => ({ 'tik.bin': tik, 'tek.bin': TEST_TEK, 'luks.key': TEST_LUKS_KEY });
const sevSecret = { entries: [{ guid: 'luks-key', file: 'luks.key' }] };

// SEV, direct kernel boot: the digest the platform measures.
const goodDigest = sevLaunchDigest(parseOvmf(fromVectors(AMDSEV), AMDSEV), sevKernelHashes(KERNEL, INITRD, APPEND));
const goodData = measure(goodDigest, 0x3);
// SEV-ES, 4 vCPUs EPYC-Milan.
const esDigest = sevEsLaunchDigest({ ovmf: parseOvmf(fromVectors(AMDSEV), AMDSEV), vcpus: 4, vcpuSig: CPU_SIGS['EPYC-Milan'] ?? 0 });
const esData = measure(esDigest, 0x7);
const esPacket = buildLaunchSecret({ tik: TEST_TIK, tek: TEST_TEK, measure: Buffer.from(esData, 'base64').subarray(0, 32), secret: buildSecretTable([{ guid: 'luks-key', value: TEST_LUKS_KEY }]), iv: IV });
// SEV-ES, 2 vCPUs EPYC-Milan, with each VMSA model (support/sev/vmsa-model.ts): 'legacy' is what
// KVM_SEV_ES_INIT platforms measure (kernels before 6.10, QEMU before 9.1, QEMU's default
// legacy-vm-type), 'init2' what KVM_SEV_INIT2 ones do.
const amdSevImage = parseOvmf(fromVectors(AMDSEV), AMDSEV);
const esModelDigest = (vmsaModel: 'legacy' | 'init2') => sevEsLaunchDigest({ ovmf: amdSevImage, vcpus: 2, vcpuSig: CPU_SIGS['EPYC-Milan'] ?? 0, vmsaModel });
// A VMSA neither model has: KVM_SEV_ES_INIT with kvm_amd debug_swap=1 (SEV_FEATURES bit 5, DebugSwap).
const debugSwapDigest = createHash('sha256')
  .update(amdSevImage.data)
  .update(Buffer.concat(vmsaPages(2, sevEsResetEip(amdSevImage), { sevFeatures: 0x20n, vcpuSig: CPU_SIGS['EPYC-Milan'] ?? 0, vmmType: 'QEMU', vmsaModel: 'legacy' })))
  .digest();
const DEBIAN12: Software = { qemu: [7, 2, 15], package: 'Debian 1:7.2+dfsg-7+deb12u12', osrelease: '6.1.0-28-amd64' };
const UBUNTU2404_HWE: Software = { qemu: [8, 2, 2], package: 'Debian 1:8.2.2+ds-0ubuntu1.4', osrelease: '6.11.0-19-generic' };
const NEW_STACK: Software = { qemu: [9, 2, 0], package: '', osrelease: '6.12.9' };
const esModelBase = {
  mode: 'seves',
  firmware: { ovmf: AMDSEV, vcpus: 2, vcpuType: 'EPYC-Milan' },
  policy: '0x7',
  tik: 'tik.bin',
  tek: 'tek.bin',
  platform: 'qmp.json',
  secret: sevSecret,
};
const SEV_PASSED: Expected = { ...ALL_SKIPPED, 'launch.sev.measurement': 'passed', 'launch.sev.secret-packet': 'passed' };
const SEV_FAILED: Expected = { ...ALL_SKIPPED, 'launch.sev.measurement': 'failed', 'launch.sev.secret-packet': 'failed' };

// A different firmware (OvmfX64 instead of AmdSev) measured by the platform.
const otherDigest = sevLaunchDigest(parseOvmf(fromVectors(OVMFX64), OVMFX64));

const milanReportRel = 'virtee-sev/tests/certs_data/report_milan.hex';
const milanReport = parseSnpReport(hexToBytes(vec(milanReportRel).toString('utf8'), milanReportRel), milanReportRel);
const snpCerts = {
  report: `vectors:${milanReportRel}`,
  vcek: 'vectors:virtee-sev/tests/certs_data/vcek_milan.der',
  certChain: 'vectors:virtee-sev/tests/certs_data/cert_chain_milan',
};
/** The guest owner's reference value: the real report's MEASUREMENT (no public firmware image reproduces it). */
const snpReference = { digest: milanReport.measurement.toString('hex') };
const AT = '2025-06-01T00:00:00Z';

const sevBase = {
  mode: 'sev',
  firmware: { ovmf: AMDSEV, kernel: 'vmlinuz', initrd: 'initrd.img', append: APPEND },
  policy: '0x3',
  tik: 'tik.bin',
  tek: 'tek.bin',
  platform: 'qmp.json',
  secret: sevSecret,
};
const sevBaseFiles = (): Record<string, Buffer | string> => ({ ...sevFiles(), vmlinuz: KERNEL, 'initrd.img': INITRD });

const CASES: Case[] = [
  {
    name: 'sev-good',
    description: 'SEV guest, direct kernel boot: the platform measured exactly the AmdSev OVMF, kernel, initrd and command line the owner expects, with policy 0x3; the secret packet round-trips',
    files: { ...sevBaseFiles(), 'qmp.json': qmpReplies(goodData, 0x3, false) },
    launch: { sev: sevBase },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'passed', 'launch.sev.secret-packet': 'passed' },
  },
  {
    name: 'sev-es-good',
    description: 'SEV-ES guest, 4 vCPUs EPYC-Milan, platform side as `virsh domlaunchsecinfo` prints it; the owner\'s prebuilt secret packet opens for this launch',
    files: { ...sevFiles(), 'domlaunchsecinfo.txt': domlaunchsecinfo(esData, 0x7), 'packet-header.b64': `${esPacket.headerB64}\n`, 'packet-secret.b64': `${esPacket.secretB64}\n` },
    launch: {
      sev: {
        mode: 'seves',
        firmware: { ovmf: AMDSEV, vcpus: 4, vcpuType: 'EPYC-Milan' },
        policy: '0x7',
        tik: 'tik.bin',
        tek: 'tek.bin',
        platform: 'domlaunchsecinfo.txt',
        secret: { ...sevSecret, packet: { header: 'packet-header.b64', data: 'packet-secret.b64' } },
      },
    },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'passed', 'launch.sev.secret-packet': 'passed' },
  },
  {
    name: 'sev-es-legacy-vmsa',
    description: 'SEV-ES guest, 2 vCPUs EPYC-Milan, on Debian 12 (kernel 6.1, QEMU 7.2, recorded with the QMP replies): the platform measured the VMSA of KVM_SEV_ES_INIT (no FPU state), the only one that kernel can launch',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(esModelDigest('legacy'), 0x7), 0x7, true, DEBIAN12) },
    launch: { sev: esModelBase },
    expected: SEV_PASSED,
  },
  {
    name: 'sev-es-legacy-vmsa-qemu-8',
    description: 'SEV-ES guest on Ubuntu 24.04 with the HWE kernel 6.11 and QEMU 8.2: the kernel has KVM_SEV_INIT2, but QEMU before 9.1 never issues it, so the VMSA is that of KVM_SEV_ES_INIT',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(esModelDigest('legacy'), 0x7), 0x7, true, UBUNTU2404_HWE) },
    launch: { sev: esModelBase },
    expected: SEV_PASSED,
  },
  {
    name: 'sev-es-init2-vmsa',
    description: 'SEV-ES guest on kernel 6.12 with QEMU 9.2 and legacy-vm-type=off: the platform measured the VMSA of KVM_SEV_INIT2 (MXCSR 0x1f80, x87 FCW 0x37f); that software can launch either VMSA, both are tried',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(esModelDigest('init2'), 0x7), 0x7, true, NEW_STACK) },
    launch: { sev: esModelBase },
    expected: SEV_PASSED,
  },
  {
    name: 'sev-es-legacy-vmsa-unrecorded',
    description: 'SEV-ES guest whose platform side is `virsh domlaunchsecinfo` text (no kernel or QEMU version recorded): KVM_SEV_ES_INIT VMSA, found by trying both',
    files: { ...sevFiles(), 'domlaunchsecinfo.txt': domlaunchsecinfo(measure(esModelDigest('legacy'), 0x7), 0x7) },
    launch: { sev: { ...esModelBase, platform: 'domlaunchsecinfo.txt' } },
    expected: SEV_PASSED,
  },
  {
    name: 'sev-es-init2-vmsa-recorded-old-kernel',
    description: 'The measurement verifies with the KVM_SEV_INIT2 VMSA although the recorded kernel (6.1) cannot launch it: a launch that verifies is never failed because of the model, the message says the recorded software is not what launched it',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(esModelDigest('init2'), 0x7), 0x7, true, DEBIAN12) },
    launch: { sev: esModelBase },
    expected: SEV_PASSED,
  },
  {
    name: 'sev-es-neither-vmsa',
    description: 'The platform measured a VMSA neither model has (KVM_SEV_ES_INIT with kvm_amd debug_swap=1: SEV_FEATURES DebugSwap): rejected, naming the launch digest of both VMSAs',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(debugSwapDigest, 0x7), 0x7, true, NEW_STACK) },
    launch: { sev: esModelBase },
    expected: SEV_FAILED,
  },
  {
    name: 'sev-other-ovmf',
    description: 'The platform launched a different OVMF (OvmfX64) than the AmdSev build the owner expects: the measurement is rejected and no secret is wrapped',
    files: { ...sevFiles(), 'qmp.json': qmpReplies(measure(otherDigest, 0x3), 0x3, false) },
    launch: { sev: { ...sevBase, firmware: { ovmf: AMDSEV } } },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'failed', 'launch.sev.secret-packet': 'failed' },
  },
  {
    name: 'sev-wrong-policy',
    description: 'The platform launched the guest with policy 0x1 (key sharing allowed) while the owner sent 0x3: the measurement is rejected',
    files: { ...sevBaseFiles(), 'qmp.json': qmpReplies(measure(goodDigest, 0x1), 0x1, false) },
    launch: { sev: sevBase },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'failed', 'launch.sev.secret-packet': 'failed' },
  },
  {
    name: 'sev-tik-wrong-length',
    description: 'The owner\'s TIK file holds 15 bytes: bad input, both SEV checks fail naming tik.bin',
    files: { ...sevBaseFiles(), 'tik.bin': TEST_TIK.subarray(0, 15), 'qmp.json': qmpReplies(goodData, 0x3, false) },
    launch: { sev: sevBase },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'failed', 'launch.sev.secret-packet': 'failed' },
  },
  {
    name: 'sev-es-firmware-no-table',
    description: 'The owner expects an SEV-ES launch of a "firmware" without the OVMF GUID table (no SEV-ES reset block): bad input, failed naming the file',
    files: { ...sevFiles(), 'not-ovmf.bin': Buffer.alloc(8192, 0xff), 'domlaunchsecinfo.txt': domlaunchsecinfo(esData, 0x7) },
    launch: { sev: { mode: 'seves', firmware: { ovmf: 'not-ovmf.bin', vcpus: 1, vcpuType: 'EPYC-v4' }, policy: '0x7', tik: 'tik.bin', tek: 'tek.bin', platform: 'domlaunchsecinfo.txt' } },
    expected: { ...ALL_SKIPPED, 'launch.sev.measurement': 'failed', 'launch.sev.secret-packet': 'failed' },
  },
  {
    name: 'snp-report-good',
    description: 'The real Milan attestation report (virtee/sev tests) with its VCEK and AMD\'s Milan chain; the owner\'s reference digest is the report\'s own MEASUREMENT',
    launch: { at: AT, snp: { firmware: snpReference, ...snpCerts } },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'passed', 'launch.snp.report-signature': 'passed', 'launch.snp.cert-chain': 'passed' },
  },
  {
    name: 'snp-digest-good',
    description: 'SNP guest on GCE, 3 vCPUs, AmdSev OVMF: the measurement equals sev-snp-measure\'s digest (test/sev/measure-vectors.ts "amdsev snp gce 3 vcpus no vcpu sig"); no report',
    launch: {
      snp: {
        firmware: { ovmf: 'vectors:sev-snp-measure/tests/fixtures/ovmf_AmdSev_suffix.bin', vcpus: 3, vmmType: 'gce' },
        measurement: 'a0bb6392c0c3117804319613cba886884883ffd71cc1dbc9245aaafc18c27c4ca766185ded06cd688c49809140371d7e',
      },
    },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'passed' },
  },
  {
    name: 'snp-digest-wrong-vcpus',
    description: 'The owner expects 4 vCPUs; the platform measured 3 (one VMSA less): the digest is rejected',
    launch: {
      snp: {
        firmware: { ovmf: 'vectors:sev-snp-measure/tests/fixtures/ovmf_AmdSev_suffix.bin', vcpus: 4, vmmType: 'gce' },
        measurement: 'a0bb6392c0c3117804319613cba886884883ffd71cc1dbc9245aaafc18c27c4ca766185ded06cd688c49809140371d7e',
      },
    },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'failed' },
  },
  {
    name: 'snp-tampered-report',
    description: 'The real Milan report with one bit of MEASUREMENT (offset 0x90) flipped: the signature and the digest fail, the chain still verifies',
    launch: { at: AT, snp: { firmware: snpReference, ...snpCerts, tamper: { offset: 144, xor: 1 } } },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'failed', 'launch.snp.report-signature': 'failed', 'launch.snp.cert-chain': 'passed' },
  },
  {
    name: 'snp-vcek-other-chip',
    description: 'A valid VCEK of another chip (the Turin VCEK with AMD\'s Turin chain): the chain verifies on its own, but the report is not signed by it and its hwID/TCB/generation are not the report\'s',
    launch: {
      at: AT,
      snp: { firmware: snpReference, report: snpCerts.report, vcek: 'vectors:virtee-sev/tests/certs_data/vcek_turin.der', certChain: 'vectors:virtee-sev/tests/certs_data/cert_chain_turin' },
    },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'passed', 'launch.snp.report-signature': 'failed', 'launch.snp.cert-chain': 'failed' },
  },
  {
    name: 'snp-mismatched-chain',
    description: 'The right VCEK, but AMD\'s Turin ARK/ASK: the report signature verifies, the chain does not',
    launch: { at: AT, snp: { firmware: snpReference, ...snpCerts, certChain: 'vectors:virtee-sev/tests/certs_data/cert_chain_turin' } },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'passed', 'launch.snp.report-signature': 'passed', 'launch.snp.cert-chain': 'failed' },
  },
  {
    name: 'snp-vcek-expired',
    description: 'The real evidence judged on 2031-01-01, after the Milan VCEK expired (2030-04-03)',
    launch: { at: '2031-01-01T00:00:00Z', snp: { firmware: snpReference, ...snpCerts } },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'passed', 'launch.snp.report-signature': 'passed', 'launch.snp.cert-chain': 'failed' },
  },
  {
    name: 'snp-report-wrong-size',
    description: 'The report truncated to 1000 bytes: bad input, every report check fails naming the report and its size',
    launch: { at: AT, snp: { firmware: snpReference, ...snpCerts, tamper: { truncate: 1000 } } },
    expected: { ...ALL_SKIPPED, 'launch.snp.digest': 'failed', 'launch.snp.report-signature': 'failed', 'launch.snp.cert-chain': 'failed' },
  },
];

rmSync(OUT, { recursive: true, force: true });
for (const c of CASES) {
  const dir = join(OUT, c.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'launch.json'), `${JSON.stringify({ description: c.description, ...c.launch }, null, 2)}\n`);
  for (const [name, data] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), data);
  writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(c.expected, null, 2)}\n`);
}
console.log(`wrote ${CASES.length} launch bundles to ${OUT}`);
