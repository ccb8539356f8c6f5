/**
 * `sevctl ok` / `snphost ok` output of every released version (virtee/sevctl 0.2.0–0.6.2,
 * virtee/snphost 0.1.1–0.7.0), rebuilt line by line from each release's src/ok.rs (emit_result's
 * `[ {:^4} ] {:width$}- {}{}`, the test names and messages at the release commit / tag), with the
 * colorful crate's colour codes around the status as a pipe receives them. Test vectors: origin
 * virtee/sevctl and virtee/snphost (Apache-2.0 / MIT), commits named per version below.
 */
import { describe, expect, it } from 'vitest';
import { findTest, parseSevctlOk, parseSnphostOkText, parseVersionMessage, type ToolFact } from '../../support/parsers/platform-tools.js';

/** the status as colorful prints it (a CSI colour, the word, a reset) */
const st = (s: 'PASS' | 'FAIL' | 'SKIP', csi = s === 'PASS' ? '\u001b[38;5;2m' : s === 'FAIL' ? '\u001b[38;5;1m' : '\u001b[38;5;3m') => `[ ${csi}${s}\u001b[0m ]`;
const line = (s: 'PASS' | 'FAIL' | 'SKIP', level: number, text: string) => `${st(s)} ${' '.repeat(level)}- ${text}`;

interface Release {
  readonly version: string;
  readonly commit: string;
  readonly out: string;
  readonly expect: Partial<Record<ToolFact, 'pass' | 'fail' | 'skip' | undefined>>;
}

const sevctlOut = (o: { pageFlushMsg: boolean; sevEs: boolean }) =>
  [
    line('PASS', 0, 'AMD CPU'),
    line('PASS', 2, 'Microcode support'),
    line('PASS', 2, 'Secure Memory Encryption (SME)'),
    line('PASS', 2, 'Secure Encrypted Virtualization (SEV)'),
    line('PASS', 4, 'Encrypted State (SEV-ES)'),
    line('FAIL', 4, 'Secure Nested Paging (SEV-SNP)'),
    line('SKIP', 6, 'VM Permission Levels'),
    line('SKIP', 8, 'Number of VMPLs'),
    line('PASS', 4, 'Physical address bit reduction: 1'),
    line('PASS', 4, 'C-bit location: 51'),
    line('PASS', 4, 'Number of encrypted guests supported simultaneously: 509'),
    line('PASS', 4, 'Minimum ASID value for SEV-enabled, SEV-ES disabled guest: 100'),
    line('PASS', 4, 'SEV enabled in KVM: enabled'),
    ...(o.sevEs ? [line('FAIL', 4, 'SEV-ES enabled in KVM: Error - contents read from /sys/module/kvm_amd/parameters/sev_es: N')] : []),
    line('PASS', 4, 'Reading /dev/sev: /dev/sev readable'),
    line('PASS', 4, 'Writing /dev/sev: /dev/sev writable'),
    line('PASS', 2, o.pageFlushMsg ? 'Page flush MSR: ENABLED' : 'Page flush MSR'),
    line('PASS', 0, 'KVM supported: API version: 12'),
    line('PASS', 0, 'Memlock resource limit: Soft: 8388608 | Hard: 8388608'),
  ].join('\n');

const SEVCTL: readonly Release[] = [
  ['0.2.0', '8a866b1', false, false],
  ['0.3.0', 'ccfb13b', false, false],
  ['0.3.1', '33e1ffa', true, false],
  ['0.3.2', '16a2435', true, false],
  ['0.4.0', '8c60477', true, true],
  ['0.4.1', '4c35b91', true, true],
  ['0.4.2', '5770b79', true, true],
  ['0.4.3', 'c41c917', true, true],
  ['0.5.0', '8dc3f52', true, true],
  ['0.6.0', 'a96167c', true, true],
  ['0.6.1', 'v0.6.1', true, true],
  ['0.6.2', '8b47f3a', true, true],
].map(([version, commit, pageFlushMsg, sevEs]) => ({
  version: version as string,
  commit: commit as string,
  out: sevctlOut({ pageFlushMsg: pageFlushMsg as boolean, sevEs: sevEs as boolean }),
  expect: { 'cpuid.sme': 'pass', 'cpuid.sev': 'pass', 'cpuid.sev-es': 'pass', 'cpuid.sev-snp': 'fail', 'cpuid.vmpl': 'skip', 'kvm.sev': 'pass', 'kvm.sev-es': sevEs ? 'fail' : undefined, 'fw.sev-init': undefined },
}));

/** snphost 0.1.1–0.2.0: sevctl's ok plus "SEV-SNP enabled in KVM" */
const snphostEarly = [line('PASS', 0, 'AMD CPU'), line('PASS', 2, 'Secure Encrypted Virtualization (SEV)'), line('PASS', 4, 'Secure Nested Paging (SEV-SNP)'), line('PASS', 4, 'SEV enabled in KVM: enabled'), line('PASS', 4, 'SEV-ES enabled in KVM: enabled'), line('FAIL', 4, 'SEV-SNP enabled in KVM: Error - contents read from /sys/module/kvm_amd/parameters/sev_snp: N')].join('\n');

/** snphost 0.3.0–0.5.0 (b8c3491 "Adding tests to snphostok"): INIT tests in capitals, a two-line firmware FAIL */
const snphostMid = [
  line('PASS', 0, 'AMD CPU'),
  line('PASS', 4, 'SEV-SNP enabled in KVM: enabled'),
  line('PASS', 0, 'SEV INIT'),
  line('PASS', 0, 'SEV-ES INIT: Enabled'),
  line('FAIL', 0, 'SEV Firmware Version: SEV firmware version needs to be at least 1.51, '),
  '                            current firmware version: 1.49',
  line('PASS', 0, 'SNP INIT'),
  line('FAIL', 0, 'RMP INIT'),
  line('PASS', 0, 'Compare TCB values: TCB versions match '),
  '',
  ' Platform TCB version: TCB Version:',
].join('\n');

/** snphost 0.6.0–0.7.0 (f91631f, 5d4bb41, e9925f6): renamed tests, Alias check, the bare version */
const snphostLate = [
  line('PASS', 0, 'AMD CPU'),
  line('PASS', 4, 'SEV-SNP enabled in KVM: enabled'),
  line('PASS', 0, 'SEV firmware version: 1.55'),
  line('PASS', 0, 'SEV initialized'),
  line('PASS', 0, 'SEV-ES initialized'),
  line('PASS', 0, 'SNP initialized'),
  line('PASS', 0, 'RMP table initialized'),
  line('FAIL', 0, 'Alias check'),
  line('FAIL', 0, 'Comparing TCB values: The TCB versions did NOT match '),
  '',
  ' Platform TCB version: TCB Version:',
].join('\n');

const SNPHOST: readonly Release[] = [
  { version: '0.1.1', commit: 'v0.1.1', out: snphostEarly, expect: { 'kvm.sev': 'pass', 'kvm.sev-es': 'pass', 'kvm.sev-snp': 'fail', 'fw.sev-init': undefined } },
  { version: '0.1.2', commit: 'v0.1.2', out: snphostEarly, expect: { 'kvm.sev-snp': 'fail' } },
  { version: '0.2.0', commit: 'v0.2.0', out: snphostEarly, expect: { 'kvm.sev-snp': 'fail' } },
  ...['0.3.0', '0.4.0', '0.5.0'].map((version) => ({ version, commit: `v${version}`, out: snphostMid, expect: { 'kvm.sev-snp': 'pass', 'fw.sev-init': 'pass', 'fw.sev-es-init': 'pass', 'fw.version': 'fail', 'snp.init': 'pass', 'snp.rmp-init': 'fail', 'snp.tcb': 'pass' } as const })),
  ...['0.6.0', '0.6.1', '0.7.0'].map((version) => ({ version, commit: `v${version}`, out: snphostLate, expect: { 'fw.version': 'pass', 'fw.sev-init': 'pass', 'fw.sev-es-init': 'pass', 'snp.init': 'pass', 'snp.rmp-init': 'pass', 'snp.alias-check': 'fail', 'snp.tcb': 'fail' } as const })),
];

describe('sevctl ok, every release', () => {
  it.each(SEVCTL.map((r) => [r.version, r] as const))('sevctl %s', (_v, r) => {
    const p = parseSevctlOk(r.out);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    for (const [fact, status] of Object.entries(r.expect)) expect(findTest(p.tests, fact as ToolFact)?.status, fact).toBe(status);
    expect(p.tests.every((t) => !t.name.includes('\u001b'))).toBe(true);
  });
});

describe('snphost ok (text), every release', () => {
  it.each(SNPHOST.map((r) => [r.version, r] as const))('snphost %s', (_v, r) => {
    const p = parseSnphostOkText(r.out);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    for (const [fact, status] of Object.entries(r.expect)) expect(findTest(p.tests, fact as ToolFact)?.status, fact).toBe(status);
  });

  it('0.3.0–0.5.0: the two-line firmware FAIL keeps its current version; the PASS says "Sev firmware version: X.Y"', () => {
    const p = parseSnphostOkText(snphostMid);
    expect(p.ok && findTest(p.tests, 'fw.version')?.message).toBe('SEV firmware version needs to be at least 1.51, current firmware version: 1.49');
    expect(parseVersionMessage('Sev firmware version: 1.55')).toEqual({ major: 1, minor: 55 });
    expect(parseVersionMessage('1.55')).toEqual({ major: 1, minor: 55 });
  });

  it('the colour codes may be any CSI colour (plain ones too), and plain output reads the same', () => {
    const plain = '[ PASS ] - SEV initialized\n[ FAIL ] - SNP initialized';
    const basic = '[ \u001b[32mPASS\u001b[0m ] - SEV initialized\n[ \u001b[1;31mFAIL\u001b[0m ] - SNP initialized';
    for (const out of [plain, basic]) {
      const p = parseSnphostOkText(out);
      expect(p.ok && p.tests.map((t) => `${t.name}=${t.status}`)).toEqual(['SEV initialized=pass', 'SNP initialized=fail']);
    }
  });

  it('an error instead of a report (clap rejecting -o, a missing /dev/sev) is an unknown format, never an answer', () => {
    for (const bad of ["error: unexpected argument '-o' found", 'Error: unable to open /dev/sev', '']) {
      const p = parseSnphostOkText(bad);
      expect(p.ok, bad).toBe(false);
    }
  });
});

describe('snphost ok --features (virtee/snphost d233197 and 56d5d7e, after 0.7.0): the Secure TSC test', () => {
  // the test as render_json prints it at 56d5d7e (keys sorted by serde_json), once run and once skipped
  const ran = (message: string, status = 'fail') =>
    JSON.stringify({
      failures: [],
      skipped: [],
      summary: { failed: 1, passed: 0, skipped: 0, total: 1 },
      tests: [{ category: 'optional_features', description: 'Checks SecureTSC hardware support, and kernel support', message, name: '(Optional Features) Secure TSC', status }],
    });
  it('the name it runs under ("(Optional Features)", the Display of TestCategory::OptionalFeatures) and the SKIP name both answer kvm.secure-tsc', async () => {
    const { parseSnphostOkJson, findTest } = await import('../../support/parsers/platform-tools.js');
    const p = parseSnphostOkJson(ran('Configurable', 'pass'));
    expect(p.ok && findTest(p.tests, 'kvm.secure-tsc')?.status).toBe('pass');
    const skipText = parseSnphostOkText('[ SKIP ]       - (Optional Feature) Secure TSC\n');
    expect(skipText.ok && findTest(skipText.tests, 'kvm.secure-tsc')?.status).toBe('skip');
  });
  it('every FAIL part of both commits is read: CPU bit 8, KVM bit 9 (d233197 "bit 9", 56d5d7e without), the ioctl errors', async () => {
    const { parseSecureTscMessage } = await import('../../support/parsers/platform-tools.js');
    expect(parseSecureTscMessage('SecureTSC bit 8 not set in CPUID 0x8000001F EAX: 0x0001000f; SecureTSC bit 9 not set in KVM sev_supported_vmsa_features: 0x0000000000000000')).toEqual({ cpuMissing: true, kvmMask: 0n });
    expect(parseSecureTscMessage('SecureTSC not set in KVM sev_supported_vmsa_features: 0x0000000000000020')).toEqual({ cpuMissing: false, kvmMask: 0x20n });
    expect(parseSecureTscMessage('KVM_GET_DEVICE_ATTR failed: No such device or address (os error 6)')).toEqual({ cpuMissing: false, kvmError: 'KVM_GET_DEVICE_ATTR failed: No such device or address (os error 6)' });
    expect(parseSecureTscMessage('unable to open /dev/kvm: No such file or directory (os error 2)').kvmError).toMatch(/^unable to open/);
    expect(parseSecureTscMessage('Configurable')).toEqual({ cpuMissing: false });
  });
});
