/**
 * Firmware, SNP platform and platform-tool checks (pure: facts in, verdict out). Each rule decides
 * from the kernel log where a line can decide (and names that line), else from snphost / sevctl
 * (and names the tool's test), else undecided with what to install.
 */
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { optional, type Fact } from '../facts.js';
import type { EncryptedMemoryCaps } from '../sev/cpuid.js';
import type { Profile } from '../profile.js';
import { unknownFailuresOf, type ApiVersion, type LogLine } from '../parsers/kernel-log.js';
import type { WordingSource } from '../parsers/kernel-log-wordings.js';
import { findTest, parseSecureTscMessage, parseVersionMessage, type FirmwareVersion, type ToolFact, type ToolTest } from '../parsers/platform-tools.js';
import type { AgreeFacts, KernelLog, ToolRun } from '../probes/host-firmware.js';

export const INSTALL_SNPHOST = 'install snphost (virtee, https://github.com/virtee/snphost) on the host to decide this';
export const INSTALL_SEVCTL = 'install sevctl (virtee, https://github.com/virtee/sevctl) on the host to decide this';

/**
 * The lowest SEV firmware (API) version SNP runs on: 1.51. Linux refuses SNP below it
 * (drivers/crypto/ccp/sev-dev.c SNP_MIN_API_MAJOR 1 / SNP_MIN_API_MINOR 51, "SEV-SNP support
 * requires firmware version >= %d:%d", torvalds/linux e606073b), the SEV-SNP Firmware ABI
 * specification's first release is revision 1.51 (AMD publication 56860), and snphost's hint says
 * "update BIOS for firmware >= 1.51" (virtee/snphost 56d5d7e src/ok/mod.rs). No source sets a
 * minimum for SEV or SEV-ES guests: those profiles have none unless --min-firmware gives one.
 */
export const SNP_MIN_FIRMWARE: FirmwareVersion = { major: 1, minor: 51 };

export interface MinFirmware {
  readonly version: FirmwareVersion;
  /** where the minimum comes from, for the message */
  readonly source: string;
}

export function minFirmware(profile: Profile, option?: FirmwareVersion): MinFirmware | undefined {
  if (option) return { version: option, source: '--min-firmware' };
  return profile === 'sev-snp' ? { version: SNP_MIN_FIRMWARE, source: 'the sev-snp profile (Linux sev-dev.c SNP_MIN_API 1.51)' } : undefined;
}

const v = (f: FirmwareVersion): string => `${f.major}.${f.minor}${f.build !== undefined ? ` build ${f.build}` : ''}`;
const atLeast = (a: FirmwareVersion, b: FirmwareVersion): boolean => a.major > b.major || (a.major === b.major && a.minor >= b.minor);

export function logLine(log: KernelLog, line: LogLine): string {
  return `${log.source} line ${line.lineNo}: "${line.text}"`;
}

/**
 * Rule (issue 18): a line of ccp / kvm_amd / SEV-SNP that the wording table
 * (support/parsers/kernel-log-wordings.ts) does not know and that reads like a failure keeps the
 * checks that depend on it from passing on the log: they say undecided and quote the line.
 */
export function unknownFailureReason(log: KernelLog, sources: readonly WordingSource[], what: string): string | undefined {
  const u = unknownFailuresOf(log.facts, sources);
  if (u.length === 0) return undefined;
  const quoted = u.slice(0, 3).map((l) => logLine(log, l)).join('; ');
  return `${quoted}${u.length > 3 ? ` (and ${u.length - 3} more)` : ''}: ${u.length === 1 ? 'this line reads' : 'these lines read'} like a failure in a wording sevcheck's table does not know (docs/kernel-wordings.md), so the log cannot show ${what}`;
}

/** The first failure line, among those given, that the log has (a failed step is never cancelled by a later success line). */
function firstFailure(...lines: (LogLine | undefined)[]): LogLine | undefined {
  return lines.filter((l): l is LogLine => l !== undefined).sort((a, b) => a.lineNo - b.lineNo)[0];
}

/** Why neither the kernel log nor the tools decided, ending with what to install. */
function noAnswer(log: KernelLog, what: string, tools: readonly ToolRun[], install: string): Verdict {
  const logPart = log.source ? `${log.source} has no line that decides ${what}` : `no kernel log with SEV lines (${log.tried.join('; ')})`;
  const toolParts = tools.map((t) => (t.absent ? `${t.tool} is not installed` : t.reason ?? `${t.command} reports no such test`));
  return undecided(`${logPart}; ${toolParts.join('; ')}; ${install}`);
}

function toolsSaid(tools: readonly ToolRun[]): string {
  return tools.map((t) => (t.absent ? `${t.tool} is not installed` : t.reason ?? `${t.command} reports no such test`)).join('; ');
}

/** ", although line N reports …" when an API line follows the failure (it reports the status step, not INIT). */
function laterApi(log: KernelLog, failure: LogLine): string {
  const api = [log.facts?.sevApi, log.facts?.snpApi].find((a) => a && a.lineNo > failure.lineNo);
  return api ? `; the later line ${api.lineNo} ("${api.text}") reports the firmware version PLATFORM_STATUS gave, not a successful INIT` : '';
}

/** A tool's test for `fact` that ran (PASS or FAIL), from the first tool that has one. */
function toolAnswer(tools: readonly ToolRun[], fact: ToolFact): { run: ToolRun; test: ToolTest } | undefined {
  for (const run of tools) {
    const test = run.tests ? findTest(run.tests, fact) : undefined;
    if (test && test.status !== 'skip') return { run, test };
  }
  return undefined;
}

const said = (a: { run: ToolRun; test: ToolTest }): string =>
  `${a.run.command}: "${a.test.name}" ${a.test.status.toUpperCase()}${a.test.message ? ` (${a.test.message})` : ''}`;

/**
 * A firmware check on a CPU whose CPUID 0x8000001F has no SEV bit (or no such leaf, or another
 * vendor) has no SEV firmware to ask: undecided, pointing at host.cpuid.sev instead of at a tool
 * to install. When CPUID cannot be read, the check goes on with its own sources.
 */
export async function onSevCpu(cpuid: Fact<EncryptedMemoryCaps>, decide: () => Promise<Verdict>): Promise<Verdict> {
  const c = await optional(cpuid);
  if (c && !c.sev) {
    const what = c.implemented === false ? `${c.vendor ?? 'this CPU'} has no CPUID leaf 0x8000001F` : 'CPUID 0x8000001F EAX bit 1 (SEV) is clear';
    return undecided(`${what}: there is no SEV firmware to ask on this host (host.cpuid.sev says what to change)`);
  }
  return decide();
}

/** The running SEV firmware version and where it was read, or why no source gave it (undecided). */
export type FirmwareFound = { readonly version: FirmwareVersion; readonly from: string } | { readonly unknown: string } | { readonly gaveUp: Verdict };

/**
 * The SEV firmware version the host runs: the kernel log's last API line of the boot (with the
 * firmware ccp loaded at boot, if any), else snphost's "SEV firmware version" test, else
 * `sevctl show version`.
 */
export async function findFirmware(log: KernelLog, snphost: Fact<ToolRun>, sevctlVersion: Fact<{ version?: FirmwareVersion; reason?: string; absent: boolean }>): Promise<FirmwareFound> {
  let found: { version: FirmwareVersion; from: string } | undefined;
  const f = log.facts;
  const api: ApiVersion | undefined = f?.sevApi && f.snpApi ? (f.snpApi.lineNo > f.sevApi.lineNo ? f.snpApi : f.sevApi) : f?.snpApi ?? f?.sevApi;
  // ccp may load newer firmware at boot (/lib/firmware/amd/…): the API line after it is the running one; the update line is told too
  const upd = f?.firmwareUpdate;
  if (api) found = { version: api, from: `${logLine(log, api)}${upd ? `; loaded at boot: ${upd.text.replace(/^.*?(SEV firmware update)/, '$1')}` : ''}` };
  const tools: ToolRun[] = [];
  const gaveUp = found ? undefined : firstFailure(f?.statusFailed, f?.pspDead, f?.pspUnreachable);
  if (gaveUp) return { gaveUp: failed(`the SEV firmware did not report its version: ${logLine(log, gaveUp)}`, 'the SEV firmware to answer PLATFORM_STATUS', 'enable SEV in the BIOS setup (SMEE / "SEV Control"), update the system BIOS / SEV firmware, then reboot') };
  if (!found) {
    const s = await snphost();
    tools.push(s);
    const t = s.tests ? findTest(s.tests, 'fw.version') : undefined;
    const parsed = t?.status === 'pass' ? parseVersionMessage(t.message) : undefined;
    const failedAt = t?.status === 'fail' ? /current firmware version: (\d{1,3})\.(\d{1,3})\s*$/.exec(t.message ?? '') : null;
    if (parsed) found = { version: parsed, from: `${s.command}: "${t?.name}" ${t?.message}` };
    else if (failedAt) found = { version: { major: Number(failedAt[1]), minor: Number(failedAt[2]) }, from: `${s.command}: "${t?.name}" ${t?.message}` };
  }
  if (!found) {
    const sv = await sevctlVersion();
    if (sv.version) found = { version: sv.version, from: `sevctl show version: ${v(sv.version)}` };
    else {
      const logPart = log.source ? `${log.source} has no "SEV API:" line` : `no kernel log with SEV lines (${log.tried.join('; ')})`;
      const toolPart = tools.map((t) => (t.absent ? 'snphost is not installed' : t.reason ?? `${t.command} gave no version`)).join('; ');
      return { unknown: `${logPart}; ${toolPart}; ${sv.absent ? 'sevctl is not installed' : sv.reason}; ${INSTALL_SNPHOST}` };
    }
  }
  return found;
}

/** host.firmware.version: SEV firmware major.minor against the profile's minimum. */
export async function firmwareVersion(log: KernelLog, min: MinFirmware | undefined, snphost: Fact<ToolRun>, sevctlVersion: Fact<{ version?: FirmwareVersion; reason?: string; absent: boolean }>): Promise<Verdict> {
  const found = await findFirmware(log, snphost, sevctlVersion);
  if ('gaveUp' in found) return found.gaveUp;
  if ('unknown' in found) return undecided(found.unknown);
  const { version, from } = found;
  if (version.major === 0 && version.minor === 0) {
    return failed(`SEV firmware version 0.0 (${from})`, 'a SEV firmware that reports its API version', 'update the system BIOS to a release with current SEV firmware (AMD PSP), then reboot');
  }
  if (!min) return passed(`SEV firmware ${v(version)} (${from}); the profile sets no minimum (give one with --min-firmware X.Y)`);
  if (atLeast(version, min.version)) return passed(`SEV firmware ${v(version)} (${from}) is at least ${v(min.version)}, the minimum of ${min.source}`);
  return failed(
    `SEV firmware ${v(version)} (${from})`,
    `at least ${v(min.version)} (${min.source}; major and minor compared)`,
    `update the system BIOS to one carrying SEV firmware ${v(min.version)} or newer, or place AMD's newer SEV firmware in /lib/firmware/amd/ (amd_sev_fam19h_model0xh.sbin on Milan) so that ccp loads it at boot (drivers/crypto/ccp/sev-dev.c sev_update_firmware), then reboot`,
  );
}

/** host.firmware.sev-init: the SEV platform is initialized. */
export async function sevInit(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const f = log.facts;
  if (f?.sevInitFailed) {
    return failed(`the ccp driver could not initialize SEV (${logLine(log, f.sevInitFailed)})${laterApi(log, f.sevInitFailed)}`, 'SEV INIT to succeed', 'look up the firmware error code of the line in the SEV API specification (AMD 55766, "Status Codes"); update the system BIOS / SEV firmware, check that SEV is enabled in the BIOS, then reboot');
  }
  // a PSP that cannot be read gives no SEV; on a host with several ccp devices another may answer (its API line)
  const unreachable = f?.sevApi || f?.snpApi ? undefined : f?.pspUnreachable;
  const gaveUp = firstFailure(f?.statusFailed, f?.pspDead, unreachable);
  if (gaveUp) {
    return failed(`the ccp driver gave up on the SEV firmware before or during INIT (${logLine(log, gaveUp)})`, 'the SEV firmware to answer PLATFORM_STATUS and INIT', 'enable SEV in the BIOS setup (SMEE / "SEV Control"), update the system BIOS / SEV firmware, then reboot; a PSP that timed out stays disabled until the next boot');
  }
  const unknown = unknownFailureReason(log, ['ccp', 'kvm_amd'], 'that SEV INIT succeeded');
  if (f?.sevApi && !unknown) return passed(`the ccp driver initialized SEV firmware ${v(f.sevApi)} and logged no INIT failure this boot (${logLine(log, f.sevApi)})`);
  const runs = await tools();
  const a = toolAnswer(runs, 'fw.sev-init');
  if (a?.test.status === 'pass') return passed(`SEV platform initialized (${said(a)})`);
  if (a) return failed(`SEV platform not initialized (${said(a)})`, 'the SEV platform state INIT or WORKING', 'modprobe -r kvm_amd && modprobe kvm_amd sev=1 (kvm_amd initializes SEV when it loads); check `dmesg | grep -i sev` for the INIT error');
  if (unknown) return undecided(`${unknown}; ${toolsSaid(runs)}; ${INSTALL_SNPHOST}`);
  return noAnswer(log, 'SEV initialization', runs, INSTALL_SNPHOST);
}

/** host.firmware.sev-es-init: PLATFORM_STATUS flags bit 8 (ENCRYPTED_STATE): only an ioctl tells. */
export async function sevEsInit(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const f = log.facts;
  const esFail = firstFailure(f?.sevEsFailed, f?.sevInitFailed, f?.statusFailed, f?.pspDead);
  if (esFail) {
    return failed(`${esFail === f?.sevEsFailed ? 'INIT ran without the SEV-ES flag' : 'SEV INIT did not succeed, so its SEV-ES flag is not set'} (${logLine(log, esFail)})`, 'PLATFORM_STATUS flag ENCRYPTED_STATE set', esFail === f?.sevEsFailed ? 'free memory for the 1 MB (2 MB with SNP) SEV-ES TMR at boot (a kernel with less reserved memory pressure / CMA), then reboot' : 'fix host.firmware.sev-init first (the line says why INIT failed), then reboot');
  }
  const runs = await tools();
  const a = toolAnswer(runs, 'fw.sev-es-init');
  if (a?.test.status === 'pass') return passed(`SEV firmware initialized with SEV-ES (${said(a)})`);
  if (a) return failed(`SEV firmware not initialized for SEV-ES (${said(a)})`, 'PLATFORM_STATUS flag ENCRYPTED_STATE set', 'modprobe -r kvm_amd && modprobe kvm_amd sev=1 sev_es=1');
  return noAnswer(log, 'the SEV-ES init flag (a /dev/sev PLATFORM_STATUS ioctl answers it; no log line does)', runs, INSTALL_SNPHOST);
}

/** host.snp.init: SNP firmware initialized (SNP_PLATFORM_STATUS state). */
export async function snpInit(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const f = log.facts;
  if (f?.snpInitFailed) {
    return failed(`the ccp driver could not initialize SEV-SNP (${logLine(log, f.snpInitFailed)})${laterApi(log, f.snpInitFailed)}`, 'SNP_INIT to succeed', 'update the system BIOS to SEV firmware 1.51 or newer with SNP enabled (SNP Memory Coverage, SMEE), then reboot; see the error code in the line');
  }
  const rmpFailed = f?.rmp?.failure ? f.rmp : undefined;
  const unreachable = f?.sevApi || f?.snpApi ? undefined : f?.pspUnreachable;
  const gaveUp = firstFailure(f?.statusFailed, f?.pspDead, rmpFailed, unreachable);
  if (gaveUp) {
    const why = gaveUp === rmpFailed ? 'the kernel found no usable RMP table, so it does not enable SEV-SNP and SNP_INIT never runs' : 'the ccp driver gave up on the SEV firmware';
    return failed(`${why} (${logLine(log, gaveUp)})`, 'SNP_INIT to succeed', 'enable SEV-SNP in the BIOS (SEV-SNP Support, SNP Memory Coverage, SMEE), update the BIOS to SEV firmware 1.51 or newer, then reboot');
  }
  const unknown = unknownFailureReason(log, ['ccp', 'kvm_amd', 'SEV-SNP'], 'that SNP_INIT succeeded');
  if (f?.snpApi && !unknown) return passed(`the ccp driver initialized SEV-SNP (${logLine(log, f.snpApi)})`);
  const runs = await tools();
  const a = toolAnswer(runs, 'snp.init');
  if (a?.test.status === 'pass') return passed(`SNP platform initialized (${said(a)})`);
  if (a) return failed(`SNP platform not initialized (${said(a)})`, 'SNP_PLATFORM_STATUS state INIT', 'modprobe -r kvm_amd && modprobe kvm_amd sev_snp=1 (Linux 6.11+), with SEV firmware 1.51+; reboot after a BIOS update');
  if (unknown) return undecided(`${unknown}; ${toolsSaid(runs)}; ${INSTALL_SNPHOST}`);
  return noAnswer(log, 'SNP initialization', runs, INSTALL_SNPHOST);
}

/** host.snp.rmp-init: SNP_PLATFORM_STATUS IS_RMP_INIT; the log can only say there is no RMP at all. */
export async function rmpInit(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const rmp = log.facts?.rmp;
  if (rmp?.failure) {
    return failed(`no usable RMP table (${logLine(log, rmp)})`, 'an RMP table reserved by the BIOS and initialized by the SNP firmware', 'enable SNP in the BIOS (SEV-SNP Support, SNP Memory Coverage: Enabled) and reboot');
  }
  const runs = await tools();
  const a = toolAnswer(runs, 'snp.rmp-init');
  if (a?.test.status === 'pass') return passed(`RMP table initialized (${said(a)})`);
  if (a) return failed(`RMP table not initialized (${said(a)})`, 'SNP_PLATFORM_STATUS IS_RMP_INIT set', 'load kvm_amd with sev_snp=1 on a kernel built with CONFIG_KVM_AMD_SEV=y; reboot after a firmware update');
  return noAnswer(log, 'RMP initialization (only SNP_PLATFORM_STATUS answers it)', runs, INSTALL_SNPHOST);
}

/** host.snp.alias-check: SNP_PLATFORM_STATUS ALIAS_CHECK_COMPLETE (AMD-SB-3015). */
export async function aliasCheck(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const runs = await tools();
  const a = toolAnswer(runs, 'snp.alias-check');
  if (a?.test.status === 'pass') return passed(`memory alias check completed (${said(a)})`);
  if (a) return failed(`memory alias check not completed (${said(a)})`, 'SNP_PLATFORM_STATUS ALIAS_CHECK_COMPLETE set (Milan firmware 1.55.22+, Genoa 1.55.38+)', 'update the BIOS / SEV firmware as AMD-SB-3015 says, then reboot');
  return noAnswer(log, 'the alias check (only SNP_PLATFORM_STATUS answers it)', runs, INSTALL_SNPHOST);
}

const tcbText = (t: Record<string, unknown>): string =>
  Object.entries(t)
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(' ');

/** host.snp.tcb: the platform (installed) TCB equals the reported TCB (snphost "Compare TCB values"). */
export async function tcb(log: KernelLog, tools: Fact<readonly ToolRun[]>): Promise<Verdict> {
  const runs = await tools();
  const a = toolAnswer(runs, 'snp.tcb');
  if (a?.test.tcb) {
    const { match, platform, reported } = a.test.tcb;
    const both = `platform TCB ${tcbText({ ...platform })}, reported TCB ${tcbText({ ...reported })} (${a.run.command}: "${a.test.name}")`;
    const same = JSON.stringify(platform) === JSON.stringify(reported);
    if (match !== same) return undecided(`${a.run.command} says match=${match} but the TCBs it prints are ${same ? 'equal' : 'different'}: ${both}`);
    if (match) return passed(both);
    return failed(both, 'the reported TCB equal to the platform TCB (guests attest with the reported one)', 'sudo snphost commit (commits the installed firmware TCB; irreversible: no rollback below it), or set the reported TCB with snphost config set');
  }
  if (a) return undecided(`${said(a)} gives no TCB values sevcheck can compare (snphost's text prints them in a layout that changed between versions); ${INSTALL_SNPHOST} (a build with ok -o json, after 0.7.0)`);
  return noAnswer(log, 'the TCB comparison (only SNP_PLATFORM_STATUS answers it)', runs, INSTALL_SNPHOST);
}

/**
 * host.kvm.vmsa-features: KVM offers Secure TSC among the VMSA features SNP guests may enable.
 *
 * What KVM offers is sev_supported_vmsa_features, which userspace reads with KVM_GET_DEVICE_ATTR on
 * /dev/kvm (group KVM_X86_GRP_SEV 1, attribute KVM_X86_SEV_VMSA_FEATURES 0; "KVM: SEV: publish
 * supported VMSA features", torvalds/linux ac5c48027bac, v6.10). KVM sets SVM_SEV_FEAT_SECURE_TSC
 * (SEV_FEATURES bit 9) there only when SNP is enabled and the CPU has Secure TSC (CPUID 0x8000001F
 * EAX bit 8, Linux X86_FEATURE_SNP_SECURE_TSC (19*32+ 8), "x86/cpufeatures: Add SNP Secure TSC"
 * kvm-x86 7b59c73fd611; arch/x86/kvm/svm/sev.c sev_hardware_setup, "KVM: SVM: Enable Secure TSC for
 * SNP guests" kvm-x86 a311fce2b694, both applied 2025-08-21 for v6.18). No kernel log line says
 * either way, and the kernel version does not either (distribution kernels backport SNP work), so
 * the answer comes from `snphost ok --features` (the ioctl), run only where CPUID has the bit.
 *
 * Secure TSC is optional: SNP guests run without it, and snphost files it under "Optional
 * Features" ("not required for SEV, SEV-ES, or SEV-SNP", virtee/snphost d233197) and runs it only
 * when asked. So the built-in check passes where KVM offers it and is skipped, with the reason and
 * KVM's mask, where it does not: a FAIL on every SNP host older than v6.18 would be a wrong verdict
 * for the sev-snp profile. A site that needs Secure TSC writes the step "KVM offers Secure TSC to
 * SNP guests" (`required`), which fails there.
 *
 * On a CPU without Secure TSC (CPUID bit 8 clear) the built-in check is skipped too, not passed:
 * KVM cannot offer what the CPU lacks, so there is nothing to configure on this host, and a PASS
 * would claim an offer that does not exist. Whether the CPU generation should have it is
 * host.cpuid.secure-tsc's question.
 */
export async function vmsaFeatures(cpuid: Fact<EncryptedMemoryCaps>, features: Fact<ToolRun>, required = false): Promise<Verdict> {
  const c = await optional(cpuid);
  const cpuBit = c ? ((c.raw.eax >>> 8) & 1) === 1 : undefined;
  const expected = 'KVM sev_supported_vmsa_features with bit 9 (SVM_SEV_FEAT_SECURE_TSC) set';
  const kernelFix = 'run a kernel whose KVM offers Secure TSC (mainline v6.18 or later, "KVM: SVM: Enable Secure TSC for SNP guests" a311fce2b694, or a distribution kernel that backports it) and load kvm_amd with sev_snp=1';
  const cpuFix = 'run the guests that need Secure TSC on a CPU whose CPUID 0x8000001F EAX bit 8 (SecureTsc) is set';
  const optionalNote = 'Secure TSC is optional for SNP guests (snphost files it under "Optional Features"); a site that needs it writes "Then KVM offers Secure TSC to SNP guests" (docs/site-policy.md)';
  const notOffered = (why: string, fix: string): Verdict => (required ? failed(why, expected, fix) : skipped(`${why}; ${optionalNote}`));
  if (c && !cpuBit) {
    const what = c.implemented === false ? `${c.vendor ?? 'this CPU'} has no CPUID leaf 0x8000001F` : `CPUID 0x8000001F EAX bit 8 (SecureTsc) is clear (EAX ${hex8(c.raw.eax)})`;
    const why = `${what}: this CPU has no Secure TSC, and KVM offers it to SNP guests only on a CPU that has it (arch/x86/kvm/svm/sev.c sev_hardware_setup, X86_FEATURE_SNP_SECURE_TSC)`;
    return required ? failed(why, expected, cpuFix) : skipped(`${why}; host.cpuid.secure-tsc says whether this generation should have it`);
  }
  const run = await features();
  const t = run.tests ? findTest(run.tests, 'kvm.secure-tsc') : undefined;
  const cpuSays = c ? `CPUID 0x8000001F EAX bit 8 (SecureTsc) is set (EAX ${hex8(c.raw.eax)})` : 'CPUID 0x8000001F could not be read here';
  if (t?.status === 'pass') return passed(`KVM offers Secure TSC to SNP guests (${cpuSays}; ${run.command}: "${t.name}" PASS${t.message ? ` (${t.message})` : ''})`);
  if (t?.status === 'fail') {
    const m = parseSecureTscMessage(t.message);
    const toolSays = `${run.command}: "${t.name}" FAIL (${t.message ?? 'no message'})`;
    if (m.cpuMissing && cpuBit) return undecided(`${toolSays}, but sevcheck read ${cpuSays}: snphost read CPUID on another CPU or another boot; run both again`);
    if (m.cpuMissing) return notOffered(`${toolSays}: this CPU has no Secure TSC, and KVM offers it only on a CPU that has it (arch/x86/kvm/svm/sev.c sev_hardware_setup)`, cpuFix);
    if (m.kvmMask !== undefined) {
      return notOffered(`KVM's sev_supported_vmsa_features is 0x${m.kvmMask.toString(16).padStart(16, '0')}, without bit 9 (SVM_SEV_FEAT_SECURE_TSC), on a CPU with Secure TSC (${cpuSays}; ${toolSays})`, kernelFix);
    }
    if (m.kvmError && m.kvmError.startsWith('KVM_GET_DEVICE_ATTR failed')) {
      return notOffered(`KVM does not publish its VMSA features (${toolSays}): KVM_GET_DEVICE_ATTR for KVM_X86_SEV_VMSA_FEATURES arrived in v6.10 (ac5c48027bac) and Secure TSC in v6.18, so this KVM cannot offer Secure TSC (${cpuSays})`, kernelFix);
    }
    if (m.kvmError) return undecided(`${toolSays}: snphost could not ask KVM; run sevcheck (and snphost) as root on the host`);
    return undecided(`${toolSays}: a message sevcheck does not know (docs/tool-wordings.md), so it cannot tell whether KVM or the CPU lacks Secure TSC`);
  }
  const toolPart = run.absent ? 'snphost is not installed' : run.reason ?? `${run.command} lists no "(Optional Features) Secure TSC" test (snphost lists it only when "Secure Nested Paging (SEV-SNP)" passed)`;
  return undecided(
    `${cpuSays}; whether KVM offers Secure TSC only KVM_GET_DEVICE_ATTR on /dev/kvm (KVM_X86_SEV_VMSA_FEATURES, v6.10+) tells: no kernel log line says it, and mainline added it in v6.18 while distribution kernels backport; ${toolPart}; ${INSTALL_SNPHOST_FEATURES}`,
  );
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export const INSTALL_SNPHOST_FEATURES = 'install snphost built from virtee/snphost master (d233197 or later: no release has `snphost ok --features` yet) on the host to decide this';

/** sevcheck's answers to the facts the tools share with it (CPUID bits, kvm_amd parameters, firmware version). */
export function sharedFacts(f: AgreeFacts): Array<{ fact: ToolFact; ours: boolean | FirmwareVersion; source: string }> {
  const out: Array<{ fact: ToolFact; ours: boolean | FirmwareVersion; source: string }> = [];
  if (f.cpuid) {
    const c = f.cpuid;
    const bit = (n: number, set: boolean): string => `CPUID 0x8000001F EAX bit ${n} is ${set ? 'set' : 'clear'}`;
    out.push({ fact: 'cpuid.sme', ours: c.sme, source: bit(0, c.sme) });
    out.push({ fact: 'cpuid.sev', ours: c.sev, source: bit(1, c.sev) });
    out.push({ fact: 'cpuid.sev-es', ours: c.sevEs, source: bit(3, c.sevEs) });
    out.push({ fact: 'cpuid.sev-snp', ours: c.sevSnp, source: bit(4, c.sevSnp) });
    out.push({ fact: 'cpuid.vmpl', ours: c.vmpl, source: bit(5, c.vmpl) });
  }
  for (const [fact, p] of [['kvm.sev', f.params.sev], ['kvm.sev-es', f.params.sev_es], ['kvm.sev-snp', f.params.sev_snp]] as const) {
    if (p?.enabled !== undefined) out.push({ fact, ours: p.enabled, source: `${p.path} reads "${p.raw}" (${p.enabled ? 'enabled' : 'disabled'})` });
  }
  if (f.firmware) out.push({ fact: 'fw.version', ours: f.firmware.version, source: `${f.firmware.from} says ${f.firmware.version.major}.${f.firmware.version.minor}` });
  return out;
}

/**
 * sevctl's SME, SEV-SNP and VMPL tests need CPUID and a SYSCFG bit on CPU 0 (sevctl 8b47f3a
 * src/ok.rs), so a FAIL there may be the MSR: only their PASS is compared with CPUID.
 */
const SEVCTL_PASS_ONLY: readonly ToolFact[] = ['cpuid.sme', 'cpuid.sev-snp', 'cpuid.vmpl'];

/** host.tools.agree: every fact a tool and sevcheck both answered has the same answer. */
export function toolsAgree(runs: readonly ToolRun[], facts: AgreeFacts): Verdict {
  const present = runs.filter((r) => !r.absent);
  if (present.length === 0) return skipped('neither snphost nor sevctl is installed on the host: no tool to compare with');
  const parsed = present.filter((r) => r.tests);
  if (parsed.length === 0) return undecided(present.map((r) => r.reason ?? `${r.command} gave no answer`).join('; '));
  const ours = sharedFacts(facts);
  const agreed: string[] = [];
  const disagreed: string[] = [];
  for (const run of parsed) {
    for (const o of ours) {
      const t = findTest(run.tests ?? [], o.fact);
      if (!t || t.status === 'skip') continue;
      const toolSays = `${run.command}: "${t.name}" ${t.status.toUpperCase()}${t.message ? ` (${t.message})` : ''}`;
      if (typeof o.ours === 'boolean') {
        const toolPass = t.status === 'pass';
        if (run.tool === 'sevctl' && SEVCTL_PASS_ONLY.includes(o.fact) && !toolPass) continue;
        if (toolPass === o.ours) agreed.push(`${t.name} (${run.tool})`);
        else disagreed.push(`${toolSays}, but ${o.source}`);
      } else {
        const tv = t.status === 'pass' ? parseVersionMessage(t.message) : undefined;
        if (!tv) continue;
        if (tv.major === o.ours.major && tv.minor === o.ours.minor) agreed.push(`${t.name} (${run.tool})`);
        else disagreed.push(`${toolSays}, but ${o.source}`);
      }
    }
  }
  if (disagreed.length > 0) {
    return failed(
      disagreed.join('; '),
      'the platform tool and sevcheck to give the same answer on the same fact',
      'find out which is right by reading the source both name (e.g. `cat /sys/module/kvm_amd/parameters/sev`); an old tool, one run as another user or before a module reload, or CPUID read on another CPU gives a stale answer: update the tool (cargo install snphost / sevctl) and rerun',
    );
  }
  if (agreed.length === 0) return undecided(`no fact both answered: ${parsed.map((r) => r.command).join(', ')} ran, but sevcheck could not read the facts they share (CPUID 0x8000001F, kvm_amd parameters, firmware version) on this host`);
  return passed(`${agreed.length} shared facts agree: ${agreed.join(', ')}`);
}
