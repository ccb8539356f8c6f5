/**
 * The launch layer's bundle loader (support/launch/bundle.ts), evidence (support/launch/evidence.ts),
 * probe (support/probes/launch.ts) and rules (support/rules/launch.ts):
 * launch.json validation, evidence sources (QMP replies, domlaunchsecinfo, certificate table,
 * --amd-certs layout), and the verdicts of each flow, including bad input.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessError, HostError, type Host } from '../../support/host/types.js';
import { InputError } from '../../support/errors.js';
import { LaunchProbe } from '../../support/probes/launch.js';
import { loadBundle } from '../../support/launch/bundle.js';
import { platformFromQmp, type SevPlatform } from '../../support/launch/evidence.js';
import * as rules from '../../support/rules/launch.js';
import { launchMeasureMac } from '../../support/sev/sev-measurement.js';
import { buildLaunchSecret, buildSecretTable } from '../../support/sev/launch-secret.js';
import { buildCertTable } from '../../support/sev/snp-cert-table.js';
import { vectorBytes, vectorPath } from './snp-vectors.js';
import { failed, passed, undecided } from '../../support/verdict.js';

const VECTORS = join(vectorPath(''), '..');
const TIK = Buffer.alloc(16, 0x11);
const TEK = Buffer.alloc(16, 0x22);
const MNONCE = Buffer.alloc(16, 0x33);
const DIGEST = Buffer.alloc(32, 0x44);
const API = { major: 0, minor: 24, build: 15 };

function bundleDir(launch: unknown, files: Record<string, Buffer | string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-bundle-'));
  writeFileSync(join(dir, 'launch.json'), typeof launch === 'string' ? launch : JSON.stringify(launch));
  for (const [n, d] of Object.entries(files)) writeFileSync(join(dir, n), d);
  return dir;
}

const keys = { 'tik.bin': TIK, 'tek.bin': TEK };
const sev = { firmware: { digest: DIGEST.toString('hex') }, policy: '0x3', tik: 'tik.bin', tek: 'tek.bin' };

function platform(policy: number, digest: Buffer = DIGEST, tik: Buffer = TIK): SevPlatform {
  const mac = launchMeasureMac(tik, { apiMajor: API.major, apiMinor: API.minor, build: API.build, policy, digest, mnonce: MNONCE });
  return { measurement: Buffer.concat([mac, MNONCE]).toString('base64'), api: API, policy, source: 'test platform' };
}

const fakeHost = { kind: 'local', target: 'local', qmp: async () => { throw new Error('not used'); } } as unknown as Host;

describe('launch.json', () => {
  const bad = (launch: unknown, files: Record<string, Buffer | string> = keys, opts = {}) => () => loadBundle(bundleDir(launch, files), opts);

  it('loads a minimal SEV bundle', () => {
    const b = loadBundle(bundleDir({ sev }, keys));
    expect(b.sev?.policy).toBe(3);
    expect(b.sev?.mode).toBe('sev');
    expect(b.snp).toBeUndefined();
  });

  it.each([
    [{ sev, extra: 1 }, /launch\.json: extra: unknown key/],
    [{ sev: { ...sev, policy: 'x1' } }, /launch\.json: sev\.policy: "x1" is not an integer/],
    [{ sev: { ...sev, policy: '0x100000000' } }, /sev\.policy: .* outside 0\.\.0xffffffff/],
    [{ sev: { ...sev, tik: undefined } }, /sev\.tik: required/],
    [{ sev: { ...sev, tek: 'missing.bin' } }, /sev\.tek: "missing\.bin": cannot read \(ENOENT/],
    [{ sev: { ...sev, firmware: { digest: 'abcd' } } }, /sev\.firmware\.digest: must be 32 bytes \(64 hex digits\), got 2/],
    [{ sev: { ...sev, mode: 'seves', firmware: { ovmf: 'tik.bin' } } }, /sev\.firmware\.vcpus: required for SEV-ES/],
    [{ sev: { ...sev, firmware: { ovmf: 'tik.bin', initrd: 'tek.bin' } } }, /sev\.firmware\.kernel: required with "initrd"/],
    [{ snp: { tamper: { offset: 1, xor: 1 } } }, /snp\.tamper: there is no "report"/],
    [{ snp: { report: 'vectors:x' } }, /snp\.report: "vectors:x" needs the reference vectors: set SEVCHECK_VECTORS/],
    [{ snp: { firmware: { ovmf: 'tik.bin', vcpus: 1, vcpuType: 'EPYC-Nope' } } }, /snp\.firmware\.vcpuType: unknown vCPU type "EPYC-Nope"/],
    [{ at: 'yesterday' }, /launch\.json: at: "yesterday" is not an ISO 8601/],
    ['{"sev": ', /launch\.json: not JSON/],
  ])('rejects %j naming the file and the key', (launch, re) => {
    expect(bad(launch)).toThrow(HarnessError);
    expect(bad(launch)).toThrow(re);
  });
});

describe('SEV flow rules', () => {
  it('policy gate: valid policy passes; reserved bits and ES/mode mismatch fail', () => {
    expect(rules.policyGate(0x3, 'sev', 'launch.json')).toBeUndefined();
    expect(rules.policyGate(0x7, 'seves', 'launch.json')).toBeUndefined();
    expect(rules.policyGate(0x43, 'sev', 'launch.json')?.message).toMatch(/^found guest policy .*reserved 15:6/);
    expect(rules.policyGate(0x3, 'seves', 'launch.json')?.message).toMatch(/ES \(bit 2\) is clear but sev\.mode is "seves"/);
  });

  it('measurement: verifies with the owner\'s TIK, digest and policy; any difference fails', () => {
    const expected = { digest: DIGEST, describe: 'test firmware' };
    expect(rules.sevMeasurement({ tik: TIK, tek: TEK }, expected, 3, platform(3)).status).toBe('passed');
    const wrongPolicy = rules.sevMeasurement({ tik: TIK, tek: TEK }, expected, 3, platform(1));
    expect(wrongPolicy.status).toBe('failed');
    expect(wrongPolicy.message).toContain('the platform reports guest policy 0x1 while the guest owner sent 0x3');
    expect(rules.sevMeasurement({ tik: TIK, tek: TEK }, expected, 3, platform(3, Buffer.alloc(32, 0x45))).status).toBe('failed');
    expect(rules.sevMeasurement({ tik: TIK, tek: TEK }, expected, 3, platform(3, DIGEST, Buffer.alloc(16, 0x12))).status).toBe('failed');
    expect(rules.measuredGate({ tik: TIK, tek: TEK }, expected, 3, platform(1))?.status).toBe('failed');
  });

  it('bad evidence becomes a failed check naming the input, never a pass', async () => {
    const v = await rules.evidence(() => {
      throw new InputError('tik.bin', 'TIK must be 16 bytes, got 15');
    }, 'a 16-byte TIK', 'fix it');
    expect(v).toEqual({ status: 'failed', message: 'found tik.bin: TIK must be 16 bytes, got 15; expected a 16-byte TIK; fix: fix it', found: 'tik.bin: TIK must be 16 bytes, got 15', expected: 'a 16-byte TIK', fix: 'fix it' });
    await expect(rules.evidence(() => { throw new HarnessError('x'); }, 'e', 'f')).rejects.toThrow(HarnessError);
  });

  const entries = [{ guid: 'luks-key', value: Buffer.from('correct horse battery staple') }];
  it('secret packet: a built packet round-trips and is bound to this measurement; messages hold no secret', () => {
    const v = rules.secretPacket({ keys: { tik: TIK, tek: TEK }, platform: platform(3), entries, iv: Buffer.alloc(16, 7) });
    expect(v.status).toBe('passed');
    expect(v.message).toContain('luks-key (28 bytes)');
    for (const s of [TIK.toString('hex'), TEK.toString('hex'), 'correct horse', TIK.toString('base64')]) expect(v.message).not.toContain(s);
  });

  it('secret packet: a prebuilt packet for another measurement, or tampered, fails', () => {
    const measure = Buffer.from(platform(3).measurement, 'base64').subarray(0, 32);
    const good = buildLaunchSecret({ tik: TIK, tek: TEK, measure, secret: buildSecretTable(entries) });
    const ok = rules.secretPacket({ keys: { tik: TIK, tek: TEK }, platform: platform(3), entries, packet: { ...good, source: 'packet' } });
    expect(ok.status).toBe('passed');
    const other = rules.secretPacket({ keys: { tik: TIK, tek: TEK }, platform: platform(1), entries, packet: { ...good, source: 'packet' } });
    expect(other.message).toMatch(/^found packet: packet header: MAC does not verify/);
    const data = Buffer.from(good.data);
    data[0] = (data[0] ?? 0) ^ 1;
    expect(rules.secretPacket({ keys: { tik: TIK, tek: TEK }, platform: platform(3), entries, packet: { header: good.header, data, source: 'packet' } }).status).toBe('failed');
    const wrongSecret = rules.secretPacket({ keys: { tik: TIK, tek: TEK }, platform: platform(3), entries: [{ guid: 'luks-key', value: Buffer.from('another') }], packet: { ...good, source: 'packet' } });
    expect(wrongSecret.message).toMatch(/differs from launch\.json's/);
  });

  it('platform replies: QMP errors and malformed replies are bad evidence naming the command', () => {
    const info = { return: { 'api-major': 0, 'api-minor': 24, 'build-id': 15, policy: 3 } };
    expect(platformFromQmp(info, { return: { data: 'AAAA' } }, 'qmp').api).toEqual(API);
    expect(() => platformFromQmp(info, { error: { class: 'GenericError', desc: 'SEV launch measurement is not available' } }, 'qmp')).toThrow(
      /qmp: query-sev-launch-measure: QEMU answered GenericError: SEV launch measurement is not available/,
    );
    expect(() => platformFromQmp({ return: { 'api-major': 300 } }, { return: { data: 'AAAA' } }, 'qmp')).toThrow(/query-sev "api-major": 300 is not 0\.\.255/);
  });
});

describe('SNP flow evidence sources', () => {
  const report = `vectors:virtee-sev/tests/certs_data/report_milan.hex`;

  it('takes VCEK, ASK and ARK from an extended report\'s certificate table', async () => {
    const chain = readFileSync(vectorPath('tests/certs_data/cert_chain_milan'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const table = buildCertTable([
      { guid: 'vcek', data: vectorBytes('tests/certs_data/vcek_milan.der') },
      { guid: 'ask', data: der(chain[0] ?? '') },
      { guid: 'ark', data: der(chain[1] ?? '') },
    ], { pad: 4096 });
    const dir = bundleDir({ at: '2025-06-01T00:00:00Z', snp: { report, certTable: 'certs.bin' } }, { 'certs.bin': table });
    const p = new LaunchProbe(fakeHost, { bundle: dir, vectors: VECTORS });
    const r = await p.snpReport();
    const c = await p.snpChain();
    expect(c.vek.source).toBe('certs.bin (VCEK entry)');
    expect(rules.snpSignature(r!, c).status).toBe('passed');
    expect(rules.snpChainVerdict(r!, c, new Date('2025-06-01T00:00:00Z')).status).toBe('passed');
  });

  it('takes ARK and ASK from --amd-certs DIR (snpguest fetch ca layout, per generation)', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'sevcheck-amd-'));
    mkdirSync(join(certs, 'milan'));
    copyFileSync(vectorPath('src/certs/snp/builtin/milan/ark.pem'), join(certs, 'milan/ark.pem'));
    copyFileSync(vectorPath('src/certs/snp/builtin/milan/ask.pem'), join(certs, 'milan/ask.pem'));
    const dir = bundleDir({ snp: { report, vcek: 'vectors:virtee-sev/tests/certs_data/vcek_milan.der', generation: 'milan' } });
    const p = new LaunchProbe(fakeHost, { bundle: dir, vectors: VECTORS }, { amdCertsDir: certs });
    const c = await p.snpChain();
    expect(c.ark.subjectCN).toBe('ARK-Milan');
    expect(rules.snpChainVerdict((await p.snpReport())!, c, new Date('2025-06-01T00:00:00Z')).status).toBe('passed');
  });

  it('without ARK/ASK anywhere: undecided (HostError) saying they are not bundled and how to give them', async () => {
    const dir = bundleDir({ snp: { report, vcek: 'vectors:virtee-sev/tests/certs_data/vcek_milan.der' } });
    const p = new LaunchProbe(fakeHost, { bundle: dir, vectors: VECTORS });
    await expect(p.snpChain()).rejects.toThrow(HostError);
    await expect(p.snpChain()).rejects.toThrow(/snp\.ark\/snp\.ask: AMD's ARK and ASK are not bundled with sevcheck: .*--amd-certs DIR/);
  });

  it('a tampered signature R beyond 48 bytes and a flipped signature byte both fail (never pass)', async () => {
    for (const offset of [0x2a0 + 60, 0x2a0 + 3]) {
      const dir = bundleDir({ snp: { report, tamper: { offset, xor: 0x80 }, vcek: 'vectors:virtee-sev/tests/certs_data/vcek_milan.der' } });
      const p = new LaunchProbe(fakeHost, { bundle: dir, vectors: VECTORS });
      const v = rules.snpSignature((await p.snpReport())!, { vek: await p.snpVek() });
      expect(v.status).toBe('failed');
    }
  });

  it('snp digest: equal passes, different fails with both values', () => {
    const d = Buffer.alloc(48, 1);
    expect(rules.snpDigest({ digest: d, describe: 'x' }, { measurement: Buffer.alloc(48, 1), source: 'r' }).status).toBe('passed');
    expect(rules.snpDigest({ digest: d, describe: 'x' }, { measurement: Buffer.alloc(48, 2), source: 'r' }).message).toMatch(/^found r 0202.*; expected 0101/);
  });

  it('folds failing verification steps into the house format', () => {
    const v = rules.foldSteps([
      { check: 'a', ...passed('ok') },
      { check: 'b', ...failed('X', 'Y', 'Z') },
      { check: 'c', ...failed('P', 'Q', 'R') },
    ]);
    expect(v.message).toBe('found b: X | c: P; expected Y; fix: Z');
    expect(v).toMatchObject({ found: 'b: X | c: P', expected: 'Y', fix: 'Z' });
    expect(rules.foldSteps([{ check: 'chip', ...undecided('masked') }])).toMatchObject({ message: 'undecided: chip: masked', reason: 'chip: masked' });
  });
});
