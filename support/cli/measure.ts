/**
 * `sevcheck measure`: expected SEV / SEV-ES / SEV-SNP launch measurement of a guest, command-line
 * compatible with virtee/sev-snp-measure (sevsnpmeasure/cli.py) and printing the same value for
 * the same inputs. Differences: every input problem exits 2 with one line
 * `sevcheck measure: <file or option>: <problem>` (upstream exits 1 with "Error: …" or a Python
 * traceback for some of them); `--vmm-type` also accepts `qemu`; `--vcpus` must be 1..4096;
 * `--vmsa-model legacy` (seves only) computes the VMSA of KVM_SEV_ES_INIT platforms, as libvirt's
 * virt-qemu-sev-validate does, instead of sev-snp-measure's KVM_SEV_INIT2 VMSA (the default;
 * which platform launches which: support/sev/vmsa-model.ts).
 *
 * Deliberately light: node:util parseArgs, no cucumber, so startup stays fast.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { parseOvmf, type OvmfImage } from '../sev/ovmf.js';
import { sevKernelHashes, type SevKernelHashes } from '../sev/sev-hashes.js';
import { sevEsLaunchDigest, sevLaunchDigest } from '../sev/sev-measurement.js';
import { snpLaunchDigest, snpOvmfHash, svsmLaunchDigest } from '../sev/snp-digest.js';
import { CPU_SIGS, cpuSig, VMM_TYPES, VMSA_MODELS, type VmmType, type VmsaModel } from '../sev/vmsa.js';

export interface MeasureOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const MODES = ['sev', 'seves', 'snp', 'snp:ovmf-hash', 'snp:svsm'] as const;
type Mode = (typeof MODES)[number];
/** Mode names as sev-snp-measure's `--verbose` prints them (sev_mode.py SevMode member names). */
const MODE_NAMES: Record<Exclude<Mode, 'snp:ovmf-hash'>, string> = {
  sev: 'SEV',
  seves: 'SEV_ES',
  snp: 'SEV_SNP',
  'snp:svsm': 'SEV_SNP_SVSM',
};

const USAGE = `usage: sevcheck measure --mode {${MODES.join(',')}} --ovmf PATH
                        [--vcpus N] [--vcpu-type CPUTYPE | --vcpu-sig VALUE |
                         --vcpu-family FAMILY --vcpu-model MODEL --vcpu-stepping STEPPING]
                        [--vmm-type {QEMU,ec2,gce}] [--kernel PATH] [--initrd PATH]
                        [--append CMDLINE] [--guest-features VALUE]
                        [--output-format {hex,base64}] [--snp-ovmf-hash HASH] [--dump-vmsa]
                        [--svsm PATH] [--vars-size SIZE | --vars-file PATH] [-v]
                        [--vmsa-model {${VMSA_MODELS.join(',')}}]

Calculate AMD SEV/SEV-ES/SEV-SNP guest launch measurement (compatible with sev-snp-measure).
vCPU types: ${Object.keys(CPU_SIGS).join(', ')}

--vmsa-model (--mode seves only): the FPU state the platform puts into each VMSA.
  init2   MXCSR 0x1f80, x87 FCW 0x37f: Linux >= 6.10 with QEMU >= 9.1 and
          -object sev-guest,legacy-vm-type=off (KVM_SEV_INIT2); what sev-snp-measure
          computes (default)
  legacy  no x87/SSE state: kernels before 6.10, QEMU before 9.1, and QEMU's default
          legacy-vm-type (KVM_SEV_ES_INIT); what libvirt's virt-qemu-sev-validate computes
`;

const OPTIONS = {
  mode: { type: 'string' },
  vcpus: { type: 'string' },
  'vcpu-type': { type: 'string' },
  'vcpu-sig': { type: 'string' },
  'vcpu-family': { type: 'string' },
  'vcpu-model': { type: 'string' },
  'vcpu-stepping': { type: 'string' },
  'vmm-type': { type: 'string' },
  ovmf: { type: 'string' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  'guest-features': { type: 'string' },
  'output-format': { type: 'string' },
  'snp-ovmf-hash': { type: 'string' },
  'dump-vmsa': { type: 'boolean' },
  svsm: { type: 'string' },
  'vars-size': { type: 'string' },
  'vars-file': { type: 'string' },
  'vmsa-model': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Python int(s): optional sign, decimal digits (underscores between digits allowed). */
function parseDecimal(opt: string, s: string): number {
  const t = s.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) throw new InputError(`--${opt}`, `invalid int value: '${s}'`);
  const n = Number(t.replace(/_/g, ''));
  if (!Number.isSafeInteger(n)) throw new InputError(`--${opt}`, `${s} is out of range`);
  return n;
}

/** Python int(s, 0): 0x/0o/0b prefixes or plain decimal (sev-snp-measure --vcpu-sig, --guest-features). */
function parseAutoBase(opt: string, s: string): bigint {
  const t = s.trim().replace(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9]\d*|0+)$/.exec(t);
  if (!m) throw new InputError(`--${opt}`, `invalid value '${s}' (use hex like 0x21 or decimal)`);
  const v = BigInt(m[2] ?? '0');
  return m[1] === '-' ? -v : v;
}

function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open '/x'" → "ENOENT: no such file or directory"
    throw new InputError(path, `cannot read: ${(err.message ?? String(e)).replace(/, \w+( '.*')?$/, '')}`);
  }
}

function loadOvmf(path: string): OvmfImage {
  return parseOvmf(readInput(path), path);
}

function hexDigest(opt: string, s: string): Uint8Array {
  const t = s.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new InputError(`--${opt}`, 'not a hex string');
  const b = Buffer.from(t, 'hex');
  if (b.length !== 48) throw new InputError(`--${opt}`, `must be 48 bytes (96 hex digits, a SHA-384 launch digest), got ${b.length}`);
  return b;
}

interface Parsed {
  values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };
}

function parse(argv: string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new InputError('arguments', `unrecognized arguments: ${positionals.join(' ')}`);
    return { values: values as Parsed['values'] };
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as Error & { code?: string };
    const msg = err.message.split('\n')[0] ?? String(e);
    const opt = /'(--?[\w-]+)(?:, (--[\w-]+))?/.exec(msg);
    const name = opt?.[2] ?? opt?.[1] ?? 'arguments';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new InputError(name, 'unknown option');
    if (/argument missing/.test(msg)) throw new InputError(name, 'expects a value');
    if (/does not take an argument/.test(msg)) throw new InputError(name, 'does not take a value');
    if (/ambiguous/.test(msg)) throw new InputError(name, `value starts with '-': write it as ${name}=VALUE`);
    throw new InputError(name, msg);
  }
}

/** Compute and print the measurement; returns the exit code (0 ok, 2 bad input). */
async function run(argv: string[], out: MeasureOutput): Promise<number> {
  const { values: a } = parse(argv);
  if (a.help) {
    out.stdout(USAGE);
    return 0;
  }
  if (a.mode === undefined) throw new InputError('--mode', `required: one of ${MODES.join(', ')}`);
  if (!(MODES as readonly string[]).includes(a.mode)) {
    throw new InputError('--mode', `invalid choice '${a.mode}' (choose from ${MODES.join(', ')})`);
  }
  const mode = a.mode as Mode;
  if (a.ovmf === undefined) throw new InputError('--ovmf', 'required: the OVMF firmware image the guest boots');
  const outputFormat = a['output-format'] ?? 'hex';
  if (outputFormat !== 'hex' && outputFormat !== 'base64') {
    throw new InputError('--output-format', `invalid choice '${outputFormat}' (choose from hex, base64)`);
  }
  if (a['vcpu-type'] !== undefined && !(a['vcpu-type'] in CPU_SIGS)) {
    throw new InputError('--vcpu-type', `unknown vCPU type '${a['vcpu-type']}' (choose from ${Object.keys(CPU_SIGS).join(', ')})`);
  }
  let vmsaModel: VmsaModel | undefined;
  if (a['vmsa-model'] !== undefined) {
    vmsaModel = VMSA_MODELS.find((m) => m === a['vmsa-model']);
    if (vmsaModel === undefined) throw new InputError('--vmsa-model', `invalid choice '${a['vmsa-model']}' (choose from ${VMSA_MODELS.join(', ')})`);
    if (mode !== 'seves') {
      throw new InputError('--vmsa-model', `only with --mode seves (${mode === 'sev' ? 'SEV has no VMSAs' : 'SNP VMs always get the KVM_SEV_INIT2 VMSA'})`);
    }
  }
  if (a['vars-size'] !== undefined && a['vars-file'] !== undefined) {
    throw new InputError('--vars-size', 'not allowed with --vars-file');
  }

  if (mode === 'snp:ovmf-hash') {
    // Upstream prints the hex digest of the firmware pages and ignores every other option.
    out.stdout(Buffer.from(snpOvmfHash(loadOvmf(a.ovmf))).toString('hex') + '\n');
    return 0;
  }

  const kernel = a.kernel || undefined; // upstream tests `if kernel:`, so "" means none
  if (a.initrd && !kernel) throw new InputError('--initrd', '--kernel required when using --initrd');
  if (a.append && !kernel) throw new InputError('--append', '--kernel required when using --append');
  const vcpus = a.vcpus === undefined ? undefined : parseDecimal('vcpus', a.vcpus);
  if (mode !== 'sev' && vcpus === undefined) throw new InputError('--vcpus', `missing --vcpus N in guest mode '${mode}'`);

  const vmmArg = a['vmm-type'] ?? 'QEMU';
  const vmmType = VMM_TYPES.find((t) => t === vmmArg || (vmmArg === 'qemu' && t === 'QEMU')) as VmmType | undefined;
  if (vmmType === undefined) throw new InputError('--vmm-type', `unknown VMM type '${vmmArg}' (choose from ${VMM_TYPES.join(', ')})`);

  // vCPU signature precedence as upstream cli.py get_vcpu_sig: family/model/stepping, then sig, then type.
  let vcpuSig = 0;
  if (mode !== 'sev') {
    if (a['vcpu-family'] !== undefined) {
      if (a['vcpu-model'] === undefined || a['vcpu-stepping'] === undefined) {
        throw new InputError('--vcpu-family', '--vcpu-model and --vcpu-stepping are required with --vcpu-family');
      }
      // Field widths of CPUID Fn0000_0001_EAX (AMD #25481): family 0xf + 8-bit extended, 8-bit model, 4-bit stepping.
      const limits = { 'vcpu-family': 0xf + 0xff, 'vcpu-model': 0xff, 'vcpu-stepping': 0xf } as const;
      const fms = (['vcpu-family', 'vcpu-model', 'vcpu-stepping'] as const).map((k) => {
        const n = parseDecimal(k, a[k] ?? '');
        if (n < 0 || n > limits[k]) throw new InputError(`--${k}`, `${n} is out of range 0..${limits[k]}`);
        return n;
      });
      vcpuSig = cpuSig(fms[0] ?? 0, fms[1] ?? 0, fms[2] ?? 0);
    } else if (a['vcpu-sig'] !== undefined) {
      const s = parseAutoBase('vcpu-sig', a['vcpu-sig']);
      if (s < 0n || s > 0xffffffffn) throw new InputError('--vcpu-sig', `${a['vcpu-sig']} is not a 32-bit CPUID signature`);
      vcpuSig = Number(s);
    } else if (a['vcpu-type'] !== undefined) {
      vcpuSig = CPU_SIGS[a['vcpu-type']] ?? 0;
    } else if (vmmType === 'QEMU') {
      throw new InputError('--vcpu-type', `missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '${mode}'`);
    }
  }

  const guestFeatures = a['guest-features'] === undefined ? 0x1n : parseAutoBase('guest-features', a['guest-features']);
  if (a['snp-ovmf-hash'] && mode !== 'snp') throw new InputError('--snp-ovmf-hash', 'SNP OVMF hash only works with --mode snp');
  if (a['dump-vmsa'] && mode === 'sev') throw new InputError('--dump-vmsa', "not available in mode 'sev' (SEV has no VMSAs)");
  const dump = a['dump-vmsa'] ? (i: number, page: Uint8Array) => writeFileSync(join(process.cwd(), `vmsa${i}.bin`), page) : undefined;

  const ovmf = loadOvmf(a.ovmf);
  let hashes: SevKernelHashes | undefined;
  if (kernel) {
    hashes = sevKernelHashes(readInput(kernel), a.initrd ? readInput(a.initrd) : undefined, a.append || undefined);
  }

  let ld: Uint8Array;
  switch (mode) {
    case 'sev':
      ld = sevLaunchDigest(ovmf, hashes);
      break;
    case 'seves':
      ld = sevEsLaunchDigest({ ovmf, vcpus: vcpus ?? 0, vcpuSig, vmmType, vmsaModel, kernelHashes: hashes, onVmsa: dump });
      break;
    case 'snp':
      ld = snpLaunchDigest({
        ovmf,
        vcpus: vcpus ?? 0,
        vcpuSig,
        guestFeatures,
        vmmType,
        kernelHashes: hashes,
        ovmfHash: a['snp-ovmf-hash'] ? hexDigest('snp-ovmf-hash', a['snp-ovmf-hash']) : undefined,
        onVmsa: dump,
      });
      break;
    case 'snp:svsm': {
      if (vmmType !== 'QEMU') throw new InputError('--vmm-type', 'snp:svsm mode is only implemented for QEMU');
      if (!a.svsm) throw new InputError('--svsm', 'snp:svsm mode requires --svsm PATH (the Coconut-SVSM binary)');
      if (hashes) throw new InputError('--kernel', 'snp:svsm mode does not measure kernel hashes');
      let varsSize: number;
      if (a['vars-file'] !== undefined) {
        try {
          varsSize = statSync(a['vars-file']).size;
        } catch (e) {
          throw new InputError(a['vars-file'], `cannot stat: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
      } else if (a['vars-size'] !== undefined && parseDecimal('vars-size', a['vars-size']) !== 0) {
        varsSize = parseDecimal('vars-size', a['vars-size']);
      } else {
        throw new InputError('--vars-size', 'snp:svsm mode requires --vars-size or --vars-file');
      }
      const svsm = loadOvmf(a.svsm);
      ld = svsmLaunchDigest({ ovmf, svsm, varsSize, vcpus: vcpus ?? 0, vcpuSig, onVmsa: dump });
      break;
    }
  }

  const text = outputFormat === 'hex' ? Buffer.from(ld).toString('hex') : Buffer.from(ld).toString('base64');
  out.stdout(a.verbose ? `Calculated ${MODE_NAMES[mode]} guest measurement: ${text}\n` : `${text}\n`);
  return 0;
}

/** `sevcheck measure` entry: 0 ok, 2 bad input (one line on stderr naming the file/option and the problem). */
export async function measureMain(argv: string[], out: MeasureOutput): Promise<number> {
  try {
    return await run(argv, out);
  } catch (e) {
    if (e instanceof InputError) {
      out.stderr(`sevcheck measure: ${e.source}: ${e.problem}\n`);
      return 2;
    }
    throw e;
  }
}
