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
    rules.qemuAccess({ path, node: await d.node(path), who: await d.qemuIdentity(), acl: () => d.acl(path), group: await d.groupDb(), conf: await d.qemuConfValue() }),
  );
});

Then('\\/dev\\/sev is not writable by other users', function (this: SevWorld) {
  return this.decide(async () => rules.sevNotWorldWritable(await this.probes.device.node(rules.SEV_DEV)));
});

Then('the udev rules give \\/dev\\/sev the permissions it has', function (this: SevWorld) {
  const d = this.probes.device;
  return this.decide(async () => {
    const node = await d.node(rules.SEV_DEV);
    const access = await rules.accessDecision({ path: rules.SEV_DEV, node, who: await d.qemuIdentity(), acl: () => d.acl(rules.SEV_DEV) });
    // the rules files are read only when there is a node to compare them with
    const outcome = node?.type === 'char' ? await d.sevUdevOutcome() : undefined;
    return rules.udevSevRule({ node, outcome, passwd: await d.passwdDb(), group: await d.groupDb(), access });
  });
});

Then('a custom cgroup device list in qemu.conf includes \\/dev\\/sev', function (this: SevWorld) {
  return this.decide(async () => rules.cgroupAcl(await this.probes.device.qemuConf()));
});

Then("QEMU's locked-memory limit leaves room for pinned SEV guest memory", function (this: SevWorld) {
  const d = this.probes.device;
  return this.decide(async () => rules.memlock(await d.qemuConf(), await d.qemuIdentity(), await d.limits()));
});
