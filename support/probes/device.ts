/**
 * Device-permission facts: who QEMU runs as (qemu.conf, os-release, passwd, group), the device
 * nodes, their ACLs, the udev rules and the memlock limits. Read once per run through the run's
 * cached Host and parsed once here. A file that does not exist is `undefined`; a file that does
 * not parse is a ParseResult error (the rules make that undecided); other read failures surface
 * as HostError (undecided with that reason).
 */
import { Memo } from '../memo.js';
import { readTextIfExists } from '../host/read.js';
import { isHostError, type Host, type StatInfo } from '../host/types.js';
import { parseOsRelease, type OsRelease } from '../parsers/os-release.js';
import { parseQemuConf, type QemuConf } from '../parsers/qemu-conf.js';
import { parseGroup, parsePasswd, type AccountDb, type GroupEntry, type PasswdEntry } from '../parsers/passwd.js';
import { parseGetfacl } from '../parsers/getfacl.js';
import { evaluateDeviceRules, SEV_DEVICE, UDEV_RULE_DIRS, type UdevPermOutcome, type UdevRulesFile } from '../parsers/udev-rules.js';
import { parseLimitsConf, type LimitsEntry } from '../parsers/limits.js';
import { resolveQemuIdentity, type IdentityResult } from '../device/identity.js';
import { formatParseError, type ParseResult } from '../parsers/parse-result.js';

/** A parsed file: undefined when the file does not exist on the host. */
export type Loaded<T> = ParseResult<T> | undefined;

/** What is known about a node's access ACL. */
export type AclFact =
  /** getfacl output (a minimal ACL when the file has none) */
  | { readonly kind: 'acl'; readonly acl: Acl; readonly source: string }
  /** no extended ACL (`ls -ld` shows no "+") */
  | { readonly kind: 'none'; readonly source: string }
  /** could not be told: the reason */
  | { readonly kind: 'unknown'; readonly reason: string };
import type { Acl } from '../parsers/getfacl.js';

export const QEMU_CONF = '/etc/libvirt/qemu.conf';
/** os-release(5): /etc/os-release, falling back to /usr/lib/os-release */
export const OS_RELEASE = ['/etc/os-release', '/usr/lib/os-release'] as const;
export const LIMITS_CONF = '/etc/security/limits.conf';
export const LIMITS_D = '/etc/security/limits.d';

export class DeviceProbe {
  private readonly memo = new Memo();
  constructor(readonly host: Host) {}

  /** File text, or undefined when it does not exist. */
  private text(path: string): Promise<string | undefined> {
    return readTextIfExists(this.host, path);
  }

  osRelease(): Promise<Loaded<OsRelease>> {
    return this.memo.once('os-release', async () => {
      for (const path of OS_RELEASE) {
        const t = await this.text(path);
        if (t !== undefined) return parseOsRelease(t, path);
      }
      return undefined;
    });
  }

  qemuConf(): Promise<Loaded<QemuConf>> {
    return this.memo.once('qemu.conf', async () => {
      const t = await this.text(QEMU_CONF);
      return t === undefined ? undefined : parseQemuConf(t, QEMU_CONF);
    });
  }

  /** qemu.conf when it exists and parses (for notes); undefined otherwise. */
  async qemuConfValue(): Promise<QemuConf | undefined> {
    const c = await this.qemuConf();
    return c?.ok ? c.value : undefined;
  }

  passwd(): Promise<Loaded<AccountDb<PasswdEntry>>> {
    return this.memo.once('passwd', async () => {
      const t = await this.text('/etc/passwd');
      return t === undefined ? undefined : parsePasswd(t, '/etc/passwd');
    });
  }

  group(): Promise<Loaded<AccountDb<GroupEntry>>> {
    return this.memo.once('group', async () => {
      const t = await this.text('/etc/group');
      return t === undefined ? undefined : parseGroup(t, '/etc/group');
    });
  }

  /** The parsed group database, or undefined when absent or unparseable (for fix texts). */
  async groupDb(): Promise<AccountDb<GroupEntry> | undefined> {
    const g = await this.group();
    return g?.ok ? g.value : undefined;
  }

  async passwdDb(): Promise<AccountDb<PasswdEntry> | undefined> {
    const p = await this.passwd();
    return p?.ok ? p.value : undefined;
  }

  /** Who QEMU runs as under the system libvirt daemon (identity.ts). */
  qemuIdentity(): Promise<IdentityResult> {
    return this.memo.once('identity', async () => {
      const fail = (reason: string): IdentityResult => ({ ok: false, reason, notes: [] });
      const conf = await this.qemuConf();
      if (conf && !conf.ok) return fail(`cannot parse ${formatParseError(conf.error)}`);
      const os = await this.osRelease();
      if (os && !os.ok) return fail(`cannot parse ${formatParseError(os.error)}`);
      if (!(conf?.value.user && conf.value.group) && os?.value.fields.ID === undefined)
        return fail(
          `${os ? `${os.value.prettyName !== 'Linux' ? `os-release ("${os.value.prettyName}") has` : 'os-release has'} no ID field` : 'no /etc/os-release'}, and qemu.conf does not set both user and group: the distribution's default QEMU user cannot be told`,
        );
      const passwd = await this.passwd();
      if (!passwd) return fail('/etc/passwd does not exist');
      if (!passwd.ok) return fail(`cannot parse ${formatParseError(passwd.error)}`);
      const group = await this.group();
      if (!group) return fail('/etc/group does not exist');
      if (!group.ok) return fail(`cannot parse ${formatParseError(group.error)}`);
      const r = resolveQemuIdentity({ qemuConf: conf?.value, osRelease: os?.value, passwd: passwd.value, group: group.value });
      if (r.ok) return r;
      const hint = conf ? [] : [`no ${QEMU_CONF}: the libvirt QEMU driver (libvirt-daemon-system, libvirt-daemon-driver-qemu) is probably not installed`];
      // lines the account parsers skipped may be why the user was not found
      return { ...r, notes: [...hint, ...r.notes, ...passwd.notes, ...group.notes] };
    });
  }

  /** A device node's metadata, or undefined when it does not exist. */
  node(path: string): Promise<StatInfo | undefined> {
    return this.memo.once(`node:${path}`, async () => {
      try {
        return await this.host.stat(path);
      } catch (e) {
        if (isHostError(e, 'ENOENT')) return undefined;
        throw e;
      }
    });
  }

  /**
   * The node's access ACL. Whether it has an extended one at all comes from the host (live:
   * `ls -ld`'s "+", fixtures: stat.json "acl"; host/acl.ts); only a node that has one is read
   * with getfacl, so a host without the acl package is decided by mode, owner and group.
   */
  acl(path: string): Promise<AclFact> {
    return this.memo.once(`acl:${path}`, async () => {
      const node = await this.node(path);
      if (node?.type !== 'char') return { kind: 'unknown', reason: `${path} is not a character device` } as const;
      let entries: readonly string[] | undefined;
      try {
        entries = await this.host.acl(path);
      } catch (e) {
        // unreadable, or an ACL getfacl is not there to read: the rule decides whether it matters
        if (isHostError(e) && e.code !== 'NOT_RUNNING') return { kind: 'unknown', reason: e.message } as const;
        throw e;
      }
      if (entries === undefined) return { kind: 'none', source: `${path} has no extended ACL (no "+" in ls -ld)` } as const;
      const parsed = parseGetfacl(entries.join('\n'), `getfacl ${path}`);
      if (!parsed.ok) return { kind: 'unknown', reason: `cannot parse ${formatParseError(parsed.error)}` } as const;
      return { kind: 'acl', acl: parsed.value.acl, source: `getfacl ${path}` } as const;
    });
  }

  /** Every effective udev rules file (highest-priority copy of each name), content read. */
  udevRuleFiles(): Promise<UdevRulesFile[]> {
    return this.memo.once('udev-files', async () => {
      const listed: Array<{ dir: string; name: string }> = [];
      for (const dir of UDEV_RULE_DIRS) {
        let names: string[];
        try {
          names = await this.host.listDir(dir);
        } catch (e) {
          if (isHostError(e, 'ENOENT') || isHostError(e, 'ENOTDIR')) continue;
          throw e;
        }
        for (const name of names) if (name.endsWith('.rules')) listed.push({ dir, name });
      }
      // read only the copy udev uses (UDEV_RULE_DIRS is highest priority first): on merged-/usr
      // hosts /lib/udev/rules.d is /usr/lib/udev/rules.d again
      const winners = new Map<string, { dir: string; name: string }>();
      for (const f of listed) if (!winners.has(f.name)) winners.set(f.name, f);
      const out: UdevRulesFile[] = [];
      for (const f of winners.values()) {
        const content = await this.text(`${f.dir}/${f.name}`);
        if (content !== undefined) out.push({ ...f, content }); // dangling symlink: ignored as udev does
      }
      return out;
    });
  }

  sevUdevOutcome(): Promise<UdevPermOutcome> {
    return this.memo.once('udev-sev', async () => evaluateDeviceRules(await this.udevRuleFiles(), SEV_DEVICE));
  }

  /** limits.conf then limits.d/*.conf in C-locale order (pam_limits.c); unparseable lines are skipped by the parser. */
  limits(): Promise<LimitsEntry[][]> {
    return this.memo.once('limits', async () => {
      const files: string[] = [LIMITS_CONF];
      try {
        files.push(...(await this.host.listDir(LIMITS_D)).filter((n) => n.endsWith('.conf')).sort().map((n) => `${LIMITS_D}/${n}`));
      } catch (e) {
        if (!isHostError(e, 'ENOENT')) throw e;
      }
      const out: LimitsEntry[][] = [];
      for (const f of files) {
        const t = await this.text(f);
        if (t === undefined) continue;
        const parsed: ParseResult<LimitsEntry[]> = parseLimitsConf(t, f);
        if (parsed.ok) out.push(parsed.value);
      }
      return out;
    });
  }
}
