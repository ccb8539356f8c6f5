/**
 * The guest owner's launch bundle: DIR/launch.json (format in docs/launch.md) and the files it
 * names, read and validated. The bundle lives with the guest owner, not on the probed host, so
 * it is read with node:fs from the machine running sevcheck.
 *
 * Everything wrong with the bundle itself (launch.json unreadable or not JSON, an unknown or
 * malformed key, a named file that does not exist, `vectors:` paths without --vectors) is an
 * input error: HarnessError naming launch.json and the key, exit 2 before any check runs
 * (support/cli/run.ts loads the bundle up front), never a failed check. The content of the named
 * files is judged later, as evidence (support/launch/evidence.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { HarnessError } from '../host/types.js';
import { CPU_SIGS, VMM_TYPES, type VmmType } from '../sev/vmsa.js';
import { SNP_REPORT_SIZE, type SnpGeneration } from '../sev/snp-report.js';
import { SECRET_GUID_ALIASES } from '../sev/launch-secret.js';
import { isGuid } from '../sev/guid.js';

export const BUNDLE_FILE = 'launch.json';
/** `vectors:REL` in launch.json resolves against this (or --vectors DIR). */
export const VECTORS_ENV = 'SEVCHECK_VECTORS';

export interface LaunchOptions {
  /** --launch DIR */
  readonly bundle?: string | undefined;
  /** --vectors DIR (else $SEVCHECK_VECTORS) */
  readonly vectors?: string | undefined;
}

/** A file named in launch.json: `label` is how launch.json wrote it, `path` where it was found. */
export interface FileRef {
  readonly label: string;
  readonly path: string;
}

export type SevMode = 'sev' | 'seves';

/** What the guest owner expects to be launched: a firmware image and its parameters, or a reference digest. */
export type ExpectedLaunch =
  | { readonly kind: 'digest'; readonly digest: Buffer; readonly label: string }
  | {
      readonly kind: 'image';
      readonly ovmf: FileRef;
      readonly kernel?: FileRef | undefined;
      readonly initrd?: FileRef | undefined;
      readonly append?: string | undefined;
      readonly vcpus?: number | undefined;
      readonly vcpuSig: number;
      readonly vmmType: VmmType;
      readonly guestFeatures: bigint;
      readonly label: string;
    };

export type Tamper = { readonly offset: number; readonly xor: number } | { readonly truncate: number };

export interface SevBundle {
  readonly mode: SevMode;
  readonly expected: ExpectedLaunch;
  /** the policy the guest owner sent with its session (SEV API spec §3 "Guest Policy") */
  readonly policy: number;
  readonly tik: FileRef;
  readonly tek: FileRef;
  /** the platform's replies (QMP JSON or `virsh domlaunchsecinfo` text); absent: ask the host over QMP */
  readonly platform?: FileRef | undefined;
  readonly api?: { readonly major: number; readonly minor: number; readonly build: number } | undefined;
  readonly secret?: {
    readonly entries: ReadonlyArray<{ readonly guid: string; readonly file: FileRef }>;
    readonly packet?: { readonly header: FileRef; readonly data: FileRef } | undefined;
  } | undefined;
}

export interface SnpBundle {
  readonly expected?: ExpectedLaunch | undefined;
  /** the platform's measurement when there is no report (hex, 48 bytes) */
  readonly measurement?: Buffer | undefined;
  readonly report?: FileRef | undefined;
  readonly tamper: readonly Tamper[];
  readonly generation?: SnpGeneration | undefined;
  readonly vcek?: FileRef | undefined;
  readonly ask?: FileRef | undefined;
  readonly ark?: FileRef | undefined;
  /** AMD KDS cert_chain (PEM: ASK then ARK) */
  readonly certChain?: FileRef | undefined;
  /** the certificate blob of SNP_GET_EXT_REPORT (GHCB certificate table) */
  readonly certTable?: FileRef | undefined;
  readonly amdCerts?: string | undefined;
}

export interface LaunchBundle {
  readonly dir: string;
  /** launch.json's path as shown in messages */
  readonly file: string;
  readonly description?: string | undefined;
  /** when to judge certificate validity (recorded evidence); default: now */
  readonly at?: Date | undefined;
  readonly sev?: SevBundle | undefined;
  readonly snp?: SnpBundle | undefined;
}


// ------------------------------------------------------------------------------------------------
// launch.json

type Json = Record<string, unknown>;

interface LoadContext {
  readonly dir: string;
  readonly file: string;
  readonly vectors?: string | undefined;
  readonly amdCerts?: string | undefined;
}

/** Read and validate DIR/launch.json. Throws HarnessError naming launch.json and the key. */
export function loadBundle(dir: string, opts: { vectors?: string | undefined; amdCerts?: string | undefined } = {}): LaunchBundle {
  const path = join(dir, BUNDLE_FILE);
  const file = displayPath(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new HarnessError(`${file}: no launch bundle here (a launch bundle is a directory with launch.json)`);
    throw new HarnessError(`${file}: ${err.code ? `cannot read (${err.code})` : `not JSON: ${err.message}`}`);
  }
  const c: LoadContext = { dir, file, vectors: opts.vectors, amdCerts: opts.amdCerts };
  const o = obj(c, '', raw);
  known(c, '', o, ['description', 'at', 'sev', 'snp']);
  const at = o.at === undefined ? undefined : date(c, 'at', o.at);
  return {
    dir,
    file,
    description: o.description === undefined ? undefined : str(c, 'description', o.description),
    at,
    sev: o.sev === undefined ? undefined : sevSection(c, obj(c, 'sev', o.sev)),
    snp: o.snp === undefined ? undefined : snpSection(c, obj(c, 'snp', o.snp)),
  };
}

function sevSection(c: LoadContext, o: Json): SevBundle {
  known(c, 'sev', o, ['mode', 'firmware', 'policy', 'tik', 'tek', 'platform', 'api', 'secret']);
  const mode = o.mode === undefined ? 'sev' : str(c, 'sev.mode', o.mode);
  if (mode !== 'sev' && mode !== 'seves') bad(c, 'sev.mode', `"${mode}": use "sev" or "seves"`);
  if (o.firmware === undefined) bad(c, 'sev.firmware', 'required: the firmware the guest owner expects ({"ovmf": ...} or {"digest": "hex"})');
  if (o.policy === undefined) bad(c, 'sev.policy', 'required: the guest policy sent with the launch session (e.g. "0x1")');
  if (o.tik === undefined || o.tek === undefined) bad(c, o.tik === undefined ? 'sev.tik' : 'sev.tek', 'required: the session key file (16 bytes, sevctl session writes tik.bin and tek.bin)');
  const policy = int(c, 'sev.policy', o.policy, 0xffffffff);
  let api: SevBundle['api'];
  if (o.api !== undefined) {
    const a = obj(c, 'sev.api', o.api);
    known(c, 'sev.api', a, ['major', 'minor', 'build']);
    api = { major: int(c, 'sev.api.major', a.major, 0xff), minor: int(c, 'sev.api.minor', a.minor, 0xff), build: int(c, 'sev.api.build', a.build, 0xff) };
  }
  let secret: SevBundle['secret'];
  if (o.secret !== undefined) {
    const s = obj(c, 'sev.secret', o.secret);
    known(c, 'sev.secret', s, ['entries', 'packet']);
    if (!Array.isArray(s.entries) || s.entries.length === 0) bad(c, 'sev.secret.entries', 'a non-empty array of {"guid": GUID or "luks-key", "file": PATH}');
    const entries = (s.entries as unknown[]).map((e, i) => {
      const k = `sev.secret.entries[${i}]`;
      const eo = obj(c, k, e);
      known(c, k, eo, ['guid', 'file']);
      const guid = str(c, `${k}.guid`, eo.guid);
      if (!isGuid(guid) && SECRET_GUID_ALIASES[guid] === undefined) bad(c, `${k}.guid`, `"${guid}" is neither a GUID nor one of ${Object.keys(SECRET_GUID_ALIASES).join(', ')}`);
      return { guid, file: ref(c, `${k}.file`, eo.file) };
    });
    let packet: NonNullable<SevBundle['secret']>['packet'];
    if (s.packet !== undefined) {
      const p = obj(c, 'sev.secret.packet', s.packet);
      known(c, 'sev.secret.packet', p, ['header', 'data']);
      packet = { header: ref(c, 'sev.secret.packet.header', p.header), data: ref(c, 'sev.secret.packet.data', p.data) };
    }
    secret = { entries, packet };
  }
  return {
    mode,
    expected: expected(c, 'sev.firmware', o.firmware, mode),
    policy,
    tik: ref(c, 'sev.tik', o.tik),
    tek: ref(c, 'sev.tek', o.tek),
    platform: o.platform === undefined ? undefined : ref(c, 'sev.platform', o.platform),
    api,
    secret,
  };
}

function snpSection(c: LoadContext, o: Json): SnpBundle {
  known(c, 'snp', o, ['firmware', 'measurement', 'report', 'tamper', 'generation', 'vcek', 'ask', 'ark', 'certChain', 'certTable', 'amdCerts']);
  let measurement: Buffer | undefined;
  if (o.measurement !== undefined) {
    measurement = hex(c, 'snp.measurement', o.measurement, 48);
    if (o.report !== undefined) bad(c, 'snp.measurement', 'give the platform\'s measurement either as "measurement" or inside "report", not both');
  }
  const tamper: Tamper[] = [];
  if (o.tamper !== undefined) {
    if (o.report === undefined) bad(c, 'snp.tamper', 'there is no "report" to tamper with');
    const list = Array.isArray(o.tamper) ? (o.tamper as unknown[]) : [o.tamper];
    list.forEach((t, i) => {
      const k = `snp.tamper[${i}]`;
      const to = obj(c, k, t);
      if (to.truncate !== undefined) {
        known(c, k, to, ['truncate']);
        tamper.push({ truncate: int(c, `${k}.truncate`, to.truncate, 0xffff) });
      } else {
        known(c, k, to, ['offset', 'xor']);
        tamper.push({ offset: int(c, `${k}.offset`, to.offset, SNP_REPORT_SIZE - 1), xor: int(c, `${k}.xor`, to.xor, 0xff) });
      }
    });
  }
  const gens: readonly SnpGeneration[] = ['milan', 'genoa', 'turin', 'venice'];
  let generation: SnpGeneration | undefined;
  if (o.generation !== undefined) {
    const g = str(c, 'snp.generation', o.generation).toLowerCase();
    if (!(gens as readonly string[]).includes(g)) bad(c, 'snp.generation', `"${g}": use ${gens.join(', ')}`);
    generation = g as SnpGeneration;
  }
  const opt = (k: string): FileRef | undefined => (o[k] === undefined ? undefined : ref(c, `snp.${k}`, o[k]));
  let amdCerts = c.amdCerts ? resolve(c.amdCerts) : undefined;
  if (o.amdCerts !== undefined) amdCerts = dirRef(c, 'snp.amdCerts', o.amdCerts);
  return {
    expected: o.firmware === undefined ? undefined : expected(c, 'snp.firmware', o.firmware, 'snp'),
    measurement,
    report: opt('report'),
    tamper,
    generation,
    vcek: opt('vcek'),
    ask: opt('ask'),
    ark: opt('ark'),
    certChain: opt('certChain'),
    certTable: opt('certTable'),
    amdCerts,
  };
}

function expected(c: LoadContext, k: string, v: unknown, mode: SevMode | 'snp'): ExpectedLaunch {
  const o = obj(c, k, v);
  const size = mode === 'snp' ? 48 : 32;
  if (o.digest !== undefined) {
    known(c, k, o, ['digest']);
    return { kind: 'digest', digest: hex(c, `${k}.digest`, o.digest, size), label: `reference digest ${k}.digest in ${c.file}` };
  }
  known(c, k, o, ['ovmf', 'kernel', 'initrd', 'append', 'vcpus', 'vcpuType', 'vcpuSig', 'vmmType', 'guestFeatures']);
  if (o.ovmf === undefined) bad(c, `${k}.ovmf`, 'required (or give "digest": the expected launch digest in hex)');
  const kernel = o.kernel === undefined ? undefined : ref(c, `${k}.kernel`, o.kernel);
  if ((o.initrd !== undefined || o.append !== undefined) && !kernel) bad(c, `${k}.kernel`, 'required with "initrd" or "append" (measured direct boot)');
  const vmm = o.vmmType === undefined ? 'QEMU' : str(c, `${k}.vmmType`, o.vmmType);
  const vmmType = VMM_TYPES.find((t) => t.toLowerCase() === vmm.toLowerCase());
  if (!vmmType) bad(c, `${k}.vmmType`, `"${vmm}": use ${VMM_TYPES.join(', ')}`);
  let vcpus: number | undefined;
  let vcpuSig = 0;
  if (mode !== 'sev') {
    if (o.vcpus === undefined) bad(c, `${k}.vcpus`, `required for ${mode === 'snp' ? 'SNP' : 'SEV-ES'} (one VMSA per vCPU is measured)`);
    vcpus = int(c, `${k}.vcpus`, o.vcpus, 4096);
    if (vcpus < 1) bad(c, `${k}.vcpus`, 'must be 1..4096');
    if (o.vcpuSig !== undefined) vcpuSig = int(c, `${k}.vcpuSig`, o.vcpuSig, 0xffffffff);
    else if (o.vcpuType !== undefined) {
      const t = str(c, `${k}.vcpuType`, o.vcpuType);
      const sig = CPU_SIGS[t];
      if (sig === undefined) bad(c, `${k}.vcpuType`, `unknown vCPU type "${t}" (choose from ${Object.keys(CPU_SIGS).join(', ')})`);
      vcpuSig = sig;
    } else if (vmmType === 'QEMU') bad(c, `${k}.vcpuType`, 'required with QEMU (or "vcpuSig")');
  }
  let guestFeatures = 1n;
  if (o.guestFeatures !== undefined) {
    if (mode !== 'snp') bad(c, `${k}.guestFeatures`, 'only SNP guests have guest features (VMSA SEV_FEATURES)');
    guestFeatures = BigInt(int(c, `${k}.guestFeatures`, o.guestFeatures, Number.MAX_SAFE_INTEGER));
  }
  const ovmf = ref(c, `${k}.ovmf`, o.ovmf);
  const append = o.append === undefined ? undefined : str(c, `${k}.append`, o.append);
  const initrd = o.initrd === undefined ? undefined : ref(c, `${k}.initrd`, o.initrd);
  const parts = [ovmf.label];
  if (vcpus !== undefined) parts.push(`${vcpus} vCPU${vcpus === 1 ? '' : 's'}${o.vcpuType ? ` ${String(o.vcpuType)}` : ''}${vmmType !== 'QEMU' ? ` (${vmmType})` : ''}`);
  if (kernel) parts.push(`kernel ${kernel.label}${initrd ? ` + initrd ${initrd.label}` : ''}${append !== undefined ? ' + append' : ''}`);
  if (mode === 'snp' && guestFeatures !== 1n) parts.push(`guest features 0x${guestFeatures.toString(16)}`);
  return { kind: 'image', ovmf, kernel, initrd, append, vcpus, vcpuSig, vmmType: vmmType as VmmType, guestFeatures, label: parts.join(', ') };
}

// ------------------------------------------------------------------------------------------------
// launch.json helpers

function bad(c: LoadContext, k: string, problem: string): never {
  throw new HarnessError(`${c.file}: ${k || '(top level)'}: ${problem}`);
}

function known(c: LoadContext, k: string, o: Json, keys: readonly string[]): void {
  for (const name of Object.keys(o)) if (!keys.includes(name)) bad(c, k ? `${k}.${name}` : name, `unknown key (known: ${keys.join(', ')})`);
}

function obj(c: LoadContext, k: string, v: unknown): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(c, k, 'must be a JSON object');
  return v as Json;
}

function str(c: LoadContext, k: string, v: unknown): string {
  if (typeof v !== 'string') bad(c, k, 'must be a string');
  return v;
}

/** A number, or a string in decimal or 0x hex (policies and signatures are written in hex). */
function int(c: LoadContext, k: string, v: unknown, max: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v.trim())) n = Number(v.trim());
  else bad(c, k, `${JSON.stringify(v)} is not an integer (decimal or "0x..." hex)`);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) bad(c, k, `${JSON.stringify(v)} is outside 0..${max === 0xffffffff ? '0xffffffff' : max}`);
  return n;
}

function hex(c: LoadContext, k: string, v: unknown, size: number): Buffer {
  const t = str(c, k, v).replace(/\s+/g, '').replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) bad(c, k, 'not a hex string');
  if (t.length !== size * 2) bad(c, k, `must be ${size} bytes (${size * 2} hex digits), got ${t.length / 2}`);
  return Buffer.from(t, 'hex');
}

function date(c: LoadContext, k: string, v: unknown): Date {
  const d = new Date(str(c, k, v));
  if (Number.isNaN(d.getTime())) bad(c, k, `"${String(v)}" is not an ISO 8601 date-time`);
  return d;
}

/** Where a launch.json path points: relative to the bundle, absolute, or `vectors:REL`. */
function resolveRef(c: LoadContext, k: string, v: unknown): FileRef {
  const label = str(c, k, v);
  if (label.startsWith('vectors:')) {
    if (!c.vectors) bad(c, k, `"${label}" needs the reference vectors: set ${VECTORS_ENV}=DIR or pass --vectors DIR (e.g. test/vectors in a clone of sevcheck)`);
    return { label, path: resolve(c.vectors, label.slice('vectors:'.length)) };
  }
  return { label, path: isAbsolute(label) ? label : resolve(c.dir, label) };
}

function ref(c: LoadContext, k: string, v: unknown): FileRef {
  const r = resolveRef(c, k, v);
  let st;
  try {
    st = statSync(r.path);
  } catch (e) {
    bad(c, k, `"${r.label}": cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}: ${r.path})`);
  }
  if (!st.isFile()) bad(c, k, `"${r.label}" is not a regular file`);
  return r;
}

function dirRef(c: LoadContext, k: string, v: unknown): string {
  const r = resolveRef(c, k, v);
  if (!existsSync(r.path) || !statSync(r.path).isDirectory()) bad(c, k, `"${r.label}" is not a directory`);
  return r.path;
}

export function readRef(f: FileRef): Buffer {
  try {
    return readFileSync(f.path);
  } catch (e) {
    throw new HarnessError(`${f.label}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function displayPath(p: string): string {
  const rel = p.startsWith(process.cwd() + '/') ? p.slice(process.cwd().length + 1) : p;
  return rel;
}

