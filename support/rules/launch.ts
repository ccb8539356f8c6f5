/**
 * Launch layer rules: the guest owner's side of the SEV launch protocol and SNP attestation, as
 * pure functions from evidence to verdicts.
 *
 * - SEV/SEV-ES: AMD SEV API spec #55766 §6.5 LAUNCH_MEASURE (MEASURE = HMAC-SHA256 with TIK over
 *   0x04 || API major/minor/build || policy || launch digest || MNONCE) and §6.6 LAUNCH_SECRET;
 *   verified as libvirt tools/virt-qemu-sev-validate does (support/sev/sev-measurement.ts,
 *   launch-secret.ts). Guest policy bits: §3 "Guest Policy" (support/sev/policy.ts).
 * - SNP: SNP ABI spec #56860 §7.3 ATTESTATION_REPORT (MEASUREMENT at 0x90, signature over
 *   0x0..0x29F) and the VCEK spec #57230 (support/sev/snp-verify.ts).
 *
 * Gates (`*Gate`) return undefined when the flow may go on, else the verdict that ends it.
 * No message ever contains key bytes or secret values: only file names, lengths and GUIDs.
 */
import { timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { verifyLaunchMeasurement, type LaunchMeasureVerification } from '../sev/sev-measurement.js';
import { buildLaunchSecret, buildSecretTable, openLaunchSecret, parseSecretTable, SECRET_GUID_ALIASES } from '../sev/launch-secret.js';
import { checkReportAgainstVek, stepsVerdict, verifyCertChain, verifyReportSignature, type Step } from '../sev/snp-verify.js';
import type { SnpReport } from '../sev/snp-report.js';
import { decodeSevPolicy, explainSevPolicy, recommendedSevPolicy, sevPolicyProblems } from '../sev/policy.js';
import { describeVmsaModel, vmsaModelName, type VmsaModelChoice } from '../sev/vmsa-model.js';
import type { VmsaModel } from '../sev/vmsa.js';
import type { LaunchBundle, SevMode } from '../launch/bundle.js';
import type { ExpectedDigest, SevKeys, SevPlatform } from '../launch/evidence.js';
import type { SnpChain } from '../probes/launch.js';

export const NO_BUNDLE = 'no launch bundle: run with --launch DIR (a directory with launch.json, see docs/launch.md)';

const FIX_MEASURE =
  'do not release secrets to this guest; relaunch it with the firmware, kernel and policy you expect, or update launch.json if you changed them on purpose (sevcheck measure prints the expected digest)';

/**
 * Run an evidence computation: an InputError (truncated report, firmware without GUID table, TIK
 * of the wrong length, ...) is bad evidence, so the check fails naming the input and the field.
 */
export async function evidence<T>(f: () => Promise<T> | T, expected: string, fix: string): Promise<T | Verdict> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof InputError) return failed(`${e.source}: ${e.problem}`, expected, fix);
    throw e;
  }
}

/** The guest owner brought a bundle, with the section this check needs. */
export function bundleGate(bundle: LaunchBundle | undefined, section: 'sev' | 'snp'): Verdict | undefined {
  if (!bundle) return skipped(NO_BUNDLE);
  if (!bundle[section]) {
    return skipped(`${bundle.file} has no "${section}" launch (${section === 'sev' ? 'an SEV or SEV-ES guest' : 'an SEV-SNP guest'}); add one to check it`);
  }
  return undefined;
}

/** A verdict for a Then step whose gates let an impossible state through (a harness defect, never a pass). */
export const NEVER: Verdict = failed('a launch flow whose evidence disappeared between steps', 'evidence gathered by the Given/When steps', 'report this as a sevcheck bug');

/** The Given/When gates made sure the evidence exists; a missing one is a harness defect. */
export async function present<T>(p: Promise<T | undefined>): Promise<T> {
  const v = await p;
  if (v === undefined) throw new Error('harness defect: launch evidence missing after its gate');
  return v;
}

/** launch.sev.secret-packet needs a secret; launch.snp.digest an expected launch; report checks a report. */
export function needGate(present: boolean, file: string, what: string, key: string): Verdict | undefined {
  return present ? undefined : skipped(`${file} names no ${what} ("${key}")`);
}

// ------------------------------------------------------------------------------------------------
// SEV / SEV-ES

/**
 * The policy the owner sends with its session must be one the firmware accepts (SEV API spec §3:
 * reserved bits 15:6 zero) and agree with the launch it expects (ES bit 2 set exactly for SEV-ES).
 */
export function policyGate(policy: number, mode: SevMode, file: string): Verdict | undefined {
  const p = decodeSevPolicy(policy, `${file} sev.policy`);
  const errors = sevPolicyProblems(p).filter((x) => x.severity === 'error').map((x) => `${x.field}: ${x.message}`);
  if (p.es !== (mode === 'seves')) {
    errors.push(`ES (bit 2) is ${p.es ? 'set' : 'clear'} but sev.mode is "${mode}" (${mode === 'seves' ? 'an SEV-ES launch needs ES' : 'ES makes the firmware launch SEV-ES'})`);
  }
  if (errors.length === 0) return undefined;
  return failed(
    `guest policy ${explainSevPolicy(p)} in ${file}: ${errors.join('; ')}`,
    'a policy the firmware accepts for the launch the guest owner expects (SEV API spec §3 Guest Policy)',
    `fix sev.policy in ${file} (e.g. 0x${recommendedSevPolicy(mode === 'seves').toString(16)}) and the guest's <launchSecurity><policy> to match`,
  );
}

/**
 * launch.sev.measurement: MEASURE recomputed with the owner's TIK over the digest of the firmware
 * it expects, the policy it sent, the platform's API version and the reported MNONCE. For an
 * SEV-ES launch the digest depends on the platform's VMSA (support/sev/vmsa-model.ts): every
 * model is tried, the ones the platform's recorded kernel/QEMU can launch first, and the verdict
 * says which one matched — a launch that verifies is never failed because of the model.
 */
export function sevMeasurement(keys: SevKeys, expected: ExpectedDigest, policy: number, platform: SevPlatform, models?: VmsaModelChoice): Verdict {
  const v = verifySev(keys, expected, policy, platform, models);
  if (v.ok) {
    return passed(
      `the launch measurement from ${platform.source} verifies with the guest owner's TIK: ${expected.describe}, policy 0x${hex(policy)}, API ${api(platform)}${matchedModel(v, models)}`,
    );
  }
  const policyHint =
    platform.policy !== undefined && platform.policy !== policy
      ? `; the platform reports guest policy 0x${hex(platform.policy)} while the guest owner sent 0x${hex(policy)} (SEV API spec §3: the policy is part of the measurement)`
      : '';
  const computed =
    v.tried.length > 1
      ? `${v.tried.map((t) => `${short(t.computed)} computed with the ${vmsaModelName(t.model ?? 'init2')} (launch digest ${full(t.digest)})`).join(', ')}, for ${expected.describe}`
      : `${short(v.tried[0]?.computed ?? new Uint8Array())} computed for ${expected.describe}`;
  return failed(
    `a launch measurement from ${platform.source} that does not verify${v.tried.length > 1 ? ' with either SEV-ES VMSA' : ''}: MEASURE ${short(v.reported)} reported, ${computed}, policy 0x${hex(policy)}, API ${api(platform)}${policyHint}`,
    `the HMAC-SHA256 (TIK) of the firmware, policy and API version the guest owner expects (SEV API spec §6.5 LAUNCH_MEASURE)${v.tried.length > 1 ? `, with the VMSA of KVM_SEV_ES_INIT or of KVM_SEV_INIT2 (${models?.reason ?? 'the platform\'s kernel and QEMU decide which'})` : ''}`,
    (platform.policy !== undefined && platform.policy !== policy
      ? `launch the guest with the policy the guest owner sent (libvirt <launchSecurity type='sev'><policy>0x${hex(policy)}</policy>); ${FIX_MEASURE}`
      : FIX_MEASURE) + (v.tried.length > 1 ? '; `sevcheck measure --mode seves --vmsa-model legacy|init2` prints the digest of each VMSA' : ''),
  );
}

interface SevVerification {
  ok: boolean;
  reported: Uint8Array;
  /** the model whose digest verified (SEV-ES under QEMU), when one did */
  matched?: VmsaModel | undefined;
  /** every digest tried, in order */
  tried: Array<{ model?: VmsaModel | undefined; digest: Uint8Array; computed: Uint8Array }>;
}

/** Verify against the expected digest, or for SEV-ES against each VMSA model's, the platform's likely ones first. */
function verifySev(keys: SevKeys, expected: ExpectedDigest, policy: number, platform: SevPlatform, models?: VmsaModelChoice): SevVerification {
  const order: VmsaModel[] = [...(models?.models ?? [])];
  for (const m of expected.byModel ?? []) if (!order.includes(m.model)) order.push(m.model);
  const candidates: Array<{ model?: VmsaModel | undefined; digest: Uint8Array }> = expected.byModel
    ? order.flatMap((model) => expected.byModel?.filter((m) => m.model === model) ?? [])
    : [{ digest: expected.digest }];
  const tried: SevVerification['tried'] = [];
  let reported: Uint8Array = new Uint8Array();
  for (const c of candidates) {
    const r: LaunchMeasureVerification = verifyLaunchMeasurement(
      keys.tik,
      platform.measurement,
      { apiMajor: platform.api.major, apiMinor: platform.api.minor, build: platform.api.build, policy, digest: c.digest },
      platform.source,
    );
    reported = r.reported;
    tried.push({ model: c.model, digest: c.digest, computed: r.computed });
    if (r.ok) return { ok: true, reported, matched: c.model, tried };
  }
  return { ok: false, reported, tried };
}

/** "; the launch digest matches the VMSA of …" for SEV-ES, with why that model was expected or not. */
function matchedModel(v: SevVerification, models?: VmsaModelChoice): string {
  if (v.matched === undefined) return '';
  const expectedIt = models === undefined || models.models.includes(v.matched);
  const why = models === undefined ? '' : expectedIt ? `; ${models.reason}` : `, although ${models.reason}: the recorded platform software is not what launched this guest`;
  return `; the launch digest matches the VMSA of ${describeVmsaModel(v.matched)}${why}`;
}

/** Secrets are only released into a launch whose measurement verified. */
export function measuredGate(keys: SevKeys, expected: ExpectedDigest, policy: number, platform: SevPlatform, models?: VmsaModelChoice): Verdict | undefined {
  if (verifySev(keys, expected, policy, platform, models).ok) return undefined;
  return failed(
    `a launch measurement from ${platform.source} that does not verify for ${expected.describe}, policy 0x${hex(policy)}`,
    'a verified launch measurement before any secret is wrapped for the guest',
    `do not inject secrets into this guest (launch.sev.measurement says why); ${FIX_MEASURE}`,
  );
}

export interface SecretInputs {
  readonly keys: SevKeys;
  readonly platform: SevPlatform;
  readonly entries: ReadonlyArray<{ guid: string; value: Uint8Array }>;
  /** a packet the owner's tooling built; absent: build one here */
  readonly packet?: { header: Uint8Array; data: Uint8Array; source: string } | undefined;
  /** IV for a built packet (tests); random otherwise */
  readonly iv?: Uint8Array | undefined;
}

/**
 * launch.sev.secret-packet: the secret table wrapped for this measured launch (SEV API spec §6.6)
 * opens with the launch's TIK/TEK and MEASURE to the same entries, and does not open for another
 * measurement (the packet is bound to this launch).
 */
export function secretPacket(s: SecretInputs): Verdict {
  const table = buildSecretTable(s.entries);
  const { measure } = parseMeasure(s.platform);
  const built = s.packet ?? { ...buildLaunchSecret({ tik: s.keys.tik, tek: s.keys.tek, measure, secret: table, iv: s.iv }), source: 'the packet built from launch.json' };
  const fix = s.packet
    ? `rebuild the packet for this launch's measurement (virt-qemu-sev-validate --inject-secret), then inject it with QMP sev-inject-launch-secret`
    : 'report this as a sevcheck bug';
  let opened: Uint8Array;
  try {
    opened = openLaunchSecret(s.keys.tik, s.keys.tek, measure, built.header, built.data);
  } catch (e) {
    if (e instanceof InputError) {
      return failed(`${built.source}: ${e.source}: ${e.problem}`, `a LAUNCH_SECRET packet whose MAC verifies with the session TIK and the MEASURE from ${s.platform.source}`, fix);
    }
    throw e;
  }
  const names = describeEntries(s.entries);
  let got: ReturnType<typeof parseSecretTable>;
  try {
    got = parseSecretTable(opened, `${built.source} (decrypted)`);
  } catch (e) {
    if (e instanceof InputError) return failed(`${e.source}: ${e.problem}`, `the secret table of ${names}`, fix);
    throw e;
  }
  const same =
    got.length === s.entries.length &&
    s.entries.every((e, i) => {
      const g = got[i];
      const guid = SECRET_GUID_ALIASES[e.guid] ?? e.guid.toLowerCase();
      return g !== undefined && g.guid === guid && g.value.length === e.value.length && timingSafeEqual(g.value, e.value);
    });
  if (!same) {
    return failed(`${built.source} decrypts to a secret table of ${describeEntries(got)} that differs from launch.json's`, `the secret table of ${names}`, fix);
  }
  const other = Buffer.from(measure);
  other[0] = (other[0] ?? 0) ^ 1;
  let bound = false;
  try {
    openLaunchSecret(s.keys.tik, s.keys.tek, other, built.header, built.data);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    bound = true;
  }
  if (!bound) return failed(`${built.source} also opens for a different launch measurement`, 'a packet MAC bound to this launch\'s MEASURE (SEV API spec §6.6)', fix);
  return passed(
    `${built.source} (${built.header.length}-byte header, ${built.data.length}-byte secret) opens with the session keys for MEASURE ${short(measure)} from ${s.platform.source} to the secret table of ${names}, and for no other measurement`,
  );
}

function parseMeasure(p: SevPlatform): { measure: Uint8Array } {
  const raw = Buffer.from(p.measurement.trim(), 'base64');
  if (raw.length !== 48) throw new InputError(p.source, `launch measurement decodes to ${raw.length} bytes, expected 48`);
  return { measure: raw.subarray(0, 32) };
}

function describeEntries(entries: ReadonlyArray<{ guid: string; value: Uint8Array }>): string {
  const aliases = Object.fromEntries(Object.entries(SECRET_GUID_ALIASES).map(([a, g]) => [g, a]));
  const list = entries.map((e) => `${aliases[e.guid] ?? e.guid} (${e.value.length} bytes)`);
  return `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${list.join(', ')}`;
}

// ------------------------------------------------------------------------------------------------
// SNP

/** launch.snp.digest: the digest the owner computes/expects equals the measurement the platform returned. */
export function snpDigest(expected: ExpectedDigest, reported: { measurement: Buffer; source: string }): Verdict {
  const ok = reported.measurement.length === expected.digest.length && timingSafeEqual(reported.measurement, expected.digest);
  return ok
    ? passed(`${reported.source} equals the launch digest the guest owner expects (${expected.describe}): ${Buffer.from(expected.digest).toString('hex')}`)
    : failed(
        `${reported.source} ${reported.measurement.toString('hex')}`,
        `${Buffer.from(expected.digest).toString('hex')}, the launch digest the guest owner expects (${expected.describe}; SNP ABI spec §8.17 SNP_LAUNCH_UPDATE, as sev-snp-measure computes it)`,
        'do not trust this guest; relaunch it with the firmware, vCPUs and kernel you expect, or recompute the digest with `sevcheck measure --mode snp ...` if you changed them on purpose',
      );
}

/** launch.snp.report-signature: ECDSA P-384 over 0x0..0x29F with the VCEK. */
export function snpSignature(report: SnpReport, chain: Pick<SnpChain, 'vek'>): Verdict {
  return stepVerdict(verifyReportSignature(report, chain.vek));
}

/** launch.snp.cert-chain: pinned ARK -> ASK -> VCEK (validity at `at`), VCEK TCB and hwID vs the report. */
export function snpChainVerdict(report: SnpReport, chain: SnpChain, at: Date): Verdict {
  const c = verifyCertChain(chain, { now: at });
  const r = checkReportAgainstVek(report, chain.vek);
  const steps: Step[] = [...c.steps, ...r.steps];
  if (c.generation && report.generation && c.generation !== report.generation) {
    steps.push({
      check: 'report.generation',
      ...failed(
        `a ${report.generation} report checked against the ${c.generation} ARK`,
        "the ARK/ASK/VCEK of the report's processor generation",
        `snpguest fetch ca pem ./certs ${report.generation}`,
      ),
    });
  }
  const v = foldSteps(steps);
  if (v.status !== 'passed') return v;
  return passed(
    `ARK ${chain.ark.source} (AMD's ${c.generation ?? '?'} ARK, pinned) -> ASK ${chain.ask.source} -> VCEK ${chain.vek.source} verify at ${at.toISOString()}; the VCEK's TCB and hwID match the report's REPORTED_TCB and CHIP_ID`,
  );
}

function stepVerdict(s: Step): Verdict {
  const { check: _check, ...v } = s;
  return v as Verdict;
}

/**
 * Fold verification steps into one verdict in the house format: failed = "found <each failing
 * step>; expected <the first one's expectation>; fix: <its fix>", undecided = "undecided: ...".
 * (snp-verify.ts stepsVerdict, which reads the steps' fields.)
 */
export function foldSteps(steps: readonly Step[]): Verdict {
  return stepsVerdict({ ok: steps.every((s) => s.status === 'passed'), steps });
}

function hex(n: number): string {
  return n.toString(16);
}

function api(p: SevPlatform): string {
  return `${p.api.major}.${p.api.minor} build ${p.api.build}`;
}

function full(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function short(b: Uint8Array): string {
  return `${Buffer.from(b).toString('hex').slice(0, 16)}…`;
}
