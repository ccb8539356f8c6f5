/**
 * Threshold steps for site features (issue 21, docs/site-policy.md): the requirements an operator
 * writes for the fleet ("SEV firmware at least 1.55", "at least 100 ASIDs for SEV-ES guests").
 * Thin glue: each binds facts from the probes to a pure rule in support/rules/site.ts and carries
 * its StepDoc (support/site/step-doc.ts) for `sevcheck steps` and the up-front check of values.
 */
import { Then, defineParameterType } from '@cucumber/cucumber';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SevWorld } from '../support/world.js';
import * as site from '../support/rules/site.js';
import { onSevCpu } from '../support/rules/firmware.js';
import { documented } from '../support/site/step-doc.js';
import { readSiteFile } from '../support/site/files.js';
import { ROOT } from '../support/run/paths.js';

defineParameterType({ name: 'firmware', regexp: /\d+\.\d+/, transformer: (s: string) => site.parseFirmwareMin(s) });
defineParameterType({ name: 'version', regexp: /\d+(?:\.\d+)*/, transformer: (s: string) => (site.parseSiteVersion(s), s) });
defineParameterType({ name: 'tcb', regexp: /bootloader|TEE|SNP|microcode|FMC/, transformer: (s: string) => s as site.TcbComponent });
defineParameterType({ name: 'freedom', regexp: /debugging|migration|SMT/, transformer: (s: string) => s as site.PolicyFreedom });

/** Checks of a value beyond its parameter type (up front: support/site/preflight.ts). */
const wholeIn = (lo: number, hi: number, what: string) => (args: readonly unknown[]) => {
  const n = args.find((a) => typeof a === 'number') as number;
  return Number.isInteger(n) && n >= lo && n <= hi ? undefined : `${what} must be a whole number from ${lo} to ${hi}, not ${n}`;
};
const oneArg = (args: readonly unknown[]): string | undefined => {
  try {
    site.parseCmdlineArg(String(args[0]));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

/**
 * Where a scenario's feature file is: relative paths in it resolve there. (From the uri hooks.ts
 * keeps on the World: a Before hook of its own here cost every scenario of every run a test step.)
 */
const featureDir = (world: SevWorld): string => {
  const uri = world.featureUri;
  return uri === undefined ? ROOT : dirname(isAbsolute(uri) ? uri : resolve(ROOT, uri));
};

function allowListPath(file: string, dir: string): string {
  return isAbsolute(file) ? file : resolve(dir, file);
}

const sev = (world: SevWorld) => () => world.probes.host.encryptedMemory();

Then(
  'the SEV firmware is at least {firmware}',
  documented({ layer: 'host', example: 'Then the SEV firmware is at least 1.55', parameters: [{ name: 'version', type: 'firmware' }] }),
  function (this: SevWorld, min: { major: number; minor: number }) {
    const fw = this.probes.firmware;
    return this.decide(() => onSevCpu(sev(this), async () => site.firmwareAtLeast(await fw.kernelLog(), min, () => fw.snphost(), () => fw.sevctlVersion())));
  },
);

Then(
  'the SEV firmware is at least {firmware} build {int}',
  documented({
    layer: 'host',
    example: 'Then the SEV firmware is at least 1.55 build 21',
    parameters: [
      { name: 'version', type: 'firmware' },
      { name: 'build', type: 'int' },
    ],
    check: wholeIn(0, 255, 'the build'),
  }),
  function (this: SevWorld, min: { major: number; minor: number }, build: number) {
    const fw = this.probes.firmware;
    return this.decide(() => onSevCpu(sev(this), async () => site.firmwareAtLeast(await fw.kernelLog(), { ...min, build }, () => fw.snphost(), () => fw.sevctlVersion())));
  },
);

Then(
  "the reported TCB's {tcb} SPL is at least {int}",
  documented({
    layer: 'host',
    example: "Then the reported TCB's SNP SPL is at least 22",
    parameters: [
      { name: 'component', type: 'tcb' },
      { name: 'spl', type: 'int' },
    ],
    check: wholeIn(0, 255, 'an SPL (one byte of the TCB version)'),
  }),
  function (this: SevWorld, component: site.TcbComponent, min: number) {
    return this.decide(() => onSevCpu(sev(this), () => site.tcbAtLeast(() => this.probes.firmware.snphost(), component, min)));
  },
);

Then(
  'the host offers at least {int} ASIDs to SEV guests',
  documented({ layer: 'host', example: 'Then the host offers at least 100 ASIDs to SEV guests', parameters: [{ name: 'count', type: 'int' }], check: wholeIn(0, 0xffff_ffff, 'an ASID count') }),
  function (this: SevWorld, min: number) {
    return this.decide(() => site.asidsAtLeast('sev', min, () => this.probes.firmware.kernelLog(), sev(this)));
  },
);

Then(
  'the host offers at least {int} ASIDs to SEV-ES and SEV-SNP guests',
  documented({ layer: 'host', example: 'Then the host offers at least 100 ASIDs to SEV-ES and SEV-SNP guests', parameters: [{ name: 'count', type: 'int' }], check: wholeIn(0, 0xffff_ffff, 'an ASID count') }),
  function (this: SevWorld, min: number) {
    return this.decide(() => site.asidsAtLeast('sev-es', min, () => this.probes.firmware.kernelLog(), sev(this)));
  },
);

Then(
  'the kernel is at least {version}',
  documented({ layer: 'host', example: 'Then the kernel is at least 6.11', parameters: [{ name: 'version', type: 'version' }] }),
  function (this: SevWorld, min: string) {
    return this.decide(() => site.kernelAtLeast(() => this.probes.host.kernelRelease(), min));
  },
);

Then(
  'QEMU is at least {version}',
  documented({ layer: 'caps', example: 'Then QEMU is at least 9.2', parameters: [{ name: 'version', type: 'version' }] }),
  function (this: SevWorld, min: string) {
    return this.decide(() => site.stackAtLeast('qemu', () => this.probes.caps.capsCache(), min));
  },
);

Then(
  'libvirt is at least {version}',
  documented({ layer: 'caps', example: 'Then libvirt is at least 10.5', parameters: [{ name: 'version', type: 'version' }] }),
  function (this: SevWorld, min: string) {
    return this.decide(() => site.stackAtLeast('libvirt', () => this.probes.caps.capsCache(), min));
  },
);

Then(
  'the kvm_amd parameter {word} is {word}',
  documented({
    layer: 'host',
    example: 'Then the kvm_amd parameter sev_es is Y',
    parameters: [
      { name: 'parameter', type: 'word' },
      { name: 'value', type: 'word' },
    ],
    check: (args) => (/^[A-Za-z0-9_]+$/.test(String(args[0])) ? undefined : `"${String(args[0])}" is not a module parameter name (letters, digits, _)`),
  }),
  function (this: SevWorld, name: string, want: string) {
    const host = this.probes.host;
    return this.decide(() => site.kvmAmdParamIs(() => host.kvmAmdParam(name), () => host.kvmAmdLoaded(), name, want));
  },
);

Then(
  'the kernel command line contains {string}',
  documented({ layer: 'host', example: 'Then the kernel command line contains "mem_encrypt=on"', parameters: [{ name: 'argument', type: 'string' }], check: oneArg }),
  function (this: SevWorld, arg: string) {
    return this.decide(() => site.cmdlineHas(() => this.probes.host.cmdline(), arg, true));
  },
);

Then(
  'the kernel command line lacks {string}',
  documented({ layer: 'host', example: 'Then the kernel command line lacks "nosmt"', parameters: [{ name: 'argument', type: 'string' }], check: oneArg }),
  function (this: SevWorld, arg: string) {
    return this.decide(() => site.cmdlineHas(() => this.probes.host.cmdline(), arg, false));
  },
);

Then(
  "every SEV guest's policy forbids {freedom}",
  documented({ layer: 'domain', example: "Then every SEV guest's policy forbids debugging", parameters: [{ name: 'what', type: 'freedom' }] }),
  function (this: SevWorld, what: site.PolicyFreedom) {
    return this.decide(async () => site.everyPolicyForbids(await this.probes.domain.guests(), what));
  },
);

Then(
  "every SEV guest's firmware is on the allow-list {string}",
  documented({
    layer: 'domain',
    example: "Then every SEV guest's firmware is on the allow-list \"ovmf-allowed.sha256\"",
    parameters: [{ name: 'file', type: 'string' }],
    check: (args, { dir }) => {
      const file = allowListPath(String(args[0]), dir);
      try {
        site.parseAllowList(readSiteFile(file), String(args[0]));
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  }),
  function (this: SevWorld, file: string) {
    const dir = featureDir(this);
    return this.decide(async () => {
      // the allow-list is the site's input, checked before the run (support/site/preflight.ts);
      // gone or broken since, it is an input error here too (exit 2: world.ts decide)
      const list = site.parseAllowList(readSiteFile(allowListPath(file, dir), file), file);
      return site.everyFirmwareAllowed(await this.probes.domain.guests(), (p) => this.host.readFile(p), list);
    });
  },
);
