// support/cli/measure.ts
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

// support/host/types.ts
var HarnessError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "HarnessError";
  }
};

// support/errors.ts
var InputError = class extends HarnessError {
  constructor(source, problem) {
    super(`${source}: ${problem}`);
    this.source = source;
    this.problem = problem;
    this.name = "InputError";
  }
  source;
  problem;
};

// support/sev/guid.ts
var GUID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;
function guidToBytesLe(text) {
  const m = GUID_RE.exec(text);
  if (!m) throw new RangeError(`not a GUID: ${JSON.stringify(text)}`);
  const hex = (m[1] ?? "") + (m[2] ?? "") + (m[3] ?? "") + (m[4] ?? "") + (m[5] ?? "");
  const be = Buffer.from(hex, "hex");
  const out = new Uint8Array(16);
  out.set([be[3] ?? 0, be[2] ?? 0, be[1] ?? 0, be[0] ?? 0, be[5] ?? 0, be[4] ?? 0, be[7] ?? 0, be[6] ?? 0], 0);
  out.set(be.subarray(8, 16), 8);
  return out;
}
function guidFromBytesLe(bytes) {
  if (bytes.length !== 16) throw new RangeError(`a GUID is 16 bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const h = (i) => (b[i] ?? 0).toString(16).padStart(2, "0");
  return h(3) + h(2) + h(1) + h(0) + "-" + h(5) + h(4) + "-" + h(7) + h(6) + "-" + h(8) + h(9) + "-" + h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
}

// support/sev/ovmf.ts
var FOUR_GIB = 4294967296;
var OVMF_TABLE_FOOTER_GUID = "96b582de-1fb2-45f7-baea-a366c55a082d";
var SEV_ES_RESET_BLOCK_GUID = "00f771de-1a7e-4fcb-890e-68c77e2fb44e";
var SEV_HASH_TABLE_RV_GUID = "7255371f-3a3b-4b04-927b-1da6efa8d454";
var OVMF_SEV_METADATA_GUID = "dc886566-984a-4798-a75e-5585a7bf67cc";
var SVSM_INFO_GUID = "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd";
var FOOTER_TAIL = 32;
var ENTRY_HEADER = 18;
var SectionType = {
  SNP_SEC_MEM: 1,
  SNP_SECRETS: 2,
  CPUID: 3,
  SVSM_CAA: 4,
  SNP_KERNEL_HASHES: 16
};
function sectionTypeName(type) {
  for (const [name, value] of Object.entries(SectionType)) if (value === type) return name;
  return `unknown(${type})`;
}
function u16(b, off) {
  return (b[off] ?? 0) | (b[off + 1] ?? 0) << 8;
}
function u32(b, off) {
  return ((b[off] ?? 0) | (b[off + 1] ?? 0) << 8 | (b[off + 2] ?? 0) << 16 | (b[off + 3] ?? 0) << 24) >>> 0;
}
function parseFooterTable(data, source) {
  if (data.length < FOOTER_TAIL + ENTRY_HEADER) {
    throw new InputError(source, `image is ${data.length} bytes, too small to hold the OVMF footer table (needs ${FOOTER_TAIL + ENTRY_HEADER})`);
  }
  const footerStart = data.length - FOOTER_TAIL - ENTRY_HEADER;
  const footerGuid = guidFromBytesLe(data.subarray(footerStart + 2, footerStart + ENTRY_HEADER));
  if (footerGuid !== OVMF_TABLE_FOOTER_GUID) return null;
  const totalLength = u16(data, footerStart);
  if (totalLength < ENTRY_HEADER) {
    throw new InputError(source, `OVMF footer table length ${totalLength} at end-0x32 is smaller than its own ${ENTRY_HEADER}-byte header`);
  }
  const tableLength = totalLength - ENTRY_HEADER;
  if (tableLength > footerStart) {
    throw new InputError(source, `OVMF footer table length ${totalLength} runs past the start of the image (truncated image?)`);
  }
  const table = /* @__PURE__ */ new Map();
  let end = footerStart;
  const start = footerStart - tableLength;
  while (end - start >= ENTRY_HEADER) {
    const entryLength = u16(data, end - ENTRY_HEADER);
    const guid = guidFromBytesLe(data.subarray(end - 16, end));
    if (entryLength < ENTRY_HEADER) {
      throw new InputError(source, `OVMF footer table entry ${guid} has length ${entryLength}, less than its ${ENTRY_HEADER}-byte header`);
    }
    if (entryLength > end - start) {
      throw new InputError(source, `OVMF footer table entry ${guid} has length ${entryLength} but only ${end - start} table bytes remain (truncated table)`);
    }
    if (table.has(guid)) {
      throw new InputError(source, `OVMF footer table has two entries with GUID ${guid}`);
    }
    table.set(guid, data.subarray(end - entryLength, end - ENTRY_HEADER));
    end -= entryLength;
  }
  return table;
}
var METADATA_HEADER = 16;
var METADATA_SIGNATURE = "ASEV";
var METADATA_VERSION = 1;
var METADATA_DESC = 12;
var PAGE = 4096;
function parseSevMetadata(data, table, source) {
  const entry = table.get(OVMF_SEV_METADATA_GUID);
  if (entry === void 0) return [];
  if (entry.length < 4) {
    throw new InputError(source, `SEV metadata entry (${OVMF_SEV_METADATA_GUID}) has ${entry.length} data bytes, needs a u32 offset`);
  }
  const offsetFromEnd = u32(entry, 0);
  if (offsetFromEnd > data.length || offsetFromEnd < METADATA_HEADER) {
    throw new InputError(source, `SEV metadata offset ${offsetFromEnd} from the image end lies outside the ${data.length}-byte image`);
  }
  const start = data.length - offsetFromEnd;
  const sig = Buffer.from(data.subarray(start, start + 4)).toString("latin1");
  if (sig !== METADATA_SIGNATURE) {
    const shown = /^[\x20-\x7e]{4}$/.test(sig) ? JSON.stringify(sig) : `0x${Buffer.from(sig, "latin1").toString("hex")}`;
    throw new InputError(source, `SEV metadata at end-0x${offsetFromEnd.toString(16)}: signature ${shown}, expected "ASEV"`);
  }
  const size = u32(data, start + 4);
  const version = u32(data, start + 8);
  const count = u32(data, start + 12);
  if (version !== METADATA_VERSION) {
    throw new InputError(source, `SEV metadata version ${version}, only version 1 is known`);
  }
  if (start + size > data.length || size < METADATA_HEADER) {
    throw new InputError(source, `SEV metadata size ${size} runs past the image end (truncated metadata)`);
  }
  if (METADATA_HEADER + count * METADATA_DESC > size) {
    throw new InputError(source, `SEV metadata declares ${count} sections but its size ${size} holds only ${Math.floor((size - METADATA_HEADER) / METADATA_DESC)} (truncated metadata)`);
  }
  const sections = [];
  for (let i = 0; i < count; i++) {
    const off = start + METADATA_HEADER + i * METADATA_DESC;
    const s = { gpa: u32(data, off), size: u32(data, off + 4), type: u32(data, off + 8) };
    const what = `SEV metadata section ${i} (${sectionTypeName(s.type)} at 0x${s.gpa.toString(16)})`;
    if (s.gpa % PAGE !== 0 || s.size % PAGE !== 0) {
      throw new InputError(source, `${what}: gpa/size 0x${s.gpa.toString(16)}/0x${s.size.toString(16)} not 4 KiB aligned`);
    }
    if (s.gpa + s.size > FOUR_GIB) {
      throw new InputError(source, `${what}: size 0x${s.size.toString(16)} runs past 4 GiB`);
    }
    sections.push(s);
  }
  const sorted = [...sections].sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a && b && a.size > 0 && b.size > 0 && a.gpa + a.size > b.gpa) {
      throw new InputError(
        source,
        `SEV metadata sections overlap: ${sectionTypeName(a.type)} 0x${a.gpa.toString(16)}+0x${a.size.toString(16)} and ${sectionTypeName(b.type)} 0x${b.gpa.toString(16)}+0x${b.size.toString(16)}`
      );
    }
  }
  return sections;
}
function parseOvmf(data, source) {
  const table = parseFooterTable(data, source);
  return {
    source,
    data,
    hasFooterTable: table !== null,
    table: table ?? /* @__PURE__ */ new Map(),
    metadata: table ? parseSevMetadata(data, table, source) : []
  };
}
function ovmfGpa(image, endAt = FOUR_GIB) {
  return endAt - image.data.length;
}
function requireTable(image, guid, what) {
  if (!image.hasFooterTable) {
    throw new InputError(image.source, `no OVMF footer GUID table (${OVMF_TABLE_FOOTER_GUID} at end-0x30): not an SEV-capable OVMF build, ${what} is unknown`);
  }
  const entry = image.table.get(guid);
  if (entry === void 0) {
    throw new InputError(image.source, `OVMF footer table has no ${what} entry (${guid})`);
  }
  if (entry.length < 4) {
    throw new InputError(image.source, `${what} entry (${guid}) has ${entry.length} data bytes, needs a u32`);
  }
  return entry;
}
function sevEsResetEip(image) {
  return u32(requireTable(image, SEV_ES_RESET_BLOCK_GUID, "SEV-ES reset block"), 0);
}
function sevHashesTableGpa(image) {
  const entry = image.table.get(SEV_HASH_TABLE_RV_GUID);
  if (entry === void 0 || entry.length < 4) return void 0;
  const gpa = u32(entry, 0);
  return gpa === 0 ? void 0 : gpa;
}
function hasSevHashesTable(image) {
  return sevHashesTableGpa(image) !== void 0;
}
function svsmResetEip(image, imageGpa) {
  return u32(requireTable(image, SVSM_INFO_GUID, "SVSM info"), 0) + imageGpa;
}
function hasMetadataSection(image, type) {
  return image.metadata.some((s) => s.type === type);
}

// support/sev/sev-hashes.ts
import { createHash } from "node:crypto";
var SEV_HASH_TABLE_HEADER_GUID = "9438d606-4f22-4cc9-b479-a793d411fd21";
var SEV_KERNEL_ENTRY_GUID = "4de79437-abd2-427f-b835-d5b172d2045b";
var SEV_INITRD_ENTRY_GUID = "44baf731-3a2f-4bd7-9af1-41e29169781d";
var SEV_CMDLINE_ENTRY_GUID = "97d02dd8-bd20-4c94-aa78-e7714d36ab2a";
var ENTRY_SIZE = 16 + 2 + 32;
var TABLE_SIZE = 16 + 2 + 3 * ENTRY_SIZE;
var SEV_HASH_TABLE_PADDED_SIZE = TABLE_SIZE + 15 & ~15;
function sha256(data) {
  return createHash("sha256").update(data).digest();
}
function sevKernelHashes(kernel, initrd, cmdline) {
  const cmd = Buffer.concat([Buffer.from(cmdline ?? "", "utf8"), Buffer.from([0])]);
  return { kernel: sha256(kernel), initrd: sha256(initrd ?? new Uint8Array(0)), cmdline: sha256(cmd) };
}
function buildSevHashesTable(h) {
  for (const [name, v] of Object.entries(h)) {
    if (v.length !== 32) throw new RangeError(`${name} hash must be 32 bytes (SHA-256)`);
  }
  const out = Buffer.alloc(SEV_HASH_TABLE_PADDED_SIZE);
  out.set(guidToBytesLe(SEV_HASH_TABLE_HEADER_GUID), 0);
  out.writeUInt16LE(TABLE_SIZE, 16);
  let off = 18;
  for (const [guid, hash2] of [
    [SEV_CMDLINE_ENTRY_GUID, h.cmdline],
    [SEV_INITRD_ENTRY_GUID, h.initrd],
    [SEV_KERNEL_ENTRY_GUID, h.kernel]
  ]) {
    out.set(guidToBytesLe(guid), off);
    out.writeUInt16LE(ENTRY_SIZE, off + 16);
    out.set(hash2, off + 18);
    off += ENTRY_SIZE;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
function sevHashesPage(table, offsetInPage) {
  if (offsetInPage < 0 || offsetInPage + table.length > 4096) {
    throw new RangeError(`hashes table at page offset 0x${offsetInPage.toString(16)} does not fit in a 4 KiB page`);
  }
  const page = new Uint8Array(4096);
  page.set(table, offsetInPage);
  return page;
}

// support/sev/sev-measurement.ts
import { createHash as createHash2, createHmac, timingSafeEqual } from "node:crypto";

// support/sev/vmsa.ts
var VMSA_SIZE = 4096;
var BSP_EIP = 4294967280;
var VMM_TYPES = ["QEMU", "ec2", "gce"];
var OFF = {
  es: 0,
  cs: 16,
  ss: 32,
  ds: 48,
  fs: 64,
  gs: 80,
  gdtr: 96,
  ldtr: 112,
  idtr: 128,
  tr: 144,
  efer: 208,
  cr4: 328,
  cr0: 344,
  dr7: 352,
  dr6: 360,
  rflags: 368,
  rip: 376,
  g_pat: 616,
  rdx: 784,
  sev_features: 944,
  xcr0: 1e3,
  mxcsr: 1032,
  x87_fcw: 1040
};
function writeSeg(v, off, s) {
  v.setUint16(off, s.selector, true);
  v.setUint16(off + 2, s.attrib, true);
  v.setUint32(off + 4, s.limit >>> 0, true);
  v.setBigUint64(off + 8, BigInt(s.base), true);
}
function w64(v, off, x) {
  v.setBigUint64(off, BigInt(x), true);
}
var seg = (selector, attrib, limit, base = 0) => ({ selector, attrib, limit, base });
function buildVmsa(p) {
  const page = new Uint8Array(VMSA_SIZE);
  const v = new DataView(page.buffer);
  let csFlags = 155;
  let ssFlags = 147;
  let trFlags = 139;
  let gPat = 0x0007040600070406n;
  let rdx = p.vcpuSig;
  let mxcsr = 8064;
  let fcw = 895;
  if (p.vmmType === "ec2") {
    if (p.eip === BSP_EIP) csFlags = 154;
    ssFlags = 146;
    trFlags = 131;
    rdx = 1536;
    mxcsr = 0;
    fcw = 0;
  } else if (p.vmmType === "gce") {
    gPat = 0x00070106n;
    rdx = 1536;
    mxcsr = 0;
    fcw = 0;
  }
  writeSeg(v, OFF.es, seg(0, 147, 65535));
  writeSeg(v, OFF.cs, seg(61440, csFlags, 65535, (p.eip & 4294901760) >>> 0));
  writeSeg(v, OFF.ss, seg(0, ssFlags, 65535));
  writeSeg(v, OFF.ds, seg(0, 147, 65535));
  writeSeg(v, OFF.fs, seg(0, 147, 65535));
  writeSeg(v, OFF.gs, seg(0, 147, 65535));
  writeSeg(v, OFF.gdtr, seg(0, 0, 65535));
  writeSeg(v, OFF.idtr, seg(0, 0, 65535));
  writeSeg(v, OFF.ldtr, seg(0, 130, 65535));
  writeSeg(v, OFF.tr, seg(0, trFlags, 65535));
  w64(v, OFF.efer, 4096);
  w64(v, OFF.cr4, 64);
  w64(v, OFF.cr0, 16);
  w64(v, OFF.dr7, 1024);
  w64(v, OFF.dr6, 4294905840);
  w64(v, OFF.rflags, 2);
  w64(v, OFF.rip, p.eip & 65535);
  w64(v, OFF.g_pat, gPat);
  w64(v, OFF.rdx, rdx >>> 0);
  w64(v, OFF.sev_features, p.sevFeatures);
  w64(v, OFF.xcr0, 1);
  v.setUint32(OFF.mxcsr, mxcsr, true);
  v.setUint16(OFF.x87_fcw, fcw, true);
  return page;
}
function buildSvsmVmsa(eip, vcpuSig) {
  const page = new Uint8Array(VMSA_SIZE);
  const v = new DataView(page.buffer);
  writeSeg(v, OFF.es, seg(16, 3219, 4294967295));
  writeSeg(v, OFF.cs, seg(8, 3227, 4294967295));
  writeSeg(v, OFF.ss, seg(16, 3219, 4294967295));
  writeSeg(v, OFF.ds, seg(16, 3219, 4294967295));
  writeSeg(v, OFF.fs, seg(16, 3219, 4294967295));
  writeSeg(v, OFF.gs, seg(0, 147, 65535));
  writeSeg(v, OFF.gdtr, seg(0, 0, 65535));
  writeSeg(v, OFF.idtr, seg(0, 0, 65535));
  writeSeg(v, OFF.ldtr, seg(0, 130, 65535));
  writeSeg(v, OFF.tr, seg(0, 139, 65535));
  w64(v, OFF.efer, 4096);
  w64(v, OFF.cr4, 64);
  w64(v, OFF.cr0, 17);
  w64(v, OFF.dr7, 1024);
  w64(v, OFF.dr6, 4294905840);
  w64(v, OFF.rflags, 2);
  w64(v, OFF.rip, eip);
  w64(v, OFF.g_pat, 0x0007040600070406n);
  w64(v, OFF.rdx, vcpuSig >>> 0);
  w64(v, OFF.sev_features, 0x1n);
  w64(v, OFF.xcr0, 1);
  v.setUint32(OFF.mxcsr, 8064, true);
  return page;
}
function vmsaPages(vcpus, apEip, base) {
  const pages = [];
  if (vcpus <= 0) return pages;
  pages.push(buildVmsa({ ...base, eip: BSP_EIP }));
  if (vcpus > 1) {
    const ap = buildVmsa({ ...base, eip: apEip });
    for (let i = 1; i < vcpus; i++) pages.push(ap);
  }
  return pages;
}
function cpuSig(family, model, stepping) {
  const familyLow = family > 15 ? 15 : family;
  const familyHigh = family > 15 ? family - 15 & 255 : 0;
  return (familyHigh << 20 | (model >> 4 & 15) << 16 | familyLow << 8 | (model & 15) << 4 | stepping & 15) >>> 0;
}
var CPU_SIGS = Object.freeze({
  EPYC: cpuSig(23, 1, 2),
  "EPYC-v1": cpuSig(23, 1, 2),
  "EPYC-v2": cpuSig(23, 1, 2),
  "EPYC-IBPB": cpuSig(23, 1, 2),
  "EPYC-v3": cpuSig(23, 1, 2),
  "EPYC-v4": cpuSig(23, 1, 2),
  "EPYC-Rome": cpuSig(23, 49, 0),
  "EPYC-Rome-v1": cpuSig(23, 49, 0),
  "EPYC-Rome-v2": cpuSig(23, 49, 0),
  "EPYC-Rome-v3": cpuSig(23, 49, 0),
  "EPYC-Milan": cpuSig(25, 1, 1),
  "EPYC-Milan-v1": cpuSig(25, 1, 1),
  "EPYC-Milan-v2": cpuSig(25, 1, 1),
  "EPYC-Genoa": cpuSig(25, 17, 0),
  "EPYC-Genoa-v1": cpuSig(25, 17, 0),
  "EPYC-Turin": cpuSig(26, 0, 0)
});

// support/sev/sev-measurement.ts
function requireHashesSupport(ovmf) {
  if (!hasSevHashesTable(ovmf)) {
    throw new InputError(
      ovmf.source,
      "kernel hashes requested (--kernel) but the firmware has no SEV hashes table (footer entry 7255371f-\u2026 absent or 0); use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc"
    );
  }
}
function sevLaunchDigest(ovmf, kernelHashes) {
  const h = createHash2("sha256").update(ovmf.data);
  if (kernelHashes) {
    requireHashesSupport(ovmf);
    h.update(buildSevHashesTable(kernelHashes));
  }
  return h.digest();
}
function sevEsLaunchDigest(input) {
  const { ovmf, vcpus } = input;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) {
    throw new InputError("--vcpus", `vCPU count ${vcpus} must be an integer from 1 to 4096`);
  }
  const h = createHash2("sha256").update(ovmf.data);
  if (input.kernelHashes) {
    requireHashesSupport(ovmf);
    h.update(buildSevHashesTable(input.kernelHashes));
  }
  const apEip = sevEsResetEip(ovmf);
  if (vcpus > 1 && apEip === 0) {
    throw new InputError(ovmf.source, "SEV-ES reset block holds AP reset address 0: APs cannot start");
  }
  vmsaPages(vcpus, apEip, { sevFeatures: 0n, vcpuSig: input.vcpuSig, vmmType: input.vmmType ?? "QEMU" }).forEach((p, i) => {
    h.update(p);
    input.onVmsa?.(i, p);
  });
  return h.digest();
}

// support/sev/snp-digest.ts
import * as nodeCrypto from "node:crypto";
var PageType = {
  NORMAL: 1,
  VMSA: 2,
  ZERO: 3,
  UNMEASURED: 4,
  SECRETS: 5,
  CPUID: 6
};
var LD_SIZE = 48;
var PAGE_INFO_LEN = 112;
var PAGE2 = 4096;
var VMSA_GPA = 281474976706560;
var oneShot = nodeCrypto.hash;
var sha384 = oneShot ? (data) => oneShot("sha384", data, "buffer") : (data) => nodeCrypto.createHash("sha384").update(data).digest();
var SnpGctx = class {
  pageInfo = new Uint8Array(PAGE_INFO_LEN);
  view = new DataView(this.pageInfo.buffer);
  constructor(seed) {
    if (seed !== void 0 && seed.length !== LD_SIZE) {
      throw new RangeError(`launch digest seed must be ${LD_SIZE} bytes, got ${seed.length}`);
    }
    if (seed) this.pageInfo.set(seed, 0);
    this.view.setUint16(96, PAGE_INFO_LEN, true);
  }
  /** The current 48-byte launch digest (a copy). */
  get ld() {
    return this.pageInfo.slice(0, LD_SIZE);
  }
  update(pageType, gpa, contents) {
    const pi = this.pageInfo;
    if (contents) pi.set(contents, LD_SIZE);
    else pi.fill(0, LD_SIZE, 2 * LD_SIZE);
    pi[98] = pageType;
    this.view.setUint32(104, gpa % 4294967296, true);
    this.view.setUint32(108, Math.floor(gpa / 4294967296), true);
    pi.set(sha384(pi), 0);
  }
  updateNormalPages(gpa, data) {
    if (data.length % PAGE2 !== 0) throw new RangeError(`normal pages: ${data.length} bytes is not a multiple of 4096`);
    for (let off = 0; off < data.length; off += PAGE2) {
      this.update(PageType.NORMAL, gpa + off, sha384(data.subarray(off, off + PAGE2)));
    }
  }
  updateVmsaPage(page) {
    if (page.length !== PAGE2) throw new RangeError(`a VMSA page is 4096 bytes, got ${page.length}`);
    this.update(PageType.VMSA, VMSA_GPA, sha384(page));
  }
  updateZeroPages(gpa, length) {
    for (let off = 0; off < length; off += PAGE2) this.update(PageType.ZERO, gpa + off, null);
  }
  updateUnmeasuredPages(gpa, length) {
    for (let off = 0; off < length; off += PAGE2) this.update(PageType.UNMEASURED, gpa + off, null);
  }
  updateSecretsPage(gpa) {
    this.update(PageType.SECRETS, gpa, null);
  }
  updateCpuidPage(gpa) {
    this.update(PageType.CPUID, gpa, null);
  }
};
function snpOvmfHash(ovmf) {
  const gctx = new SnpGctx();
  requirePageMultiple(ovmf);
  gctx.updateNormalPages(ovmfGpa(ovmf), ovmf.data);
  return gctx.ld;
}
function requirePageMultiple(img) {
  if (img.data.length % PAGE2 !== 0) {
    throw new InputError(img.source, `image is ${img.data.length} bytes, not a multiple of 4096: SNP measures whole pages`);
  }
}
function updateMetadataPages(gctx, img, hashes, vmm) {
  for (const s of img.metadata) {
    switch (s.type) {
      case SectionType.SNP_SEC_MEM:
        if (vmm === "gce") gctx.updateUnmeasuredPages(s.gpa, s.size);
        else gctx.updateZeroPages(s.gpa, s.size);
        break;
      case SectionType.SNP_SECRETS:
        gctx.updateSecretsPage(s.gpa);
        break;
      case SectionType.CPUID:
        if (vmm !== "ec2") gctx.updateCpuidPage(s.gpa);
        break;
      case SectionType.SNP_KERNEL_HASHES:
        if (hashes) {
          const tableGpa = sevHashesTableGpa(img);
          if (tableGpa === void 0) {
            throw new InputError(img.source, "SNP_KERNEL_HASHES section present but the footer table has no SEV hashes table address (7255371f-\u2026)");
          }
          if (s.size !== PAGE2) {
            throw new InputError(img.source, `SNP_KERNEL_HASHES section is 0x${s.size.toString(16)} bytes, expected one 4 KiB page`);
          }
          gctx.updateNormalPages(s.gpa, sevHashesPage(buildSevHashesTable(hashes), tableGpa & 4095));
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
  if (vmm === "ec2") {
    for (const s of img.metadata) if (s.type === SectionType.CPUID) gctx.updateCpuidPage(s.gpa);
  }
  if (hashes && !hasMetadataSection(img, SectionType.SNP_KERNEL_HASHES)) {
    throw new InputError(
      img.source,
      "kernel hashes requested (--kernel) but the SEV metadata has no SNP_KERNEL_HASHES section; use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc"
    );
  }
}
function checkVcpus(source, vcpus) {
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) {
    throw new InputError(source, `vCPU count ${vcpus} must be an integer from 1 to 4096`);
  }
}
function snpLaunchDigest(input) {
  const { ovmf, vcpus } = input;
  const vmm = input.vmmType ?? "QEMU";
  checkVcpus("--vcpus", vcpus);
  if (input.guestFeatures < 0n || input.guestFeatures >= 1n << 64n) {
    throw new InputError("--guest-features", `0x${input.guestFeatures.toString(16)} does not fit the 64-bit VMSA SEV_FEATURES field`);
  }
  let gctx;
  if (input.ovmfHash) {
    if (input.ovmfHash.length !== LD_SIZE) {
      throw new InputError("--snp-ovmf-hash", `must be ${LD_SIZE} bytes (96 hex digits), got ${input.ovmfHash.length}`);
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
    throw new InputError(ovmf.source, "SEV-ES reset block holds AP reset address 0: APs cannot start");
  }
  vmsaPages(vcpus, apEip, { sevFeatures: input.guestFeatures, vcpuSig: input.vcpuSig, vmmType: vmm }).forEach((p, i) => {
    gctx.updateVmsaPage(p);
    input.onVmsa?.(i, p);
  });
  return gctx.ld;
}
function svsmLaunchDigest(input) {
  const { ovmf, svsm, vcpus } = input;
  checkVcpus("--vcpus", vcpus);
  if (!Number.isInteger(input.varsSize) || input.varsSize < 0 || input.varsSize % PAGE2 !== 0) {
    throw new InputError("--vars-size", `${input.varsSize} must be a non-negative multiple of 4096`);
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
  updateMetadataPages(gctx, svsm, void 0, "QEMU");
  const page = buildSvsmVmsa(eip, input.vcpuSig);
  for (let i = 0; i < vcpus; i++) {
    gctx.updateVmsaPage(page);
    input.onVmsa?.(i, page);
  }
  return gctx.ld;
}

// support/cli/measure.ts
var MODES = ["sev", "seves", "snp", "snp:ovmf-hash", "snp:svsm"];
var MODE_NAMES = {
  sev: "SEV",
  seves: "SEV_ES",
  snp: "SEV_SNP",
  "snp:svsm": "SEV_SNP_SVSM"
};
var USAGE = `usage: sevcheck measure --mode {${MODES.join(",")}} --ovmf PATH
                        [--vcpus N] [--vcpu-type CPUTYPE | --vcpu-sig VALUE |
                         --vcpu-family FAMILY --vcpu-model MODEL --vcpu-stepping STEPPING]
                        [--vmm-type {QEMU,ec2,gce}] [--kernel PATH] [--initrd PATH]
                        [--append CMDLINE] [--guest-features VALUE]
                        [--output-format {hex,base64}] [--snp-ovmf-hash HASH] [--dump-vmsa]
                        [--svsm PATH] [--vars-size SIZE | --vars-file PATH] [-v]

Calculate AMD SEV/SEV-ES/SEV-SNP guest launch measurement (compatible with sev-snp-measure).
vCPU types: ${Object.keys(CPU_SIGS).join(", ")}
`;
var OPTIONS = {
  mode: { type: "string" },
  vcpus: { type: "string" },
  "vcpu-type": { type: "string" },
  "vcpu-sig": { type: "string" },
  "vcpu-family": { type: "string" },
  "vcpu-model": { type: "string" },
  "vcpu-stepping": { type: "string" },
  "vmm-type": { type: "string" },
  ovmf: { type: "string" },
  kernel: { type: "string" },
  initrd: { type: "string" },
  append: { type: "string" },
  "guest-features": { type: "string" },
  "output-format": { type: "string" },
  "snp-ovmf-hash": { type: "string" },
  "dump-vmsa": { type: "boolean" },
  svsm: { type: "string" },
  "vars-size": { type: "string" },
  "vars-file": { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" }
};
function parseDecimal(opt, s) {
  const t = s.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) throw new InputError(`--${opt}`, `invalid int value: '${s}'`);
  const n = Number(t.replace(/_/g, ""));
  if (!Number.isSafeInteger(n)) throw new InputError(`--${opt}`, `${s} is out of range`);
  return n;
}
function parseAutoBase(opt, s) {
  const t = s.trim().replace(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, "");
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9]\d*|0+)$/.exec(t);
  if (!m) throw new InputError(`--${opt}`, `invalid value '${s}' (use hex like 0x21 or decimal)`);
  const v = BigInt(m[2] ?? "0");
  return m[1] === "-" ? -v : v;
}
function readInput(path) {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e;
    throw new InputError(path, `cannot read: ${(err.message ?? String(e)).replace(/, \w+( '.*')?$/, "")}`);
  }
}
function loadOvmf(path) {
  return parseOvmf(readInput(path), path);
}
function hexDigest(opt, s) {
  const t = s.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new InputError(`--${opt}`, "not a hex string");
  const b = Buffer.from(t, "hex");
  if (b.length !== 48) throw new InputError(`--${opt}`, `must be 48 bytes (96 hex digits, a SHA-384 launch digest), got ${b.length}`);
  return b;
}
function parse(argv) {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new InputError("arguments", `unrecognized arguments: ${positionals.join(" ")}`);
    return { values };
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e;
    const msg = err.message.split("\n")[0] ?? String(e);
    const opt = /'(--?[\w-]+)(?:, (--[\w-]+))?/.exec(msg);
    const name = opt?.[2] ?? opt?.[1] ?? "arguments";
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new InputError(name, "unknown option");
    if (/argument missing/.test(msg)) throw new InputError(name, "expects a value");
    if (/does not take an argument/.test(msg)) throw new InputError(name, "does not take a value");
    if (/ambiguous/.test(msg)) throw new InputError(name, `value starts with '-': write it as ${name}=VALUE`);
    throw new InputError(name, msg);
  }
}
async function run(argv, out) {
  const { values: a } = parse(argv);
  if (a.help) {
    out.stdout(USAGE);
    return 0;
  }
  if (a.mode === void 0) throw new InputError("--mode", `required: one of ${MODES.join(", ")}`);
  if (!MODES.includes(a.mode)) {
    throw new InputError("--mode", `invalid choice '${a.mode}' (choose from ${MODES.join(", ")})`);
  }
  const mode = a.mode;
  if (a.ovmf === void 0) throw new InputError("--ovmf", "required: the OVMF firmware image the guest boots");
  const outputFormat = a["output-format"] ?? "hex";
  if (outputFormat !== "hex" && outputFormat !== "base64") {
    throw new InputError("--output-format", `invalid choice '${outputFormat}' (choose from hex, base64)`);
  }
  if (a["vcpu-type"] !== void 0 && !(a["vcpu-type"] in CPU_SIGS)) {
    throw new InputError("--vcpu-type", `unknown vCPU type '${a["vcpu-type"]}' (choose from ${Object.keys(CPU_SIGS).join(", ")})`);
  }
  if (a["vars-size"] !== void 0 && a["vars-file"] !== void 0) {
    throw new InputError("--vars-size", "not allowed with --vars-file");
  }
  if (mode === "snp:ovmf-hash") {
    out.stdout(Buffer.from(snpOvmfHash(loadOvmf(a.ovmf))).toString("hex") + "\n");
    return 0;
  }
  const kernel = a.kernel || void 0;
  if (a.initrd && !kernel) throw new InputError("--initrd", "--kernel required when using --initrd");
  if (a.append && !kernel) throw new InputError("--append", "--kernel required when using --append");
  const vcpus = a.vcpus === void 0 ? void 0 : parseDecimal("vcpus", a.vcpus);
  if (mode !== "sev" && vcpus === void 0) throw new InputError("--vcpus", `missing --vcpus N in guest mode '${mode}'`);
  const vmmArg = a["vmm-type"] ?? "QEMU";
  const vmmType = VMM_TYPES.find((t) => t === vmmArg || vmmArg === "qemu" && t === "QEMU");
  if (vmmType === void 0) throw new InputError("--vmm-type", `unknown VMM type '${vmmArg}' (choose from ${VMM_TYPES.join(", ")})`);
  let vcpuSig = 0;
  if (mode !== "sev") {
    if (a["vcpu-family"] !== void 0) {
      if (a["vcpu-model"] === void 0 || a["vcpu-stepping"] === void 0) {
        throw new InputError("--vcpu-family", "--vcpu-model and --vcpu-stepping are required with --vcpu-family");
      }
      const limits = { "vcpu-family": 15 + 255, "vcpu-model": 255, "vcpu-stepping": 15 };
      const fms = ["vcpu-family", "vcpu-model", "vcpu-stepping"].map((k) => {
        const n = parseDecimal(k, a[k] ?? "");
        if (n < 0 || n > limits[k]) throw new InputError(`--${k}`, `${n} is out of range 0..${limits[k]}`);
        return n;
      });
      vcpuSig = cpuSig(fms[0] ?? 0, fms[1] ?? 0, fms[2] ?? 0);
    } else if (a["vcpu-sig"] !== void 0) {
      const s = parseAutoBase("vcpu-sig", a["vcpu-sig"]);
      if (s < 0n || s > 0xffffffffn) throw new InputError("--vcpu-sig", `${a["vcpu-sig"]} is not a 32-bit CPUID signature`);
      vcpuSig = Number(s);
    } else if (a["vcpu-type"] !== void 0) {
      vcpuSig = CPU_SIGS[a["vcpu-type"]] ?? 0;
    } else if (vmmType === "QEMU") {
      throw new InputError("--vcpu-type", `missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '${mode}'`);
    }
  }
  const guestFeatures = a["guest-features"] === void 0 ? 0x1n : parseAutoBase("guest-features", a["guest-features"]);
  if (a["snp-ovmf-hash"] && mode !== "snp") throw new InputError("--snp-ovmf-hash", "SNP OVMF hash only works with --mode snp");
  if (a["dump-vmsa"] && mode === "sev") throw new InputError("--dump-vmsa", "not available in mode 'sev' (SEV has no VMSAs)");
  const dump = a["dump-vmsa"] ? (i, page) => writeFileSync(join(process.cwd(), `vmsa${i}.bin`), page) : void 0;
  const ovmf = loadOvmf(a.ovmf);
  let hashes;
  if (kernel) {
    hashes = sevKernelHashes(readInput(kernel), a.initrd ? readInput(a.initrd) : void 0, a.append || void 0);
  }
  let ld;
  switch (mode) {
    case "sev":
      ld = sevLaunchDigest(ovmf, hashes);
      break;
    case "seves":
      ld = sevEsLaunchDigest({ ovmf, vcpus: vcpus ?? 0, vcpuSig, vmmType, kernelHashes: hashes, onVmsa: dump });
      break;
    case "snp":
      ld = snpLaunchDigest({
        ovmf,
        vcpus: vcpus ?? 0,
        vcpuSig,
        guestFeatures,
        vmmType,
        kernelHashes: hashes,
        ovmfHash: a["snp-ovmf-hash"] ? hexDigest("snp-ovmf-hash", a["snp-ovmf-hash"]) : void 0,
        onVmsa: dump
      });
      break;
    case "snp:svsm": {
      if (vmmType !== "QEMU") throw new InputError("--vmm-type", "snp:svsm mode is only implemented for QEMU");
      if (!a.svsm) throw new InputError("--svsm", "snp:svsm mode requires --svsm PATH (the Coconut-SVSM binary)");
      if (hashes) throw new InputError("--kernel", "snp:svsm mode does not measure kernel hashes");
      let varsSize;
      if (a["vars-file"] !== void 0) {
        try {
          varsSize = statSync(a["vars-file"]).size;
        } catch (e) {
          throw new InputError(a["vars-file"], `cannot stat: ${e.code ?? String(e)}`);
        }
      } else if (a["vars-size"] !== void 0 && parseDecimal("vars-size", a["vars-size"]) !== 0) {
        varsSize = parseDecimal("vars-size", a["vars-size"]);
      } else {
        throw new InputError("--vars-size", "snp:svsm mode requires --vars-size or --vars-file");
      }
      const svsm = loadOvmf(a.svsm);
      ld = svsmLaunchDigest({ ovmf, svsm, varsSize, vcpus: vcpus ?? 0, vcpuSig, onVmsa: dump });
      break;
    }
  }
  const text = outputFormat === "hex" ? Buffer.from(ld).toString("hex") : Buffer.from(ld).toString("base64");
  out.stdout(a.verbose ? `Calculated ${MODE_NAMES[mode]} guest measurement: ${text}
` : `${text}
`);
  return 0;
}
async function measureMain(argv, out) {
  try {
    return await run(argv, out);
  } catch (e) {
    if (e instanceof InputError) {
      out.stderr(`sevcheck measure: ${e.source}: ${e.problem}
`);
      return 2;
    }
    throw e;
  }
}

// support/cli/measure-fast.ts
async function runMeasure(argv) {
  try {
    return await measureMain(argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
  } catch (e) {
    process.stderr.write(`sevcheck measure: ${e instanceof Error ? e.message : String(e)}
`);
    return 2;
  }
}
export {
  runMeasure
};
