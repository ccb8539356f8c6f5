/**
 * SEV and SEV-ES launch measurement.
 *
 * The firmware's launch digest GCTX.LD is SHA-256 over everything LAUNCH_UPDATE_DATA /
 * LAUNCH_UPDATE_VMSA encrypted, in order (AMD SEV API spec #55766, §6.3 LAUNCH_UPDATE_DATA and
 * §6.4 LAUNCH_UPDATE_VMSA). With QEMU that is: the OVMF image, then the padded SEV hashes table
 * when the guest boots a kernel with kernel-hashes=on (QEMU target/i386/sev.c
 * `sev_add_kernel_loader_hashes`), then for SEV-ES one VMSA per vCPU (virtee/sev-snp-measure
 * guest.py `sev_calc_launch_digest` / `seves_calc_launch_digest`; libvirt
 * tools/virt-qemu-sev-validate `get_measured_data`).
 *
 * LAUNCH_MEASURE (SEV API spec §6.5, "MEASURE" in the LAUNCH_MEASURE section):
 *   MEASURE = HMAC-SHA256(0x04 || API_MAJOR || API_MINOR || BUILD || GCTX.POLICY (u32 LE) ||
 *                         GCTX.LD || MNONCE; key = GCTX.TIK)
 * QEMU's query-sev-launch-measure returns base64(MEASURE (32) || MNONCE (16)).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';
import { hasSevHashesTable, sevEsResetEip, type OvmfImage } from './ovmf.js';
import { buildSevHashesTable, type SevKernelHashes } from './sev-hashes.js';
import { vmsaPages, type VmmType, type VmsaModel } from './vmsa.js';

/**
 * TEK (AES-128-CTR key) and TIK (HMAC-SHA256 key) are 128-bit transport keys (SEV API spec,
 * "Transport Keys" in the launch/key-management chapter); virt-qemu-sev-validate `load_tik_tek` requires 16 bytes each.
 */
export const SEV_KEY_SIZE = 16;
/** Context byte 0x04 that prefixes the LAUNCH_MEASURE HMAC input (SEV API spec §6.5). */
const MEASURE_CONTEXT = 0x04;
const MNONCE_SIZE = 16;
const MEASURE_SIZE = 32;

function requireHashesSupport(ovmf: OvmfImage): void {
  if (!hasSevHashesTable(ovmf)) {
    throw new InputError(
      ovmf.source,
      "kernel hashes requested (--kernel) but the firmware has no SEV hashes table (footer entry 7255371f-… absent or 0); use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc",
    );
  }
}

/** SEV launch digest: SHA-256(OVMF || padded hashes table?) (sev-snp-measure `--mode sev`). */
export function sevLaunchDigest(ovmf: OvmfImage, kernelHashes?: SevKernelHashes): Uint8Array {
  const h = createHash('sha256').update(ovmf.data);
  if (kernelHashes) {
    requireHashesSupport(ovmf);
    h.update(buildSevHashesTable(kernelHashes));
  }
  return h.digest();
}

export interface SevEsDigestInput {
  ovmf: OvmfImage;
  vcpus: number;
  vcpuSig: number;
  vmmType?: VmmType;
  /**
   * The platform's VMSA: 'init2' (default; sev-snp-measure `--mode seves`) or 'legacy'
   * (virt-qemu-sev-validate); which platform launches which: vmsa-model.ts.
   */
  vmsaModel?: VmsaModel;
  kernelHashes?: SevKernelHashes;
  onVmsa?: (index: number, page: Uint8Array) => void;
}

/**
 * SEV-ES launch digest: SHA-256(OVMF || hashes table? || VMSA × vcpus) with SEV_FEATURES 0
 * (sev-snp-measure `--mode seves`, or virt-qemu-sev-validate `get_measured_data` with the
 * 'legacy' VMSA model).
 */
export function sevEsLaunchDigest(input: SevEsDigestInput): Uint8Array {
  const { ovmf, vcpus } = input;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) {
    throw new InputError('--vcpus', `vCPU count ${vcpus} must be an integer from 1 to 4096`);
  }
  const h = createHash('sha256').update(ovmf.data);
  if (input.kernelHashes) {
    requireHashesSupport(ovmf);
    h.update(buildSevHashesTable(input.kernelHashes));
  }
  const apEip = sevEsResetEip(ovmf);
  if (vcpus > 1 && apEip === 0) {
    throw new InputError(ovmf.source, 'SEV-ES reset block holds AP reset address 0: APs cannot start');
  }
  vmsaPages(vcpus, apEip, { sevFeatures: 0n, vcpuSig: input.vcpuSig, vmmType: input.vmmType ?? 'QEMU', vmsaModel: input.vmsaModel }).forEach((p, i) => {
    h.update(p);
    input.onVmsa?.(i, p);
  });
  return h.digest();
}

export interface LaunchMeasureParams {
  apiMajor: number;
  apiMinor: number;
  build: number;
  /** Guest policy (SEV API spec §3 "Guest Policy"), as a u32. */
  policy: number;
  /** 32-byte GCTX.LD (sevLaunchDigest / sevEsLaunchDigest). */
  digest: Uint8Array;
  mnonce: Uint8Array;
}

function requireKey(name: 'TIK' | 'TEK', key: Uint8Array): void {
  // Only the length is ever reported; the key bytes stay out of every message.
  if (key.length !== SEV_KEY_SIZE) {
    throw new InputError(name, `must be ${SEV_KEY_SIZE} bytes, got ${key.length}`);
  }
}

function requireU8(source: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new InputError(source, `${v} is not a byte (0..255)`);
}

/** The HMAC input of LAUNCH_MEASURE (SEV API spec §6.5): 0x04 || major || minor || build || policy LE32 || LD || MNONCE. */
export function launchMeasureMessage(p: LaunchMeasureParams): Uint8Array {
  requireU8('api-major', p.apiMajor);
  requireU8('api-minor', p.apiMinor);
  requireU8('build-id', p.build);
  if (!Number.isInteger(p.policy) || p.policy < 0 || p.policy > 0xffffffff) {
    throw new InputError('policy', `${p.policy} is not a 32-bit value`);
  }
  if (p.digest.length !== 32) throw new InputError('launch digest', `must be 32 bytes (SHA-256), got ${p.digest.length}`);
  if (p.mnonce.length !== MNONCE_SIZE) throw new InputError('mnonce', `must be ${MNONCE_SIZE} bytes, got ${p.mnonce.length}`);
  const msg = Buffer.alloc(1 + 3 + 4 + 32 + MNONCE_SIZE);
  msg[0] = MEASURE_CONTEXT;
  msg[1] = p.apiMajor;
  msg[2] = p.apiMinor;
  msg[3] = p.build;
  msg.writeUInt32LE(p.policy >>> 0, 4);
  msg.set(p.digest, 8);
  msg.set(p.mnonce, 40);
  return msg;
}

/** MEASURE = HMAC-SHA256 over launchMeasureMessage with the TIK (SEV API spec §6.5). */
export function launchMeasureMac(tik: Uint8Array, p: LaunchMeasureParams): Uint8Array {
  requireKey('TIK', tik);
  return createHmac('sha256', tik).update(launchMeasureMessage(p)).digest();
}

export interface LaunchMeasurement {
  /** 32-byte MEASURE (HMAC). */
  measure: Uint8Array;
  /** 16-byte MNONCE. */
  mnonce: Uint8Array;
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode QEMU query-sev-launch-measure's `data`: base64 of MEASURE (32) || MNONCE (16). */
export function parseLaunchMeasurement(b64: string, source = 'launch measurement'): LaunchMeasurement {
  const text = b64.trim();
  if (!B64_RE.test(text) || text.length % 4 !== 0) {
    throw new InputError(source, 'not base64 (QEMU query-sev-launch-measure returns base64 of 48 bytes)');
  }
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== MEASURE_SIZE + MNONCE_SIZE) {
    throw new InputError(source, `decodes to ${raw.length} bytes, expected 48 (32-byte MEASURE || 16-byte MNONCE)`);
  }
  return { measure: raw.subarray(0, MEASURE_SIZE), mnonce: raw.subarray(MEASURE_SIZE) };
}

export interface LaunchMeasureVerification {
  ok: boolean;
  /** MEASURE as reported by the platform. */
  reported: Uint8Array;
  /** MEASURE computed from the expected digest, policy, API version and the reported MNONCE. */
  computed: Uint8Array;
  mnonce: Uint8Array;
}

/**
 * Verify a LAUNCH_MEASURE blob against the expected digest, as virt-qemu-sev-validate `attest`
 * does (HMAC recomputed with the reported MNONCE and compared in constant time).
 */
export function verifyLaunchMeasurement(
  tik: Uint8Array,
  measurementB64: string,
  p: Omit<LaunchMeasureParams, 'mnonce'>,
  source = 'launch measurement',
): LaunchMeasureVerification {
  const { measure, mnonce } = parseLaunchMeasurement(measurementB64, source);
  const computed = launchMeasureMac(tik, { ...p, mnonce });
  return { ok: timingSafeEqual(measure, computed), reported: measure, computed, mnonce };
}

export { requireKey as requireSevKey };
