import { HarnessError, type Host } from './types.js';
import { LocalHost } from './local-host.js';
import { FixtureHost, type FixtureHostOptions } from './fixture-host.js';
import { SshHost, type SshOptions } from './ssh-host.js';

/**
 * `--host` values: `local`, `ssh://[user@]host[:port]`, `fixture:DIR` (or a bare directory that
 * holds host.json).
 */
export function openHost(spec: string, opts: { ssh?: SshOptions; fixture?: FixtureHostOptions } = {}): Host {
  if (spec === 'local') return new LocalHost();
  if (spec.startsWith('fixture:')) {
    const dir = spec.slice('fixture:'.length);
    if (!dir) throw new HarnessError(`--host ${spec}: fixture: needs a directory`);
    return new FixtureHost(dir, opts.fixture);
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
    `--host ${spec}: unknown host ${scheme ? `scheme "${scheme}:"` : 'target'}; use local, ssh://[user@]host[:port] or fixture:DIR`,
  );
}
