import { Then } from '@cucumber/cucumber';
import type { SevWorld, StepOutcome } from '../support/world.js';
import * as rules from '../support/rules/distro.js';
import type { Feature } from '../support/rules/host.js';
import type { Verdict } from '../support/verdict.js';
import { FIRMWARE_DESCRIPTOR_DIRS } from '../support/parsers/firmware-descriptor.js';

/** Decide a distro.* check: skipped, with the reason, on a target that is not a root file system. */
function onRootfs(w: SevWorld, f: () => Promise<Verdict>): Promise<StepOutcome> {
  return w.decide(async () => rules.gate(w.host.system) ?? f());
}

Then('an installed kernel is built to host {feature} guests', function (this: SevWorld, feature: Feature) {
  return onRootfs(this, async () => rules.kernelSevHost(await this.probes.distro.kernels(), feature));
});

Then("the image's QEMU offers the launch object for {feature} guests", function (this: SevWorld, feature: Feature) {
  return onRootfs(this, async () => rules.qemuSevObject(await this.probes.distro.qemuObjects(), feature));
});

Then('a firmware descriptor offers {feature} for an image that exists', function (this: SevWorld, feature: Feature) {
  return onRootfs(this, async () => rules.firmwareDescriptor(await this.probes.distro.descriptors(), FIRMWARE_DESCRIPTOR_DIRS, feature));
});

Then('an OVMF image carries the metadata a {feature} launch needs', function (this: SevWorld, feature: Feature) {
  return onRootfs(this, async () => rules.sevMetadata(await this.probes.distro.ovmfImages(), feature));
});

Then("the image's libvirt accepts a guest with {feature} launch security", function (this: SevWorld, feature: Feature) {
  return onRootfs(this, async () => rules.launchSecurity(await this.probes.distro.launchSecuritySchema(feature), feature));
});

Then("the image's SELinux policy lets svirt_t open, read, write and ioctl sev_device_t", function (this: SevWorld) {
  const d = this.probes.distro;
  return onRootfs(this, async () => rules.selinuxGate(await d.bootLsm(), await d.selinuxMode()) ?? rules.selinuxPolicy(await d.selinuxPolicy()));
});

Then("the image's libvirt lets a confined SEV guest's QEMU open \\/dev\\/sev", function (this: SevWorld) {
  const d = this.probes.distro;
  const securityDriver = async () => (await this.probes.device.qemuConfValue())?.securityDriver;
  return onRootfs(this, async () => rules.apparmorSevAccess(await d.bootLsm(), await d.apparmorAccess(securityDriver)));
});

Then("the image's udev rules give \\/dev\\/sev a group and mode QEMU's user can open", function (this: SevWorld) {
  const d = this.probes.distro;
  return onRootfs(this, async () => rules.udevSevRule(await d.sevNode(), await this.probes.device.qemuIdentity(), await this.probes.device.groupDb()));
});

Then("the image's QEMU user exists and is in the groups that own \\/dev\\/kvm and \\/dev\\/sev", function (this: SevWorld) {
  const d = this.probes.distro;
  return onRootfs(this, async () => rules.qemuUser(await this.probes.device.qemuIdentity(), await d.kvmNode(), await d.sevNode()));
});
