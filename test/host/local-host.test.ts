import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../support/host/local-host.js';
import { HarnessError } from '../../support/host/types.js';

const h = new LocalHost();

describe('local host backend', () => {
  it('runs argv without a shell and returns exit code and output', async () => {
    const r = await h.run(['sh', '-c', 'echo "$0" $1; exit 3', '$(touch /tmp/nope)', 'b c']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('$(touch /tmp/nope) b c\n');
  });

  it('reports a missing program as exit 127 "command not found", like a shell', async () => {
    const r = await h.run(['sevcheck-no-such-program', '--x']);
    expect(r).toMatchObject({ exitCode: 127, stderr: 'sevcheck-no-such-program: command not found\n' });
  });

  it('turns a command timeout into a harness error naming the host and command', async () => {
    const err = await h.run(['sleep', '5'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as Error).message).toBe('local: command timed out after 0.2 s: sleep 5');
  });

  it('maps file errors to HostError codes with the path', async () => {
    await expect(h.readFile('/nonexistent/x')).rejects.toMatchObject({ code: 'ENOENT', message: '/nonexistent/x: no such file or directory' });
    await expect(h.readFile('/proc')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(h.listDir('/proc/cmdline')).rejects.toMatchObject({ code: 'ENOTDIR' });
    if (process.getuid?.() !== 0) {
      const d = mkdtempSync(join(tmpdir(), 'sc-'));
      writeFileSync(join(d, 'f'), 'x');
      chmodSync(join(d, 'f'), 0);
      await expect(h.readFile(join(d, 'f'))).rejects.toMatchObject({ code: 'EACCES' });
    }
  });

  it('stats files with permission bits only and the file type', async () => {
    const s = await h.stat('/proc');
    expect(s.type).toBe('dir');
    expect(s.mode & ~0o7777).toBe(0);
    expect((await h.stat('/dev/null')).type).toBe('char');
  });

  it('reads CPUID through /dev/cpu/N/cpuid, or says why it cannot', async () => {
    try {
      const r = await h.cpuid(0);
      // leaf 0: EBX, EDX, ECX spell the vendor
      const vendor = Buffer.alloc(12);
      vendor.writeUInt32LE(r.ebx, 0);
      vendor.writeUInt32LE(r.edx, 4);
      vendor.writeUInt32LE(r.ecx, 8);
      expect(vendor.toString('latin1')).toMatch(/^(AuthenticAMD|GenuineIntel|HygonGenuine)$/);
    } catch (e) {
      expect((e as Error).message).toMatch(/\/dev\/cpu\/0\/cpuid: (no such file or directory \(load the cpuid module|permission denied \(reading CPUID)/);
    }
    await expect(h.cpuid(0, 100000)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
