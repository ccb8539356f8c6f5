import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/host.js';
import type { Feature } from '../support/rules/host.js';

Then('the kernel lists the CPU flag for {feature}', function (this: SevWorld, feature: Feature) {
  const p = this.probes.host;
  return this.decide(async () => rules.cpuFlag(await p.cpuinfo(), feature, () => p.encryptedMemory()));
});

Then('CPUID leaf 0x8000001F reports {feature}', function (this: SevWorld, feature: Feature) {
  return this.decide(async () => rules.cpuidFeature(await this.probes.host.encryptedMemory(), feature));
});

Then('CPUID gives a plausible C-bit position', function (this: SevWorld) {
  return this.decide(async () => rules.cbitpos(await this.probes.host.encryptedMemory()));
});

Then('CPUID leaves at least one ASID for SEV guests', function (this: SevWorld) {
  return this.decide(async () => rules.asids(await this.probes.host.encryptedMemory()));
});

Then('CPUID leaves at least one ASID for SEV-ES and SNP guests', function (this: SevWorld) {
  return this.decide(async () => rules.esAsids(await this.probes.host.encryptedMemory()));
});

Then('the kvm_amd module has {feature} enabled', function (this: SevWorld, feature: Feature) {
  const p = this.probes.host;
  const param = rules.kvmAmdParamName(feature);
  return this.decide(() =>
    rules.kvmAmdParam(() => p.kvmAmdLoaded(), () => p.kvmAmdParam(param), feature, () => p.encryptedMemory(), async () => ({ directives: await p.modprobeOptions(), cmdline: await p.cmdline() })),
  );
});

Then('the kernel runs with memory encryption active', function (this: SevWorld) {
  const p = this.probes.host;
  return this.decide(async () => rules.memEncrypt(await p.cmdline(), () => p.kernelConfig(), () => p.cpuinfo()));
});

Then('no persisted kvm_amd option turns SEV off', function (this: SevWorld) {
  const p = this.probes.host;
  return this.decide(async () => rules.modprobeSev(await p.modprobeOptions(), await p.cmdline()));
});
