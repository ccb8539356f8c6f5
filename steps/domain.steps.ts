import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/domain/rules.js';
import { foldGuests, judgeGuests, judgeSchemas, noSevGuests, type GuestDefinition } from '../support/domain/guests.js';
import { checkCbitposAgainstCpuid, firmwareFromDescriptors, hostFactsFromCpuid } from '../support/domain/host-facts.js';
import type { Verdict } from '../support/verdict.js';
import { attempt, optional } from '../support/facts.js';

/** One domain.* rule over every SEV guest defined on the host (skipped when there is none). */
function eachGuest(world: SevWorld, rule: (g: GuestDefinition) => Verdict) {
  return world.decide(async () => judgeGuests(await world.probes.domain.guests(), rule));
}

Then('every SEV guest definition validates against libvirt\'s domain schema', function (this: SevWorld) {
  const p = this.probes.domain;
  return this.decide(async () => {
    const g = await p.guests();
    if (g.sev.length === 0 && g.unreadable.length === 0) return noSevGuests(g);
    // xmllint per guest and `virsh --version` (schemaInfo) run at the same time
    const [outcomes, info] = await Promise.all([Promise.all(g.sev.map(async (x) => [x, await p.schema(x)] as const)), p.schemaInfo()]);
    return judgeSchemas(g, outcomes, info);
  });
});

Then('every SEV guest states its C-bit position, reduced physical address bits and policy', function (this: SevWorld) {
  return eachGuest(this, (g) => rules.checkLaunchSecurity(g.model));
});

Then('every SEV guest\'s policy decodes cleanly for this host', function (this: SevWorld) {
  return this.decide(async () => {
    const caps = await optional(() => this.probes.host.encryptedMemory()); // without CPUID: not judged against the host
    const host = caps ? (hostFactsFromCpuid(caps, this.host.target) ?? {}) : {};
    return judgeGuests(await this.probes.domain.guests(), (g) => rules.checkPolicyValid(g.model, host));
  });
});

Then('every SEV guest\'s C-bit position and reduced physical address bits match the host\'s', function (this: SevWorld) {
  return this.decide(async () => {
    const g = await this.probes.domain.guests();
    if (g.sev.length === 0 && g.unreadable.length === 0) return noSevGuests(g);
    const caps = await this.probes.host.encryptedMemory(); // unreadable CPUID: undecided
    return foldGuests(g, g.sev.map((x) => [x, checkCbitposAgainstCpuid(x.model, caps, this.host.target)] as const));
  });
});

Then('no SEV guest\'s policy allows it to be sent to another platform', function (this: SevWorld) {
  return eachGuest(this, (g) => rules.checkNoMigration(g.model));
});

Then('every SEV guest uses the Q35 machine type', function (this: SevWorld) {
  return eachGuest(this, (g) => rules.checkMachineQ35(g.model));
});

Then('every SEV guest boots the OVMF UEFI firmware', function (this: SevWorld) {
  return this.decide(async () => {
    const g = await this.probes.domain.guests();
    if (g.sev.length === 0) return judgeGuests(g, (x) => rules.checkLoaderOvmf(x.model));
    // a fix names the firmware this host's descriptors offer (read as the distro layer reads them)
    const d = await attempt(() => this.probes.distro.descriptors());
    const host = { firmware: firmwareFromDescriptors(d.ok ? d.value : { unreadable: d.reason }, this.host.target) };
    return judgeGuests(g, (x) => rules.checkLoaderOvmf(x.model, host));
  });
});

Then('every virtio device of every SEV guest has the IOMMU platform on', function (this: SevWorld) {
  return eachGuest(this, (g) => rules.checkVirtioIommu(g.model));
});

Then('every SEV guest\'s memory is locked or limited with room for pinning', function (this: SevWorld) {
  return eachGuest(this, (g) => rules.checkMemoryPinned(g.model));
});
