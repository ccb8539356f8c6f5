#!/usr/bin/env node
/**
 * Run a command on this machine as if it had no CPUID device and no KVM: for proving that the
 * live tests hold on any x86-64 machine (issue 13 §4). Must already run in a private mount
 * namespace, as root:
 *
 *   unshare --mount --propagation private -- node scripts/hide-devices.mjs -- COMMAND [ARG...]
 *
 * Inside that namespace only, /dev is replaced by a tmpfs holding the basic nodes (null, zero,
 * full, random, urandom, tty, ptmx, pts, shm) bound from the real /dev, so /dev/cpu/N/cpuid,
 * /dev/kvm and /dev/sev do not exist for COMMAND. The host's own /dev is untouched (the mounts
 * are private to the namespace and vanish with it). Every command here is an argv, no shell.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sep = process.argv.indexOf('--');
const cmd = sep < 0 ? [] : process.argv.slice(sep + 1);
if (cmd.length === 0) {
  process.stderr.write('usage: unshare --mount --propagation private -- node scripts/hide-devices.mjs -- COMMAND [ARG...]\n');
  process.exit(2);
}

const mount = (...args) => execFileSync('mount', args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 10_000 });
const real = mkdtempSync('/tmp/sevcheck-realdev-');
mount('--bind', '/dev', real);
mount('-t', 'tmpfs', '-o', 'mode=0755,nosuid', 'sevcheck-nodev', '/dev');
for (const node of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx']) {
  if (!existsSync(join(real, node))) continue;
  writeFileSync(join('/dev', node), '');
  mount('--bind', join(real, node), join('/dev', node));
}
for (const dir of ['pts', 'shm', 'mqueue']) {
  if (!existsSync(join(real, dir))) continue;
  mkdirSync(join('/dev', dir));
  mount('--bind', join(real, dir), join('/dev', dir));
}
for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']]) {
  symlinkSync(target, join('/dev', name));
}
execFileSync('umount', ['--lazy', real], { timeout: 10_000 }); // the real /dev is not reachable either
rmdirSync(real);

const hidden = ['/dev/cpu/0/cpuid', '/dev/kvm', '/dev/sev'];
const still = hidden.filter((p) => existsSync(p));
if (still.length) {
  process.stderr.write(`hide-devices: still present: ${still.join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(`hide-devices: hidden ${hidden.join(', ')}\n`);
const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env: { ...process.env, SEVCHECK_DEVICES_HIDDEN: '1' } });
process.exit(r.status ?? 1);
