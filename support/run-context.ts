/**
 * One run = one host, one profile, one fact cache. The context travels with the cucumber world:
 * the run's id is in worldParameters.run and the World looks its context up in the registry of
 * live runs (the context itself holds probes and a host, which worldParameters cannot carry:
 * cucumber structuredClones them for every scenario). `sevcheck run` registers the context it
 * made before starting cucumber; a plain `cucumber-js` run gets one from the BeforeAll hook
 * (hooks.ts), made from worldParameters.host / .profile. Two runs in one process never share one.
 */
import type { Host } from './host/types.js';
import { HarnessError } from './host/types.js';
import { CachingHost } from './host/caching-host.js';
import { randomUUID } from 'node:crypto';
import { HostProbe } from './probes/host.js';
import { HostCpuProbe } from './probes/host-cpu.js';
import { DeviceProbe } from './probes/device.js';
import { SelinuxProbe } from './probes/selinux.js';
import { CapsProbe } from './probes/caps.js';
import { DomainProbe } from './probes/domain.js';
import { LaunchProbe } from './probes/launch.js';
import { DistroProbe } from './probes/distro.js';
import { FirmwareProbe } from './probes/host-firmware.js';
import type { LaunchOptions } from './launch/bundle.js';
import { parseProfile, type Profile } from './profile.js';
import { AmdRootSource, KdsClient, type AmdCertOptions } from './probes/kds-fetch.js';

/** Run options beyond host and profile (CLI flags). */
export interface RunOptions {
  /** AMD root certificates for caps.pdh.chain-valid: --amd-certs, --kds/--no-kds, --kds-cache, --kds-url */
  readonly amdCerts?: AmdCertOptions | undefined;
  /** host.firmware.version's minimum instead of the profile's: --min-firmware X.Y */
  readonly minFirmware?: { readonly major: number; readonly minor: number } | undefined;
  /** check id → why it is skipped (the site file's `exclude`: support/site/config.ts) */
  readonly exclude?: ReadonlyMap<string, string> | undefined;
}

export interface Probes {
  readonly host: HostProbe;
  /** CPU identity, MSRs, every CPU, KVM (issue 12) */
  readonly hostCpu: HostCpuProbe;
  readonly device: DeviceProbe;
  readonly selinux: SelinuxProbe;
  readonly caps: CapsProbe;
  readonly domain: DomainProbe;
  readonly launch: LaunchProbe;
  readonly distro: DistroProbe;
  readonly firmware: FirmwareProbe;
}

export interface RunContext {
  /** the cached view every probe reads through */
  readonly host: Host;
  readonly profile: Profile;
  readonly probes: Probes;
  readonly options: RunOptions;
  /** the first harness error (exit 2), when one happened */
  fatal: HarnessError | undefined;
}

/**
 * The live runs by id (worldParameters.run); an entry lives from registerRun to its release.
 * `close` is set when the run's target belongs to the registry (a plain cucumber-js run,
 * hooks.ts): releasing the entry closes it.
 */
const runs = new Map<string, { ctx: RunContext; close?: (() => Promise<void>) | undefined }>();

/** `launch`: the guest owner's launch bundle and where its `vectors:` / AMD certificate paths resolve (--launch, --vectors, --amd-certs). */
export function createRunContext(host: Host, profile: Profile, launch: LaunchOptions = {}, options: RunOptions = {}): RunContext {
  const cached = host instanceof CachingHost ? host : new CachingHost(host);
  // one KDS client for the caps (SEV roots) and launch (SNP certificates) layers: on by default
  // for live hosts, off for fixture replays (a replay must not depend on the network or this
  // machine's cache: the meta-test asserts fixed verdicts) and with --amd-certs
  const amd = options.amdCerts ?? {};
  const certs = { amdCertsDir: amd.amdCertsDir, kds: KdsClient.forRun(amd, cached.kind !== 'fixture') };
  const amdRoots = new AmdRootSource(certs);
  const hostProbe = new HostProbe(cached);
  const capsProbe = new CapsProbe(cached, amdRoots);
  const device = new DeviceProbe(cached);
  return { host: cached, profile, options, probes: {
      host: hostProbe,
      hostCpu: new HostCpuProbe(cached, hostProbe, capsProbe),
      device,
      selinux: new SelinuxProbe(cached),
      caps: capsProbe,
      domain: new DomainProbe(cached),
      launch: new LaunchProbe(cached, launch, certs),
      distro: new DistroProbe(cached, device),
      firmware: new FirmwareProbe(cached),
    }, fatal: undefined };
}

/**
 * Make `ctx` findable by the worlds of one run: put the returned id in worldParameters.run, and
 * releaseRun(id) when the run ends. With `close`, releasing also closes the run's target.
 */
export function registerRun(ctx: RunContext, close?: () => Promise<void>): string {
  const id = randomUUID();
  runs.set(id, { ctx, close });
  return id;
}

/** Forget a run (and close its target when registerRun was given one). */
export async function releaseRun(id: string | undefined): Promise<void> {
  const entry = id !== undefined ? runs.get(id) : undefined;
  if (!entry || id === undefined) return;
  runs.delete(id);
  await entry.close?.();
}

/** Whether releaseRun(id) closes the run's target (the run was made by the BeforeAll hook). */
export function ownsTarget(id: string | undefined): boolean {
  return id !== undefined && runs.get(id)?.close !== undefined;
}

/** The context of the run a World belongs to (its worldParameters.run). */
export function runContext(parameters?: { run?: string }): RunContext {
  const id = parameters?.run;
  const ctx = id !== undefined ? runs.get(id)?.ctx : undefined;
  if (!ctx) {
    throw new HarnessError(
      id === undefined
        ? 'no run: run through `sevcheck run --host ...`, or give cucumber-js worldParameters.host'
        : `run ${id} is not (or no longer) registered`,
    );
  }
  return ctx;
}
