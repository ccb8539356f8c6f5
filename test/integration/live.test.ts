/**
 * Live runs against this machine (--host local). CI machines may be Intel or AMD, with or without
 * KVM, with or without a readable /dev/cpu/0/cpuid (issue 13 §4): each test first looks at what
 * the machine is (vendor, CPUID leaf 0x8000001F, /dev/kvm, kvm_amd) by itself, then asserts the
 * verdict that follows from it — never a verdict only one kind of machine gives. live-hidden.test.ts
 * runs this file once more with the CPUID and KVM devices hidden in a mount namespace.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sevcheck, byId, type JsonResults } from '../helpers.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

/** What this machine is, read directly (not through sevcheck). */
interface Machine {
  vendor: string | undefined;
  flags: Set<string>;
  /** /dev/cpu/0/cpuid: readable, absent (no cpuid module / hidden), or denied (not root) */
  cpuid: 'readable' | 'absent' | 'denied';
  /** CPUID 0x80000000 EAX, when readable */
  maxExtendedLeaf: number | undefined;
  /** CPUID 0x8000001F EAX, when the leaf exists */
  leaf1fEax: number | undefined;
  kvm: boolean;
  /** /sys/module/kvm_amd/parameters/sev is Y or 1 */
  kvmAmdSev: boolean;
}

function readLeaf(fd: number, leaf: number): Buffer {
  const b = Buffer.alloc(16);
  readSync(fd, b, 0, 16, leaf); // linux arch/x86/kernel/cpuid.c: the offset selects the leaf
  return b;
}

function machine(): Machine {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(info)?.[1];
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/).filter(Boolean));
  let cpuid: Machine['cpuid'] = 'readable';
  let maxExtendedLeaf: number | undefined;
  let leaf1fEax: number | undefined;
  try {
    const fd = openSync('/dev/cpu/0/cpuid', 'r');
    try {
      maxExtendedLeaf = readLeaf(fd, 0x80000000).readUInt32LE(0);
      if (maxExtendedLeaf >= 0x8000001f) leaf1fEax = readLeaf(fd, 0x8000001f).readUInt32LE(0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    cpuid = code === 'EACCES' || code === 'EPERM' ? 'denied' : 'absent';
  }
  let kvmAmdSev = false;
  try {
    kvmAmdSev = ['Y', '1'].includes(readFileSync('/sys/module/kvm_amd/parameters/sev', 'utf8').trim());
  } catch {
    /* no kvm_amd */
  }
  return { vendor, flags, cpuid, maxExtendedLeaf, leaf1fEax, kvm: existsSync('/dev/kvm'), kvmAmdSev };
}

const M = machine();
const AMD = M.vendor === 'AuthenticAMD';
const describeMachine = `${M.vendor ?? 'unknown vendor'}, /dev/cpu/0/cpuid ${M.cpuid}${M.maxExtendedLeaf !== undefined ? `, max extended leaf 0x${M.maxExtendedLeaf.toString(16)}` : ''}, /dev/kvm ${M.kvm ? 'present' : 'absent'}`;

/** The verdict (and a message pattern) host.cpuid.sev must give on this machine. */
function expectedCpuidSev(): [string, RegExp] {
  if (!AMD) return ['failed', /processor \(\/proc\/cpuinfo vendor_id\): CPUID leaf 0x8000001F is AMD's/];
  if (M.cpuid === 'absent') return ['undecided', /\/dev\/cpu\/0\/cpuid: no such file/];
  if (M.cpuid === 'denied') return ['undecided', /\/dev\/cpu\/0\/cpuid: permission denied/];
  if (M.leaf1fEax === undefined) return ['failed', /does not implement CPUID leaf 0x8000001F/];
  return ((M.leaf1fEax >>> 1) & 1) === 1 ? ['passed', /EAX bit 1 \(SEV\) is set/] : ['failed', /CPUID 0x8000001F/];
}

async function runJson(args: string[], env: Record<string, string> = {}): Promise<{ code: number; results: JsonResults }> {
  const r = await sevcheck([...args, '--format', 'json', '--out', tmp('sevcheck-live-')], env);
  expect(r.stderr).toBe('');
  return { code: r.code, results: JSON.parse(r.stdout) as JsonResults };
}

describe(`live run on this machine (--host local): ${describeMachine}`, () => {
  it('decides each SEV check as this machine\'s own CPUID, cpuinfo and kvm_amd say, with the reason', async () => {
    const { code, results } = await runJson(['run', '--host', 'local']);
    const v = byId(results);
    const msg = (id: string): string => results.checks.find((c) => c.id === id && c.status !== 'skipped')?.message ?? '';
    expect(v['host.cpu.sev-flag'], describeMachine).toBe(M.flags.has('sev') ? 'passed' : 'failed');
    if (!M.flags.has('sev')) expect(msg('host.cpu.sev-flag')).toMatch(/no "sev" in the \/proc\/cpuinfo flags/);
    const [status, message] = expectedCpuidSev();
    expect(v['host.cpuid.sev'], describeMachine).toBe(status);
    expect(msg('host.cpuid.sev')).toMatch(message);
    expect(v['host.kvm-amd.sev'], describeMachine).toBe(M.kvmAmdSev ? 'passed' : 'failed');
    expect(msg('host.kvm-amd.sev')).toMatch(/kvm_amd/);
    if (!AMD) {
      // a non-AMD CPU: no BIOS advice for leaf 0x8000001F, and no register dump of it
      for (const id of ['host.cpuid.cbitpos', 'host.cpuid.asids']) {
        expect(v[id], id).toBe('failed');
        expect(msg(id), id).not.toMatch(/BIOS|EBX=/);
      }
    }
    // /dev/kvm: the KVM device check fails without it, whatever else the machine is
    if (!M.kvm) expect(v['device.kvm.qemu-access']).toBe('failed');
    expect(code).toBe(results.checks.some((c) => c.status === 'failed') ? 1 : 0);
  });

  it('agrees with libvirt virt-host-validate on secure guest support', async (ctx) => {
    let out: string;
    try {
      out = execFileSync('virt-host-validate', ['qemu'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      const stdout = (e as { stdout?: string }).stdout;
      if (!stdout) {
        console.log('skipped: virt-host-validate (libvirt-clients) is not installed');
        ctx.skip();
        return;
      }
      out = stdout; // it exits 1 when some check FAILs; the lines are still there
    }
    const line = out.split('\n').find((l) => /secure guest support/i.test(l));
    expect(line, 'virt-host-validate prints a secure guest support line').toBeDefined();
    const libvirtSays = /:\s*PASS/.test(line as string) ? 'passed' : 'not passed';
    const { results } = await runJson(['run', '--host', 'local']);
    const v = byId(results);
    const sevcheckSays = v['host.cpuid.sev'] === 'passed' && v['host.kvm-amd.sev'] === 'passed' ? 'passed' : 'not passed';
    expect(sevcheckSays, `virt-host-validate: ${line?.trim()}`).toBe(libvirtSays);
  });

  it('reads every fact at most once per run (per-run cache), and CPUID leaf 0x8000001F only where it exists', async () => {
    const log = join(tmp('sevcheck-reads-'), 'reads.json');
    await runJson(['run', '--host', 'local'], { SEVCHECK_READ_LOG: log });
    const counts = JSON.parse(readFileSync(log, 'utf8')) as Record<string, number>;
    const reads = Object.keys(counts);
    expect(reads).toEqual(expect.arrayContaining(['readFile /proc/cpuinfo', 'readFile /proc/cmdline']));
    // the vendor decides first: a non-AMD CPU's extended leaves are never read as SEV bits
    if (AMD) expect(reads).toContain('cpuid 0x80000000 cpu0');
    else expect(reads.filter((r) => r.startsWith('cpuid 0x8000'))).toEqual([]);
    const leafExists = AMD && M.cpuid === 'readable' && M.leaf1fEax !== undefined;
    expect(reads.includes('cpuid 0x8000001f cpu0'), describeMachine).toBe(leafExists);
    for (const [read, n] of Object.entries(counts)) expect(n, read).toBe(1);
  });

  it('record → replay gives identical verdicts and messages', async () => {
    const dir = join(tmp('sevcheck-rec-'), 'this-machine');
    const rec = await sevcheck(['record', '--host', 'local', '--out', dir, '--reports', tmp('sevcheck-recrep-')]);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toMatch(/recorded local into/);
    const host = JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8'));
    expect(host).toMatchObject({ name: 'this-machine', source: 'recorded', profile: 'sev' });
    const live = await runJson(['run', '--host', 'local']);
    const replay = await runJson(['run', '--host', `fixture:${dir}`]);
    const strip = (r: JsonResults) => r.checks.map(({ id, status, scenario, message }) => ({ id, status, scenario, message }));
    expect(strip(replay.results)).toEqual(strip(live.results));
    expect(replay.code).toBe(live.code);
  });
});
