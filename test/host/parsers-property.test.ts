/**
 * Property-based tests (fast-check) of the kernel-log and platform-tool parsers: garbage and
 * mutated real lines never throw and never give a success fact that the text does not carry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchWording, parseKernelLog } from '../../support/parsers/kernel-log.js';
import { WORDINGS } from '../../support/parsers/kernel-log-wordings.js';
import { findTest, parseOkText, parseSecureTscMessage, parseSevctlVersion, parseSnphostOkJson, TOOL_TESTS, type ToolFact } from '../../support/parsers/platform-tools.js';

const RUNS = { numRuns: 300 };
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 400 }), fc.array(fc.string({ maxLength: 80 }), { maxLength: 40 }).map((l) => l.join('\n')));

const successFacts = (text: string) => {
  const f = parseKernelLog(text);
  return [f.sevApi, f.snpApi, f.rmp?.range, f.memEncrypt, ...Object.values(f.kvm)].filter((x) => x !== undefined);
};

describe('parseKernelLog, properties', () => {
  it('never throws, and garbage gives no success fact', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(successFacts(s)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('garbage around a real line changes nothing: the line alone decides', () => {
    const rows = fc.constantFrom(...WORDINGS);
    fc.assert(
      fc.property(rows, fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]/.test(s)), anyText, (w, before, around) => {
        const alone = parseKernelLog(w.sample).known.map((k) => k.wording);
        const f = parseKernelLog(`${around.replace(/Linux version \d/g, '')}\n${before} ${w.sample}\n${around.replace(/Linux version \d/g, '')}`);
        expect(f.known.map((k) => k.wording)).toContain(alone[0]);
      }),
      RUNS,
    );
  });

  it('a real line with one of its words mangled is not that wording any more', () => {
    // positions of letters outside numbers (not hex digits, not the x of 0x) and outside file paths in the message
    const mutable = WORDINGS.map((w) => {
      const body = w.sample.replace(/^ccp \S+: |^kvm_amd: |^SEV-SNP: /, '');
      const offset = w.sample.length - body.length;
      // a %s file path (INIT_EX rows) is free text: its letters are not the wording's
      const paths = [...body.matchAll(/\/\S+/g)].flatMap((m) => Array.from({ length: m[0].length }, (_, k) => (m.index ?? 0) + k));
      const at = [...body].flatMap((c, i) => (/[g-wyzG-WYZ]/.test(c) && !paths.includes(i) ? [offset + i] : []));
      return { w, at };
    }).filter((x) => x.at.length > 0);
    fc.assert(
      fc.property(
        fc.constantFrom(...mutable).chain(({ w, at }) => fc.tuple(fc.constant(w), fc.constantFrom(...at), fc.constantFrom('', '0', '9', '#', '_', ' ', '\u00e9', 'zz'))),
        ([w, i, by]) => {
          const mutated = `${w.sample.slice(0, i)}${by}${w.sample.slice(i + 1)}`;
          const hit = matchWording(mutated);
          expect(hit?.wording?.id, mutated).not.toBe(w.id);
        },
      ),
      RUNS,
    );
  });

  it('a failure line followed by any lines is still reported (never cancelled)', () => {
    const failures = WORDINGS.filter((w) => w.outcome === 'failure' && w.step !== 'shutdown');
    fc.assert(
      fc.property(fc.constantFrom(...failures), fc.array(fc.constantFrom(...WORDINGS.filter((w) => w.outcome === 'success').map((w) => w.sample)), { maxLength: 6 }), (w, after) => {
        const f = parseKernelLog([w.sample, ...after].join('\n'));
        const failed = [f.sevInitFailed, f.snpInitFailed, f.statusFailed, f.pspDead, f.sevEsFailed, f.pspUnreachable, f.rmp?.failure ? f.rmp : undefined].filter(Boolean);
        expect(failed.map((l) => l?.lineNo)).toContain(1);
      }),
      RUNS,
    );
  });
});

describe('platform-tool parsers, properties', () => {
  const facts = Object.keys(TOOL_TESTS) as ToolFact[];
  it('Secure TSC message: never throws; a mask is read only from a whole "not set in KVM" part, and any such part round-trips', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const m = parseSecureTscMessage(s);
        if (!/not set in KVM sev_supported_vmsa_features: 0x/i.test(s)) expect(m.kvmMask).toBeUndefined();
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(), fc.boolean(), (mask, bit9, cpu) => {
        const kvm = `SecureTSC ${bit9 ? 'bit 9 ' : ''}not set in KVM sev_supported_vmsa_features: 0x${mask.toString(16).padStart(16, '0')}`;
        const m = parseSecureTscMessage(cpu ? `SecureTSC bit 8 not set in CPUID 0x8000001F EAX: 0x0001000f; ${kvm}` : kvm);
        expect(m).toEqual({ cpuMissing: cpu, kvmMask: mask });
      }),
      RUNS,
    );
  });
  it('text: never throws; without a "PASS" in it, no test passes', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const p = parseOkText(s, 'sevctl');
        if (!p.ok) return;
        if (!/PASS/i.test(s)) expect(p.tests.filter((t) => t.status === 'pass')).toEqual([]);
      }),
      RUNS,
    );
  });

  it('text: a real PASS line with its status word mangled is no PASS', () => {
    const names = facts.map((f) => TOOL_TESTS[f][0] as string);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.integer({ min: 0, max: 3 }), fc.constantFrom('', 'X', ' ', '\u001b'), (name, i, by) => {
        const word = `${'PASS'.slice(0, i)}${by}${'PASS'.slice(i + 1)}`;
        const p = parseOkText(`[ ${word} ] - ${name}`, 'snphost');
        expect(p.ok && p.tests.some((t) => t.status === 'pass')).toBe(false);
      }),
      RUNS,
    );
  });

  it('JSON: any JSON value or garbage never throws, and an answer has only known statuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), anyText), (s) => {
        const p = parseSnphostOkJson(s);
        if (p.ok) for (const t of p.tests) expect(['pass', 'fail', 'skip']).toContain(t.status);
        for (const f of facts) if (p.ok) findTest(p.tests, f);
      }),
      RUNS,
    );
  });

  it('sevctl show version: only a whole <major>.<minor>.<build> is a version', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.tuple(fc.nat(999), fc.nat(999), fc.nat(99999), fc.string({ maxLength: 3 })).map(([a, b, c, tail]) => `${a}.${b}.${c}${tail}`)), (s) => {
        const v = parseSevctlVersion(s);
        if (!v) return;
        expect(s.trim()).toMatch(/^\d{1,3}\.\d{1,3}\.\d{1,5}$/);
        expect(s.trim().split('.').map(Number)).toEqual([v.major, v.minor, v.build]);
      }),
      RUNS,
    );
  });
});
