/**
 * The SEV facts the kernel logs at boot, from the text of `journalctl -k -b`, `dmesg` or
 * /var/log/kern.log (pure: text in, facts out). The wordings are the table in
 * kernel-log-wordings.ts (every wording that shipped, with its kernels and commits; rendered in
 * docs/kernel-wordings.md). A line counts when its whole message, after the prefix the kernel gave
 * it ("ccp 0000:47:00.1: ", "kvm_amd: ", "SEV-SNP: ", or none for the memory-encryption banner),
 * is one of the table's wordings: a truncated line is not a fact, and anything before the prefix
 * (timestamps, host names, syslog fields) is ignored. ANSI colour codes (`dmesg --color=always`)
 * are dropped first.
 *
 * Failures are kept apart from successes: a failure line of a step (status, INIT, SEV-ES TMR,
 * SNP_INIT, RMP, PSP timeout) is recorded whatever success line of another step follows it (an
 * AMDESE snp-host kernel, and mainline v6.11–v6.13, log "SEV: failed to INIT …" and then
 * "SEV API:…"), and the rules (support/rules/firmware.ts, host-cpu.ts) let it decide.
 * A ccp / kvm_amd / SEV-SNP line the table does not know and that reads like a failure
 * (FAILURE_WORDS) is kept in `unknownFailures`, for the rules to stay undecided on it.
 *
 * Boot boundary: `Linux version …` is the first line every boot logs (init/main.c
 * start_kernel → linux_banner); kern.log holds several boots, only the lines after the last banner
 * are read.
 */
import { FAILURE_WORDS, PREFIX, WORDINGS, type Step, type Wording, type WordingSource } from './kernel-log-wordings.js';

export type KvmFeature = 'SEV' | 'SEV-ES' | 'SEV-SNP';
export type KvmState = 'enabled' | 'disabled' | 'unusable';

export interface LogLine {
  /** 1-based line number in the source text */
  readonly lineNo: number;
  /** the line as logged, trimmed (colour codes removed) */
  readonly text: string;
}

/** A line the wording table knows. */
export interface KnownLine extends LogLine {
  /** the table row (kernel-log-wordings.ts WORDINGS[].id) */
  readonly wording: string;
  readonly step: Step;
  readonly outcome: 'success' | 'failure' | 'info';
}

export interface ApiVersion extends LogLine {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface KvmLine extends LogLine {
  readonly state: KvmState;
  /** [first, last] ASID, when the wording gives the range */
  readonly asids?: readonly [number, number];
  /** which kernel wording the line has (for messages) */
  readonly wording: 'v6.5+' | 'v5.11-v6.4' | 'v4.16-v5.10' | 'AMDESE snp-host';
}

export interface RmpLine extends LogLine {
  /** the range the kernel found; undefined when the line is an RMP failure */
  readonly range?: { readonly base: bigint; readonly end: bigint };
  /** the failure's table row (rmp-not-reserved, rmp-not-cover, rmp-map-failed, rmp-config-invalid) */
  readonly failure?: string;
}

export interface MemEncryptLine extends LogLine {
  readonly vendor: 'AMD' | 'Intel';
  /** SME, SEV, SEV-ES, SEV-SNP as the banner lists them */
  readonly features: readonly string[];
}

export interface UnknownLine extends LogLine {
  readonly source: WordingSource;
}

export interface KernelLogFacts {
  /** the last `SEV API:x.y build:z` line of the boot */
  readonly sevApi?: ApiVersion;
  /** the last `SEV-SNP API:x.y build:z` line of the boot */
  readonly snpApi?: ApiVersion;
  /** `SEV firmware updated from a to b` (from/to) or `SEV firmware update successful` */
  readonly firmwareUpdate?: LogLine & { readonly from?: string; readonly to?: string };
  /** INIT / INIT_EX / DF_FLUSH failures (the last); never cancelled by a later API line */
  readonly sevInitFailed?: LogLine;
  /** SNP_INIT(_EX) / SNP_DF_FLUSH failures and "SEV-SNP support requires firmware …" */
  readonly snpInitFailed?: LogLine;
  /** PLATFORM_STATUS failed, or no SEV device at all (ccp gave up on SEV) */
  readonly statusFailed?: LogLine;
  /** `sev command … timed out, disabling PSP`: every later SEV command fails this boot */
  readonly pspDead?: LogLine;
  /** `SEV: TMR allocation failed, SEV-ES support unavailable` */
  readonly sevEsFailed?: LogLine;
  readonly kvm: Partial<Record<KvmFeature, KvmLine>>;
  /** the RMP range, or the first RMP failure (a failure is never replaced by a range) */
  readonly rmp?: RmpLine;
  /** the memory-encryption banner */
  readonly memEncrypt?: MemEncryptLine;
  /** every line the table knows, in order */
  readonly known: readonly KnownLine[];
  /** ccp / kvm_amd / SEV-SNP lines the table does not know that read like a failure */
  readonly unknownFailures: readonly UnknownLine[];
  /** lines of the last boot that were read */
  readonly lines: number;
  /** whether a boot banner was seen (the lines read start at it) */
  readonly bootBanner: boolean;
}

const BANNER = /\bLinux version \d/;
// CSI sequences (colour, erase) as `dmesg --color=always` prints them
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const SOURCES: readonly WordingSource[] = ['ccp', 'kvm_amd', 'SEV-SNP', 'mem_encrypt'];
const BY_SOURCE = new Map<WordingSource, readonly Wording[]>(SOURCES.map((s) => [s, WORDINGS.filter((w) => w.source === s)]));

const KVM_WORDING: Record<string, KvmLine['wording']> = {
  'kvm-sev-supported-v416': 'v4.16-v5.10',
  'kvm-sev-supported-asids': 'v5.11-v6.4',
  'kvm-sev-es-supported-asids': 'v5.11-v6.4',
  'kvm-sev-es-snp-supported-amdese': 'AMDESE snp-host',
};

/** The table row a line's message is, with its match; undefined when none is. */
export function matchWording(line: string): { wording: Wording; m: RegExpExecArray; source: WordingSource } | { wording?: undefined; source: WordingSource; body: string } | undefined {
  const clean = line.replace(ANSI, '');
  for (const source of SOURCES) {
    const p = PREFIX[source].exec(clean);
    if (!p) continue;
    const body = (p[1] as string).trim();
    for (const w of BY_SOURCE.get(source) ?? []) {
      const m = w.re.exec(body);
      if (m) return { wording: w, m, source };
    }
    return { source, body };
  }
  return undefined;
}

export function parseKernelLog(text: string): KernelLogFacts {
  const all = text.split(/\r?\n/);
  let start = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    if (BANNER.test(all[i] as string)) {
      start = i;
      break;
    }
  }
  const bootBanner = start > 0 || BANNER.test(all[0] ?? '');
  let sevApi: ApiVersion | undefined;
  let snpApi: ApiVersion | undefined;
  let firmwareUpdate: KernelLogFacts['firmwareUpdate'];
  let sevInitFailed: LogLine | undefined;
  let snpInitFailed: LogLine | undefined;
  let statusFailed: LogLine | undefined;
  let pspDead: LogLine | undefined;
  let sevEsFailed: LogLine | undefined;
  let rmp: RmpLine | undefined;
  let memEncrypt: MemEncryptLine | undefined;
  const kvm: Partial<Record<KvmFeature, KvmLine>> = {};
  const known: KnownLine[] = [];
  const unknownFailures: UnknownLine[] = [];
  let lines = 0;
  for (let i = start; i < all.length; i++) {
    const raw = (all[i] as string).replace(ANSI, '');
    const trimmed = raw.trim();
    // journalctl's own markers ("-- No entries --", "-- Boot <id> --") are not kernel lines
    if (trimmed === '' || /^-- .* --$/.test(trimmed)) continue;
    lines++;
    const hit = matchWording(raw);
    if (!hit) continue;
    const at: LogLine = { lineNo: i + 1, text: trimmed };
    if (!hit.wording) {
      if (hit.source !== 'mem_encrypt' && FAILURE_WORDS.test(hit.body)) unknownFailures.push({ ...at, source: hit.source });
      continue;
    }
    const { wording: w, m } = hit;
    known.push({ ...at, wording: w.id, step: w.step, outcome: w.outcome });
    const f = w.fact(m);
    switch (f.kind) {
      case 'api': {
        const v = { ...at, major: f.major, minor: f.minor, build: f.build };
        if (f.snp) snpApi = v;
        else sevApi = v;
        break;
      }
      case 'fw-update':
        firmwareUpdate = { ...at, ...(f.from !== undefined ? { from: f.from } : {}), ...(f.to !== undefined ? { to: f.to } : {}) };
        break;
      case 'failed':
        if (f.step === 'sev-init') sevInitFailed = at;
        else if (f.step === 'snp-init') snpInitFailed = at;
        else if (f.step === 'status') statusFailed = at;
        else if (f.step === 'psp') pspDead = at;
        else if (f.step === 'sev-es') sevEsFailed = at;
        else if (f.step === 'rmp' && !rmp?.failure) rmp = { ...at, failure: w.id };
        break;
      case 'kvm': {
        const wording = KVM_WORDING[w.id] ?? 'v6.5+';
        const line: KvmLine = { ...at, state: f.state, ...(f.asids ? { asids: f.asids } : {}), wording };
        kvm[f.feature] = line;
        if (f.also) kvm[f.also] = line;
        break;
      }
      case 'rmp-range':
        if (!rmp?.failure) rmp = { ...at, range: { base: f.base, end: f.end } };
        break;
      case 'memenc':
        memEncrypt = { ...at, vendor: f.vendor, features: f.features };
        break;
      case 'info':
        break;
    }
  }
  return {
    ...(sevApi ? { sevApi } : {}),
    ...(snpApi ? { snpApi } : {}),
    ...(firmwareUpdate ? { firmwareUpdate } : {}),
    ...(sevInitFailed ? { sevInitFailed } : {}),
    ...(snpInitFailed ? { snpInitFailed } : {}),
    ...(statusFailed ? { statusFailed } : {}),
    ...(pspDead ? { pspDead } : {}),
    ...(sevEsFailed ? { sevEsFailed } : {}),
    ...(rmp ? { rmp } : {}),
    ...(memEncrypt ? { memEncrypt } : {}),
    kvm,
    known,
    unknownFailures,
    lines,
    bootBanner,
  };
}

/** Whether the log holds any SEV line, known or an unknown failure (an empty or unrelated log decides nothing). */
export function hasSevLines(f: KernelLogFacts): boolean {
  return f.known.some((k) => k.step !== 'memenc') || f.unknownFailures.length > 0;
}

/** The unknown failure-like lines of the given sources (for the rules that must not pass on them). */
export function unknownFailuresOf(f: KernelLogFacts | undefined, sources: readonly WordingSource[]): readonly UnknownLine[] {
  return (f?.unknownFailures ?? []).filter((u) => sources.includes(u.source));
}
