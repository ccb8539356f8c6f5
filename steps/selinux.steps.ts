import { Then } from '@cucumber/cucumber';
import type { SevWorld, StepOutcome } from '../support/world.js';
import * as rules from '../support/rules/selinux.js';
import { apparmorSevVerdict, apparmorSevWithGuestRules } from '../support/device/apparmor.js';
import { AUDIT_LOG } from '../support/probes/selinux.js';
import { SEV_DEV } from '../support/rules/device.js';
import type { Verdict } from '../support/verdict.js';

/** Decide a selinux.* check: skipped with the reason on hosts without SELinux. */
function withSelinux(w: SevWorld, f: (state: rules.SelinuxState) => Promise<Verdict>): Promise<StepOutcome> {
  const s = w.probes.selinux;
  return w.decide(async () => {
    const state = await s.state();
    const g = rules.gate(state, state.ok && state.value.mode === 'disabled' ? await s.apparmorEnabled() : undefined);
    return 'status' in g ? g : f(g);
  });
}

Then('with SELinux enabled, \\/dev\\/sev carries the type sev_device_t', function (this: SevWorld) {
  return withSelinux(this, async (state) => rules.sevLabel(state, await this.probes.device.node(SEV_DEV)));
});

Then('the installed selinux-policy is at least 3.14.2.40', function (this: SevWorld) {
  return withSelinux(this, async () => {
    const os = await this.probes.device.osRelease();
    return rules.policyVersion(await this.probes.selinux.installedPolicy(os?.ok ? os.value : undefined));
  });
});

Then('the loaded policy lets svirt_t open, read, write and ioctl sev_device_t character devices', function (this: SevWorld) {
  const s = this.probes.selinux;
  return withSelinux(this, async () => {
    const first = rules.svirtAccess(await s.sesearch());
    return first.status === 'undecided' && /getsebool/.test(first.message) ? rules.svirtAccess(await s.sesearch(), await s.booleans()) : first;
  });
});

Then('the audit log has no AVC denial for \\/dev\\/sev', function (this: SevWorld) {
  return withSelinux(this, async () => rules.noAvcDenials(await this.probes.selinux.auditLog(), AUDIT_LOG));
});

Then("with AppArmor confining QEMU, libvirt's QEMU abstraction allows \\/dev\\/sev read-write", function (this: SevWorld) {
  const securityDriver = async () => (await this.probes.device.qemuConfValue())?.securityDriver;
  return this.decide(async () => {
    const facts = await this.probes.selinux.apparmorFacts(securityDriver);
    const first = apparmorSevVerdict(facts);
    if (first.status === 'failed') {
      // libvirt ≥ 12 adds "/dev/sev" rw, to a SEV guest's own profile (virt-aa-helper): ask the
      // host's virt-aa-helper (dry run) before calling a missing abstraction rule a failure
      return apparmorSevWithGuestRules(facts, first, await this.probes.selinux.generatedRules());
    }
    if (first.status !== 'undecided') return first;
    // an `owner`/`other` rule decides: only now read who QEMU runs as and who owns the node
    const who = await this.probes.device.qemuIdentity();
    const node = await this.probes.device.node(SEV_DEV);
    return who.ok && node ? apparmorSevVerdict({ ...facts, ownerMatches: who.identity.uid === node.uid }) : first;
  });
});

