/**
 * SELinux and AppArmor facts for /dev/sev: the SELinux mode, the installed policy package, what
 * the loaded policy allows svirt_t on sev_device_t (sesearch), AVC denials in the audit log, and
 * libvirt's AppArmor abstraction. Read once per run through the run's cached Host.
 */
import type { Fact } from '../facts.js';
import { Memo } from '../memo.js';
import { readTextIfExists } from '../host/read.js';
import { isHostError, type Host } from '../host/types.js';
import { parseEnforceFile, parseGetenforce, type SelinuxMode } from '../parsers/selinux.js';
import { parseDpkgQuery, parseRpmQuery, type InstalledPolicy } from '../parsers/pkg-version.js';
import { parseGetsebool, parseSesearch, type SesearchResult } from '../parsers/sesearch.js';
import { parseAvcDenials, type AvcDenial } from '../parsers/audit-log.js';
import type { OsRelease } from '../parsers/os-release.js';
import { formatParseError, ok, parseError, type ParseResult } from '../parsers/parse-result.js';
import { APPARMOR_DIR, APPARMOR_ENABLED, includesOf, LIBVIRT_QEMU_ABSTRACTION, type ApparmorFacts, type GuestRules, type ProfileFile } from '../device/apparmor.js';
import { parseVirtAaHelperDryRun } from '../parsers/virt-aa-helper.js';

export interface SelinuxState {
  readonly mode: SelinuxMode;
  /** where the mode came from, e.g. "/sys/fs/selinux/enforce reads 1" */
  readonly source: string;
}

/** A command's outcome as the probe saw it. */
export type ToolResult<T> =
  | { readonly kind: 'parsed'; readonly result: ParseResult<T> }
  /** not installed (exit 127) or failed without parseable output */
  | { readonly kind: 'unusable'; readonly reason: string };

/** The UUID of the template SEV guest handed to virt-aa-helper (any valid UUID: the profile is never written). */
export const AA_TEMPLATE_UUID = '5e7c4ec0-5e7c-4ec0-8000-5e7c4ec0c4ec';

/**
 * The template SEV guest virt-aa-helper is given: enough for libvirt's parser (name, uuid, memory,
 * os, emulator) plus <launchSecurity type='sev'>, the element whose presence makes libvirt ≥ 12
 * add the SEV device to the guest's rules.
 */
export function aaTemplateDomain(emulator: string): string {
  return `<domain type='kvm'><name>sevcheck-template</name><uuid>${AA_TEMPLATE_UUID}</uuid><memory unit='MiB'>1024</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><devices><emulator>${emulator}</emulator></devices><launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x0003</policy></launchSecurity></domain>\n`;
}

/**
 * Where distributions install libvirt's virt-aa-helper: Debian/Ubuntu /usr/lib/libvirt (libvirt-daemon),
 * upstream's default libexecdir /usr/libexec, openSUSE /usr/libexec/libvirt.
 */
export const VIRT_AA_HELPERS = ['/usr/lib/libvirt/virt-aa-helper', '/usr/libexec/virt-aa-helper', '/usr/libexec/libvirt/virt-aa-helper'] as const;
const VIRT_AA_HELPER_TIMEOUT_MS = 15_000;

/**
 * The per-guest AppArmor rules the host's (or image's) libvirt would generate for a SEV guest:
 * its own virt-aa-helper in dry-run mode (`-d -c -u libvirt-<uuid>`, the template guest on stdin;
 * libvirt src/security/virt-aa-helper.c main(): with --dryrun the include file and the profile are
 * printed, never written, and apparmor_parser is not run). Only asked where stdin can be given
 * (not over ssh).
 */
export async function generatedGuestRules(host: Host, emulator: string): Promise<GuestRules> {
  let helper: string | undefined;
  for (const h of VIRT_AA_HELPERS) {
    try {
      const st = await host.stat(h);
      if (st.type === 'file' || st.type === 'link') {
        helper = h;
        break;
      }
    } catch (e) {
      if (!isHostError(e, 'ENOENT') && !isHostError(e, 'ENOTDIR')) throw e;
    }
  }
  if (!helper) return { ok: false, absent: true, reason: `no virt-aa-helper (${VIRT_AA_HELPERS.join(', ')})` };
  if (host.kind === 'ssh') return { ok: false, absent: false, reason: `${helper} -d needs the guest XML on its standard input, which the ssh backend does not pass` };
  const profile = `libvirt-${AA_TEMPLATE_UUID}`;
  const r = await host.run([helper, '-d', '-c', '-u', profile], { timeoutMs: VIRT_AA_HELPER_TIMEOUT_MS, stdin: aaTemplateDomain(emulator) });
  const prog = helper.split('/').pop() as string;
  const parsed = parseVirtAaHelperDryRun(r.stderr, `${helper} -d -c -u ${profile}`, prog);
  if (r.exitCode !== 0 || !parsed.ok) {
    const why = !parsed.ok ? formatParseError(parsed.error) : `exit ${r.exitCode}`;
    return { ok: false, absent: false, reason: `\`${helper} -d -c -u ${profile}\` exited ${r.exitCode}: ${why}` };
  }
  return { ok: true, helper, file: { path: `${parsed.value.includeFile} (printed by ${helper} --dryrun, not written)`, content: parsed.value.rules } };
}

export const ENFORCE = '/sys/fs/selinux/enforce';
export const AUDIT_LOG = '/var/log/audit/audit.log';
/** sesearch reads the whole policy: give it more than the default command timeout */
const SESEARCH_TIMEOUT_MS = 60_000;
const CMD_TIMEOUT_MS = 10_000;

export const SESEARCH_ARGV = ['sesearch', '-A', '-s', 'svirt_t', '-t', 'sev_device_t', '-c', 'chr_file'] as const;

export interface SelinuxProbeOptions {
  /** a compiled policy file for sesearch; default: the loaded policy */
  readonly policyPath?: string | undefined;
}

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

/**
 * libvirt's QEMU abstraction and the local additions it includes (abstractions/libvirt-qemu.d,
 * local/...); empty when the abstraction does not exist.
 */
export async function readLibvirtQemuAbstraction(host: Host): Promise<ProfileFile[]> {
  const text = (p: string): Promise<string | undefined> => readTextIfExists(host, p);
  const main = await text(LIBVIRT_QEMU_ABSTRACTION);
  if (main === undefined) return [];
  const files: ProfileFile[] = [{ path: LIBVIRT_QEMU_ABSTRACTION, content: main }];
  const wanted = includesOf(main).filter((p) => p.startsWith(`${LIBVIRT_QEMU_ABSTRACTION}`) || p.startsWith(`${APPARMOR_DIR}/local/`));
  for (const inc of wanted) {
    try {
      const st = await host.stat(inc);
      if (st.type === 'dir') {
        for (const name of await host.listDir(inc)) {
          const t = await text(`${inc}/${name}`);
          if (t !== undefined) files.push({ path: `${inc}/${name}`, content: t });
        }
      } else {
        const t = await text(inc);
        if (t !== undefined) files.push({ path: inc, content: t });
      }
    } catch (e) {
      if (!isHostError(e, 'ENOENT')) throw e;
    }
  }
  return files;
}

export class SelinuxProbe {
  private readonly memo = new Memo();
  constructor(
    readonly host: Host,
    private readonly opts: SelinuxProbeOptions = {},
  ) {}

  private text(path: string): Promise<string | undefined> {
    return readTextIfExists(this.host, path);
  }

  /**
   * /sys/fs/selinux/enforce (absent = SELinux disabled); when it cannot be read for another
   * reason, `getenforce` is asked instead, and the read error stands if that fails too.
   */
  state(): Promise<ParseResult<SelinuxState>> {
    return this.memo.once('state', async () => {
      let raw: string | undefined;
      try {
        raw = await this.text(ENFORCE);
      } catch (e) {
        // NOT_RUNNING (a root file system): no kernel enforces anything there; getenforce would say "Disabled"
        if (!isHostError(e) || e.code === 'NOT_RUNNING') throw e;
        const r = await this.host.run(['getenforce'], { timeoutMs: CMD_TIMEOUT_MS });
        if (r.exitCode !== 0) throw e;
        const m = parseGetenforce(r.stdout);
        return m.ok ? ok({ mode: m.value, source: `getenforce prints ${firstLine(r.stdout)}` }) : m;
      }
      if (raw === undefined) return ok({ mode: 'disabled' as SelinuxMode, source: `no ${ENFORCE}` });
      const m = parseEnforceFile(raw, ENFORCE);
      return m.ok ? ok({ mode: m.value, source: `${ENFORCE} reads ${raw.trim()}` }) : m;
    });
  }

  /** AppArmor enabled in the kernel (/sys/module/apparmor/parameters/enabled reads Y). */
  apparmorEnabled(): Promise<boolean> {
    return this.memo.once('apparmor', async () => (await this.text(APPARMOR_ENABLED))?.trim() === 'Y');
  }

  /**
   * The installed policy package: `rpm -q selinux-policy` on the Fedora/RHEL/SUSE family,
   * `dpkg-query -W -f=${Version} selinux-policy-default` on Debian/Ubuntu; other distributions
   * try rpm, then dpkg-query.
   */
  installedPolicy(os: OsRelease | undefined): Promise<ToolResult<InstalledPolicy>> {
    return this.memo.once('policy-pkg', async () => {
      const words = os ? [os.id, ...os.idLike].join(' ').toLowerCase() : '';
      const rpm = async (): Promise<ToolResult<InstalledPolicy> | undefined> => {
        const r = await this.host.run(['rpm', '-q', 'selinux-policy'], { timeoutMs: CMD_TIMEOUT_MS });
        if (r.exitCode === 127) return undefined;
        return { kind: 'parsed', result: parseRpmQuery(r.stdout + r.stderr, 'selinux-policy', 'rpm -q selinux-policy') };
      };
      const deb = async (): Promise<ToolResult<InstalledPolicy> | undefined> => {
        const r = await this.host.run(['dpkg-query', '-W', '-f=${Version}', 'selinux-policy-default'], { timeoutMs: CMD_TIMEOUT_MS });
        if (r.exitCode === 127) return undefined;
        return { kind: 'parsed', result: parseDpkgQuery(r.exitCode === 0 ? r.stdout : r.stderr, 'selinux-policy-default', 'dpkg-query') };
      };
      const order = /debian|ubuntu/.test(words) ? [deb] : /fedora|rhel|centos|suse/.test(words) ? [rpm] : [rpm, deb];
      for (const q of order) {
        const r = await q();
        if (r) return r;
      }
      return { kind: 'unusable', reason: 'neither rpm nor dpkg-query is installed: cannot tell the selinux-policy version' };
    });
  }

  /** `sesearch -A -s svirt_t -t sev_device_t -c chr_file` against the loaded (or given) policy. */
  sesearch(): Promise<ToolResult<SesearchResult>> {
    return this.memo.once('sesearch', async () => {
      const argv = [...SESEARCH_ARGV, ...(this.opts.policyPath ? [this.opts.policyPath] : [])];
      const r = await this.host.run(argv, { timeoutMs: SESEARCH_TIMEOUT_MS });
      if (r.exitCode === 127) return { kind: 'unusable', reason: 'sesearch is not installed (dnf install setools-console; apt-get install setools)' } as const;
      const parsed = parseSesearch(r.stdout, 'sesearch');
      // exit 1 with "X is not a valid type attribute" is an answer; any other failure is not
      if (r.exitCode !== 0 && !(parsed.ok && parsed.value.kind === 'unknown-type'))
        return { kind: 'unusable', reason: `sesearch exited ${r.exitCode}: ${firstLine(r.stderr || r.stdout) || 'no output'}` } as const;
      return { kind: 'parsed', result: parsed } as const;
    });
  }

  /** `getsebool -a`, asked only when a needed permission hangs on a boolean. */
  booleans(): Promise<ReadonlyMap<string, boolean> | undefined> {
    return this.memo.once('getsebool', async () => {
      const r = await this.host.run(['getsebool', '-a'], { timeoutMs: CMD_TIMEOUT_MS });
      if (r.exitCode !== 0) return undefined;
      const parsed = parseGetsebool(r.stdout);
      return parsed.ok ? parsed.value : undefined;
    });
  }

  /** AVC denials in /var/log/audit/audit.log; undefined when the log does not exist. */
  auditLog(): Promise<ParseResult<AvcDenial[]> | undefined> {
    return this.memo.once('audit', async () => {
      const t = await this.text(AUDIT_LOG);
      if (t === undefined) return undefined;
      if (t.includes('\0')) return parseError(AUDIT_LOG, 0, 'contains NUL bytes: not a text audit log');
      return parseAvcDenials(t, AUDIT_LOG);
    });
  }

  /**
   * libvirt's QEMU abstraction and the local additions it includes (abstractions/libvirt-qemu.d,
   * local/...); empty when the abstraction does not exist.
   */
  apparmorAbstraction(): Promise<ProfileFile[]> {
    return this.memo.once('aa-files', () => readLibvirtQemuAbstraction(this.host));
  }

  /** The per-guest rules the host's libvirt would add for a SEV guest (asked only when the abstraction alone does not grant /dev/sev). */
  generatedRules(): ReturnType<typeof generatedGuestRules> {
    return this.memo.once('aa-generated', () => generatedGuestRules(this.host, '/usr/bin/qemu-system-x86_64'));
  }

  /** What selinux.apparmor-sev needs; the profile files are read only when AppArmor is enabled. */
  /** AppArmor first: qemu.conf's security_driver and the abstraction are read only when it is enabled. */
  async apparmorFacts(securityDriver: Fact<readonly string[] | undefined>): Promise<ApparmorFacts> {
    const enabled = await this.apparmorEnabled();
    if (!enabled) return { enabled, securityDriver: undefined, files: [] };
    return { enabled, securityDriver: await securityDriver(), files: await this.apparmorAbstraction() };
  }
}
