import { Then, defineParameterType } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/caps.js';
import { checkChain, type DomcapsMachine } from '../support/probes/caps.js';

defineParameterType({ name: 'machine', regexp: /the default machine|the q35 machine/, transformer: (s: string): DomcapsMachine => (s.includes('q35') ? 'q35' : 'default') });

Then('libvirt reports SEV as supported for {machine}', function (this: SevWorld, machine: DomcapsMachine) {
  const caps = this.probes.caps;
  return this.decide(async () => {
    const live = (await caps.layerFacts(this.probes.host)).live;
    return rules.domcapsSevSupported(await caps.domcaps(machine), { kvmSev: live.kvmSev, qmp: live.qmp });
  });
});

Then("libvirt's C-bit position equals the CPU's", function (this: SevWorld) {
  return this.decide(async () => rules.domcapsCbitpos(await this.probes.caps.domcaps('q35'), await this.probes.host.encryptedMemory()));
});

Then('libvirt offers SEV-SNP launch security', function (this: SevWorld) {
  return this.decide(async () => rules.domcapsSnp(await this.probes.caps.domcaps('q35')));
});

Then('QEMU answers query-sev-capabilities with the platform data', function (this: SevWorld) {
  return this.decide(async () => rules.qmpSevCapabilities(await this.probes.caps.sevCapabilities()));
});

Then("QEMU's C-bit position equals the CPU's", function (this: SevWorld) {
  return this.decide(async () => rules.qmpCbitpos(await this.probes.caps.sevCapabilities(), await this.probes.host.encryptedMemory()));
});

Then("libvirt's cached QEMU capabilities describe the host as it is now", function (this: SevWorld) {
  return this.decide(async () => {
    const f = await this.probes.caps.layerFacts(this.probes.host);
    return rules.cacheFresh(await this.probes.caps.capsCache(), f.live, f.disagreements.filter((d) => d.checkId === 'caps.cache.fresh'));
  });
});

Then('CPU, kernel, QEMU and libvirt agree on SEV', function (this: SevWorld) {
  return this.decide(async () => {
    const f = await this.probes.caps.layerFacts(this.probes.host);
    return rules.layersAgree(f.disagreements, f.compared);
  });
});

Then("the platform's PDH and certificate chain verify up to AMD's root", function (this: SevWorld) {
  const caps = this.probes.caps;
  return this.decide(async () => {
    const qmp = await caps.sevCapabilities().catch((e: Error) => ({ error: e.message }));
    const node = await caps.nodeSevInfo().catch((e: Error) => ({ ok: false as const, error: e.message }));
    const src = rules.chainSource(qmp, node);
    return rules.chainValid('none' in src ? src : await checkChain(src, caps.amdRoots!));
  });
});
