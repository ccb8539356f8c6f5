import { defineParameterType, Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/device.js';

/** {devnode}: the device nodes this layer checks, as the features write them. */
defineParameterType({ name: 'devnode', regexp: /\/dev\/(?:sev|kvm)/, transformer: (s: string) => s });

Then('the host has the SEV firmware device \\/dev\\/sev', function (this: SevWorld) {
  return this.decide(async () => rules.sevExists(await this.probes.device.node(rules.SEV_DEV)));
});

Then('the user and group QEMU runs as can open {devnode} for reading and writing', function (this: SevWorld, path: string) {
  const d = this.probes.device;
  return this.decide(async () =>
    rules.qemuAccess({ path, node: await d.node(path), who: () => d.qemuIdentity(), acl: () => d.acl(path), group: () => d.groupDb(), conf: () => d.qemuConfValue() }),
  );
});

Then('\\/dev\\/sev is not writable by other users', function (this: SevWorld) {
  return this.decide(async () => rules.sevNotWorldWritable(await this.probes.device.node(rules.SEV_DEV)));
});

Then('the udev rules give \\/dev\\/sev the permissions it has', function (this: SevWorld) {
  const d = this.probes.device;
  return this.decide(async () => {
    const node = await d.node(rules.SEV_DEV);
    const access = () => rules.accessDecision({ path: rules.SEV_DEV, node, who: () => d.qemuIdentity(), acl: () => d.acl(rules.SEV_DEV) });
    return rules.udevSevRule({ node, outcome: () => d.sevUdevOutcome(), passwd: () => d.passwdDb(), group: () => d.groupDb(), access });
  });
});

Then('a custom cgroup device list in qemu.conf includes \\/dev\\/sev', function (this: SevWorld) {
  return this.decide(async () => rules.cgroupAcl(await this.probes.device.qemuConf()));
});

Then("QEMU's locked-memory limit leaves room for pinned SEV guest memory", function (this: SevWorld) {
  const d = this.probes.device;
  return this.decide(async () => rules.memlock(await d.qemuConf(), () => d.qemuIdentity(), () => d.limits()));
});
