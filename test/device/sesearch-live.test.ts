/**
 * Runs the real sesearch against a compiled policy on this machine (Debian: apt-get install -y
 * selinux-policy-default setools; SELinux need not be enabled) and feeds the output through
 * parseSesearch/svirtAccessVerdict. Skipped, with the reason printed, only when sesearch or a
 * compiled policy is absent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSesearch, svirtAccessVerdict } from '../../support/parsers/sesearch.js';

function findSesearch(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v sesearch'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function findPolicy(): string | undefined {
  for (const store of ['/etc/selinux/default/policy', '/etc/selinux/targeted/policy', '/etc/selinux/refpolicy/policy']) {
    if (!existsSync(store)) continue;
    const files = readdirSync(store).filter((f) => /^policy\.\d+$/.test(f)).sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]));
    if (files[0]) return `${store}/${files[0]}`;
  }
  return undefined;
}

const sesearch = findSesearch();
const policy = findPolicy();
const reason = !sesearch ? 'sesearch not installed (apt-get install -y setools)' : !policy ? 'no compiled policy under /etc/selinux/*/policy (apt-get install -y selinux-policy-default)' : '';
if (reason) console.log(`sesearch-live: skipped: ${reason}`);

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(sesearch ?? 'sesearch', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(reason !== '')('sesearch against the installed policy', () => {
  it('reports its version', () => {
    expect(execFileSync(sesearch ?? 'sesearch', ['--version'], { encoding: 'utf8' })).toMatch(/^\d+\.\d+/);
  });

  it('svirt_t -> sev_device_t:chr_file parses and yields a definite verdict', () => {
    const r = run(['-A', '-s', 'svirt_t', '-t', 'sev_device_t', '-c', 'chr_file', policy ?? '']);
    const parsed = parseSesearch(r.stdout, 'sesearch');
    expect(parsed.ok, r.stdout + r.stderr).toBe(true);
    if (!parsed.ok) return;
    if (parsed.value.kind === 'unknown-type') {
      // Debian's refpolicy (2:2.20221101) has no sev_device_t: sesearch exits 1
      expect(r.status).toBe(1);
      expect(parsed.value.name).toBe('sev_device_t');
      expect(svirtAccessVerdict(parsed.value).status).toBe('failed');
    } else {
      expect(r.status).toBe(0);
      expect(['passed', 'failed', 'undecided']).toContain(svirtAccessVerdict(parsed.value).status);
    }
  });

  it('svirt_t -> kvm_device_t:chr_file: the policy lets QEMU use /dev/kvm', () => {
    const r = run(['-A', '-s', 'svirt_t', '-t', 'kvm_device_t', '-c', 'chr_file', policy ?? '']);
    expect(r.status).toBe(0);
    const parsed = parseSesearch(r.stdout);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(svirtAccessVerdict(parsed.value, new Map(), 'svirt_t', 'kvm_device_t').status).toBe('passed');
  });

  it('every rule for svirt_t on chr_file parses (attributes, conditionals, single perms)', () => {
    const r = run(['-A', '-s', 'svirt_t', '-c', 'chr_file', policy ?? '']);
    expect(r.status).toBe(0);
    const parsed = parseSesearch(r.stdout);
    expect(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.error)).toBe(true);
    if (parsed.ok && parsed.value.kind === 'rules') {
      expect(parsed.value.rules.length).toBe(r.stdout.trim().split('\n').length);
      expect(parsed.value.rules.some((x) => x.condition)).toBe(true);
    }
  });
});
