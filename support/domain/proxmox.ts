/**
 * Proxmox VE VM configs (/etc/pve/qemu-server/<vmid>.conf) and their SEV settings.
 *
 * Sources (github.com/proxmox/qemu-server, src/):
 * - PVE/QemuServer/CPUConfig.pm: `$sev_fmt` (the `amd-sev` property string: type=std|es|snp as the
 *   default key, no-debug, no-key-sharing, allow-smt (default 1), kernel-hashes) and
 *   get_amd_sev_object(): policy for std/es = nodbg bit0 | noks bit1 | es bit2 | nosend bit3
 *   (always, "to prevent amd-sev-migration-attack"); for snp = bit17 (must be one) | smt bit16
 *   unless allow-smt=0 | debug bit19 unless no-debug=1; `-object sev-guest|sev-snp-guest,id=sev0,
 *   cbitpos=..,reduced-phys-bits=..,policy=%#x[,kernel-hashes=on]`; dies unless `bios: ovmf`.
 * - PVE/QemuServer.pm: the `amd-sev` key; adds `confidential-guest-support=sev0` to -machine.
 * - PVE/QemuServer/OVMF.pm: SNP uses -bios OVMF_SEV_4M.fd, never pflash.
 * - PVE/QemuMigrate/Helpers.pm: amd-sev blocks live migration, RAM snapshots and hibernation.
 * - test/cfg2cmd/sev-{std,es,snp}.conf(.cmd): policy=0x8, 0xc, 0xb0000.
 * Config syntax as PVE::QemuServer::parse_vm_config reads it: `key: value` lines, `#` comment
 * lines (the description), `[snapshot]`, `[PENDING]`, `[special:cloudinit]` sections.
 */
import { InputError } from '../errors.js';
import { failed, passed, skipped, undecidedBecause, type Verdict } from '../verdict.js';
import { isI440fx, isQ35, judgePolicy, policyHex, type HostSevFacts } from './rules.js';

export interface PveConfig {
  readonly source: string;
  /** the current config (before the first [section]) */
  readonly main: Readonly<Record<string, string>>;
  readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly description: string;
  /** lines qemu-server would skip with "unable to parse config" */
  readonly warnings: readonly string[];
}

const KEY_LINE = /^([a-z][a-z0-9_-]*):\s*(.*?)\s*$/;

export function parsePveConfig(input: string | Buffer, source: string): PveConfig {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.includes('\u0000')) throw new InputError(source, 'contains NUL bytes: a binary file, not a Proxmox VM config');
  if (text.length > 1024 * 1024) throw new InputError(source, `config is ${text.length} bytes, over the 1 MiB limit`);
  const main: Record<string, string> = {};
  const sections: Record<string, Record<string, string>> = {};
  const warnings: string[] = [];
  const desc: string[] = [];
  let cur = main;
  let keys = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      if (cur === main) desc.push(decodeURIComponentSafe(line.slice(1)));
      return;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      const name = sec[1]!;
      if (sections[name]) throw new InputError(source, `line ${n}: duplicate section [${name}]`);
      cur = sections[name] = {};
      return;
    }
    const m = KEY_LINE.exec(line);
    if (!m) {
      warnings.push(`line ${n}: unable to parse config: ${line.slice(0, 80)}`);
      return;
    }
    const [, key, value] = m as unknown as [string, string, string];
    if (key in cur) throw new InputError(source, `line ${n}: duplicate key '${key}'`);
    cur[key] = value;
    keys++;
  });
  if (keys === 0) throw new InputError(source, 'no `key: value` lines: not a Proxmox VM config');
  return { source, main, sections, description: desc.join('\n'), warnings };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// --- amd-sev property string ----------------------------------------------------------------

export interface PveSev {
  readonly type: 'std' | 'es' | 'snp';
  readonly noDebug: boolean;
  readonly noKeySharing: boolean;
  /** default 1 (CPUConfig.pm) */
  readonly allowSmt: boolean;
  readonly kernelHashes: boolean;
}

/** PVE::JSONSchema::parse_boolean: 1|on|yes|true and 0|off|no|false, any case. */
function pveBool(key: string, v: string): boolean {
  if (/^(1|on|yes|true)$/i.test(v)) return true;
  if (/^(0|off|no|false)$/i.test(v)) return false;
  throw new Error(`${key}: '${v}' is not a boolean (1/0, yes/no, on/off, true/false)`);
}

const SEV_KEYS = ['type', 'no-debug', 'no-key-sharing', 'allow-smt', 'kernel-hashes'];

/**
 * Parse `amd-sev: type=es,no-debug=1` as PVE::JSONSchema::parse_property_string($sev_fmt) does.
 * Throws Error with qemu-server-like wording on anything it would reject.
 */
export function parsePveSev(value: string): PveSev {
  const seen: Record<string, string> = {};
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? ['type', part] : [part.slice(0, eq), part.slice(eq + 1)];
    if (!SEV_KEYS.includes(k)) {
      throw new Error(`unknown property '${k}' (qemu-server's amd-sev format has: ${SEV_KEYS.join(', ')})`);
    }
    if (k in seen) throw new Error(`duplicate key '${k}'`);
    if (v === '') throw new Error(`${k}: empty value`);
    seen[k] = v;
  }
  const type = seen['type'];
  if (type === undefined) throw new Error("missing 'type' (std, es or snp)");
  if (type !== 'std' && type !== 'es' && type !== 'snp') throw new Error(`type '${type}' is not one of std, es, snp`);
  return {
    type,
    noDebug: seen['no-debug'] !== undefined ? pveBool('no-debug', seen['no-debug']) : false,
    noKeySharing: seen['no-key-sharing'] !== undefined ? pveBool('no-key-sharing', seen['no-key-sharing']) : false,
    allowSmt: seen['allow-smt'] !== undefined ? pveBool('allow-smt', seen['allow-smt']) : true,
    kernelHashes: seen['kernel-hashes'] !== undefined ? pveBool('kernel-hashes', seen['kernel-hashes']) : false,
  };
}

/** The policy get_amd_sev_object() computes (CPUConfig.pm). */
export function pveSevPolicy(s: PveSev): bigint {
  if (s.type === 'snp') {
    let p = 1n << 17n; // reserved, must be one
    if (s.allowSmt) p |= 1n << 16n;
    if (!s.noDebug) p |= 1n << 19n;
    return p;
  }
  let p = 0n;
  if (s.noDebug) p |= 1n << 0n;
  if (s.noKeySharing) p |= 1n << 1n;
  if (s.type === 'es') p |= 1n << 2n;
  p |= 1n << 3n; // nosend, always
  return p;
}

/** Perl sprintf("%#x"): "0" for zero, else 0x-prefixed lowercase. */
function perlHex(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** The QEMU arguments qemu-server adds for amd-sev, given the host's C-bit facts. */
export function pveSevQemuArgs(s: PveSev, host: { cbitpos: number; reducedPhysBits: number }): string[] {
  const obj =
    `${s.type === 'snp' ? 'sev-snp-guest' : 'sev-guest'},id=sev0,cbitpos=${host.cbitpos},reduced-phys-bits=${host.reducedPhysBits}` +
    `,policy=${perlHex(pveSevPolicy(s))}${s.kernelHashes ? ',kernel-hashes=on' : ''}`;
  return ['-object', obj, '-machine', 'confidential-guest-support=sev0'];
}

// --- rules ----------------------------------------------------------------------------------

const CPUCONFIG = 'qemu-server PVE/QemuServer/CPUConfig.pm';

type SevRead = { ok: true; sev: PveSev } | { ok: false; verdict: Verdict } | undefined;

function readSev(c: PveConfig): SevRead {
  const v = c.main['amd-sev'];
  if (v === undefined) return undefined;
  try {
    return { ok: true, sev: parsePveSev(v) };
  } catch (e) {
    return {
      ok: false,
      verdict: failed(
        `amd-sev: ${v} in ${c.source}: ${(e as Error).message}`,
        `a property string qemu-server accepts (${CPUCONFIG} $sev_fmt)`,
        'amd-sev: type=std,no-debug=1,no-key-sharing=1 (or type=es / type=snp)',
      ),
    };
  }
}

const noSev = (c: PveConfig): Verdict => skipped(`no amd-sev in ${c.source}; see domain.launch-security`);

export function pveCheckLaunchSecurity(c: PveConfig): Verdict {
  const r = readSev(c);
  if (!r) {
    const alt = Object.keys(c.main).find((k) => /^amd[_-]?sev$/i.test(k) || k === 'sev');
    return failed(
      `no amd-sev key in ${c.source}${alt ? ` (found '${alt}:', which qemu-server ignores)` : ''}`,
      `amd-sev: type=std|es|snp (${CPUCONFIG})`,
      'amd-sev: type=std,no-debug=1,no-key-sharing=1',
    );
  }
  if (!r.ok) return r.verdict;
  return passed(`amd-sev: ${c.main['amd-sev']} (type ${r.sev.type})`);
}

/** domain.launch-security owns an amd-sev value qemu-server cannot parse: the policy checks have nothing to judge. */
const unreadableSev = (c: PveConfig): Verdict => undecidedBecause('domain.launch-security', `qemu-server cannot parse amd-sev in ${c.source}, so it derives no policy`);

export function pveCheckPolicyValid(c: PveConfig, host: HostSevFacts = {}): Verdict {
  const r = readSev(c);
  if (!r) return noSev(c);
  if (!r.ok) return unreadableSev(c);
  const kind = r.sev.type === 'snp' ? 'snp' : 'sev';
  if (r.sev.type === 'snp' && host.snp === false) {
    return failed('amd-sev type=snp on a host without SEV-SNP', 'an SNP-capable host', 'amd-sev: type=es or type=std');
  }
  if (r.sev.type === 'es' && host.es === false) {
    return failed('amd-sev type=es on a host without SEV-ES', 'an SEV-ES-capable host', 'amd-sev: type=std');
  }
  const j = judgePolicy(kind, pveSevPolicy(r.sev), host);
  if (j.errors.length) {
    return failed(`derived policy ${j.explanation}: ${j.errors.map((e) => e.message).join('; ')}`, 'a policy the firmware accepts', `policy ${policyHex(kind, j.corrected)}`);
  }
  const fix = kind === 'sev' && !r.sev.noDebug ? ' (add no-debug=1 to amd-sev)' : kind === 'snp' && !r.sev.noDebug ? ' (add no-debug=1 to amd-sev)' : '';
  return passed(`derived policy ${j.explanation}${j.warnings.length ? `; note: ${j.warnings.map((w) => w.message).join('; ')}${fix}` : ''}`);
}

export function pveCheckCbitpos(c: PveConfig): Verdict {
  const r = readSev(c);
  if (!r) return noSev(c);
  return skipped('qemu-server takes cbitpos and reduced-phys-bits from the host capabilities at start; nothing to configure');
}

export function pveCheckMachine(c: PveConfig): Verdict {
  const m = c.main['machine'];
  const type = m?.split(',')[0]?.replace(/^type=/, '').replace(/\+pve\d+$/, '');
  if (type && isQ35(type)) return passed(`machine: ${m} (Q35)`);
  if (!type || isI440fx(type)) {
    return failed(
      `${m ? `machine: ${m}` : "no machine key (qemu-server's default is i440fx 'pc')"} in ${c.source}`,
      'q35 (libvirt docs/kbase/launch_security_sev.rst discourages the legacy PC machine; qemu-server uses its SEV OVMF build and QEMU forces modern virtio with confidential-guest-support, so i440fx may still boot)',
      'machine: q35',
    );
  }
  return failed(`machine: ${m} in ${c.source}`, 'a q35 machine', 'machine: q35');
}

export function pveCheckLoader(c: PveConfig): Verdict {
  const r = readSev(c);
  const bios = c.main['bios'];
  if (bios === 'ovmf') {
    if (r?.ok && r.sev.type === 'snp') return passed('bios: ovmf (qemu-server boots SNP guests from -bios OVMF_SEV_4M.fd)');
    return passed(`bios: ovmf${c.main['efidisk0'] ? ' with efidisk0' : ''}`);
  }
  return failed(
    `${bios ? `bios: ${bios}` : 'no bios key (default seabios)'} in ${c.source}`,
    `bios: ovmf (${CPUCONFIG} dies: "To use AMD SEV, you need to change the BIOS to OVMF.")`,
    'bios: ovmf',
  );
}

export function pveCheckVirtioIommu(c: PveConfig): Verdict {
  const r = readSev(c);
  if (!r) return noSev(c);
  const args = c.main['args'] ?? '';
  if (/iommu_platform=(off|false)/.test(args)) {
    return failed(`args: contains iommu_platform=off in ${c.source}`, 'no iommu_platform=off on an SEV guest', 'remove iommu_platform=off from args:');
  }
  return passed('qemu-server sets confidential-guest-support=sev0, so QEMU (>= 6.0) defaults every virtio device to iommu_platform=on');
}

export function pveCheckMemoryPinned(c: PveConfig): Verdict {
  if (!readSev(c)) return noSev(c);
  return skipped('Proxmox VE sets no libvirt-style memtune hard limit on the VM; nothing to configure in the VM config');
}

export function pveCheckNoMigration(c: PveConfig): Verdict {
  const r = readSev(c);
  if (!r) return noSev(c);
  if (!r.ok) return unreadableSev(c);
  const pol = pveSevPolicy(r.sev);
  const what = r.sev.type === 'snp' ? 'SNP policy without MIGRATE_MA' : 'policy with NOSEND (bit 3), which qemu-server always sets';
  return passed(`${what} (${policyHex(r.sev.type === 'snp' ? 'snp' : 'sev', pol)}); qemu-server also refuses to live-migrate, RAM-snapshot or hibernate amd-sev guests (PVE/QemuMigrate/Helpers.pm)`);
}

export function lintPveConfig(c: PveConfig, host: HostSevFacts = {}): Record<string, Verdict> {
  return {
    'domain.launch-security': pveCheckLaunchSecurity(c),
    'domain.policy.valid': pveCheckPolicyValid(c, host),
    'domain.cbitpos.matches-host': pveCheckCbitpos(c),
    'domain.machine.q35': pveCheckMachine(c),
    'domain.loader.ovmf': pveCheckLoader(c),
    'domain.virtio.iommu': pveCheckVirtioIommu(c),
    'domain.memory.pinned': pveCheckMemoryPinned(c),
    'domain.no-migration': pveCheckNoMigration(c),
  };
}
