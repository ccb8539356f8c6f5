import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/host.js';
import type { Feature } from '../support/rules/host.js';

/** CPUID is context for some messages; when it cannot be read the rule does without it. */
const optional = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

Then('the kernel lists the CPU flag for {feature}', function (this: SevWorld, feature: Feature) {
  const p = this.probes.host;
  return this.decide(async () => rules.cpuFlag(await p.cpuinfo(), feature, await optional(p.encryptedMemory())));
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
  const param = feature === 'sev' ? 'sev' : feature === 'sev-es' ? 'sev_es' : 'sev_snp';
  return this.decide(async () =>
    rules.kvmAmdParam(await p.kvmAmdLoaded(), await p.kvmAmdParam(param), feature, await optional(p.encryptedMemory())),
  );
});

Then('the kernel runs with memory encryption active', function (this: SevWorld) {
  const p = this.probes.host;
  return this.decide(async () => rules.memEncrypt(await p.cmdline(), await p.kernelConfig(), await optional(p.cpuinfo())));
});

Then('no persisted kvm_amd option turns SEV off', function (this: SevWorld) {
  const p = this.probes.host;
  return this.decide(async () => rules.modprobeSev(await p.modprobeOptions(), await p.cmdline()));
});
