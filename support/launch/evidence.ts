/**
 * The launch layer's evidence, decoded from the files a launch bundle names: the digest the owner
 * expects (sevcheck measure semantics), the session keys, the platform's recorded replies, SNP
 * reports and certificates. Evidence whose content is wrong (a report of the wrong size, firmware
 * without a GUID table, a TIK of the wrong length, ...) is an InputError naming the file and the
 * field; the launch rules turn it into a failed check (support/rules/launch.ts `evidence`).
 *
 * Key material (TIK, TEK, secret values) is returned as bytes only; nothing here formats it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { parseOvmf } from '../sev/ovmf.js';
import { sevKernelHashes, type SevKernelHashes } from '../sev/sev-hashes.js';
import { sevEsLaunchDigest, sevLaunchDigest, SEV_KEY_SIZE } from '../sev/sev-measurement.js';
import { snpLaunchDigest } from '../sev/snp-digest.js';
import { VMSA_MODELS, type VmsaModel } from '../sev/vmsa.js';
import type { PlatformSoftware } from '../sev/vmsa-model.js';
import { hexToBytes, SNP_REPORT_SIZE, type SnpGeneration } from '../sev/snp-report.js';
import { loadPemChain, loadSnpCert, type SnpCert } from '../sev/snp-verify.js';
import { displayPath, readRef, type ExpectedLaunch, type FileRef, type SevMode, type Tamper } from './bundle.js';

type Json = Record<string, unknown>;

export interface SevKeys {
  readonly tik: Uint8Array;
  readonly tek: Uint8Array;
}

/** What the platform returned for an SEV launch (QMP query-sev + query-sev-launch-measure). */
export interface SevPlatform {
  /** base64 of MEASURE || MNONCE as query-sev-launch-measure returns it */
  readonly measurement: string;
  readonly api: { readonly major: number; readonly minor: number; readonly build: number };
  /** the policy the platform says the guest runs with, when it said */
  readonly policy?: number | undefined;
  /** where these came from, for messages */
  readonly source: string;
  /** the platform's kernel release and QEMU version, where recorded (they decide the SEV-ES VMSA) */
  readonly software?: PlatformSoftware | undefined;
}

export interface ExpectedDigest {
  readonly digest: Uint8Array;
  /**
   * SEV-ES launches under QEMU: the digest with each VMSA model (support/sev/vmsa-model.ts), since
   * the platform's kernel and QEMU decide which one it measures. `digest` is the 'init2' one.
   */
  readonly byModel?: ReadonlyArray<{ readonly model: VmsaModel; readonly digest: Uint8Array }> | undefined;
  /** "ovmf.fd, 4 vCPUs EPYC-v4, kernel+initrd+append" or "reference digest in launch.json" */
  readonly describe: string;
}


/** Compute the expected digest (sevcheck measure semantics). Throws InputError on bad firmware. */
export function expectedDigest(e: ExpectedLaunch, mode: SevMode | 'snp', size: 32 | 48): ExpectedDigest {
  if (e.kind === 'digest') {
    if (e.digest.length !== size) throw new InputError(e.label, `must be ${size} bytes, got ${e.digest.length}`);
    return { digest: e.digest, describe: e.label };
  }
  const ovmf = parseOvmf(readRef(e.ovmf), e.ovmf.label);
  let hashes: SevKernelHashes | undefined;
  if (e.kernel) hashes = sevKernelHashes(readRef(e.kernel), e.initrd ? readRef(e.initrd) : undefined, e.append);
  const vcpus = e.vcpus ?? 0;
  if (mode === 'seves' && e.vmmType === 'QEMU') {
    // The FPU state in each VMSA depends on the platform's kernel and QEMU (sev/vmsa-model.ts).
    const byModel = VMSA_MODELS.map((model) => ({ model, digest: sevEsLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, vmsaModel: model, kernelHashes: hashes }) }));
    return { digest: byModel.find((m) => m.model === 'init2')?.digest ?? new Uint8Array(32), byModel, describe: e.label };
  }
  const digest =
    mode === 'sev'
      ? sevLaunchDigest(ovmf, hashes)
      : mode === 'seves'
        ? sevEsLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, kernelHashes: hashes })
        : snpLaunchDigest({ ovmf, vcpus, vcpuSig: e.vcpuSig, vmmType: e.vmmType, guestFeatures: e.guestFeatures, kernelHashes: hashes });
  return { digest, describe: e.label };
}

export function sessionKey(name: 'TIK' | 'TEK', f: FileRef): Uint8Array {
  const b = readRef(f);
  // Only the length is ever reported; the key bytes stay out of every message.
  if (b.length !== SEV_KEY_SIZE) throw new InputError(f.label, `${name} must be ${SEV_KEY_SIZE} bytes (raw, as sevctl session writes it), got ${b.length}`);
  return b;
}

/** A 1184-byte raw report, or hex text of one. */
export function reportBytes(f: FileRef): Buffer {
  const b = readRef(f);
  if (b.length === SNP_REPORT_SIZE) return b;
  const text = b.toString('latin1');
  if (/^\s*(0x)?[0-9a-fA-F\s]+$/.test(text)) return hexToBytes(text, f.label);
  return b; // wrong size: parseSnpReport names it
}

export function applyTamper(b: Buffer, t: Tamper): Buffer {
  if ('truncate' in t) return b.subarray(0, Math.min(t.truncate, b.length));
  const out = Buffer.from(b);
  if (t.offset < out.length) out[t.offset] = (out[t.offset] ?? 0) ^ t.xor;
  return out;
}

/** KDS cert_chain: ASK then ARK. */
export function chainPair(f: FileRef): [SnpCert, SnpCert] {
  return chainPairOf(readRef(f), f.label);
}

export function chainPairOf(bytes: Buffer, label: string): [SnpCert, SnpCert] {
  const certs = loadPemChain(bytes.toString('utf8'), label);
  if (certs.length !== 2) throw new InputError(label, `holds ${certs.length} certificates; AMD's cert_chain holds 2 (ASK, then ARK)`);
  return [certs[0] as SnpCert, certs[1] as SnpCert];
}

/** --amd-certs DIR: DIR[/<gen>]/{ark.pem,ask.pem} (snpguest fetch ca) or DIR[/<gen>]/cert_chain (KDS). */
export function amdCertsDir(dir: string, gen: SnpGeneration | undefined): { ark: SnpCert; ask: SnpCert } | undefined {
  const dirs = gen ? [join(dir, gen), join(dir, gen[0]?.toUpperCase() + gen.slice(1)), dir] : [dir];
  for (const d of dirs) {
    const ark = join(d, 'ark.pem');
    const ask = join(d, 'ask.pem');
    if (existsSync(ark) && existsSync(ask)) {
      return { ark: loadSnpCert(readFileSync(ark), displayPath(ark)), ask: loadSnpCert(readFileSync(ask), displayPath(ask)) };
    }
    const chain = join(d, 'cert_chain');
    if (existsSync(chain)) {
      const [a, b] = chainPair({ label: displayPath(chain), path: chain });
      return { ask: a, ark: b };
    }
  }
  return undefined;
}

/** Recorded platform replies: {"query-sev": {"return": ...}, "query-sev-launch-measure": {"return": ...}} or `virsh domlaunchsecinfo` text. */
export function parsePlatformFile(f: FileRef): SevPlatform {
  const text = readRef(f).toString('utf8');
  if (text.trimStart().startsWith('{')) {
    let o: Json;
    try {
      o = JSON.parse(text) as Json;
    } catch (e) {
      throw new InputError(f.label, `not JSON: ${(e as Error).message}`);
    }
    const p = platformFromQmp(o['query-sev'], o['query-sev-launch-measure'], f.label);
    // Optional: the platform's QMP query-version reply, and "osrelease" (a sevcheck extension: the
    // platform host's /proc/sys/kernel/osrelease) — they tell which SEV-ES VMSA it launches.
    // An error reply leaves the version unknown (both VMSA models are then tried).
    const v = o['query-version'] as Json | undefined;
    const answered = v !== undefined && !(v && typeof v === 'object' && 'error' in v);
    const qemu = answered ? qemuVersion(v?.return) : undefined;
    if (answered && qemu === undefined) throw new InputError(f.label, 'query-version: no "return": {"qemu": {"major", "minor", "micro"}} (QMP VersionInfo)');
    const osrelease = o.osrelease;
    if (osrelease !== undefined && (typeof osrelease !== 'string' || osrelease.trim() === '')) throw new InputError(f.label, 'osrelease: must be the kernel release string (uname -r)');
    const kernel = osrelease === undefined ? undefined : osrelease.trim();
    return { ...p, software: { kernel, kernelSource: kernel === undefined ? undefined : `${f.label} osrelease`, qemu, qemuSource: qemu === undefined ? undefined : `${f.label} query-version` } };
  }
  // virsh domlaunchsecinfo: "sev-measurement: ...", "sev-api-major  : 0", ...
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\w-]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) kv.set(m[1] as string, m[2] as string);
  }
  const num = (k: string, max: number): number => {
    const v = kv.get(k);
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > max) throw new InputError(f.label, `${k}: ${v === undefined ? 'missing' : `"${v}" is not 0..${max}`} (virsh domlaunchsecinfo output expected)`);
    return Number(v);
  };
  const measurement = kv.get('sev-measurement');
  if (!measurement) throw new InputError(f.label, 'sev-measurement: missing (virsh domlaunchsecinfo output or QMP replies expected)');
  return {
    measurement,
    api: { major: num('sev-api-major', 0xff), minor: num('sev-api-minor', 0xff), build: num('sev-build-id', 0xff) },
    policy: kv.has('sev-policy') ? num('sev-policy', 0xffffffff) : undefined,
    source: f.label,
  };
}

/** QMP query-sev (SevInfo) and query-sev-launch-measure (SevLaunchMeasureInfo) replies (QEMU qapi/misc-target.json). */
export function platformFromQmp(info: unknown, measure: unknown, source: string): SevPlatform {
  const ret = (what: string, r: unknown): Json => {
    if (r === undefined) throw new InputError(source, `${what}: no reply recorded`);
    const o = r as Json;
    if (o && typeof o === 'object' && 'error' in o) {
      const e = o.error as Json;
      throw new InputError(source, `${what}: QEMU answered ${String(e?.class)}: ${String(e?.desc)}`);
    }
    const v = o && typeof o === 'object' ? o.return : undefined;
    if (!v || typeof v !== 'object') throw new InputError(source, `${what}: reply has no "return" object`);
    return v as Json;
  };
  const i = ret('query-sev', info);
  const m = ret('query-sev-launch-measure', measure);
  const n = (k: string, max: number): number => {
    const v = i[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new InputError(source, `query-sev "${k}": ${JSON.stringify(v)} is not 0..${max}`);
    return v;
  };
  if (typeof m.data !== 'string') throw new InputError(source, 'query-sev-launch-measure "data": missing (base64 of MEASURE || MNONCE)');
  return {
    measurement: m.data,
    api: { major: n('api-major', 0xff), minor: n('api-minor', 0xff), build: n('build-id', 0xff) },
    policy: i.policy === undefined ? undefined : n('policy', 0xffffffff),
    source,
  };
}

/** "major.minor.micro" from QMP query-version's VersionInfo (QEMU qapi/control.json); undefined when malformed. */
export function qemuVersion(ret: unknown): string | undefined {
  const q = ret && typeof ret === 'object' ? (ret as Json).qemu : undefined;
  if (!q || typeof q !== 'object') return undefined;
  const n = (k: string) => (q as Json)[k];
  const parts = [n('major'), n('minor'), n('micro')];
  return parts.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) ? parts.join('.') : undefined;
}

export function rawOrBase64(f: FileRef): Buffer {
  const b = readRef(f);
  const t = b.toString('latin1').trim();
  if (t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t)) return Buffer.from(t, 'base64');
  return b;
}

