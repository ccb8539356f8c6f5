/**
 * Launch layer steps: the SEV launch protocol and SNP attestation, as the guest owner lives them.
 * Given/When steps gather evidence and end the scenario only when the flow cannot go on (no
 * bundle: skipped; bad evidence: failed; platform not reachable: undecided); the Then step
 * decides the check. Evidence comes from this.probes.launch (memoized per run).
 */
import { Given, Then, When } from '@cucumber/cucumber';
import type { StepOutcome, SevWorld } from '../support/world.js';
import type { Verdict } from '../support/verdict.js';
import * as rules from '../support/rules/launch.js';

const FIX_BUNDLE = 'fix the file named above in the launch bundle (docs/launch.md)';

/** Go on (undefined) or end the scenario with the gate's verdict; bad evidence fails the check. */
async function gate(w: SevWorld, expected: string, f: () => Promise<Verdict | undefined>): Promise<StepOutcome> {
  let v: Verdict | undefined;
  try {
    const r = await rules.evidence(f, expected, FIX_BUNDLE);
    v = r;
  } catch (e) {
    return w.decide(() => {
      throw e;
    });
  }
  return v ? w.decide(v) : undefined;
}

/** Decide the check; bad evidence fails it naming the input and the field. */
function decide(w: SevWorld, expected: string, f: () => Promise<Verdict>): Promise<StepOutcome> {
  return w.decide(async () => rules.evidence(f, expected, FIX_BUNDLE));
}

Given('the guest owner\'s launch bundle describes an SEV launch', function (this: SevWorld) {
  return gate(this, 'a launch bundle', async () => rules.bundleGate(await this.probes.launch.bundle(), 'sev'));
});

Given('the guest owner\'s launch bundle describes an SEV-SNP launch', function (this: SevWorld) {
  return gate(this, 'a launch bundle', async () => rules.bundleGate(await this.probes.launch.bundle(), 'snp'));
});

Given('the guest owner holds the TIK and TEK of its launch session for the platform\'s PDH', function (this: SevWorld) {
  return gate(this, 'a 16-byte TIK and TEK (SEV API spec, transport keys)', async () => void (await this.probes.launch.sevKeys()));
});

Given('the guest owner sent its guest policy with the launch session', function (this: SevWorld) {
  return gate(this, 'a valid guest policy', async () => {
    const b = await this.probes.launch.bundle();
    return b?.sev ? rules.policyGate(b.sev.policy, b.sev.mode, b.file) : undefined;
  });
});

When('the platform launches the guest paused and returns its launch measurement', function (this: SevWorld) {
  return gate(this, 'the platform\'s launch measurement (QMP query-sev-launch-measure)', async () => void (await this.probes.launch.sevPlatform()));
});

Then('the measurement verifies against the firmware the guest owner expects', function (this: SevWorld) {
  const p = this.probes.launch;
  return decide(this, 'a launch measurement computable from the firmware the guest owner expects', async () => {
    const b = await p.bundle();
    return rules.sevMeasurement(await p.sevKeys(), await p.sevExpectedDigest(), b?.sev?.policy ?? 0, await p.sevPlatform(), await p.sevVmsaModels());
  });
});

Given('the platform launched the guest paused and returned a launch measurement that verifies', function (this: SevWorld) {
  const p = this.probes.launch;
  return gate(this, 'a verified launch measurement', async () => {
    const b = await p.bundle();
    return rules.measuredGate(await p.sevKeys(), await p.sevExpectedDigest(), b?.sev?.policy ?? 0, await p.sevPlatform(), await p.sevVmsaModels());
  });
});

When('the guest owner wraps its secret for this launch', function (this: SevWorld) {
  return gate(this, 'the guest owner\'s secret', async () => {
    const b = await this.probes.launch.bundle();
    return rules.needGate((await this.probes.launch.secretEntries()) !== undefined, b?.file ?? 'launch.json', 'secret to inject', 'sev.secret');
  });
});

Then('the firmware can open the secret packet to the same secret table, and only in this launch', function (this: SevWorld) {
  const p = this.probes.launch;
  return decide(this, 'a LAUNCH_SECRET packet for this launch (SEV API spec §6.6)', async () =>
    rules.secretPacket({ keys: await p.sevKeys(), platform: await p.sevPlatform(), entries: (await p.secretEntries()) ?? [], packet: await p.secretPacket() }),
  );
});

Given('the guest owner knows the launch digest of the guest it expects', function (this: SevWorld) {
  return gate(this, 'an expected SNP launch', async () => {
    const b = await this.probes.launch.bundle();
    return rules.needGate(b?.snp?.expected !== undefined, b?.file ?? 'launch.json', 'expected SNP launch (firmware or reference digest)', 'snp.firmware');
  });
});

When('the platform launches the guest and reports its launch measurement', function (this: SevWorld) {
  return gate(this, 'the platform\'s SNP launch measurement', async () => {
    const b = await this.probes.launch.bundle();
    const m = await this.probes.launch.snpMeasurement();
    return rules.needGate(m !== undefined, b?.file ?? 'launch.json', 'platform measurement (an attestation report or a measurement)', 'snp.report');
  });
});

Then('the measurement equals the launch digest the guest owner expects', function (this: SevWorld) {
  const p = this.probes.launch;
  return decide(this, 'an SNP launch digest computable from the firmware the guest owner expects', async () => {
    const [expected, reported] = [await p.snpExpectedDigest(), await p.snpMeasurement()];
    return expected && reported ? rules.snpDigest(expected, reported) : rules.NEVER;
  });
});

When('the guest asks the platform\'s firmware for an attestation report', function (this: SevWorld) {
  return gate(this, 'an SEV-SNP ATTESTATION_REPORT (SNP ABI spec §7.3)', async () => {
    const b = await this.probes.launch.bundle();
    return rules.needGate((await this.probes.launch.snpReport()) !== undefined, b?.file ?? 'launch.json', 'attestation report', 'snp.report');
  });
});

When('the guest owner fetches the VCEK for the report\'s chip and TCB', function (this: SevWorld) {
  return gate(this, 'an X.509 VCEK (VCEK spec 57230)', async () => void (await this.probes.launch.snpVek()));
});

When('the guest owner has AMD\'s ARK and ASK for the report\'s processor generation', function (this: SevWorld) {
  return gate(this, 'AMD\'s ARK and ASK (X.509)', async () => void (await this.probes.launch.snpChain()));
});

Then('the report\'s signature verifies with the VCEK', function (this: SevWorld) {
  const p = this.probes.launch;
  return decide(this, 'a signed report', async () => rules.snpSignature(await rules.present(p.snpReport()), { vek: await p.snpVek() }));
});

Then('the ARK signs the ASK, the ASK signs the VCEK, and the VCEK carries the report\'s TCB and chip ID', function (this: SevWorld) {
  const p = this.probes.launch;
  return decide(this, 'AMD\'s certificate chain for this chip', async () =>
    rules.snpChainVerdict(await rules.present(p.snpReport()), await p.snpChain(), (await p.bundle())?.at ?? new Date()),
  );
});
