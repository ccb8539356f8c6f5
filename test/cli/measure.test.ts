import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureMain } from '../../support/cli/measure.js';
import { writeSynthImages } from '../sev/measure-fixtures.js';
import { VECTORS as VECTOR_DIR } from '../helpers.js';
import { DEBIAN_OVMF_SHA256, DEBIAN_PATHS, DEBIAN_VECTORS, VECTORS, type MeasureVector } from '../sev/measure-vectors.js';

const run = promisify(execFile);
const FIXTURES = resolve(VECTOR_DIR, 'sev-snp-measure/tests/fixtures');
let synth = '';

beforeAll(() => {
  synth = mkdtempSync(join(tmpdir(), 'sevcheck-measure-'));
  writeSynthImages(synth);
  writeFileSync(join(synth, 'plain.fd'), Buffer.alloc(8192, 0xff)); // page-sized, no footer table
});
afterAll(() => rmSync(synth, { recursive: true, force: true }));

function subst(args: readonly string[]): string[] {
  return args.map((a) => {
    let s = a.replace('{fixtures}', FIXTURES).replace('{synth}', synth);
    for (const [tok, path] of Object.entries(DEBIAN_PATHS)) s = s.replace(tok, path);
    return s;
  });
}

async function measure(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await measureMain(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('sevcheck measure prints what sev-snp-measure prints (vectors in test/sev/measure-vectors.ts)', () => {
  it.each(VECTORS.map((v) => [v.name, v] as [string, MeasureVector]))('%s', async (_name, v) => {
    const r = await measure(subst(v.args));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v.stdout);
  });
});

describe("Debian's OVMF images", () => {
  it('are the builds the vectors were computed from (else: recompute DEBIAN_VECTORS with sev-snp-measure)', () => {
    for (const [path, sha] of Object.entries(DEBIAN_OVMF_SHA256)) {
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), `${path} changed`).toBe(sha);
    }
  });
  const same = Object.entries(DEBIAN_OVMF_SHA256).every(
    ([p, sha]) => existsSync(p) && createHash('sha256').update(readFileSync(p)).digest('hex') === sha,
  );
  it.runIf(same).each(DEBIAN_VECTORS.map((v) => [v.name, v] as [string, MeasureVector]))('%s', async (_name, v) => {
    const r = await measure(subst(v.args));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(v.stdout);
  });
});

describe('bad input: exit 2, one line "sevcheck measure: <file>: <problem>"', () => {
  const amd = `${FIXTURES}/ovmf_AmdSev_suffix.bin`;
  const x64 = `${FIXTURES}/ovmf_OvmfX64_suffix.bin`;
  const cases: [string, () => string[], RegExp][] = [
    ['missing firmware file', () => ['--mode', 'sev', '--ovmf', '/nonexistent/OVMF.fd'], /^sevcheck measure: \/nonexistent\/OVMF\.fd: cannot read: ENOENT: no such file or directory\n$/],
    ['unknown mode', () => ['--mode', 'tdx', '--ovmf', amd], /^sevcheck measure: --mode: invalid choice 'tdx'/],
    ['no --mode', () => ['--ovmf', amd], /^sevcheck measure: --mode: required/],
    ['no --ovmf', () => ['--mode', 'sev'], /^sevcheck measure: --ovmf: required/],
    ['no --vcpus in snp mode', () => ['--mode', 'snp', '--vcpu-type', 'EPYC', '--ovmf', amd], /^sevcheck measure: --vcpus: missing --vcpus N in guest mode 'snp'\n$/],
    ['no vCPU type with QEMU', () => ['--mode', 'seves', '--vcpus', '1', '--ovmf', amd], /--vcpu-type: missing --vcpu-type or --vcpu-sig or --vcpu-family/],
    ['unknown vCPU type', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-Venice', '--ovmf', amd], /--vcpu-type: unknown vCPU type 'EPYC-Venice'/],
    ['family without model', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-family', '25', '--ovmf', amd], /--vcpu-family: --vcpu-model and --vcpu-stepping are required/],
    ['non-numeric vcpus', () => ['--mode', 'snp', '--vcpus', 'four', '--vcpu-type', 'EPYC', '--ovmf', amd], /--vcpus: invalid int value: 'four'/],
    ['zero vcpus', () => ['--mode', 'snp', '--vcpus', '0', '--vcpu-type', 'EPYC', '--ovmf', amd], /--vcpus: vCPU count 0 must be/],
    ['unknown VMM', () => ['--mode', 'snp', '--vcpus', '1', '--vmm-type', 'xen', '--ovmf', amd], /--vmm-type: unknown VMM type 'xen'/],
    ['initrd without kernel', () => ['--mode', 'sev', '--initrd', amd, '--ovmf', amd], /--initrd: --kernel required when using --initrd/],
    ['append without kernel', () => ['--mode', 'sev', '--append', 'quiet', '--ovmf', amd], /--append: --kernel required when using --append/],
    ['kernel with OvmfX64 (snp)', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', x64, '--kernel', amd], /ovmf_OvmfX64_suffix\.bin: kernel hashes requested .* no SNP_KERNEL_HASHES section/],
    ['kernel with OvmfX64 (sev)', () => ['--mode', 'sev', '--ovmf', x64, '--kernel', amd], /ovmf_OvmfX64_suffix\.bin: .*no SEV hashes table/],
    ['firmware without GUID table (snp)', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', `${synth}/plain.fd`], /plain\.fd: no OVMF footer GUID table \(96b582de-1fb2-45f7-baea-a366c55a082d at end-0x30\): not an SEV-capable OVMF build, SEV-ES reset block is unknown\n$/],
    ['firmware not page-sized (snp)', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', `${synth}/synth-kernel.bin`], /synth-kernel\.bin: image is 65659 bytes, not a multiple of 4096/],
    ['firmware without GUID table (seves)', () => ['--mode', 'seves', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', `${synth}/synth-initrd.bin`], /synth-initrd\.bin: no OVMF footer GUID table \(96b582de-1fb2-45f7-baea-a366c55a082d at end-0x30\)/],
    ['short --snp-ovmf-hash', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', amd, '--snp-ovmf-hash', 'abcd'], /--snp-ovmf-hash: must be 48 bytes/],
    ['--snp-ovmf-hash outside snp', () => ['--mode', 'seves', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', amd, '--snp-ovmf-hash', 'ab'.repeat(48)], /--snp-ovmf-hash: SNP OVMF hash only works with --mode snp/],
    ['svsm without vars', () => ['--mode', 'snp:svsm', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', amd, '--svsm', amd], /--vars-size: snp:svsm mode requires --vars-size or --vars-file/],
    ['svsm without SVSM info entry', () => ['--mode', 'snp:svsm', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', amd, '--svsm', amd, '--vars-size', '8192'], /ovmf_AmdSev_suffix\.bin: OVMF footer table has no SVSM info entry/],
    ['unknown option', () => ['--mode', 'sev', '--ovmf', amd, '--frobnicate'], /^sevcheck measure: --frobnicate: unknown option\n$/],
    ['flag given a value', () => ['--mode', 'sev', '--ovmf', amd, '--verbose=3'], /^sevcheck measure: --verbose: does not take a value\n$/],
    ['negative value without =', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-sig', '-1', '--ovmf', amd], /--vcpu-sig: value starts with '-': write it as --vcpu-sig=VALUE/],
    ['signature out of range', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-sig=0x100000000', '--ovmf', amd], /--vcpu-sig: 0x100000000 is not a 32-bit CPUID signature/],
    ['directory as firmware', () => ['--mode', 'sev', '--ovmf', synth], /: cannot read: EISDIR: illegal operation on a directory\n$/],
    ['positional argument', () => ['--mode', 'sev', '--ovmf', amd, 'extra'], /^sevcheck measure: arguments: unrecognized arguments: extra\n$/],
    ['bad output format', () => ['--mode', 'sev', '--ovmf', amd, '--output-format', 'raw'], /--output-format: invalid choice 'raw'/],
    ['bad guest features', () => ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', amd, '--guest-features', 'zz'], /--guest-features: invalid value 'zz'/],
  ];
  it.each(cases)('%s', async (_name, args, re) => {
    const r = await measure(args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sevcheck measure: [^:]+: /);
  });
  it("--vmm-type qemu is accepted as upstream's QEMU", async () => {
    const base = ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-Milan', '--ovmf', amd];
    const lower = await measure([...base, '--vmm-type', 'qemu']);
    expect(lower.code).toBe(0);
    expect(lower.stdout).toBe((await measure([...base, '--vmm-type', 'QEMU'])).stdout);
    expect(lower.stdout).toBe((await measure(base)).stdout);
  });
  it('--help prints usage and exits 0', async () => {
    const r = await measure(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: sevcheck measure --mode/);
  });
});

describe('--vmsa-model: the SEV-ES VMSA of KVM_SEV_INIT2 (default) or of KVM_SEV_ES_INIT', () => {
  const OVMF_4M = '/usr/share/OVMF/OVMF_CODE_4M.fd';
  const base = ['--mode', 'seves', '--vcpus', '2', '--vcpu-type', 'EPYC-Milan', '--ovmf', OVMF_4M];
  // issue 13 §6: sev-snp-measure's digest vs the one libvirt's virt-qemu-sev-validate computes
  // (test/sev/vmsa-model.test.ts runs virt-qemu-sev-validate itself on the same inputs)
  const INIT2 = '39ffae5ea4624d0b5fec8d9318342f3da4d25ea5946264e142732157e188d92d\n';
  const LEGACY = '08c7efe5ed41a087f183cdcc126e2e4179937ec58cae45eba86ae07f83b49065\n';
  it('defaults to init2, what sev-snp-measure prints', async () => {
    expect((await measure(base)).stdout).toBe(INIT2);
    expect((await measure([...base, '--vmsa-model', 'init2'])).stdout).toBe(INIT2);
  });
  it('legacy gives the KVM_SEV_ES_INIT digest, in each output format', async () => {
    const r = await measure([...base, '--vmsa-model', 'legacy']);
    expect(r).toEqual({ code: 0, stdout: LEGACY, stderr: '' });
    expect((await measure([...base, '--vmsa-model=legacy', '--output-format', 'base64', '-v'])).stdout).toBe(
      `Calculated SEV_ES guest measurement: ${Buffer.from(LEGACY.trim(), 'hex').toString('base64')}\n`,
    );
  });
  it.each([
    [['--vmsa-model', 'fpu'], /^sevcheck measure: --vmsa-model: invalid choice 'fpu' \(choose from init2, legacy\)\n$/],
    [['--mode', 'snp', '--vmsa-model', 'legacy'], /^sevcheck measure: --vmsa-model: only with --mode seves \(SNP VMs always get the KVM_SEV_INIT2 VMSA\)\n$/],
    [['--mode', 'sev', '--vmsa-model', 'init2'], /^sevcheck measure: --vmsa-model: only with --mode seves \(SEV has no VMSAs\)\n$/],
  ])('%j is exit 2 with one line', async (extra, re) => {
    const r = await measure([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(re);
  });
  it('--help documents both models and which platforms launch them', async () => {
    const r = await measure(['--help']);
    expect(r.stdout).toContain('[--vmsa-model {init2,legacy}]');
    expect(r.stdout).toMatch(/init2 +MXCSR 0x1f80, x87 FCW 0x37f: Linux >= 6\.10 with QEMU >= 9\.1/);
    expect(r.stdout).toMatch(/legacy +no x87\/SSE state: kernels before 6\.10, QEMU before 9\.1/);
  });
});

describe('measure-entry process', () => {
  const entry = ['--import', 'tsx', 'support/cli/measure-entry.ts'];
  it('prints the digest and exits 0; bad input exits 2', async () => {
    const v = VECTORS.find((x) => x.name === 'amdsev snp EPYC-Milan 4 vcpus kernel only');
    const ok = await run(process.execPath, [...entry, ...subst(v?.args ?? [])]);
    expect(ok.stdout).toBe(v?.stdout);
    const bad = await run(process.execPath, [...entry, '--mode', 'sev', '--ovmf', '/nonexistent']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toBe('sevcheck measure: /nonexistent: cannot read: ENOENT: no such file or directory\n');
  });
  it('--dump-vmsa writes vmsa<N>.bin into the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sevcheck-vmsa-'));
    try {
      const root = process.cwd();
      // --import resolves a bare name against the cwd, so point at tsx's loader by URL
      const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
      await run(process.execPath, ['--import', tsx, join(root, 'support/cli/measure-entry.ts'), '--mode', 'seves', '--vcpus', '3', '--vcpu-type', 'EPYC', '--ovmf', `${FIXTURES}/ovmf_AmdSev_suffix.bin`, '--dump-vmsa'], { cwd });
      expect(readdirSync(cwd).sort()).toEqual(['vmsa0.bin', 'vmsa1.bin', 'vmsa2.bin']);
      expect(readFileSync(join(cwd, 'vmsa1.bin')).length).toBe(4096);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
  it('does not load cucumber (walks the relative import graph of the entry)', () => {
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      expect(src, file).not.toMatch(/from ['"]@cucumber|import\(['"]@cucumber/);
      for (const m of src.matchAll(/from ['"](\.{1,2}\/[^'"]+)\.js['"]/g)) walk(resolve(dirname(file), `${m[1]}.ts`));
    };
    walk(resolve('support/cli/measure-entry.ts'));
    expect(seen.size).toBeGreaterThan(5);
  });
});
