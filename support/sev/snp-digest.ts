/**
 * SEV-SNP launch digest: the value the SNP firmware accumulates over SNP_LAUNCH_UPDATE calls and
 * reports as MEASUREMENT in the attestation report.
 *
 * SEV Secure Nested Paging Firmware ABI Specification (AMD #56860), §8.17.2 "SNP_LAUNCH_UPDATE"
 * and Table 67 "Layout of the PAGE_INFO Structure": for every page,
 *   LD' = SHA-384(PAGE_INFO), PAGE_INFO = LD (48) || CONTENTS (48) || LENGTH u16 (=0x70) ||
 *         PAGE_TYPE u8 || IMI_PAGE u8 || VMPL3_PERMS u8 || VMPL2_PERMS u8 || VMPL1_PERMS u8 ||
 *         reserved u8 || GPA u64
 * CONTENTS is SHA-384 of the page for NORMAL and VMSA pages and 48 zero bytes otherwise.
 * Page types: SNP_LAUNCH_UPDATE PAGE_TYPE encodings (NORMAL=1, VMSA=2, ZERO=3, UNMEASURED=4,
 * SECRETS=5, CPUID=6; Table 58 in ABI rev 1.51, as cited by virtee/sev src/launch/mod.rs).
 * (Table numbers move between ABI revisions; Table 67 is the numbering sev-snp-measure gctx.py cites.) Which pages QEMU (and EC2, GCE) measure in which order: virtee/sev-snp-measure guest.py.
 */
import * as nodeCrypto from 'node:crypto';
import { InputError } from '../errors.js';
import {
  SectionType,
  hasMetadataSection,
  ovmfGpa,
  sectionTypeName,
  sevEsResetEip,
  sevHashesTableGpa,
  svsmResetEip,
  type OvmfImage,
} from './ovmf.js';
import { buildSevHashesTable, sevHashesPage, type SevKernelHashes } from './sev-hashes.js';
import { buildSvsmVmsa, vmsaPages, type VmmType } from './vmsa.js';

/** SNP ABI spec §8.17.2 SNP_LAUNCH_UPDATE PAGE_TYPE (Table 58 in rev 1.51). */
export const PageType = {
  NORMAL: 0x01,
  VMSA: 0x02,
  ZERO: 0x03,
  UNMEASURED: 0x04,
  SECRETS: 0x05,
  CPUID: 0x06,
} as const;

/** SHA-384 digest size: the launch digest is 48 bytes (SNP ABI spec Table 67, DIGEST_CUR). */
export const LD_SIZE = 48;
const PAGE_INFO_LEN = 0x70; // SNP ABI spec Table 67, LENGTH
const PAGE = 4096;
/**
 * The VMSA is recorded in the RMP with GPA (u64)-1; the firmware measures it page-aligned with
 * bits above 51 cleared (sev-snp-measure gctx.py `VMSA_GPA`; SNP ABI spec §8.17.2).
 */
export const VMSA_GPA = 0xfffffffff000;

type HashFn = (data: Uint8Array) => Uint8Array;

// crypto.hash (Node >= 20.12) is a one-shot digest without the Hash object; fall back otherwise.
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
const sha384: HashFn = oneShot
  ? (data) => oneShot('sha384', data, 'buffer')
  : (data) => nodeCrypto.createHash('sha384').update(data).digest();

/** SNP guest context: the running launch digest (sev-snp-measure gctx.py `GCTX`). */
export class SnpGctx {
  private readonly pageInfo = new Uint8Array(PAGE_INFO_LEN);
  private readonly view = new DataView(this.pageInfo.buffer);

  constructor(seed?: Uint8Array) {
    if (seed !== undefined && seed.length !== LD_SIZE) {
      throw new RangeError(`launch digest seed must be ${LD_SIZE} bytes, got ${seed.length}`);
    }
    if (seed) this.pageInfo.set(seed, 0);
    this.view.setUint16(96, PAGE_INFO_LEN, true);
    // IMI_PAGE=0, VMPL3/2/1_PERMS=0, reserved=0: QEMU launches with no extra VMPL permissions.
  }

  /** The current 48-byte launch digest (a copy). */
  get ld(): Uint8Array {
    return this.pageInfo.slice(0, LD_SIZE);
  }

  private update(pageType: number, gpa: number, contents: Uint8Array | null): void {
    const pi = this.pageInfo;
    if (contents) pi.set(contents, LD_SIZE);
    else pi.fill(0, LD_SIZE, 2 * LD_SIZE);
    pi[98] = pageType;
    // GPA u64 LE at offset 104; gpa < 2^53 so the split is exact.
    this.view.setUint32(104, gpa % 0x1_0000_0000, true);
    this.view.setUint32(108, Math.floor(gpa / 0x1_0000_0000), true);
    pi.set(sha384(pi), 0);
  }

  updateNormalPages(gpa: number, data: Uint8Array): void {
    if (data.length % PAGE !== 0) throw new RangeError(`normal pages: ${data.length} bytes is not a multiple of 4096`);
    for (let off = 0; off < data.length; off += PAGE) {
      this.update(PageType.NORMAL, gpa + off, sha384(data.subarray(off, off + PAGE)));
    }
  }

  updateVmsaPage(page: Uint8Array): void {
    if (page.length !== PAGE) throw new RangeError(`a VMSA page is 4096 bytes, got ${page.length}`);
    this.update(PageType.VMSA, VMSA_GPA, sha384(page));
  }

  updateZeroPages(gpa: number, length: number): void {
    for (let off = 0; off < length; off += PAGE) this.update(PageType.ZERO, gpa + off, null);
  }

  updateUnmeasuredPages(gpa: number, length: number): void {
    for (let off = 0; off < length; off += PAGE) this.update(PageType.UNMEASURED, gpa + off, null);
  }

  updateSecretsPage(gpa: number): void {
    this.update(PageType.SECRETS, gpa, null);
  }

  updateCpuidPage(gpa: number): void {
    this.update(PageType.CPUID, gpa, null);
  }
}

/** SHA-384 launch digest of the firmware pages alone (sev-snp-measure `--mode snp:ovmf-hash`). */
export function snpOvmfHash(ovmf: OvmfImage): Uint8Array {
  const gctx = new SnpGctx();
  requirePageMultiple(ovmf);
  gctx.updateNormalPages(ovmfGpa(ovmf), ovmf.data);
  return gctx.ld;
}

function requirePageMultiple(img: OvmfImage): void {
  if (img.data.length % PAGE !== 0) {
    throw new InputError(img.source, `image is ${img.data.length} bytes, not a multiple of 4096: SNP measures whole pages`);
  }
}

/**
 * Measure the OVMF metadata sections in image order (sev-snp-measure guest.py
 * `snp_update_metadata_pages`): SNP_SEC_MEM zero pages (unmeasured on GCE), SNP_SECRETS and
 * CPUID special pages (EC2 measures CPUID pages last), SNP_KERNEL_HASHES as the hashes page
 * when a kernel is given (zero pages otherwise), SVSM_CAA as zero pages.
 */
function updateMetadataPages(gctx: SnpGctx, img: OvmfImage, hashes: SevKernelHashes | undefined, vmm: VmmType): void {
  for (const s of img.metadata) {
    switch (s.type) {
      case SectionType.SNP_SEC_MEM:
        if (vmm === 'gce') gctx.updateUnmeasuredPages(s.gpa, s.size);
        else gctx.updateZeroPages(s.gpa, s.size);
        break;
      case SectionType.SNP_SECRETS:
        gctx.updateSecretsPage(s.gpa);
        break;
      case SectionType.CPUID:
        if (vmm !== 'ec2') gctx.updateCpuidPage(s.gpa);
        break;
      case SectionType.SNP_KERNEL_HASHES:
        if (hashes) {
          const tableGpa = sevHashesTableGpa(img);
          if (tableGpa === undefined) {
            throw new InputError(img.source, 'SNP_KERNEL_HASHES section present but the footer table has no SEV hashes table address (7255371f-…)');
          }
          if (s.size !== PAGE) {
            throw new InputError(img.source, `SNP_KERNEL_HASHES section is 0x${s.size.toString(16)} bytes, expected one 4 KiB page`);
          }
          gctx.updateNormalPages(s.gpa, sevHashesPage(buildSevHashesTable(hashes), tableGpa & 0xfff));
        } else {
          gctx.updateZeroPages(s.gpa, s.size);
        }
        break;
      case SectionType.SVSM_CAA:
        gctx.updateZeroPages(s.gpa, s.size);
        break;
      default:
        throw new InputError(img.source, `SEV metadata section at 0x${s.gpa.toString(16)} has unknown type ${sectionTypeName(s.type)}`);
    }
  }
  if (vmm === 'ec2') {
    for (const s of img.metadata) if (s.type === SectionType.CPUID) gctx.updateCpuidPage(s.gpa);
  }
  if (hashes && !hasMetadataSection(img, SectionType.SNP_KERNEL_HASHES)) {
    throw new InputError(
      img.source,
      "kernel hashes requested (--kernel) but the SEV metadata has no SNP_KERNEL_HASHES section; use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc",
    );
  }
}

export interface SnpDigestInput {
  ovmf: OvmfImage;
  vcpus: number;
  /** CPUID signature for RDX (ignored by EC2/GCE, which load 0x600). */
  vcpuSig: number;
  /** VMSA SEV_FEATURES (sev-snp-measure --guest-features, default 0x1). */
  guestFeatures: bigint;
  vmmType?: VmmType;
  /** Kernel/initrd/cmdline hashes for measured direct boot. */
  kernelHashes?: SevKernelHashes;
  /** Precomputed snp:ovmf-hash digest: seeds the context instead of measuring the firmware pages. */
  ovmfHash?: Uint8Array;
  /** Receives each VMSA page measured (for --dump-vmsa). */
  onVmsa?: (index: number, page: Uint8Array) => void;
}

function checkVcpus(source: string, vcpus: number): void {
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) {
    throw new InputError(source, `vCPU count ${vcpus} must be an integer from 1 to 4096`);
  }
}

/** Expected SNP launch digest for QEMU/EC2/GCE + OVMF (sev-snp-measure `--mode snp`). */
export function snpLaunchDigest(input: SnpDigestInput): Uint8Array {
  const { ovmf, vcpus } = input;
  const vmm = input.vmmType ?? 'QEMU';
  checkVcpus('--vcpus', vcpus);
  if (input.guestFeatures < 0n || input.guestFeatures >= 1n << 64n) {
    throw new InputError('--guest-features', `0x${input.guestFeatures.toString(16)} does not fit the 64-bit VMSA SEV_FEATURES field`);
  }
  let gctx: SnpGctx;
  if (input.ovmfHash) {
    if (input.ovmfHash.length !== LD_SIZE) {
      throw new InputError('--snp-ovmf-hash', `must be ${LD_SIZE} bytes (96 hex digits), got ${input.ovmfHash.length}`);
    }
    gctx = new SnpGctx(input.ovmfHash);
  } else {
    requirePageMultiple(ovmf);
    gctx = new SnpGctx();
    gctx.updateNormalPages(ovmfGpa(ovmf), ovmf.data);
  }
  updateMetadataPages(gctx, ovmf, input.kernelHashes, vmm);
  const apEip = sevEsResetEip(ovmf);
  if (vcpus > 1 && apEip === 0) {
    throw new InputError(ovmf.source, 'SEV-ES reset block holds AP reset address 0: APs cannot start');
  }
  vmsaPages(vcpus, apEip, { sevFeatures: input.guestFeatures, vcpuSig: input.vcpuSig, vmmType: vmm }).forEach((p, i) => {
    gctx.updateVmsaPage(p);
    input.onVmsa?.(i, p);
  });
  return gctx.ld;
}

export interface SvsmDigestInput {
  ovmf: OvmfImage;
  svsm: OvmfImage;
  /** Size of the OVMF_VARS flash: the SVSM image ends where the vars begin (below OVMF_CODE). */
  varsSize: number;
  vcpus: number;
  vcpuSig: number;
  onVmsa?: (index: number, page: Uint8Array) => void;
}

/**
 * Expected SNP launch digest with Coconut-SVSM (sev-snp-measure `--mode snp:svsm`, QEMU only):
 * OVMF pages, SVSM pages (mapped to end at OVMF's GPA - varsSize), the SVSM's metadata sections,
 * then one SVSM VMSA per vCPU, all starting at the SVSM entry point.
 */
export function svsmLaunchDigest(input: SvsmDigestInput): Uint8Array {
  const { ovmf, svsm, vcpus } = input;
  checkVcpus('--vcpus', vcpus);
  if (!Number.isInteger(input.varsSize) || input.varsSize < 0 || input.varsSize % PAGE !== 0) {
    throw new InputError('--vars-size', `${input.varsSize} must be a non-negative multiple of 4096`);
  }
  requirePageMultiple(ovmf);
  requirePageMultiple(svsm);
  const ovmfStart = ovmfGpa(ovmf);
  const svsmStart = ovmfStart - input.varsSize - svsm.data.length;
  if (svsmStart < 0) {
    throw new InputError(svsm.source, `SVSM image (${svsm.data.length} bytes) does not fit below OVMF and the vars`);
  }
  const eip = svsmResetEip(svsm, svsmStart);
  const gctx = new SnpGctx();
  gctx.updateNormalPages(ovmfStart, ovmf.data);
  gctx.updateNormalPages(svsmStart, svsm.data);
  updateMetadataPages(gctx, svsm, undefined, 'QEMU');
  const page = buildSvsmVmsa(eip, input.vcpuSig);
  for (let i = 0; i < vcpus; i++) {
    gctx.updateVmsaPage(page);
    input.onVmsa?.(i, page);
  }
  return gctx.ld;
}
