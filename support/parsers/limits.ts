/**
 * Locked-memory (RLIMIT_MEMLOCK) limits and the SEV memlock rule.
 *
 * Why it matters (libvirt docs/kbase/launch_security_sev.rst, "Memory"): SEV guest memory is
 * pinned, and QEMU also pins regions it allocates itself (UEFI pflash, ROMs, video RAM). libvirt
 * sizes the limit for the guest from the domain XML, so either
 *   - `<memoryBacking><locked/></memoryBacking>`: no hard limit on the VM (the doc's preferred
 *     method; guard the host with machine.slice MemoryHigh/MemoryMax instead), or
 *   - `<memtune><hard_limit>` = guest memory + headroom; the doc says "256MiB extra memory over
 *     the total guest RAM should suffice for most workloads" as a starting point.
 * For QEMU spawned by the system libvirtd, /etc/security/limits.conf does NOT apply: pam_limits
 * acts on PAM sessions, and libvirtd sets the child's RLIMIT_MEMLOCK itself. limits.conf matters
 * for QEMU started by hand or by tools in a login session; `ulimit -l` / `prlimit` show a live one.
 *
 * limits.conf syntax (limits.conf(5), pam_limits.c): `<domain> <type> <item> <value>`;
 * domain: user name, @group, *, uid range `min:max` / `@gid-range`, %group (maxlogins only);
 * type: soft, hard, or - (both); memlock is in KiB; unlimited/infinity/-1 mean no limit.
 * Files: /etc/security/limits.conf, then /etc/security/limits.d/*.conf in C-locale order.
 * Precedence (pam_limits.c process_limit): an entry for the user beats a group entry, which beats
 * a wildcard; among entries of the same kind the later one wins. Group and wildcard entries do not
 * apply to root (limits.conf(5)).
 */
import { failed, passed, undecided, type Verdict } from '../verdict.js';
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

export type Limit = number | 'unlimited';

export interface LimitsEntry {
  readonly domain: string;
  readonly type: 'soft' | 'hard' | '-';
  readonly item: string;
  /** KiB for memlock */
  readonly value: Limit;
  readonly source: string;
  readonly line: number;
}

export interface MemlockResult {
  readonly soft?: { readonly value: Limit; readonly from: string } | undefined;
  readonly hard?: { readonly value: Limit; readonly from: string } | undefined;
}

function parseLimitValue(text: string): Limit | undefined {
  const t = text.toLowerCase();
  if (t === 'unlimited' || t === 'infinity' || t === '-1') return 'unlimited';
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Parse one limits.conf-style file. Bad lines are skipped with a note, as pam_limits logs and skips them. */
export function parseLimitsConf(text: string, source = '/etc/security/limits.conf'): ParseResult<LimitsEntry[]> {
  if (text.includes('\0')) return parseError(source, 0, 'contains NUL bytes');
  const entries: LimitsEntry[] = [];
  const notes: string[] = [];
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.replace(/#.*$/, '').trim();
    if (t === '') continue;
    const f = t.split(/\s+/);
    if (f.length !== 4) {
      notes.push(`${source}:${line}: skipped: ${f.length} fields, expected 4`);
      continue;
    }
    const [domain = '', type = '', item = '', valueText = ''] = f;
    if (type !== 'soft' && type !== 'hard' && type !== '-') {
      notes.push(`${source}:${line}: skipped: unknown type '${type}'`);
      continue;
    }
    const value = parseLimitValue(valueText);
    if (value === undefined) {
      notes.push(`${source}:${line}: skipped: value '${valueText}' is not a number`);
      continue;
    }
    entries.push({ domain, type, item: item.toLowerCase(), value, source, line });
  }
  return ok(entries, notes);
}

function domainRank(domain: string, user: string, uid: number, groups: readonly string[], gids: readonly number[]): number | undefined {
  // lower is stronger: 0 user, 1 group, 2 wildcard (pam_limits LIMITS_DEF_USER/GROUP/ALL)
  if (domain === user) return 0;
  const range = /^(@?)(\d*):(\d*)$/.exec(domain);
  if (range) {
    const lo = range[2] === '' ? 0 : Number(range[2]);
    const hi = range[3] === '' ? Infinity : Number(range[3]);
    if (range[1] === '@') return gids.some((g) => g >= lo && g <= hi) && uid !== 0 ? 1 : undefined;
    return uid >= lo && uid <= hi ? 0 : undefined;
  }
  if (domain.startsWith('@')) return groups.includes(domain.slice(1)) && uid !== 0 ? 1 : undefined;
  if (domain === '*') return uid !== 0 ? 2 : undefined;
  return undefined;
}

/** The memlock limits pam_limits would set for a session of `user`; files in processing order. */
export function effectiveMemlock(
  files: readonly LimitsEntry[][],
  who: { user: string; uid: number; groups: readonly string[]; gids?: readonly number[] },
): MemlockResult {
  let soft: { value: Limit; from: string; rank: number } | undefined;
  let hard: { value: Limit; from: string; rank: number } | undefined;
  for (const file of files)
    for (const e of file) {
      if (e.item !== 'memlock') continue;
      const rank = domainRank(e.domain, who.user, who.uid, who.groups, who.gids ?? []);
      if (rank === undefined) continue;
      const from = `${e.source}:${e.line}`;
      if ((e.type === 'soft' || e.type === '-') && (!soft || rank <= soft.rank)) soft = { value: e.value, from, rank };
      if ((e.type === 'hard' || e.type === '-') && (!hard || rank <= hard.rank)) hard = { value: e.value, from, rank };
    }
  return {
    ...(soft ? { soft: { value: soft.value, from: soft.from } } : {}),
    ...(hard ? { hard: { value: hard.value, from: hard.from } } : {}),
  };
}

/** `ulimit -l` output (bash: KiB, or "unlimited"). */
export function parseUlimitL(text: string, source = 'ulimit -l'): ParseResult<Limit> {
  const t = text.trim();
  const v = parseLimitValue(t);
  return v === undefined ? parseError(source, 1, `expected a number of KiB or 'unlimited', got '${t.slice(0, 40)}'`) : ok(v);
}

/**
 * `prlimit --memlock [--pid N]` output (util-linux): a header then
 *   MEMLOCK  max locked-in-memory address space  8388608  8388608 bytes
 * SOFT/HARD are in bytes or "unlimited". Returns KiB for comparison with limits.conf.
 */
export function parsePrlimitMemlock(text: string, source = 'prlimit --memlock'): ParseResult<{ soft: Limit; hard: Limit }> {
  for (const { line, text: raw } of numberedLines(text)) {
    const m = /^\s*MEMLOCK\s+.*?\s(\d+|unlimited)\s+(\d+|unlimited)(?:\s+(\S+))?\s*$/.exec(raw);
    if (!m) continue;
    const toKiB = (v: string): Limit => (v === 'unlimited' ? 'unlimited' : Math.floor(Number(v) / 1024));
    if (m[3] !== undefined && m[3] !== 'bytes') return parseError(source, line, `unexpected units '${m[3]}'`);
    return ok({ soft: toKiB(m[1] ?? ''), hard: toKiB(m[2] ?? '') });
  }
  return parseError(source, 0, 'no MEMLOCK line');
}

/** libvirt launch_security_sev.rst: "256MiB extra memory over the total guest RAM". */
export const SEV_MEMLOCK_HEADROOM_KIB = 256 * 1024;

export interface MemlockRuleInput {
  /** guest memory (<currentMemory> / <memory>) in KiB */
  readonly guestMemoryKiB: number;
  /** <memoryBacking><locked/> present */
  readonly locked?: boolean | undefined;
  /** <memtune><hard_limit> in KiB */
  readonly hardLimitKiB?: number | undefined;
  /** the process memlock limit, for QEMU not started by libvirt (ulimit/prlimit/limits.conf) */
  readonly memlockKiB?: Limit | undefined;
  /** where memlockKiB came from, for the message */
  readonly memlockFrom?: string | undefined;
}

/** device.memlock */
export function memlockVerdict(input: MemlockRuleInput): Verdict {
  const need = input.guestMemoryKiB + SEV_MEMLOCK_HEADROOM_KIB;
  if (input.locked) return passed('<memoryBacking><locked/> lets libvirt lift the memory lock limit for the guest');
  if (input.hardLimitKiB !== undefined) {
    if (input.hardLimitKiB >= need)
      return passed(`memtune hard_limit ${input.hardLimitKiB} KiB >= guest ${input.guestMemoryKiB} KiB + 256 MiB headroom`);
    return failed(
      `memtune hard_limit ${input.hardLimitKiB} KiB for a ${input.guestMemoryKiB} KiB guest`,
      `at least ${need} KiB (guest memory + 256 MiB, libvirt launch_security_sev docs) or <memoryBacking><locked/>`,
      `virsh edit <domain>: <memtune><hard_limit unit='KiB'>${need}</hard_limit></memtune>, or add <memoryBacking><locked/></memoryBacking>`,
    );
  }
  if (input.memlockKiB !== undefined) {
    const from = input.memlockFrom ? ` (${input.memlockFrom})` : '';
    if (input.memlockKiB === 'unlimited' || input.memlockKiB >= need)
      return passed(`memlock limit ${input.memlockKiB}${input.memlockKiB === 'unlimited' ? '' : ' KiB'}${from} covers the ${input.guestMemoryKiB} KiB guest + 256 MiB`);
    return failed(
      `memlock limit ${input.memlockKiB} KiB${from} for a ${input.guestMemoryKiB} KiB guest`,
      `at least ${need} KiB of lockable memory`,
      `for libvirt guests add <memoryBacking><locked/></memoryBacking>; for QEMU started by hand: echo '<user> - memlock ${need}' > /etc/security/limits.d/90-sev.conf (new session)`,
    );
  }
  return undecided('no <memoryBacking><locked/>, no memtune hard_limit and no memlock limit recorded');
}
