import { Then, defineParameterType } from '@cucumber/cucumber';
import type { SevWorld } from '../support/world.js';
import * as rules from '../support/rules/caps.js';
import { checkChain, type DomcapsMachine } from '../support/probes/caps.js';
import { attempt, optional } from '../support/facts.js';

/**
 * The caps steps wait for virsh and for the one QEMU probe (bounded by their own timeouts: 30 s
 * per virsh call, 10 s per QMP exchange); over ssh that is more than cucumber's 5 s default.
 */
const T = { timeout: 90_000 };

defineParameterType({ name: 'machine', regexp: /the default machine|the q35 machine/, transformer: (s: string): DomcapsMachine => (s.includes('q35') ? 'q35' : 'default') });

Then('libvirt reports SEV as supported for {machine}', T, function (this: SevWorld, machine: DomcapsMachine) {
  const caps = this.probes.caps;
  const context = async () => ({ qmp: await optional(() => caps.sevCapabilities()), kvmSev: (await optional(() => this.probes.host.kvmAmdParam('sev')))?.enabled });
  return this.decide(async () => rules.domcapsSevSupported(await caps.domcaps(machine), context));
});

Then("libvirt's C-bit position equals the CPU's", T, function (this: SevWorld) {
  return this.decide(async () => rules.domcapsCbitpos(await this.probes.caps.domcaps('q35'), () => this.probes.host.encryptedMemory()));
});

Then('libvirt offers SEV-SNP launch security', T, function (this: SevWorld) {
  return this.decide(async () => rules.domcapsSnp(await this.probes.caps.domcaps('q35')));
});

Then('QEMU answers query-sev-capabilities with the platform data', T, function (this: SevWorld) {
  return this.decide(async () => rules.qmpSevCapabilities(await this.probes.caps.sevCapabilities()));
});

Then("QEMU's C-bit position equals the CPU's", T, function (this: SevWorld) {
  return this.decide(async () => rules.qmpCbitpos(await this.probes.caps.sevCapabilities(), () => this.probes.host.encryptedMemory()));
});

Then("libvirt's cached QEMU capabilities describe the host as it is now", T, function (this: SevWorld) {
  return this.decide(async () => {
    const f = await this.probes.caps.layerFacts(this.probes.host);
    return rules.cacheFresh(await this.probes.caps.capsCache(), f.live, f.disagreements.filter((d) => d.checkId === 'caps.cache.fresh'));
  });
});

Then('CPU, kernel, QEMU and libvirt agree on SEV', T, function (this: SevWorld) {
  return this.decide(async () => {
    const f = await this.probes.caps.layerFacts(this.probes.host);
    return rules.layersAgree(f.disagreements, f.compared);
  });
});

Then("the platform's PDH and certificate chain verify up to AMD's root", T, function (this: SevWorld) {
  const caps = this.probes.caps;
  return this.decide(async () => {
    const qmp = await attempt(() => caps.sevCapabilities());
    const node = async () => {
      const n = await attempt(() => caps.nodeSevInfo());
      return n.ok ? n.value : { ok: false as const, error: n.reason };
    };
    const src = await rules.chainSource(qmp.ok ? qmp.value : { error: qmp.reason }, node);
    return rules.chainValid('none' in src ? src : await checkChain(src, caps.amdRoots!));
  });
});
