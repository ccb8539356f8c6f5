/**
 * SELinux AVC denials from /var/log/audit/audit.log, `ausearch -m avc [-i]`, or the kernel log.
 *
 * Record shapes (audit userspace, auparse; kernel security/selinux/avc.c avc_audit_pre_callback):
 *   [node=N ]type=AVC msg=audit(1554136342.383:297): avc:  denied  { open } for  pid=3263
 *     comm="qemu-kvm" path="/dev/sev" dev="devtmpfs" ino=20016
 *     scontext=system_u:system_r:svirt_t:s0:c226,c540 tcontext=system_u:object_r:sev_device_t:s0
 *     tclass=chr_file permissive=0
 *   `ausearch -i` interprets: msg=audit(04/01/2019 12:32:22.383:297) : ... comm=qemu-kvm (no quotes)
 *   kernel log: audit: type=1400 audit(1554136342.383:297): avc:  denied  { open } for ...
 *   ausearch with no match prints "<no matches>".
 * The time stamp is audit(SECONDS.MILLISECONDS:SERIAL), seconds since the epoch (raw form) or
 * local time "MM/DD/YYYY HH:MM:SS.mmm" (interpreted form; no zone, kept as text).
 * Values may be hex-encoded when they contain spaces (comm=7172656D75206B766D): decoded here.
 */
import { failed, passed, type Verdict } from '../verdict.js';
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';
import { parseContext } from './selinux.js';

export interface AvcDenial {
  /** seconds since the epoch with milliseconds, when the record has the raw form */
  readonly epochMs?: number | undefined;
  readonly timeText: string;
  readonly serial: number;
  readonly comm?: string | undefined;
  readonly pid?: number | undefined;
  readonly permissions: readonly string[];
  readonly scontext: string;
  readonly tcontext: string;
  readonly tclass: string;
  readonly path?: string | undefined;
  readonly name?: string | undefined;
  readonly permissive?: boolean | undefined;
  readonly line: number;
}

const STAMP = /audit\(([^)]*?):(\d+)\)/;
const AVC = /avc:\s+(denied|granted)\s+\{\s*([^}]*?)\s*\}\s+for\s+(.*)$/;
const FIELD = /([A-Za-z_]+)=("(?:[^"]*)"|\S+)/g;

/** Fields auditd hex-encodes when they hold spaces or odd bytes (audit_log_untrustedstring). */
const HEX_FIELDS = new Set(['comm', 'name', 'path', 'exe', 'cwd', 'proctitle']);

function decodeValue(key: string, v: string): string {
  if (v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  if (HEX_FIELDS.has(key) && /^[0-9A-F]+$/.test(v) && v.length % 2 === 0 && v.length >= 2) {
    const bytes = v.match(/../g)?.map((h) => parseInt(h, 16)) ?? [];
    if (bytes.every((b) => b >= 0x20 && b < 0x7f)) return String.fromCharCode(...bytes);
  }
  return v;
}

/** Parse every AVC denial in the text; other record types are skipped. */
export function parseAvcDenials(text: string, source = 'audit.log'): ParseResult<AvcDenial[]> {
  const out: AvcDenial[] = [];
  for (const { line, text: raw } of numberedLines(text)) {
    if (!/avc:/.test(raw)) continue;
    const avc = AVC.exec(raw);
    if (!avc) return parseError(source, line, `AVC record not understood: '${raw.trim().slice(0, 100)}'`);
    if (avc[1] !== 'denied') continue;
    const stamp = STAMP.exec(raw);
    if (!stamp) return parseError(source, line, 'AVC record without an audit(TIME:SERIAL) stamp');
    const timeText = stamp[1] ?? '';
    const epoch = /^\d+(\.\d+)?$/.test(timeText) ? Math.round(Number(timeText) * 1000) : undefined;
    const fields = new Map<string, string>();
    for (const m of (avc[3] ?? '').matchAll(FIELD)) fields.set(m[1] ?? '', decodeValue(m[1] ?? '', m[2] ?? ''));
    const scontext = fields.get('scontext');
    const tcontext = fields.get('tcontext');
    const tclass = fields.get('tclass');
    if (!scontext || !tcontext || !tclass) return parseError(source, line, 'AVC denial missing scontext, tcontext or tclass');
    if (!parseContext(scontext) || !parseContext(tcontext)) return parseError(source, line, 'AVC denial with a malformed security context');
    const pid = fields.get('pid');
    const permissive = fields.get('permissive');
    out.push({
      ...(epoch !== undefined ? { epochMs: epoch } : {}),
      timeText,
      serial: Number(stamp[2]),
      ...(fields.has('comm') ? { comm: fields.get('comm') } : {}),
      ...(pid !== undefined && /^\d+$/.test(pid) ? { pid: Number(pid) } : {}),
      permissions: (avc[2] ?? '').split(/\s+/).filter((p) => p !== ''),
      scontext,
      tcontext,
      tclass,
      ...(fields.has('path') ? { path: fields.get('path') } : {}),
      ...(fields.has('name') ? { name: fields.get('name') } : {}),
      ...(permissive !== undefined ? { permissive: permissive === '1' } : {}),
      line,
    });
  }
  return ok(out);
}

/**
 * Denials about /dev/sev: target type sev_device_t, or (older policies, where /dev/sev was still
 * device_t) a chr_file denial whose path is /dev/sev or whose name is "sev".
 */
export function sevDenials(all: readonly AvcDenial[]): AvcDenial[] {
  return all.filter(
    (d) => parseContext(d.tcontext)?.type === 'sev_device_t' || (d.tclass === 'chr_file' && (d.path === '/dev/sev' || d.name === 'sev')),
  );
}

/** selinux.no-avc-denials */
export function avcVerdict(denials: readonly AvcDenial[], source = 'audit log'): Verdict {
  const sev = sevDenials(denials);
  if (sev.length === 0) return passed(`no AVC denial for /dev/sev (sev_device_t) in ${source}`);
  const first = sev[0];
  const when = (d: AvcDenial): string => (d.epochMs !== undefined ? new Date(d.epochMs).toISOString() : d.timeText);
  const summary = first
    ? `${sev.length} denial(s), first at ${when(first)}: ${first.comm ?? '?'} { ${first.permissions.join(' ')} } ${parseContext(first.scontext)?.type ?? first.scontext} -> ${first.tcontext} ${first.tclass}`
    : '';
  return failed(
    `${summary} (${source})`,
    'no SELinux denial for QEMU on /dev/sev',
    'upgrade selinux-policy and restorecon -v /dev/sev; or ausearch -m avc -c qemu-kvm | audit2allow -M sev_local && semodule -i sev_local.pp',
  );
}
