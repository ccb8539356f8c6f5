import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/firmware.js';
import { agreeFacts } from '../support/probes/host-firmware.js';

/** CPUID 0x8000001F, for rules.onSevCpu */
const sev = (world: SevWorld) => () => world.probes.host.encryptedMemory();

function tools(world: SevWorld) {
  const fw = world.probes.firmware;
  return () => Promise.all([fw.snphost(), fw.sevctl()]);
}

Then('the SEV firmware is at least the version the profile needs', function (this: SevWorld) {
  const fw = this.probes.firmware;
  const min = rules.minFirmware(this.profile, this.ctx.options.minFirmware);
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.firmwareVersion(await fw.kernelLog(), min, () => fw.snphost(), () => fw.sevctlVersion())));
});

Then('the SEV platform is initialized', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.sevInit(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the SEV firmware is initialized for SEV-ES', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.sevEsInit(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the SEV-SNP platform is initialized', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.snpInit(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the SNP firmware has initialized the RMP table', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.rmpInit(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the SNP firmware completed its memory alias check', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.aliasCheck(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the reported SNP TCB is the installed TCB', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.tcb(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('KVM offers the SNP VMSA features', function (this: SevWorld) {
  return this.decide(() => rules.onSevCpu(sev(this), async () => rules.vmsaFeatures(await this.probes.firmware.kernelLog(), tools(this))));
});

Then('the platform tools agree with sevcheck on every fact they share', function (this: SevWorld) {
  return this.decide(async () => rules.toolsAgree(await tools(this)(), await agreeFacts(this.probes.host, this.probes.firmware)));
});
