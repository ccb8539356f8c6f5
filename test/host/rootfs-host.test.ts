/**
 * rootfs:DIR (support/host/rootfs-host.ts): reads stay inside DIR whatever the image's symlinks
 * say, running-system reads are NOT_RUNNING, commands run in the image under bwrap, bad input is
 * one line at open time.
 *
 * The command tests need bubblewrap (`bwrap`, .ci/run installs it) and a kernel that lets it make
 * namespaces; without them they skip with the reason, unless SEVCHECK_REQUIRE_ROOTFS=1 (set by
 * .ci/run), where that is a failure.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KILL_GRACE_MS, MAX_SYMLINKS, RootfsHost, SANDBOX_HOSTNAME, SANDBOX_TMP_BYTES } from '../../support/host/rootfs-host.js';
import { RecordingHost } from '../../support/host/recording-host.js';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { SelinuxProbe } from '../../support/probes/selinux.js';
import { ROOT, oneLine, sevcheck } from '../helpers.js';
import { openHost } from '../../support/host/target.js';
import { HarnessError, HostError } from '../../support/host/types.js';

const CANARY = 'CANARY-OUTSIDE-THE-IMAGE';
const base = mkdtempSync(join(tmpdir(), 'sevcheck-rootfs-'));
const outside = join(base, 'outside');
const img = join(base, 'img');

function put(rel: string, text: string): void {
  mkdirSync(dirname(join(img, rel)), { recursive: true });
  writeFileSync(join(img, rel), text);
}
function link(rel: string, target: string): void {
  mkdirSync(dirname(join(img, rel)), { recursive: true });
  symlinkSync(target, join(img, rel));
}

/** Copy a controller binary and the shared objects ldd names into the image (same paths). */
function copyBinary(bin: string): boolean {
  let ldd: string;
  try {
    ldd = execFileSync('ldd', [bin], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return false;
  }
  const files = [bin, ...[...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] as string)];
  for (const f of files) {
    mkdirSync(dirname(join(img, f)), { recursive: true });
    copyFileSync(f, join(img, f));
    chmodSync(join(img, f), 0o755);
  }
  return true;
}

function bwrapWorks(): string | undefined {
  try {
    execFileSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { timeout: 10_000, stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `bwrap cannot run here (${(e as Error).message.split('\n')[0]})`;
  }
}

let noSandbox: string | undefined;

beforeAll(() => {
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'canary'), CANARY);
  // the same name inside the image: a ".." that clamps at the image's / lands here, not outside
  put('outside/canary', 'inside-the-image');
  put('etc/os-release', 'NAME="Test"\nPRETTY_NAME="Test Linux 1 (canary)"\n');
  put('etc/passwd-real', 'root:x:0:0:root:/root:/bin/sh\n');
  put('usr/lib/modules/6.12.0-1-amd64/modules.dep', '');
  put('lib/modules/6.1.0-9-amd64/modules.dep', '');
  put('usr/share/owned', 'x');
  mkdirSync(join(img, 'proc'));
  mkdirSync(join(img, 'run'));
  // hostile links
  link('etc/passwd', '/etc/passwd'); // itself, inside the image: a loop, never the controller's
  link('etc/hostname', '/etc/passwd-real');
  link('etc/shadow', `../../../../../../../../..${join(outside, 'canary')}`);
  link('etc/escape', '../../../../outside/canary');
  link('etc/abs-outside', join(outside, 'canary'));
  link('etc/outdir', outside);
  link('etc/outdir-rel', `../${relative(img, outside)}`);
  link('a', 'b');
  link('b', 'a');
  link('etc/mtab', '/proc/self/mounts');
  link('var/run', '/run');
  link('etc/usr-up', '../usr/../../../../etc/passwd-real');
  // a chain of exactly MAX_SYMLINKS links ends at a file; one more is ELOOP
  put('chain/end', 'end of chain');
  for (let i = 0; i < MAX_SYMLINKS + 1; i++) link(`chain/l${i}`, i === 0 ? 'end' : `l${i - 1}`);
  if (process.getuid?.() === 0) {
    chownSync(join(img, 'usr/share/owned'), 1234, 5678);
    chmodSync(join(img, 'usr/share/owned'), 0o640);
  }
  noSandbox = bwrapWorks();
  if (!noSandbox && !(copyBinary('/bin/sh') && copyBinary('/bin/sleep'))) noSandbox = 'cannot copy /bin/sh into the test image';
  if (noSandbox && process.env.SEVCHECK_REQUIRE_ROOTFS === '1') throw new Error(`SEVCHECK_REQUIRE_ROOTFS=1: ${noSandbox}`);
});

const h = (): RootfsHost => new RootfsHost(img);

async function err(p: Promise<unknown>): Promise<HostError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HostError);
  return e as HostError;
}

describe('rootfs host: symlinks resolve inside DIR', () => {
  it('an absolute link is relative to DIR', async () => {
    expect((await h().readFile('/etc/hostname')).toString()).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('etc/passwd -> /etc/passwd is the image file itself (a loop), never the controller\'s /etc/passwd', async () => {
    const e = await err(h().readFile('/etc/passwd'));
    expect(e.message).toMatch(/ELOOP/);
  });

  it('".." clamps at DIR: ../../../../outside/canary is DIR/outside/canary', async () => {
    expect((await h().readFile('/etc/escape')).toString()).toBe('inside-the-image');
    expect((await h().readFile('/../../../outside/canary')).toString()).toBe('inside-the-image');
    expect((await h().readFile('/etc/usr-up')).toString()).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('links to a file or directory outside DIR find nothing (the canary is never read)', async () => {
    const host = h();
    const seen: string[] = [];
    for (const p of ['/etc/shadow', '/etc/abs-outside', '/etc/outdir/canary', '/etc/outdir-rel/canary']) {
      try {
        seen.push((await host.readFile(p)).toString());
      } catch (e) {
        expect(e).toBeInstanceOf(HostError);
        expect((e as HostError).code).toBe('ENOENT');
      }
    }
    await expect(host.listDir('/etc/outdir')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(host.stat('/etc/outdir/canary')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(seen).not.toContain(CANARY);
    expect(readFileSync(join(outside, 'canary'), 'utf8')).toBe(CANARY); // the canary is there to be found
  });

  it('a -> b -> a is ELOOP; 40 links are followed, the 41st is ELOOP (include/linux/namei.h MAXSYMLINKS)', async () => {
    expect((await err(h().readFile('/a'))).message).toMatch(/ELOOP: more than 40 symbolic links/);
    expect((await h().readFile(`/chain/l${MAX_SYMLINKS - 1}`)).toString()).toBe('end of chain');
    expect((await err(h().readFile(`/chain/l${MAX_SYMLINKS}`))).message).toMatch(/ELOOP/);
  });

  it('a FIFO or a device node in the image is never opened (it would block, or open the controller\'s device)', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('mknod of a device node needs root');
    execFileSync('mkfifo', [join(img, 'etc/fifo')]);
    execFileSync('mknod', [join(img, 'etc/zero'), 'c', '1', '5']);
    link('etc/fifo-link', 'fifo');
    for (const p of ['/etc/fifo', '/etc/fifo-link', '/etc/zero']) {
      const e = await err(h().readFile(p));
      expect([p, e.code, e.message]).toEqual([p, 'EIO', `${p}: input/output error (not a regular file in the image)`]);
    }
    expect(await h().stat('/etc/zero')).toMatchObject({ type: 'char' });
  });

  it('".." out of /proc, /sys, /dev, /run is followed as on a running system; staying inside is NOT_RUNNING', async () => {
    expect((await h().readFile('/run/../etc/passwd-real')).toString()).toContain('root:x:0:0');
    expect((await err(h().readFile('/proc/1/../../etc/passwd-real'))).code).toBe('NOT_RUNNING');
  });

  it('stat is lstat-like and reports the image\'s numeric owner and mode', async () => {
    expect(await h().stat('/etc/passwd')).toMatchObject({ type: 'link' });
    expect(await h().stat('/etc/outdir-rel')).toMatchObject({ type: 'link' });
    if (process.getuid?.() === 0) expect(await h().stat('/usr/share/owned')).toMatchObject({ type: 'file', uid: 1234, gid: 5678, mode: 0o640 });
    expect(await h().listDir('/etc')).toContain('os-release');
    await expect(h().readFile('/etc')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(h().readFile('/etc/os-release/x')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('rootfs host: a root file system is not a running system', () => {
  it.each([
    ['readFile', '/proc/cpuinfo'],
    ['stat', '/dev/sev'],
    ['listDir', '/sys/module'],
    ['readFile', '/run/modprobe.d/x.conf'],
    ['readFile', '/etc/mtab'], // -> /proc/self/mounts
    ['listDir', '/var/run/libvirt'], // -> /run
    ['acl', '/dev/kvm'],
  ] as const)('%s %s is NOT_RUNNING', async (op, path) => {
    const e = await err((h()[op] as (p: string) => Promise<unknown>)(path));
    expect(e.code).toBe('NOT_RUNNING');
    expect(e.message).toMatch(/^not a running system: /);
  });

  it('CPUID, QMP and commands that ask a running system are NOT_RUNNING', async () => {
    expect((await err(h().cpuid(0x8000001f))).code).toBe('NOT_RUNNING');
    expect((await err(h().readMsr(0, 0xc0010010))).code).toBe('NOT_RUNNING');
    expect((await err(h().qmp('query-sev-capabilities'))).code).toBe('NOT_RUNNING');
    for (const argv of [['virsh', '-c', 'qemu:///system', 'domcapabilities'], ['getenforce'], ['/usr/sbin/getsebool', '-a'], ['snphost', 'show']]) {
      expect((await err(h().run(argv))).code).toBe('NOT_RUNNING');
    }
  });

  it('describe: name from DIR, distro from os-release, the installed (not running) kernels', async () => {
    expect(await h().describe()).toMatchObject({
      name: 'img',
      distro: 'Test Linux 1 (canary)',
      kernel: '6.1.0-9-amd64, 6.12.0-1-amd64 (installed, not running)',
    });
  });

  it('openHost parses rootfs:DIR', () => {
    expect(openHost(`rootfs:${img}`)).toBeInstanceOf(RootfsHost);
    expect(() => openHost('rootfs:')).toThrow(HarnessError);
  });
});

describe('rootfs host: commands run in the image under bwrap', () => {
  it('argv only, a clean environment, the image read-only, a tmpfs /tmp, a fresh /proc', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const r = await h().run(['/bin/sh', '-c', 'echo "$1"; export -p; : > /tmp/ok && echo tmp-ok; echo > /x 2>/dev/null || echo ro; test -r /proc/self/status && echo proc', 'sh', '$(touch /tmp/nope) ; x']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('$(touch /tmp/nope) ; x');
    const env = lines.filter((l) => l.startsWith('export '));
    expect(env.map((l) => l.replace(/=.*/, '')).sort()).toEqual(['export LANG', 'export PATH', 'export PWD']);
    expect(r.stdout).toMatch(/export LANG='?C\.UTF-8'?/);
    expect(r.stdout).toContain('tmp-ok');
    expect(r.stdout).toContain('\nro\n');
    expect(r.stdout).toContain('proc');
  });

  it('the image\'s files answer, not the controller\'s', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const r = await h().run(['sh', '-c', 'read l < /etc/os-release; echo "$l"']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'NAME="Test"\n' });
  });

  it('a command missing from the image is exit 127 "command not found"; exit codes pass through', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    expect(await h().run(['qemu-system-x86_64', '-version'])).toMatchObject({ exitCode: 127, stderr: 'qemu-system-x86_64: command not found\n' });
    expect(await h().run(['sh', '-c', 'echo oops >&2; exit 3'])).toMatchObject({ exitCode: 3, stderr: 'oops\n' });
  });

  it('a command killed by a signal is 128 + the signal, a file that is not executable 126: reported, not hidden', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    expect(await h().run(['sh', '-c', 'kill -SEGV $$'])).toMatchObject({ exitCode: 139 });
    expect(await h().run(['/etc/os-release'])).toMatchObject({ exitCode: 126, stderr: '/etc/os-release: Permission denied\n' });
  });

  it('a command that outlives its timeout is killed with its process group (SIGTERM ignored: SIGKILL after the grace): a HostError, so its facts are undecided', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const token = `hung-${process.pid}-${Date.now()}`;
    // a child that ignores SIGTERM, in the background, and a parent that ignores it too
    const t0 = performance.now();
    const e = await h().run(['sh', '-c', `trap '' TERM; sh -c "trap '' TERM; : ${token}; while :; do sleep 0.1; done" & while :; do sleep 0.1; done`], { timeoutMs: 300 }).catch((x: unknown) => x);
    const took = performance.now() - t0;
    expect(e).toBeInstanceOf(HostError);
    expect(e).not.toBeInstanceOf(HarnessError);
    expect((e as Error).message).toMatch(new RegExp(`^rootfs:${img}: sh -c .*: timed out after 0\\.3 s; killed with its process group$`));
    expect(took).toBeLessThan(300 + KILL_GRACE_MS + 5_000);
    // nothing of it is left on the machine
    await new Promise((r) => setTimeout(r, 300));
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(token);
  }, 30_000);

  it('a command that floods its output is cut off and killed (a HostError, never the controller\'s memory)', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    copyBinary('/usr/bin/yes');
    const e = await h().run(['/usr/bin/yes', 'flood'], { timeoutMs: 20_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostError);
    expect((e as Error).message).toMatch(/\/usr\/bin\/yes flood: printed more than 16 MiB; killed with its process group$/);
  }, 30_000);

  it('image commands get their own host name and a size-capped /tmp', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    copyBinary('/usr/bin/hostname');
    copyBinary('/usr/bin/head');
    const r = await h().run(['sh', '-c', `hostname; head -c ${SANDBOX_TMP_BYTES + 1024 * 1024} /dev/zero > /tmp/big 2>/dev/null; echo "exit $?"`]);
    expect(r.stdout.split('\n')[0]).toBe(SANDBOX_HOSTNAME);
    expect(r.stdout).toMatch(/exit [1-9]/); // ENOSPC at the cap
  }, 30_000);
});

describe('rootfs host: an image file too large to be what it claims is not read', () => {
  it('a 1.9 GB /boot/config-* (sparse, made here) is a HostError naming the file and the cap: the check undecided, no 2 GB string', async () => {
    put('boot/config-6.1.0-hostile', '');
    truncateSync(join(img, 'boot/config-6.1.0-hostile'), 1_900_000_000);
    const e = await err(h().readFile('/boot/config-6.1.0-hostile'));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/^\/boot\/config-6\.1\.0-hostile: .*1900000000 bytes in the image, more than the 64 MiB sevcheck reads of one file: not read/);
  });
});

describe('rootfs host: NOT_RUNNING survives a recording', () => {
  it('errors.json keeps the NOT_RUNNING reads, commands and QMP calls, and the fixture replays them', async () => {
    const rec = new RecordingHost(h());
    const virsh = ['virsh', '-c', 'qemu:///system', 'nodesevinfo'];
    for (const p of [rec.readFile('/proc/cpuinfo'), rec.stat('/dev/sev'), rec.cpuid(0x8000001f), rec.qmp('query-sev-capabilities'), rec.run(virsh)]) {
      await expect(p).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    }
    expect((await rec.readFile('/etc/hostname')).toString()).toContain('root:x:0:0');
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-rootfs-rec-')), 'fx');
    await rec.writeFixture(out, { name: 'img' });
    expect(JSON.parse(readFileSync(join(out, 'host.json'), 'utf8'))).toMatchObject({ kernel: '6.1.0-9-amd64, 6.12.0-1-amd64 (installed, not running)', distro: 'Test Linux 1 (canary)' });
    const fx = new FixtureHost(out);
    for (const p of [fx.readFile('/proc/cpuinfo'), fx.stat('/dev/sev'), fx.cpuid(0x8000001f), fx.qmp('query-sev-capabilities'), fx.run(virsh)]) {
      const e = await err(p);
      expect(e.code).toBe('NOT_RUNNING');
      expect(e.message).toMatch(/^not a running system: /);
    }
    expect((await fx.readFile('/etc/hostname')).toString()).toContain('root:x:0:0');
  });
});

describe('rootfs host: existing probes let NOT_RUNNING through', () => {
  it('SELinux state is NOT_RUNNING, not "disabled" from getenforce in the image', async () => {
    await expect(new SelinuxProbe(h()).state()).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    // even where getenforce does run (in a sandbox it prints "Disabled": no selinuxfs), the probe does not ask it
    const host = h();
    const answering = Object.assign(Object.create(host) as RootfsHost, {
      run: async (argv: readonly string[]) => ({ argv: [...argv], exitCode: 0, stdout: 'Disabled\n', stderr: '' }),
    });
    await expect(new SelinuxProbe(answering).state()).rejects.toMatchObject({ code: 'NOT_RUNNING' });
  });

  it('domain XML under DIR/etc/libvirt/qemu is judged; what needs the CPU is skipped "not a running system"', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const tree = mkdtempSync(join(tmpdir(), 'sevcheck-rootfs-dom-'));
    mkdirSync(join(tree, 'usr'));
    mkdirSync(join(tree, 'etc/libvirt/qemu'), { recursive: true });
    copyFileSync(join(ROOT, 'fixtures/hosts/reference-milan/files/etc/libvirt/qemu/confidential-es.xml'), join(tree, 'etc/libvirt/qemu/confidential-es.xml'));
    const r = await sevcheck(['run', '--host', `rootfs:${tree}`, '--profile', 'sev-snp', '--tags', '@layer:domain', '--format', 'json', '--out', join(tree, '..', 'dom-out')]);
    expect(r.stderr).toBe('');
    const checks = (JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; reason?: string }> }).checks;
    const by = Object.fromEntries(checks.map((c) => [c.id, c]));
    for (const id of ['domain.launch-security', 'domain.no-migration', 'domain.machine.q35', 'domain.loader.ovmf', 'domain.virtio.iommu', 'domain.memory.pinned']) {
      expect(by[id]?.status, id).toBe('passed');
    }
    for (const id of ['domain.policy.valid', 'domain.cbitpos.matches-host']) {
      expect(by[id]?.status, id).toBe('skipped');
      expect(by[id]?.reason, id).toMatch(/^not a running system: /);
    }
  }, 60_000);
});

describe('rootfs target: bad input is one line and exit 2 before any check', () => {

  const notRoot = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'sevcheck-notroot-'));
    mkdirSync(join(d, 'etc'));
    return d;
  };
  const fakeBin = (script: string): string => {
    const d = mkdtempSync(join(tmpdir(), 'sevcheck-fakebwrap-'));
    writeFileSync(join(d, 'bwrap'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(d, 'bwrap'), 0o755);
    return d;
  };

  it('DIR missing', async () => oneLine(await sevcheck(['run', '--host', 'rootfs:/no/such/rootfs']), /rootfs:\/no\/such\/rootfs: no such directory/));
  it('DIR a file', async () => oneLine(await sevcheck(['run', '--host', `rootfs:${join(img, 'etc/os-release')}`]), /: not a directory$/));
  it('not a root file system (no /usr)', async () => oneLine(await sevcheck(['run', '--host', `rootfs:${notRoot()}`]), /not a root file system \(no \/usr directory\)/));
  it('bwrap not on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sevcheck-nopath-'));
    oneLine(await sevcheck(['run', '--host', `rootfs:${img}`], { PATH: empty }), /bwrap not found on PATH \(install bubblewrap/);
  });
  it('bwrap not permitted (no user namespaces)', async () => {
    const bin = fakeBin('echo "bwrap: setting up uid map: Permission denied" >&2; exit 1');
    oneLine(
      await sevcheck(['run', '--host', `rootfs:${img}`], { PATH: `${bin}:${process.env.PATH ?? ''}` }),
      /bwrap cannot run commands in the image: bwrap: setting up uid map: Permission denied/,
    );
  });
  it('unreadable DIR (as a non-root user)', async (ctx) => {
    if (process.getuid?.() === 0) return ctx.skip('root reads every directory');
    const d = mkdtempSync(join(tmpdir(), 'sevcheck-unreadable-'));
    chmodSync(d, 0);
    oneLine(await sevcheck(['run', '--host', `rootfs:${d}`]), /unreadable/);
  });
});
