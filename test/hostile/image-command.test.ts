/**
 * Issue 19: an image binary that ignores SIGTERM and never exits costs its timeout, not the run:
 * the command is killed with its process group, the check it was to decide is undecided with
 * the reason, and the run ends normally with its report set. The image is built here at run
 * time (the controller's sh and sleep, and a qemu-system-x86_64 script that hangs).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sevcheck } from '../helpers.js';

function copyBinary(img: string, bin: string): boolean {
  let ldd: string;
  try {
    ldd = execFileSync('ldd', [bin], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return false;
  }
  for (const f of [bin, ...[...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] as string)]) {
    mkdirSync(dirname(join(img, f)), { recursive: true });
    copyFileSync(f, join(img, f));
    chmodSync(join(img, f), 0o755);
  }
  return true;
}

function sandboxProblem(): string | undefined {
  try {
    execFileSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { timeout: 10_000, stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `bwrap cannot run here (${(e as Error).message.split('\n')[0]})`;
  }
}

describe('a hung image command', () => {
  it('ignoring SIGTERM: killed at its timeout, its check undecided, the run reaches its report', async (ctx) => {
    const why = sandboxProblem();
    if (why && process.env.SEVCHECK_REQUIRE_ROOTFS === '1') throw new Error(why);
    if (why) return ctx.skip(why);
    const base = mkdtempSync(join(tmpdir(), 'sevcheck-hostile-img-'));
    const img = join(base, 'img');
    mkdirSync(join(img, 'etc'), { recursive: true });
    writeFileSync(join(img, 'etc/os-release'), 'ID=debian\nPRETTY_NAME="Hostile 1"\n');
    if (!copyBinary(img, '/bin/sh') || !copyBinary(img, '/bin/sleep')) return ctx.skip('cannot copy /bin/sh into the test image');
    mkdirSync(join(img, 'usr/bin'), { recursive: true });
    // SIG_IGN is inherited across exec: sleep ignores SIGTERM too
    writeFileSync(join(img, 'usr/bin/qemu-system-x86_64'), "#!/bin/sh\ntrap '' TERM\nexec sleep 100000\n");
    chmodSync(join(img, 'usr/bin/qemu-system-x86_64'), 0o755);
    const out = join(base, 'out');
    const r = await sevcheck(['run', '--host', `rootfs:${img}`, '--tags', '@check:distro.qemu.sev-object', '--format', 'json', '--out', out], {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; reason?: string }> };
    const c = results.checks.find((x) => x.id === 'distro.qemu.sev-object');
    expect(c?.status).toBe('undecided');
    expect(c?.reason).toMatch(/qemu-system-x86_64 -object help: timed out after 15 s; killed with its process group/);
    for (const f of ['report.html', 'results.json', 'summary.md', 'junit.xml']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/undecided/);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toMatch(/sleep 100000/);
  }, 150_000);
});
