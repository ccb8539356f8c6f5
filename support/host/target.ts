import { HarnessError, type Host } from './types.js';
import { LocalHost } from './local-host.js';
import { FixtureHost, type FixtureHostOptions } from './fixture-host.js';
import { SshHost, type SshOptions } from './ssh-host.js';
import { RecordingHost } from './recording-host.js';
import { CountingHost } from './counting-host.js';
import { CachingHost } from './caching-host.js';
import { RootfsHost } from './rootfs-host.js';
import { ImageHost } from './image-host.js';

export interface TargetOptions {
  readonly ssh?: SshOptions | undefined;
  readonly fixture?: FixtureHostOptions | undefined;
  /** `sevcheck record`: remember every read (and write it as a fixture host afterwards) */
  readonly record?: boolean | undefined;
  /** count the reads that reach the backend (SEVCHECK_READ_LOG) */
  readonly count?: boolean | undefined;
}

/** An opened host with its wrappers; `host` is the top of the stack, the one probes read through. */
export interface Target {
  readonly host: CachingHost;
  readonly recorder: RecordingHost | undefined;
  readonly counter: CountingHost | undefined;
  /** the backend under the wrappers (the ssh backend counts its remote commands: bench/ssh.bench.ts) */
  readonly backend: Host;
  /** Close the whole stack (the backend last). Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * The one place a target is made: the backend for `spec`, opened (ssh connects here, so an
 * unreachable host is exit 2 before any check), then the wrappers in their fixed order
 * backend → recording → counting → caching. The recorder sees every read the probes make; the
 * counter sits under the cache, so it counts the reads that really reach the host (at most one
 * per fact is the cache's promise).
 */
export async function openTarget(spec: string, opts: TargetOptions = {}): Promise<Target> {
  const backend = openHost(spec, { ssh: opts.ssh, fixture: opts.fixture });
  try {
    await backend.open();
  } catch (e) {
    await backend.close().catch(() => undefined);
    throw e;
  }
  const recorder = opts.record ? new RecordingHost(backend) : undefined;
  const counter = opts.count ? new CountingHost(recorder ?? backend) : undefined;
  const host = new CachingHost(counter ?? recorder ?? backend);
  let closed: Promise<void> | undefined;
  return { host, recorder, counter, backend, close: () => (closed ??= host.close()) };
}

/**
 * The unopened backend for a `--host` value (use openTarget, which opens it and stacks the
 * wrappers). `--host` values: `local`, `ssh://[user@]host[:port]`, `fixture:DIR` (or a bare directory that
 * holds host.json), `rootfs:DIR` (a root file system, relative to the cwd), `image:FILE` (a raw or
 * qcow2 disk image, opened read-only with libguestfs and judged as rootfs:DIR).
 */
export function openHost(spec: string, opts: { ssh?: SshOptions | undefined; fixture?: FixtureHostOptions | undefined } = {}): Host {
  if (spec === 'local') return new LocalHost();
  if (spec.startsWith('fixture:')) {
    const dir = spec.slice('fixture:'.length);
    if (!dir) throw new HarnessError(`--host ${spec}: fixture: needs a directory`);
    return new FixtureHost(dir, opts.fixture);
  }
  if (spec.startsWith('rootfs:')) {
    const dir = spec.slice('rootfs:'.length);
    if (!dir) throw new HarnessError(`--host ${spec}: rootfs: needs a directory (a distribution's root file system)`);
    return new RootfsHost(dir);
  }
  if (spec.startsWith('image:')) {
    const file = spec.slice('image:'.length);
    if (!file) throw new HarnessError(`--host ${spec}: image: needs a disk image file (raw or qcow2)`);
    return new ImageHost(file, { warn: opts.fixture?.warn });
  }
  if (spec.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new HarnessError(`--host ${spec}: not a valid ssh://[user@]host[:port] address`);
    }
    if (!url.hostname || (url.pathname && url.pathname !== '/' && url.pathname !== '')) {
      throw new HarnessError(`--host ${spec}: not a valid ssh://[user@]host[:port] address`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host.startsWith('-')) throw new HarnessError(`--host ${spec}: host name may not start with "-"`);
    return new SshHost(
      { user: url.username ? decodeURIComponent(url.username) : undefined, host, port: url.port ? Number(url.port) : undefined },
      opts.ssh,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(spec)?.[1];
  throw new HarnessError(
    `--host ${spec}: unknown host ${scheme ? `scheme "${scheme}:"` : 'target'}; use local, ssh://[user@]host[:port], fixture:DIR, rootfs:DIR or image:FILE`,
  );
}
