/**
 * One run = one host, one profile, one fact cache. The CLI creates the context before starting
 * cucumber; a plain `cucumber-js` run creates it from worldParameters on first use.
 */
import type { Host } from './host/types.js';
import { HarnessError } from './host/types.js';
import { CachingHost } from './host/caching-host.js';
import { openHost } from './host/target.js';
import { HostProbe } from './probes/host.js';
import { DeviceProbe } from './probes/device.js';
import { SelinuxProbe } from './probes/selinux.js';
import { CapsProbe } from './probes/caps.js';
import { DomainProbe } from './probes/domain.js';
import { LaunchProbe } from './probes/launch.js';
import type { LaunchOptions } from './launch/bundle.js';
import { parseProfile, type Profile } from './profile.js';
import { AmdRootSource, KdsClient, type AmdCertOptions } from './host/kds-fetch.js';

/** Run options beyond host and profile (CLI flags). */
export interface RunOptions {
  /** AMD root certificates for caps.pdh.chain-valid: --amd-certs, --kds/--no-kds, --kds-cache, --kds-url */
  readonly amdCerts?: AmdCertOptions | undefined;
}

export interface Probes {
  readonly host: HostProbe;
  readonly device: DeviceProbe;
  readonly selinux: SelinuxProbe;
  readonly caps: CapsProbe;
  readonly domain: DomainProbe;
  readonly launch: LaunchProbe;
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

let current: RunContext | undefined;

/** `launch`: the guest owner's launch bundle and where its `vectors:` / AMD certificate paths resolve (--launch, --vectors, --amd-certs). */
export function createRunContext(host: Host, profile: Profile, launch: LaunchOptions = {}, options: RunOptions = {}): RunContext {
  const cached = host instanceof CachingHost ? host : new CachingHost(host);
  // one KDS client for the caps (SEV roots) and launch (SNP certificates) layers: on by default
  // for live hosts, off for fixture replays (a replay must not depend on the network or this
  // machine's cache: the meta-test asserts fixed verdicts) and with --amd-certs
  const amd = options.amdCerts ?? {};
  const certs = { amdCertsDir: amd.amdCertsDir, kds: KdsClient.forRun(amd, cached.kind !== 'fixture') };
  const amdRoots = new AmdRootSource(certs);
  current = { host: cached, profile, options, probes: {
      host: new HostProbe(cached),
      device: new DeviceProbe(cached),
      selinux: new SelinuxProbe(cached),
      caps: new CapsProbe(cached, amdRoots),
      domain: new DomainProbe(cached),
      launch: new LaunchProbe(cached, launch, certs),
    }, fatal: undefined };
  return current;
}

export function setRunContext(ctx: RunContext | undefined): void {
  current = ctx;
}

export function runContext(parameters?: { host?: string; profile?: string }): RunContext {
  if (current) return current;
  const spec = parameters?.host;
  if (!spec) throw new HarnessError('no host: run through `sevcheck run --host ...` or set worldParameters.host');
  return createRunContext(openHost(spec), parseProfile(parameters?.profile ?? 'sev', 'worldParameters.profile'));
}
