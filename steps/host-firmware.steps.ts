import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/firmware.js';
import { agreeFacts, type KernelLog, type ToolRun } from '../support/probes/host-firmware.js';
import type { Fact } from '../support/facts.js';
import type { Verdict } from '../support/verdict.js';

/** CPUID 0x8000001F, for rules.onSevCpu */
const sev = (world: SevWorld) => () => world.probes.host.encryptedMemory();

function tools(world: SevWorld) {
  const fw = world.probes.firmware;
  return () => Promise.all([fw.snphost(), fw.sevctl()]);
}

/** A platform fact the kernel log or the tools decide, asked only on a CPU with SEV (rules.onSevCpu). */
type LogAndToolsRule = (log: KernelLog, tools: Fact<readonly ToolRun[]>) => Promise<Verdict>;
function fromLogAndTools(world: SevWorld, rule: LogAndToolsRule) {
  return world.decide(() => rules.onSevCpu(sev(world), async () => rule(await world.probes.firmware.kernelLog(), tools(world))));
}

Then('the SEV firmware is at least the version the profile needs', function (this: SevWorld) {
  const fw = this.probes.firmware;
  const min = rules.minFirmware(this.profile, this.ctx.options.minFirmware);
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.firmwareVersion(await fw.kernelLog(), min, () => fw.snphost(), () => fw.sevctlVersion())));
});

Then('the SEV platform is initialized', function (this: SevWorld) {
  return fromLogAndTools(this, rules.sevInit);
});

Then('the SEV firmware is initialized for SEV-ES', function (this: SevWorld) {
  return fromLogAndTools(this, rules.sevEsInit);
});

Then('the SEV-SNP platform is initialized', function (this: SevWorld) {
  return fromLogAndTools(this, rules.snpInit);
});

Then('the SNP firmware has initialized the RMP table', function (this: SevWorld) {
  return fromLogAndTools(this, rules.rmpInit);
});

Then('the SNP firmware completed its memory alias check', function (this: SevWorld) {
  return fromLogAndTools(this, rules.aliasCheck);
});

Then('the reported SNP TCB is the installed TCB', function (this: SevWorld) {
  return fromLogAndTools(this, rules.tcb);
});

Then('KVM offers the SNP VMSA features', function (this: SevWorld) {
  return this.decide(() => rules.vmsaFeatures(sev(this), () => this.probes.firmware.snphostFeatures()));
});

Then('the platform tools agree with sevcheck on every fact they share', function (this: SevWorld) {
  return this.decide(async () => rules.toolsAgree(await tools(this)(), await agreeFacts(this.probes.host, this.probes.firmware)));
});

Then('KVM offers Secure TSC to SNP guests', function (this: SevWorld) {
  return this.decide(() => rules.vmsaFeatures(sev(this), () => this.probes.firmware.snphostFeatures(), true));
});
