import { Then } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/host-cpu.js';
import type { Feature } from '../support/rules/host.js';
import type { SyscfgBit } from '../support/sev/msr.js';

Then('the processor is made by AMD', function (this: SevWorld) {
  return this.decide(async () => rules.cpuAmd(await this.probes.hostCpu.identity()));
});

Then('the processor is an EPYC generation that offers {feature}', function (this: SevWorld, feature: Feature) {
  return this.decide(async () => rules.cpuEpyc(await this.probes.hostCpu.identity(), feature));
});

Then('CPUID leaf 0x8000001F reports Secure Memory Encryption', function (this: SevWorld) {
  return this.decide(async () => rules.cpuidSme(await this.probes.host.encryptedMemory()));
});

Then('CPUID leaf 0x8000001F reports VM permission levels', function (this: SevWorld) {
  const p = this.probes;
  return this.decide(async () => rules.cpuidVmpl(await p.host.encryptedMemory(), () => p.hostCpu.identity()));
});

Then('CPUID leaf 0x8000001F says whether the VM page flush MSR exists', function (this: SevWorld) {
  return this.decide(async () => rules.cpuidPageFlush(await this.probes.host.encryptedMemory()));
});

Then('CPUID leaf 0x8000001F says how many physical address bits encryption costs', function (this: SevWorld) {
  return this.decide(async () => rules.cpuidPhysAddrReduction(await this.probes.host.encryptedMemory()));
});

Then('CPUID leaf 0x8000001F reports Secure TSC where the generation has it', function (this: SevWorld) {
  const p = this.probes;
  return this.decide(async () => rules.cpuidSecureTsc(await p.host.encryptedMemory(), () => p.hostCpu.identity()));
});

Then('every CPU reports the same CPUID leaf 0x8000001F and SYSCFG', function (this: SevWorld) {
  const p = this.probes;
  return this.decide(() => rules.sameOnAllCpus(() => p.host.encryptedMemory(), () => p.hostCpu.virtual(), () => p.hostCpu.everyCpu()));
});

const BITS: Record<string, SyscfgBit> = { '23': 'memEncrypt', '24': 'snp', '25': 'vmpl' };

Then('SYSCFG bit {int} is set', function (this: SevWorld, bit: number) {
  const p = this.probes;
  const name = BITS[String(bit)];
  if (!name) throw new Error(`no SYSCFG rule for bit ${bit}`);
  return this.decide(() =>
    rules.syscfgBit(name, () => p.hostCpu.virtual(), () => p.hostCpu.syscfg(0), () => p.host.encryptedMemory(), () => p.hostCpu.rmp()),
  );
});

Then('the BIOS has reserved memory for the RMP table', function (this: SevWorld) {
  const p = this.probes.hostCpu;
  return this.decide(() => rules.snpRmp(() => p.virtual(), () => p.rmp(), () => this.probes.firmware.kernelLog()));
});

Then('KVM is available to QEMU', function (this: SevWorld) {
  const p = this.probes.hostCpu;
  return this.decide(() => rules.kvmApi(() => p.kvmDevice(), () => p.queryKvm()));
});
