/**
 * Test-only stand-in for the rootfs backend (branch rootfs, support/host/rootfs-host.ts): a Host
 * over a directory, so that the distro probe can be tested on authored trees and the real Debian
 * images before that backend is merged. Paths resolve inside the root (absolute links relative to
 * it, `..` clamped); commands run in the root with bubblewrap; running-system reads are
 * NOT_RUNNING. Not hardened against hostile images: the real backend is.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { fromErrno } from '../../support/host/errno.js';
import { runResultFromExeca } from '../../support/host/run-result.js';
import { DEFAULT_TIMEOUT_MS, HostError, notRunning, type Host, type StatInfo, type FileType } from '../../support/host/types.js';

export class DirHost implements Host {
  readonly kind = 'rootfs' as const;
  readonly target: string;
  constructor(readonly root: string) {
    this.target = `rootfs:${root}`;
  }

  /** The real path of `path` inside the root, following links (the last one too when `follow`). */
  private async resolve(path: string, follow = true): Promise<string> {
    let parts = path.split('/').filter((p) => p !== '' && p !== '.');
    const done: string[] = [];
    for (let hops = 0; parts.length > 0; ) {
      const part = parts.shift() as string;
      if (part === '..') {
        done.pop();
        continue;
      }
      const real = join(this.root, ...done, part);
      let target: string | undefined;
      if (follow || parts.length > 0) {
        try {
          if ((await lstat(real)).isSymbolicLink()) target = await readlink(real);
        } catch {
          target = undefined;
        }
      }
      if (target === undefined) {
        done.push(part);
        continue;
      }
      if (++hops > 40) throw new HostError('EIO', path, `${path}: too many levels of symbolic links`);
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
    }
    return join(this.root, ...done);
  }

  private static running(path: string): boolean {
    return /^\/(proc|sys|run)(\/|$)/.test(path) || /^\/dev\/.+/.test(path);
  }

  async describe() {
    return { name: this.root, source: 'live' as const };
  }
  async readFile(path: string): Promise<Buffer> {
    if (DirHost.running(path)) throw notRunning(path);
    try {
      return await readFile(await this.resolve(path));
    } catch (e) {
      throw e instanceof HostError ? e : fromErrno(e, path);
    }
  }
  async stat(path: string): Promise<StatInfo> {
    if (DirHost.running(path)) throw notRunning(path);
    try {
      const s = await lstat(await this.resolve(path, false));
      const type: FileType = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : s.isFIFO() ? 'fifo' : s.isSocket() ? 'socket' : 'file';
      return { path, type, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
    } catch (e) {
      throw e instanceof HostError ? e : fromErrno(e, path);
    }
  }
  async acl(): Promise<undefined> {
    return undefined;
  }
  async listDir(path: string): Promise<string[]> {
    if (DirHost.running(path)) throw notRunning(path);
    try {
      return (await readdir(await this.resolve(path))).sort();
    } catch (e) {
      throw e instanceof HostError ? e : fromErrno(e, path);
    }
  }
  async run(argv: readonly string[], opts: { timeoutMs?: number } = {}) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // an authored tree has no /proc or /dev to mount over (git keeps no empty directories)
    const mounts = [...(existsSync(join(this.root, 'proc')) ? ['--proc', '/proc'] : []), ...(existsSync(join(this.root, 'dev')) ? ['--dev', '/dev'] : [])];
    const bwrap = ['--ro-bind', this.root, '/', ...mounts, '--unshare-all', '--die-with-parent', '--clearenv', '--setenv', 'PATH', '/usr/sbin:/usr/bin:/sbin:/bin', '--setenv', 'LC_ALL', 'C', '--'];
    const r = await execa('bwrap', [...bwrap, ...argv], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
    // bwrap reports a program it cannot execute with exit 1 and "execvp X: No such file or directory"
    if (r.exitCode === 1 && /execvp .*No such file or directory/.test(String(r.stderr))) return { argv: [...argv], exitCode: 127, stdout: '', stderr: `${argv[0]}: command not found\n` };
    return runResultFromExeca(this.target, argv, r, timeoutMs);
  }
  async cpuid(): Promise<never> {
    throw notRunning('CPUID');
  }
  async qmp(): Promise<never> {
    throw notRunning('QMP');
  }
  async open(): Promise<void> {}
  async close(): Promise<void> {}
}
