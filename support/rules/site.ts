/**
 * Site thresholds (issue 21, docs/site-policy.md): the rules behind the steps an operator writes in
 * a site's own feature files (steps/site-thresholds.steps.ts). Pure: facts in (read on demand,
 * support/facts.ts), verdict out. Each decides like a bundled check: found / expected / fix on a
 * failure, undecided with the reason when the fact is missing (a HostError: not recorded, no
 * privilege, tool absent), never a PASS without the fact.
 *
 * The minimum is the site's: the expected part of a failure says it is the site policy's
 * requirement, with the value the feature file gave.
 */
import { createHash } from 'node:crypto';
import { failed, passed, skipped, undecided, type Verdict } from '../verdict.js';
import { attempt, optional, type Fact } from '../facts.js';
import { InputError } from '../errors.js';
import type { EncryptedMemoryCaps } from '../sev/cpuid.js';
import type { KernelLog, ToolRun } from '../probes/host-firmware.js';
import type { ModuleParam } from '../probes/host.js';
import type { CapsCacheFact } from '../probes/caps.js';
import { findTest, type FirmwareVersion, type TcbVersion } from '../parsers/platform-tools.js';
import { cmdlineParam, type KernelCmdline } from '../parsers/cmdline.js';
import { parseBoolParam } from '../parsers/bool-param.js';
import { findFirmware, INSTALL_SNPHOST, logLine } from './firmware.js';
import { decodeSevPolicy, decodeSnpPolicy, SEV_POLICY_BITS, SNP_POLICY_BITS } from '../sev/policy.js';
import { notAmd, policyHex, readPolicy } from '../domain/rules.js';
import type { DomainModel } from '../domain/model.js';
import { foldGuests, type GuestDefinition, type HostGuests } from '../domain/guests.js';

/** Where a requirement comes from, for `expected`. */
const SITE = 'the site policy';

// --- versions ----------------------------------------------------------------------------------

/** A dotted version as written in a site file: 1 to 4 numbers, e.g. 6.11, 9.2.0, 10.10. */
export const VERSION_RE = /^\d{1,6}(?:\.\d{1,6}){0,3}$/;

/** The leading numbers of a version string ("6.11.0-19-generic" → [6, 11, 0]); undefined when it has none. */
export function versionNumbers(s: string): number[] | undefined {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(s.trim());
  return m ? (m[1] as string).split('.').map(Number) : undefined;
}

/** Compare number lists component by component, missing components as 0 (6.11 = 6.11.0). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** A site file's version parameter, checked (a bad one is the author's mistake: InputError). */
export function parseSiteVersion(s: string): number[] {
  if (!VERSION_RE.test(s)) throw new InputError(`"${s}"`, 'not a version: 1 to 4 numbers separated by dots (e.g. 6.11 or 9.2.0)');
  return s.split('.').map(Number);
}

/** `--min-firmware`'s grammar: the firmware's API major.minor, one byte each (SEV API 55766, PLATFORM_STATUS). */
export function parseFirmwareMin(s: string): { major: number; minor: number } {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new InputError(`"${s}"`, 'not a SEV firmware version major.minor, each 0..255 (e.g. 1.55)');
  return { major: Number(m[1]), minor: Number(m[2]) };
}

const fw = (f: FirmwareVersion): string => `${f.major}.${f.minor}${f.build !== undefined ? ` build ${f.build}` : ''}`;

const BIOS_FIX = (want: string): string =>
  `update the system BIOS to one carrying SEV firmware ${want} or newer, or place AMD's newer SEV firmware in /lib/firmware/amd/ so that ccp loads it at boot (drivers/crypto/ccp/sev-dev.c sev_update_firmware), then reboot`;

/**
 * The SEV firmware (API major.minor, optionally the build) is at least the site's minimum. The
 * version comes from the same sources as host.firmware.version (rules/firmware.ts findFirmware).
 * The build decides only between equal major.minor; a source without a build (snphost) then
 * leaves the check undecided.
 */
export async function firmwareAtLeast(
  log: KernelLog,
  min: { major: number; minor: number; build?: number | undefined },
  snphost: Fact<ToolRun>,
  sevctlVersion: Fact<{ version?: FirmwareVersion; reason?: string; absent: boolean }>,
): Promise<Verdict> {
  const found = await findFirmware(log, snphost, sevctlVersion);
  if ('gaveUp' in found) return found.gaveUp;
  if ('unknown' in found) return undecided(found.unknown);
  const { version, from } = found;
  const byApi = compareVersions([version.major, version.minor], [min.major, min.minor]);
  const want = fw(min);
  if (byApi > 0 || (byApi === 0 && min.build === undefined)) return passed(`SEV firmware ${fw(version)} (${from}) is at least ${want}, ${SITE}'s minimum`);
  if (byApi === 0 && min.build !== undefined) {
    if (version.build === undefined) return undecided(`SEV firmware ${fw(version)} (${from}) gives no build number to compare with ${want}; install sevctl (virtee, https://github.com/virtee/sevctl) or read the kernel log's "SEV API:x.y build:z" line`);
    if (version.build >= min.build) return passed(`SEV firmware ${fw(version)} (${from}) is at least ${want}, ${SITE}'s minimum`);
  }
  return failed(`SEV firmware ${fw(version)} (${from})`, `at least ${want} (${SITE}; ${min.build !== undefined ? 'major, minor, then build' : 'major and minor'} compared)`, BIOS_FIX(`${min.major}.${min.minor}`));
}

// --- reported TCB ------------------------------------------------------------------------------

/** The reported-TCB components a site may set a floor for, as written in a site file. */
export const TCB_COMPONENTS = { bootloader: 'boot_loader', TEE: 'tee', SNP: 'snp', microcode: 'microcode', FMC: 'fmc' } as const satisfies Record<string, keyof TcbVersion>;
export type TcbComponent = keyof typeof TCB_COMPONENTS;

/**
 * A component of the reported TCB (the TCB version guests' attestation reports carry, SNP ABI
 * 56860 §2.2 "TCB Version": BOOT_LOADER, TEE, SNP, MICROCODE SPLs; FMC on Turin and later) is at
 * least `min`. From snphost's "Compare TCB values" test (its reported_tcb_version).
 */
export async function tcbAtLeast(snphost: Fact<ToolRun>, component: TcbComponent, min: number): Promise<Verdict> {
  const run = await snphost();
  const test = run.tests ? findTest(run.tests, 'snp.tcb') : undefined;
  if (!test?.tcb) {
    const why = run.absent ? 'snphost is not installed' : run.reason ?? `${run.command} printed no TCB comparison`;
    return undecided(`the reported TCB is not known: ${why}; ${INSTALL_SNPHOST}`);
  }
  const value = test.tcb.reported[TCB_COMPONENTS[component]];
  const from = `${run.command}: "${test.name}" reported_tcb_version`;
  if (value === null) return skipped(`this platform's reported TCB has no ${component} SPL (${from} gives fmc: null; the FMC SPL exists from Turin on)`);
  if (value === undefined) return undecided(`${from} has no ${TCB_COMPONENTS[component]} field`);
  if (value >= min) return passed(`reported TCB ${component} SPL ${value} (${from}) is at least ${min}, ${SITE}'s minimum`);
  return failed(
    `reported TCB ${component} SPL ${value} (${from})`,
    `at least ${min} (${SITE})`,
    component === 'microcode'
      ? 'update the CPU microcode (system BIOS, or the amd64-microcode package and a reboot), then commit the new TCB with `snphost commit` once every guest owner accepts it'
      : `update the system BIOS to one with the newer ${component} SPL, reboot, then commit the new TCB with \`snphost commit\` so that guests report it`,
  );
}

// --- ASIDs -------------------------------------------------------------------------------------

export type AsidKind = 'sev' | 'sev-es';

/**
 * At least `min` ASIDs are there for SEV guests (`sev`) or for SEV-ES and SEV-SNP guests, which
 * share one range (`sev-es`). KVM's own count from the kernel log of the boot ("SEV enabled
 * (ASIDs a - b)", arch/x86/kvm/svm/sev.c sev_hardware_setup) when it logged one, else what CPUID
 * 0x8000001F gives (ECX = highest ASID, EDX = lowest plain-SEV ASID; ASIDs below EDX are for
 * SEV-ES/SNP: AMD APM Vol. 3 E.4.17; sev.c sev_asid_count / sev_es_asid_count).
 */
export async function asidsAtLeast(kind: AsidKind, min: number, log: Fact<KernelLog>, cpuid: Fact<EncryptedMemoryCaps>): Promise<Verdict> {
  const what = kind === 'sev' ? 'SEV guests' : 'SEV-ES and SEV-SNP guests';
  const fix =
    kind === 'sev'
      ? 'lower the BIOS setting "SEV-ES ASID Space Limit" (AMD CBS, it moves CPUID 0x8000001F EDX: the ASIDs above it are plain SEV), then reboot'
      : 'raise the BIOS setting "SEV-ES ASID Space Limit" (AMD CBS, CPUID 0x8000001F EDX: the ASIDs below it are for SEV-ES and SEV-SNP), then reboot';
  const l = await optional(log);
  const line = l?.facts?.kvm[kind === 'sev' ? 'SEV' : 'SEV-ES'] ?? (kind === 'sev-es' ? l?.facts?.kvm['SEV-SNP'] : undefined);
  if (l && line && line.asids) {
    const [first, last] = line.asids;
    const n = line.state === 'enabled' ? Math.max(0, last - first + 1) : 0;
    const found = `${n} ASIDs for ${what} (${logLine(l, line)})`;
    if (n >= min) return passed(`${found}: at least ${min}, ${SITE}'s minimum`);
    return failed(found, `at least ${min} (${SITE})`, line.state === 'enabled' ? fix : `enable it in kvm_amd first (${line.state} this boot), then: ${fix}`);
  }
  const c = await attempt(cpuid);
  if (!c.ok) return undecided(`no kernel log line with KVM's ASID range${l?.source ? ` in ${l.source}` : ''} and CPUID 0x8000001F cannot be read: ${c.reason}`);
  if (c.value.implemented === false || !c.value.sev) return failed(`no SEV on this CPU (CPUID 0x8000001F${c.value.implemented === false ? ' not implemented' : ' EAX bit 1 clear'}): 0 ASIDs`, `at least ${min} ASIDs for ${what} (${SITE})`, 'run on an AMD EPYC processor with SEV enabled in the BIOS (host.cpuid.sev says what to change)');
  const n = kind === 'sev' ? c.value.sevAsids : c.value.sevEsAsids;
  const found = `${n} ASIDs for ${what} (CPUID 0x8000001F ECX ${c.value.maxEncryptedGuests}, EDX ${c.value.minSevAsid}: what the CPU and BIOS offer; no kernel log line says what KVM enabled)`;
  if (n >= min) return passed(`${found}: at least ${min}, ${SITE}'s minimum`);
  return failed(found, `at least ${min} (${SITE})`, fix);
}

// --- kernel, QEMU, libvirt ---------------------------------------------------------------------

export async function kernelAtLeast(release: Fact<string>, min: string): Promise<Verdict> {
  const r = await attempt(release);
  if (!r.ok) return undecided(`the running kernel's release is not known: ${r.reason}`);
  const have = versionNumbers(r.value);
  if (!have) return undecided(`/proc/sys/kernel/osrelease "${r.value}" does not start with a version number`);
  const found = `kernel ${r.value} (/proc/sys/kernel/osrelease)`;
  if (compareVersions(have, parseSiteVersion(min)) >= 0) return passed(`${found} is at least ${min}, ${SITE}'s minimum`);
  return failed(found, `at least ${min} (${SITE}; the release's leading numbers compared)`, `install a kernel ${min} or newer, make it the default boot entry and reboot`);
}

/** libvirt's version numbers (virParseVersionString: major * 1,000,000 + minor * 1,000 + micro). */
export function libvirtStyleVersion(n: number): string {
  return `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1000) % 1000}.${n % 1000}`;
}

/**
 * QEMU (`qemu`) or libvirt (`libvirt`) is at least `min`, from libvirt's QEMU capabilities cache
 * (src/qemu/qemu_capabilities.c virQEMUCapsFormatCache: <version> is the emulator's, <selfvers>
 * the version of the libvirt that wrote the file; libvirt rewrites the file when either changes,
 * virQEMUCapsIsValid). Every cached emulator must meet the minimum.
 */
export async function stackAtLeast(which: 'qemu' | 'libvirt', cache: Fact<CapsCacheFact | undefined>, min: string): Promise<Verdict> {
  const c = await attempt(cache);
  const name = which === 'qemu' ? 'QEMU' : 'libvirt';
  if (!c.ok) return undecided(`libvirt's QEMU capabilities cache cannot be read: ${c.reason}`);
  const files = (c.value?.files ?? []).filter((f) => f.cache);
  if (!c.value || files.length === 0) {
    const problems = (c.value?.files ?? []).map((f) => `${f.path}: ${f.problem ?? 'unreadable'}`);
    return undecided(`${name}'s version is not known: ${c.value ? `no readable file in ${c.value.dir}${problems.length ? ` (${problems.join('; ')})` : ''}` : "libvirt's QEMU capabilities cache directory does not exist"} (libvirtd / virtqemud writes it when it starts: systemctl start libvirtd)`);
  }
  const want = parseSiteVersion(min);
  const seen = files.map((f) => {
    const n = which === 'qemu' ? (f.cache?.version ?? 0) : (f.cache?.selfvers ?? 0);
    const v = libvirtStyleVersion(n);
    const label = which === 'qemu' ? `QEMU ${v} (${f.cache?.emulator}, ${f.path} <version>)` : `libvirt ${v} (${f.path} <selfvers>)`;
    return { ok: compareVersions(v.split('.').map(Number), want) >= 0, label };
  });
  const low = seen.filter((s) => !s.ok);
  if (low.length === 0) return passed(`${[...new Set(seen.map((s) => s.label))].join('; ')}: at least ${min}, ${SITE}'s minimum`);
  return failed(
    [...new Set(low.map((s) => s.label))].join('; '),
    `${name} ${min} or newer (${SITE})`,
    which === 'qemu' ? `install QEMU ${min} or newer (the distribution's qemu-system-x86 package or a backport), then restart libvirtd / virtqemud so that it re-probes QEMU` : `install libvirt ${min} or newer, then restart libvirtd / virtqemud`,
  );
}

// --- kvm_amd parameter ------------------------------------------------------------------------

/** Whether two module parameter values say the same: booleans by their meaning (Y = 1 = y), others exactly. */
export function sameParam(have: string, want: string): boolean {
  const a = parseBoolParam(have);
  const b = parseBoolParam(want);
  if (a !== undefined && b !== undefined) return a === b;
  return have.trim() === want.trim();
}

export async function kvmAmdParamIs(param: Fact<ModuleParam | undefined>, loaded: Fact<boolean>, name: string, want: string): Promise<Verdict> {
  const fix = `put "options kvm_amd ${name}=${want}" into /etc/modprobe.d/kvm-amd.conf, then reload the module (modprobe -r kvm_amd && modprobe kvm_amd, with no guest running) or reboot`;
  const p = await attempt(param);
  if (!p.ok) return undecided(`/sys/module/kvm_amd/parameters/${name} cannot be read: ${p.reason}`);
  if (p.value === undefined) {
    const l = await attempt(loaded);
    if (!l.ok) return undecided(`/sys/module/kvm_amd/parameters/${name} does not exist and whether kvm_amd is loaded is not known: ${l.reason}`);
    if (!l.value) return failed('kvm_amd is not loaded (no /sys/module/kvm_amd)', `kvm_amd loaded with ${name}=${want} (${SITE})`, `modprobe kvm_amd ${name}=${want}, and ${fix}`);
    return failed(`the running kvm_amd has no parameter ${name} (no /sys/module/kvm_amd/parameters/${name})`, `${name}=${want} (${SITE})`, `check the parameter's name (modinfo -p kvm_amd lists them); a kernel too old for it needs an update`);
  }
  const found = `${p.value.path} = ${p.value.raw}`;
  if (sameParam(p.value.raw, want)) return passed(`${found}, as ${SITE} requires (${name}=${want})`);
  return failed(found, `${name}=${want} (${SITE})`, fix);
}

// --- kernel command line ------------------------------------------------------------------------

/** A command-line argument as a site file writes it: `name` or `name=value`. */
export function parseCmdlineArg(s: string): { name: string; value: string | undefined } {
  const t = s.trim();
  if (t === '' || /\s/.test(t)) throw new InputError(`"${s}"`, 'not one kernel command-line argument: name or name=value, without spaces (e.g. "mem_encrypt=on")');
  const eq = t.indexOf('=');
  if (eq === 0) throw new InputError(`"${s}"`, 'a kernel command-line argument starts with its name (name or name=value)');
  return eq < 0 ? { name: t, value: undefined } : { name: t.slice(0, eq), value: t.slice(eq + 1) };
}

/**
 * The running kernel's command line (/proc/cmdline) contains (`want` true) or lacks an argument.
 * `name=value`: the argument's last occurrence (the one the kernel uses) has that value; `name`:
 * the argument is there, with or without a value. Names compare as the kernel does (- = _).
 */
export async function cmdlineHas(cmd: Fact<KernelCmdline>, arg: string, want: boolean): Promise<Verdict> {
  const c = await attempt(cmd);
  if (!c.ok) return undecided(`/proc/cmdline cannot be read: ${c.reason}`);
  const a = parseCmdlineArg(arg);
  const p = cmdlineParam(c.value, a.name);
  const has = p !== undefined && (a.value === undefined || (p.value ?? '') === a.value);
  const shown = p === undefined ? `no ${a.name} argument` : `${a.name}${p.value !== undefined ? `=${p.value}` : ''} (the last ${a.name} the kernel uses)`;
  const found = `/proc/cmdline has ${shown}: "${c.value.raw.trim()}"`;
  const grub = 'edit GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (Debian, Ubuntu) or grub2-mkconfig -o /boot/grub2/grub.cfg (Fedora, RHEL), then reboot';
  if (has === want) return passed(`${found}: ${want ? 'contains' : 'lacks'} ${arg}, as ${SITE} requires`);
  return failed(found, `the kernel command line ${want ? 'contains' : 'lacks'} ${arg} (${SITE})`, `${want ? `add ${arg}` : `remove ${arg}`}: ${grub}`);
}

// --- SEV guests' policy ----------------------------------------------------------------------

export type PolicyFreedom = 'debugging' | 'migration' | 'SMT';

/**
 * One SEV guest's policy forbids debugging, migration or SMT:
 *  - SEV / SEV-ES (SEV API 55766 §3 "Guest Policy"): NODBG (bit 0) set; NOSEND (bit 3) set; no SMT
 *    bit exists (not applicable: skipped for that guest).
 *  - SEV-SNP (SNP ABI 56860 §4.3): DEBUG (bit 19) clear; MIGRATE_MA (bit 18) clear; SMT (bit 16)
 *    clear (the firmware then refuses to launch the guest while SMT is on: the host runs without it).
 */
export function policyForbids(d: DomainModel, what: PolicyFreedom): Verdict {
  const r = readPolicy(d);
  if (!r) return notAmd(d);
  if (!r.ok) return undecided(`the policy cannot be read; see ${r.owner}`);
  const shown = `policy ${policyHex(r.kind, r.value)}${r.defaulted ? ' (no <policy>: the SNP default)' : ''} in ${d.source}`;
  if (r.kind === 'sev') {
    const p = decodeSevPolicy(r.value);
    if (what === 'SMT') return skipped('an SEV / SEV-ES guest policy has no SMT bit (SEV API 55766 §3): only SEV-SNP guests can forbid SMT');
    const [ok, bit, name] = what === 'debugging' ? [p.noDebug, SEV_POLICY_BITS.NODBG, 'NODBG'] : [p.noSend, SEV_POLICY_BITS.NOSEND, 'NOSEND'];
    if (ok) return passed(`${shown} sets ${name}: ${what} forbidden`);
    return failed(`${shown}: ${name} (bit ${bit}) is clear`, `${name} set: the policy forbids ${what} (${SITE})`, `<policy>${policyHex('sev', r.value | (1n << BigInt(bit)))}</policy>`);
  }
  const p = decodeSnpPolicy(r.value);
  const [allowed, bit, name] =
    what === 'debugging' ? [p.debug, SNP_POLICY_BITS.DEBUG, 'DEBUG'] : what === 'migration' ? [p.migrateMa, SNP_POLICY_BITS.MIGRATE_MA, 'MIGRATE_MA'] : [p.smt, SNP_POLICY_BITS.SMT, 'SMT'];
  if (!allowed) return passed(`${shown} has ${name} clear: ${what} forbidden`);
  const fixed = `<policy>${policyHex('snp', r.value & ~(1n << BigInt(bit)))}</policy>`;
  return failed(
    `${shown}: ${name} (bit ${bit}) is set`,
    `${name} clear: the policy forbids ${what} (${SITE})`,
    what === 'SMT' ? `${fixed}, and run the host without SMT (nosmt on the kernel command line, or SMT off in the BIOS): the firmware refuses to launch such a guest while SMT is on` : fixed,
  );
}

export function everyPolicyForbids(g: HostGuests, what: PolicyFreedom): Verdict {
  return foldGuests(g, g.sev.map((x) => [x, policyForbids(x.model, what)] as const));
}

// --- guest firmware allow-list ---------------------------------------------------------------

/** An allow-list: hex SHA-256 or SHA-384 digests (sha256sum / sha384sum lines), each with its label. */
export interface AllowList {
  readonly file: string;
  readonly digests: ReadonlyMap<string, string>;
}

/**
 * Parse an allow-list: one digest per line, `<hex>  <label>` as sha256sum / sha384sum print it
 * (a leading `*` of binary mode is dropped from the label), `#` comments and blank lines ignored.
 * A line that is not one is an InputError naming the file and line.
 */
export function parseAllowList(text: string, file: string): AllowList {
  const digests = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([0-9a-fA-F]+)(?:\s+\*?(.*))?$/.exec(line);
    if (!m || (m[1]?.length !== 64 && m[1]?.length !== 96)) throw new InputError(file, `line ${i + 1}: not "<sha256 or sha384 hex digest>  <label>"`);
    digests.set((m[1] as string).toLowerCase(), (m[2] ?? '').trim());
  });
  if (digests.size === 0) throw new InputError(file, 'lists no digest (one "<sha256 or sha384 hex>  <label>" per line)');
  return { file, digests };
}

/**
 * One SEV guest's firmware (its <loader>, the file the launch measures) has a SHA-256 or SHA-384
 * digest on the allow-list. A guest whose firmware libvirt picks at start (<os firmware='efi'>
 * without a <loader> path) is undecided: the file is only in the running guest's live XML.
 */
export async function firmwareAllowed(g: GuestDefinition, read: (path: string) => Promise<Buffer>, list: AllowList): Promise<Verdict> {
  const path = g.model.os.loader?.path?.trim();
  if (!path) {
    return undecided(
      g.model.os.firmware
        ? `<os firmware='${g.model.os.firmware}'>: libvirt picks the firmware file when the guest starts; its path is in the live XML (virsh dumpxml ${g.name}), name it in <loader> to check it`
        : 'no <loader> names the guest firmware',
    );
  }
  const bytes = await attempt(() => read(path));
  if (!bytes.ok) return undecided(`the guest firmware ${path} cannot be read: ${bytes.reason}`);
  const sha256 = createHash('sha256').update(bytes.value).digest('hex');
  const sha384 = createHash('sha384').update(bytes.value).digest('hex');
  const hit = list.digests.has(sha256) ? sha256 : list.digests.has(sha384) ? sha384 : undefined;
  if (hit) return passed(`${path} (${hit.length === 64 ? 'SHA-256' : 'SHA-384'} ${hit}) is on ${list.file}${list.digests.get(hit) ? ` as "${list.digests.get(hit)}"` : ''}`);
  return failed(
    `${path} with SHA-256 ${sha256}, SHA-384 ${sha384}`,
    `a guest firmware whose digest is on ${list.file} (${SITE})`,
    `point <loader> at an approved firmware file, or, once this build is reviewed, add the line "${sha256}  ${path}" to ${list.file}`,
  );
}

export async function everyFirmwareAllowed(g: HostGuests, read: (path: string) => Promise<Buffer>, list: AllowList): Promise<Verdict> {
  const verdicts: Array<readonly [GuestDefinition, Verdict]> = [];
  for (const x of g.sev) verdicts.push([x, await firmwareAllowed(x, read, list)] as const);
  return foldGuests(g, verdicts);
}

