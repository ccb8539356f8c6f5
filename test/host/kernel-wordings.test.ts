/**
 * The wording table (support/parsers/kernel-log-wordings.ts): one test per row (its sample line →
 * the fact the row stands for, written out here by hand, not computed from the row), the doc
 * generated from it is current, and the two rules that follow from it (issue 18).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TREES_READ, WORDINGS, mainlineReleases } from '../../support/parsers/kernel-log-wordings.js';
import { renderWordingsDoc, tableSize } from '../../support/parsers/kernel-log-wordings-doc.js';
import { parseKernelLog, type KernelLogFacts } from '../../support/parsers/kernel-log.js';
import { ROOT } from '../helpers.js';

type Check = (f: KernelLogFacts) => void;
const api = (snp: boolean, major: number, minor: number, build: number): Check => (f) => expect(snp ? f.snpApi : f.sevApi).toMatchObject({ major, minor, build });
const fails = (field: 'sevInitFailed' | 'snpInitFailed' | 'statusFailed' | 'pspDead' | 'sevEsFailed'): Check => (f) => expect(f[field]?.lineNo).toBe(2);
const rmpFails = (id: string): Check => (f) => expect(f.rmp).toMatchObject({ lineNo: 2, failure: id });
const rmpRange = (base: bigint, end: bigint): Check => (f) => expect(f.rmp?.range).toEqual({ base, end });
const kvm = (feature: 'SEV' | 'SEV-ES' | 'SEV-SNP', state: string, asids?: [number, number]): Check => (f) => expect(f.kvm[feature]).toMatchObject({ state, ...(asids ? { asids } : {}) });
const memenc = (vendor: string, features: string[]): Check => (f) => expect(f.memEncrypt).toMatchObject({ vendor, features });
/** a row that decides nothing: known, and no failure or success fact from it */
const nothing: Check = (f) => {
  expect(f.sevInitFailed ?? f.snpInitFailed ?? f.statusFailed ?? f.pspDead ?? f.sevEsFailed ?? f.sevApi ?? f.snpApi ?? f.rmp).toBeUndefined();
  expect(f.unknownFailures).toEqual([]);
};
const shutdown: Check = (f) => {
  expect(f.known.at(-1)).toMatchObject({ step: 'shutdown', outcome: 'failure' });
  expect(f.sevInitFailed ?? f.snpInitFailed ?? f.statusFailed).toBeUndefined();
};

const EXPECT: Record<string, Check> = {
  'psp-enabled': nothing,
  'tee-enabled': nothing,
  'psp-no-access': (f) => expect(f.pspUnreachable?.lineNo).toBe(2),
  'ccp-engine-enabled': nothing,
  'ccp-engine-init-failed': nothing,
  'ccp-engine-no-access': nothing,
  'ccp-api': api(false, 1, 55, 21),
  'ccp-snp-api': api(true, 1, 55, 21),
  'ccp-status-failed-v416': fails('statusFailed'),
  'ccp-status-failed': fails('statusFailed'),
  'ccp-snp-status-failed': fails('statusFailed'),
  'ccp-snp-feature-info-failed': fails('statusFailed'),
  'ccp-psp-timeout': fails('pspDead'),
  'ccp-cmd-trace': nothing,
  'ccp-cmd-failed-trace': nothing,
  'ccp-cmdbuff-trace': nothing,
  'ccp-sev-fw-initialized-trace': nothing,
  'ccp-snp-fw-initialized-trace': nothing,
  'ccp-fw-update-failed-trace': nothing,
  'ccp-fw-download-unsupported-trace': nothing,
  'ccp-sev-missing-driver-data': fails('statusFailed'),
  'ccp-init-ex-open-failed': fails('sevInitFailed'),
  'ccp-init-ex-created-later': nothing,
  'ccp-init-ex-read-short-failed': fails('sevInitFailed'),
  'ccp-init-ex-read-short': nothing,
  'ccp-init-ex-write-failed': nothing,
  'ccp-init-ex-nv-state-failed': fails('sevInitFailed'),
  'ccp-reclaim-failed': nothing,
  'ccp-sev-not-enabled-by-bios': fails('statusFailed'),
  'ccp-sev-init-failed-notice': fails('statusFailed'),
  'ccp-sev-enabled-notice': nothing,
  'ccp-fw-update-ok': (f) => expect(f.firmwareUpdate).toMatchObject({ lineNo: 2, text: expect.stringContaining('update successful') }),
  'ccp-fw-updated-from': (f) => expect(f.firmwareUpdate).toMatchObject({ from: '1.49.3', to: '1.55.21' }),
  'ccp-init-failed-v416': fails('sevInitFailed'),
  'ccp-init-failed-rc': fails('sevInitFailed'),
  'ccp-init-failed-v614': fails('sevInitFailed'),
  'ccp-df-flush-failed': fails('sevInitFailed'),
  'ccp-init-retry': nothing,
  'ccp-tmr-failed': fails('sevEsFailed'),
  'ccp-init-ex-nv-failed': fails('sevInitFailed'),
  'ccp-snp-init-failed-amdese': fails('snpInitFailed'),
  'ccp-snp-init-failed-rc': fails('snpInitFailed'),
  'ccp-snp-init-failed-v614': fails('snpInitFailed'),
  'ccp-snp-df-flush-failed': fails('snpInitFailed'),
  'ccp-snp-requires-fw': fails('snpInitFailed'),
  'ccp-snp-range-alloc-failed': fails('snpInitFailed'),
  'ccp-snp-range-walk-failed': fails('snpInitFailed'),
  'ccp-shutdown-failed': shutdown,
  'ccp-snp-shutdown-failed-v611': shutdown,
  'ccp-snp-shutdown-failed': shutdown,
  'ccp-snp-shutdown-dfflush-failed': shutdown,
  'ccp-snp-iommu-shutdown-failed': shutdown,
  'kvm-sev-supported-v416': kvm('SEV', 'enabled'),
  'kvm-sev-supported-asids': kvm('SEV', 'enabled'),
  'kvm-sev-es-supported-asids': kvm('SEV-ES', 'enabled'),
  'kvm-sev-es-snp-supported-amdese': (f) => {
    kvm('SEV-ES', 'enabled')(f);
    kvm('SEV-SNP', 'enabled')(f);
  },
  'kvm-sev-state': kvm('SEV', 'enabled', [100, 1006]),
  'kvm-sev-es-state': kvm('SEV-ES', 'unusable', [1, 0]),
  'kvm-sev-snp-state': kvm('SEV-SNP', 'enabled', [1, 99]),
  'kvm-snp-ciphertext-hiding': nothing,
  'rmp-range': rmpRange(0x88900000n, 0xa8efffffn),
  'rmp-address-brackets-amdese': rmpRange(0x64000000n, 0x747fffffn),
  'rmp-address-amdese-old': rmpRange(0x35600000n, 0x75bfffffn),
  'rmp-not-reserved': rmpFails('rmp-not-reserved'),
  'rmp-not-cover': rmpFails('rmp-not-cover'),
  'rmp-map-failed': rmpFails('rmp-map-failed'),
  'rmp-map-failed-mainline': rmpFails('rmp-map-failed-mainline'),
  'rmp-e820-fixup': nothing,
  'rmp-runtime-dump': nothing,
  'rmp-config-invalid': rmpFails('rmp-config-invalid'),
  'memenc-sme-active-v414': memenc('AMD', ['SME']),
  'memenc-sev-active-v416': memenc('AMD', ['SEV']),
  'memenc-features-v510': memenc('AMD', ['SME']),
  'memenc-features-v60': memenc('AMD', ['SME']),
};

/** the sample as journalctl -k -o short-monotonic shows it, after a boot banner */
const logged = (sample: string): string => `[    0.000000] epyc kernel: Linux version 6.1.0-28-amd64\n[    4.224504] epyc kernel: ${sample}\n`;

describe('the wording table', () => {
  it('every row has a hand-written expectation here, and ids are unique', () => {
    expect(WORDINGS.map((w) => w.id).sort()).toEqual(Object.keys(EXPECT).sort());
    expect(new Set(WORDINGS.map((w) => w.id)).size).toBe(WORDINGS.length);
  });

  it.each(WORDINGS.map((w) => [w.id, w] as const))('%s: its sample line gives its fact', (id, w) => {
    const f = parseKernelLog(logged(w.sample));
    expect(f.known.map((k) => k.wording)).toEqual([id]);
    expect(f.unknownFailures).toEqual([]);
    (EXPECT[id] as Check)(f);
  });

  it.each(WORDINGS.map((w) => [w.id, w] as const))('%s: half of its sample line is no fact', (id, w) => {
    const f = parseKernelLog(logged(w.sample.slice(0, Math.ceil(w.sample.length / 2))));
    expect(f.known.map((k) => k.wording)).not.toContain(id);
  });

  it('every row names where it was read, its file and kernels, and mainline ranges resolve', () => {
    for (const w of WORDINGS) {
      expect(w.seen.length, w.id).toBeGreaterThan(10);
      expect(w.file.length, w.id).toBeGreaterThan(10);
      expect(w.mainline || w.others?.length, w.id).toBeTruthy();
      expect(() => mainlineReleases(w)).not.toThrow();
    }
    expect(tableSize().pairs).toBeGreaterThan(500);
  });

  it('every tree read names a commit, and the rows it added exist', () => {
    const ids = new Set(WORDINGS.map((w) => w.id));
    for (const t of TREES_READ) {
      expect(t.commit, t.repo).toMatch(/^[0-9a-f]{40}$/);
      expect(t.files.length, t.repo).toBeGreaterThan(0);
      for (const id of t.added) expect(ids.has(id), `${t.repo}: ${id}`).toBe(true);
    }
  });

  it('docs/kernel-wordings.md is what the table renders (run `npm run docs:wordings` after changing the table)', () => {
    expect(readFileSync(join(ROOT, 'docs/kernel-wordings.md'), 'utf8')).toBe(renderWordingsDoc());
  });
});

describe('lines the table does not know', () => {
  it('a ccp / kvm_amd / SEV-SNP line reading like a failure is kept, quoted whole; other unknown lines are not', () => {
    const f = parseKernelLog(
      [
        'ccp 0000:47:00.1: SEV: something new went wrong, error 0x5',
        'kvm_amd: SEV-SNP requires a newer firmware',
        'SEV-SNP: unable to do a new thing',
        'ccp 0000:47:00.1: enabling device (0000 -> 0002)',
        'kvm_amd: Nested Virtualization enabled',
        'kvm_amd: PMU virtualization is disabled',
        'usb 1-1: device descriptor read/64, error -71',
      ].join('\n'),
    );
    expect(f.unknownFailures.map((u) => [u.source, u.lineNo])).toEqual([
      ['ccp', 1],
      ['kvm_amd', 2],
      ['SEV-SNP', 3],
    ]);
    expect(f.known).toEqual([]);
  });

  it('colour codes from dmesg --color=always are dropped before matching', () => {
    const f = parseKernelLog('\u001b[32m[    4.1] \u001b[0m\u001b[33mccp 0000:47:00.1: \u001b[0mSEV: failed to INIT error 0x1\n');
    expect(f.sevInitFailed).toMatchObject({ lineNo: 1, text: '[    4.1] ccp 0000:47:00.1: SEV: failed to INIT error 0x1' });
  });

  it('a failure line is kept whatever follows it: INIT failure then the API line (issue 18 thread), RMP failure then a range', () => {
    const f = parseKernelLog(
      [
        'ccp 0000:01:00.2: SEV: failed to INIT error 0x1',
        'ccp 0000:01:00.2: SEV API:0.31 build:43',
        'SEV-SNP: Memory reserved for the RMP table does not cover full system RAM (expected 0x1f680000 got 0x10000000)',
        'SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]',
      ].join('\n'),
    );
    expect(f.sevInitFailed?.lineNo).toBe(1);
    expect(f.sevApi).toMatchObject({ lineNo: 2, major: 0, minor: 31, build: 43 });
    expect(f.rmp).toMatchObject({ lineNo: 3, failure: 'rmp-not-cover' });
  });
});
