import { describe, expect, it } from 'vitest';
import { findTest, parseSevctlOk, parseSevctlVersion, parseSnphostOkJson, parseVersionMessage } from '../../support/parsers/platform-tools.js';

const tcb = { microcode: 72, snp: 22, tee: 0, boot_loader: 4, fmc: null };

describe('snphost ok -o json', () => {
  it('reads tests and the TCB comparison', () => {
    const p = parseSnphostOkJson(
      JSON.stringify({
        tests: [
          { name: 'SEV firmware version', status: 'PASS', category: 'BiosConfigured', description: '', message: '1.55' },
          { name: 'Compare TCB values', status: 'FAIL', category: 'Compliance', description: '', message: { match: false, platform_tcb_version: tcb, reported_tcb_version: { ...tcb, snp: 21 } } },
        ],
      }),
    );
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(parseVersionMessage(findTest(p.tests, 'fw.version')?.message)).toEqual({ major: 1, minor: 55 });
    expect(findTest(p.tests, 'snp.tcb')?.tcb).toMatchObject({ match: false, reported: { snp: 21 } });
  });

  it('reads the TCB as snphost 56d5d7e prints it: decimal strings, FMC "None" (parse_tcb_message)', () => {
    const tcb = { boot_loader: '4', fmc: 'None', microcode: '213', snp: '22', tee: '0' };
    const doc = { tests: [{ category: 'compliance', name: 'Comparing TCB values', status: 'pass', message: { match: true, platform_tcb_version: tcb, reported_tcb_version: { ...tcb, snp: '21' } } }] };
    const r = parseSnphostOkJson(JSON.stringify(doc));
    expect(r.ok && r.tests[0]?.tcb).toEqual({ match: true, platform: { microcode: 213, snp: 22, tee: 0, boot_loader: 4, fmc: null }, reported: { microcode: 213, snp: 21, tee: 0, boot_loader: 4, fmc: null } });
    // not a number: an unknown format, never a TCB
    const bad = { ...doc, tests: [{ ...doc.tests[0], message: { match: true, platform_tcb_version: { ...tcb, snp: '2x' }, reported_tcb_version: tcb } }] };
    expect(parseSnphostOkJson(JSON.stringify(bad)).ok).toBe(false);
    expect(parseSnphostOkJson(JSON.stringify({ tests: [{ ...doc.tests[0], message: { match: true, platform_tcb_version: { ...tcb, snp: '256' }, reported_tcb_version: tcb } }] })).ok).toBe(false);
  });

  it('knows the older test names (SEV INIT, SEV Firmware Version)', () => {
    const p = parseSnphostOkJson(JSON.stringify({ tests: [{ name: 'SEV INIT', status: 'fail' }, { name: 'SEV Firmware Version', status: 'pass', message: '1.51' }] }));
    expect(p.ok && findTest(p.tests, 'fw.sev-init')?.status).toBe('fail');
  });

  it('unknown formats are reasons, never answers', () => {
    for (const bad of ['[ PASS ] - AMD CPU', '{"results": []}', '{"tests": [{"name": "AMD CPU", "status": "MAYBE"}]}', '{"tests": []}', '{"tests":[{"name":"Compare TCB values","status":"PASS","message":{"match":true}}]}']) {
      const p = parseSnphostOkJson(bad);
      expect(p.ok, bad).toBe(false);
      if (!p.ok) expect(p.reason).toMatch(/snphost/);
    }
  });
});

describe('sevctl ok', () => {
  it('splits name and message on the known names only', () => {
    const p = parseSevctlOk(
      '[ PASS ] - AMD CPU\n[ PASS ]   - Page flush MSR: DISABLED\n[ FAIL ]     - SEV enabled in KVM: Error - contents read from /sys/module/kvm_amd/parameters/sev: N\n[ SKIP ]       - VM Permission Levels\n',
    );
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.tests.map((t) => [t.name, t.status])).toEqual([
      ['AMD CPU', 'pass'],
      ['Page flush MSR: DISABLED', 'pass'],
      ['SEV enabled in KVM', 'fail'],
      ['VM Permission Levels', 'skip'],
    ]);
    expect(findTest(p.tests, 'kvm.sev')?.message).toBe('Error - contents read from /sys/module/kvm_amd/parameters/sev: N');
  });

  it('output without a test line is an unknown format', () => {
    expect(parseSevctlOk('error: unrecognized subcommand').ok).toBe(false);
  });

  it('show version: <major>.<minor>.<build> only', () => {
    expect(parseSevctlVersion('1.55.21\n')).toEqual({ major: 1, minor: 55, build: 21 });
    expect(parseSevctlVersion('1.55')).toBeUndefined();
    expect(parseSevctlVersion('Error: Permission denied')).toBeUndefined();
  });
});
