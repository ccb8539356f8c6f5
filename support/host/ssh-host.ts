/**
 * A remote host through the system `ssh` client. The remote side needs only POSIX sh and GNU
 * coreutils (base64 or od, stat, ls, dd, timeout): no Node, no agent, nothing written there. Host keys
 * are checked as the user's ssh configuration says (never disabled); BatchMode makes a missing
 * key fail at once instead of prompting. One multiplexed connection (ControlMaster, socket in a
 * private local temp dir) serves all reads of a run.
 *
 * Few round trips (issue 23): every read and command asked for in the same turn of the event
 * loop (a probe's readMany, or several probes at once) goes to the host as ONE batch, the
 * constant script BATCH_SCRIPT with the reads as its arguments. A remote command costs a session
 * and a run of the user's shell with its startup files (sshd runs every command through the
 * login shell, and bash sources ~/.bashrc for ssh commands: ~90 ms on a plain host, seconds on
 * one whose .bashrc runs `pyenv init`), so all the batches of a run go through ONE session: the
 * constant SERVER_SCRIPT reads each batch's arguments from its stdin and runs BATCH_SCRIPT on
 * them. A run costs two sessions (that one and the QEMU probe's), whatever the number of reads,
 * phases or CPUs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  DEFAULT_TIMEOUT_MS,
  type ReadOutcome,
  type ReadRequest,
  HarnessError,
  type CpuidRegs,
  type FileType,
  type Host,
  type HostDescription,
  type QmpReply,
  type RunOptions,
  type RunResult,
  type StatInfo,
} from './types.js';
import { cpuidDevice, cpuidDeviceError, cpuidRegsFromBytes, fromToolStderr, hostError, msrDevice, msrDeviceError, msrValueFromBytes } from './errno.js';
import { CommandTimedOut, runResultFromExeca } from './run-result.js';
import { ACL_TIMEOUT_MS, readExtendedAcl } from './acl.js';
import { chooseProbeIdentity, DEFAULT_QEMU_BINARY, HOST_PROBE_COMMANDS, HostQmpProbe, pipelinedQmpInput, qemuProbeArgv, qmpProbeFromTranscript, setprivArgv, wrapperNotFound } from '../qemu/qemu-probe.js';

/**
 * What the remote QEMU probe's identity is decided from (chooseProbeIdentity): files, and the
 * login's user id, as the reading process's own /proc/self/status gives it (the `od` that reads
 * it runs as the login user: its "Uid:" line, effective id second, is what `id -u` prints,
 * without a command of its own).
 */
const QEMU_IDENTITY_FILES = ['/etc/libvirt/qemu.conf', '/etc/os-release', '/etc/passwd', '/etc/group'];
const SELF_STATUS = '/proc/self/status';
const QEMU_IDENTITY_READS: readonly ReadRequest[] = [...QEMU_IDENTITY_FILES, SELF_STATUS].map((path) => ({ op: 'readFile' as const, path }));
/** an operation as the early answers are keyed: the file it reads (nothing else is read early) */
const earlyKey = (op: BatchOp): string => (op.op === 'readFile' ? op.path : '');

/** upper bound on the remote probe QEMU's life, seconds (it normally quits within a second) */
const REMOTE_QEMU_LIMIT_S = 60;

export interface SshTarget {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

export interface SshOptions {
  /** extra `-o Key=Value` options (refused: anything that turns off host-key checking) */
  readonly options?: readonly string[];
  readonly identityFile?: string | undefined;
  readonly connectTimeoutS?: number;
}

const EXEC_MARK = '<<sevcheck-exec>>';

/** POSIX sh single-quoting: the remote shell sees each argv element as one literal word. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const FORBIDDEN = [/^stricthostkeychecking=(no|off|accept-new)$/i, /^userknownhostsfile=\/dev\/null$/i];

/** the file type from st_mode & S_IFMT (Linux include/uapi/linux/stat.h; stat -c %f prints st_mode in hex) */
const STAT_TYPES: ReadonlyMap<number, FileType> = new Map([
  [0o100000, 'file'],
  [0o040000, 'dir'],
  [0o020000, 'char'],
  [0o060000, 'block'],
  [0o120000, 'link'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
]);

/**
 * The one program sevcheck runs on an ssh host for its reads and commands: POSIX sh, constant,
 * given its work as arguments ("$@"), which it never parses as shell text. Each operation is a
 * letter and its arguments:
 *
 *   f PATH                     the file's bytes              (base64 reads it; od -An -v -tx1 where base64 is missing)
 *   s PATH                     MODE:UID:GID[:CONTEXT]        (GNU stat -c '%f:%u:%g:%C': raw st_mode in hex; no CONTEXT when stat has none)
 *   l PATH                     the names in a directory      (ls -1A -- PATH)
 *   d DEVICE BS OFFSET         BS bytes at byte OFFSET       (GNU dd iflag=skip_bytes: lseek, one read; CPUID, MSR)
 *   x SECONDS N ARG1 .. ARGN   run ARG1 .. ARGN, stdin /dev/null, killed after SECONDS (coreutils timeout)
 *   i SECONDS INPUT N ARGS..   the same with INPUT on its stdin (the QEMU probe's QMP commands, all at once)
 *
 * and answers, for each: a line "@<K>" (K: the operation's index in the batch); the operation's
 * stdout encoded (a directory whose names are all plain, or a stat line: "=TEXT" lines, see
 * SAFE_NAME); a line "!<exit status>"; its stderr encoded too (nothing when empty). The encoding
 * is coreutils `base64` (lines of [A-Za-z0-9+/=], no space; about 20 times cheaper than od on a
 * large file, e.g. 1.1 against 24 ms of CPU for a 260 KB kernel config, and 1.35 instead of 3.06
 * bytes on the wire per byte read), or, on a host without base64, `od -An -v -tx1` (lines of
 * " xx" hex, each starting with a space). The reads answer in order; the commands (`x`, `i`) are dealt to four lanes that run
 * concurrently with each other and with the reads (one pipeline: a lane keeps its records in a
 * variable until its commands are done, then passes on the earlier lanes' and adds its own), so
 * a batch takes about as long as its slowest command, not their sum, as on a local run, where
 * the probes' commands run at once too. Base64 lines hold only [A-Za-z0-9+/=], hex lines only
 * [0-9a-f ], "=TEXT" lines only [A-Za-z0-9._+,:@=-] after the "=" (any other name or stat line
 * goes encoded), and the delimiters are lines of their own, so no content (binary, NUL bytes,
 * lines that look like a delimiter, a file name) can be mistaken for the framing. The work per read is
 * kept to one process (a file that reads is one `base64`, a stat one `stat`; a path that does not exist, or
 * a directory listing, none: the shell's test and glob): a batch of fifty reads costs the host
 * a fraction of one login.
 *
 * The lanes' words are built for `eval` from positional references only ("${4}" "${5}" ..., made
 * from counters) and the operations' indices: the arguments' text never reaches the shell's parser. `dd` with `if=` and
 * no `of=` opens the device O_RDONLY and writes to stdout (coreutils dd.c); `base64`, `od`, `stat`, `ls`
 * only read. LC_ALL=C: tool messages in English, as errno.ts fromToolStderr reads them.
 */
/** "No such file or directory\n" as BATCH_SCRIPT's hex lines: the stderr of a read whose path the shell found missing */
const NO_SUCH_FILE_HEX = [...Buffer.from('No such file or directory\n')].map((b) => ` ${b.toString(16).padStart(2, '0')}`).join('');
/** "not found\n" as hex lines: the stderr of a command the remote shell cannot find (SshHost.run reads 127 and "not found") */
const NOT_FOUND_HEX = [...Buffer.from('not found\n')].map((b) => ` ${b.toString(16).padStart(2, '0')}`).join('');
/** a directory entry name or stat line BATCH_SCRIPT may send as it is ("=TEXT"): nothing a framing line could be made of */
const SAFE_NAME = /^=[A-Za-z0-9._+,:@=-]+$/;

export const BATCH_SCRIPT = [
  'export LC_ALL=C',
  'exec 3>&1 </dev/null',
  "nl='",
  "'",
  // $H: the encoder (base64, or od hex on a host without base64), a command of its own where it is used
  // (unquoted, split at spaces only: no function, so a pipeline runs it without a shell of its own)
  "IFS=' '",
  "if command -v base64 >/dev/null 2>&1; then H=base64; else H='od -An -v -tx1'; fi",
  // o E: E is "<stderr>\n<status>" (what the $(...) below captured): the status line, then stderr encoded
  'o() { printf \'!%s\\n\' "${1##*"$nl"}"; x=${1%"$nl"*}; [ -z "$x" ] || printf \'%s\' "$x" | $H; }',
  // r CMD...: CMD's stdout encoded to the real stdout (fd 3), its stderr and status through o
  'r() { o "$( { { "$@" 2>&4 3>&- 4>&-; printf \'\\n%s\' "$?" >&4; } | $H >&3; } 4>&1 )"; }',
  // pl LINE: a line of a record's stdout, as it is ("=LINE") when every byte is plain (SAFE_NAME), else encoded; then status 0
  "pl() { case $1 in ''|*[!A-Za-z0-9._+,:@=-]*) printf '%s\\n' \"$1\" | $H ;; *) printf '=%s\\n' \"$1\" ;; esac; printf '!0\\n'; }",
  // sl PATH: MODE:UID:GID[:CONTEXT] from one stat (GNU stat prints "?" for a context it cannot get, and
  // fails: the line is whole all the same); a stat that printed no such line runs again without %C, for its own error
  `sl() { y=$(stat -c '%f:%u:%g:%C' -- "$1" 2>/dev/null); case $y in *:*:*:\\?) y=\${y%:\\?} ;; esac; case $y in [0-9a-f]*:*:*) pl "$y" ;; *) r stat -c '%f:%u:%g' -- "$1" ;; esac; }`,
  'tm() { t=$1; shift; if command -v timeout >/dev/null 2>&1; then timeout -k 2 "$t" "$@"; else "$@"; fi; }',
  // ti SECONDS CMD...: tm with the operation's INPUT ($in) on CMD's stdin
  'ti() { t=$1; shift; printf \'%s\' "$in" | tm "$t" "$@"; }',
  // c K x SECONDS ARGS.. | c K i INPUT SECONDS ARGS..: the record of command K (stdin /dev/null, or INPUT)
  // (a program the shell cannot find answers as the shell would, "not found", 127, without a process)
  `c() { printf '@%s\\n' "$1"; m=$2; if [ "$m" = x ]; then shift 2; else in=$3; shift 3; fi; if ! command -v "$2" >/dev/null 2>&1; then printf '!127\\n%s\\n' '${NOT_FOUND_HEX}'; elif [ "$m" = x ]; then r tm "$@"; else r ti "$@"; fi; }`,
  // fe PATH: a file $H could not read: its error and status (read once more, for the message only)
  'fe() { e=$($H -- "$1" 2>&1 >/dev/null; printf \'\\n%s\' "$?"); case $e in *"$nl"0) e="$1: changed while being read${nl}1" ;; esac; o "$e"; }',
  // ne: the record's end for a path that does not exist (no process: the message as base64/od/stat/ls/dd word it)
  `ne() { printf '!1\\n%s\\n' '${NO_SUCH_FILE_HEX}'; }`,
  // nx PATH: PATH surely does not exist: its deepest ancestor that exists (no entry, not even a
  // dangling or looping link, below it) is a directory this user can search, so the kernel's walk
  // stops at the next name with ENOENT (else the tool runs and says why: EACCES, ENOTDIR, ELOOP)
  'nx() {',
  '  [ ! -e "$1" ] && [ ! -L "$1" ] || return 1',
  '  y=$1',
  '  while :; do',
  '    case $y in */*) y=${y%/*}; y=${y:-/} ;; *) y=. ;; esac',
  '    case $y in /|.) break ;; esac',
  '    [ ! -e "$y" ] && [ ! -L "$y" ] || break',
  '  done',
  '  [ -d "$y" ] && [ -x "$y" ]',
  '}',
  // ld DIR: the names in DIR from the shell's own globs (no process), as "=NAME" lines when every
  // name is plain (SAFE_NAME), else `ls` through r; ls -1A's set of names (decode sorts them)
  'ld() {',
  '  for n in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
  '    [ -e "$n" ] || [ -L "$n" ] || continue',
  "    case ${n##*/} in ''|*[!A-Za-z0-9._+,:@=-]*) r ls -1A -- \"$1\"; return ;; esac",
  '  done',
  '  for n in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
  '    [ -e "$n" ] || [ -L "$n" ] || continue',
  "    printf '=%s\\n' \"${n##*/}\"",
  '  done',
  "  printf '!0\\n'",
  '}',
  // dv ARGS: the run of device reads at the front of ARGS ("d DEVICE BS OFFSET" each), one `dd` each and
  // nothing else: every read's bytes to stdout (one encoder for the whole run), its stderr (dd's report,
  // "N+M records in/out" and the bytes copied, or its error) then "@@STATUS BS" to fd 4
  'dv() {',
  '  while [ "${1-}" = d ]; do',
  "    if nx \"$2\"; then printf 'No such file or directory\\n@@1 %s\\n' \"$3\" >&4",
  "    else dd if=\"$2\" bs=\"$3\" count=1 skip=\"$4\" iflag=skip_bytes 2>&4 3>&- 4>&-; printf '@@%s %s\\n' \"$?\" \"$3\" >&4; fi",
  '    shift 4',
  '  done',
  '}',
  // rd ARGS: every read of the batch in order, each as its record "@K" (a run of device reads as one
  // record "&K": their bytes, then "!0", then their reports, parseBatch cuts it up); commands are
  // skipped (their lanes answer them)
  'rd() {',
  '  k=0',
  '  while [ "$#" -gt 0 ]; do',
  '    case $1 in',
  '      f) printf \'@%s\\n\' "$k"; if nx "$2"; then ne; elif $H -- "$2" 2>/dev/null; then printf \'!0\\n\'; else fe "$2"; fi; shift 2 ;;',
  '      s) printf \'@%s\\n\' "$k"; if nx "$2"; then ne; else sl "$2"; fi; shift 2 ;;',
  '      l) printf \'@%s\\n\' "$k"',
  '         if nx "$2"; then ne; elif [ -d "$2" ] && [ -r "$2" ] && [ -x "$2" ]; then ld "$2"; else r ls -1A -- "$2"; fi; shift 2 ;;',
  '      d) printf \'&%s\\n\' "$k"; y=$( { dv "$@" | $H >&3; } 4>&1 ); printf \'!0\\n\'; printf \'%s\\n\' "$y" | $H',
  '         while [ "${1-}" = d ]; do shift 4; k=$((k + 1)); done; continue ;;',
  '      x) shift "$(($3 + 3))" ;;',
  '      i) shift "$(($4 + 4))" ;;',
  '      *) exit 2 ;;',
  '    esac',
  '    k=$((k + 1))',
  '  done',
  '}',
  // the commands, dealt to LANES lanes: each lane's words from positional references and counters only
  'l0= l1= l2= l3= j=0 k=0 p=1',
  'while [ "$p" -le "$#" ]; do',
  '  eval "a=\\${$p}"',
  '  case $a in',
  '    f|s|l) p=$((p + 2)) ;;',
  '    d) p=$((p + 4)) ;;',
  '    x|i)',
  '      if [ "$a" = x ]; then q=$((p + 3)); eval "m=\\${$((p + 2))}"; w="c $k x \\"\\${$((p + 1))}\\""',
  '      else q=$((p + 4)); eval "m=\\${$((p + 3))}"; w="c $k i \\"\\${$((p + 2))}\\" \\"\\${$((p + 1))}\\""; fi',
  "      case $m in ''|*[!0-9]*) exit 2 ;; esac",
  '      e=$((q + m)); [ "$e" -le $(($# + 1)) ] || exit 2',
  '      while [ "$q" -lt "$e" ]; do w="$w \\"\\${$q}\\""; q=$((q + 1)); done',
  '      case $j in 0) l0="$l0$w; " ;; 1) l1="$l1$w; " ;; 2) l2="$l2$w; " ;; *) l3="$l3$w; " ;; esac',
  '      j=$(((j + 1) % 4)); p=$e ;;',
  '    *) exit 2 ;;',
  '  esac',
  '  k=$((k + 1))',
  'done',
  // one pipeline: each lane runs its commands (concurrently with the others and with the reads),
  // keeps their records, passes on what came before it, then adds its own; the reads last, on the
  // real stdout, then the lanes' records
  'z=',
  'for w in "$l0" "$l1" "$l2" "$l3"; do',
  '  [ -z "$w" ] || z="$z { y=\\$(exec 3>&1 </dev/null; $w printf x); cat; printf \'%s\' \\"\\${y%x}\\"; } |"',
  'done',
  'eval "$z { rd \\"\\$@\\" </dev/null; s=\\$?; cat; exit \\$s; }"',
  '',
].join('\n');

/** One operation of a batch: a read (Host.readMany) or a command (Host.run). */
export type BatchOp = ReadRequest | { readonly op: 'run'; readonly argv: readonly string[]; readonly timeoutMs: number; readonly stdin?: string | undefined };

/** What the script answered for one operation. */
export interface BatchRecord {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly status: number;
}

/** The script's arguments for `ops`, in order (numbers validated: they are offsets and CPU numbers). */
export function batchArgs(ops: readonly BatchOp[]): string[] {
  const out: string[] = [];
  const n = (v: number, what: string): string => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new HarnessError(`harness defect: ${what} ${v} is not a 32-bit number`);
    return String(v);
  };
  for (const o of ops) {
    switch (o.op) {
      case 'readFile':
        // od takes a lone operand starting with "+" as an offset, base64 "-" as stdin: a relative path is made "./path"
        out.push('f', o.path.startsWith('/') ? o.path : `./${o.path}`);
        break;
      case 'stat':
        out.push('s', o.path);
        break;
      case 'listDir':
        out.push('l', o.path);
        break;
      case 'cpuid':
        // cpuid.c: the file offset is the leaf (low 32 bits); one 16-byte read
        out.push('d', cpuidDevice(Number(n(o.cpu, 'CPU'))), '16', n(o.leaf >>> 0, 'CPUID leaf'));
        break;
      case 'msr':
        // msr.c msr_read(): the file offset is the MSR index; 8 bytes, the only size it accepts
        out.push('d', msrDevice(Number(n(o.cpu, 'CPU'))), '8', n(o.index >>> 0, 'MSR index'));
        break;
      case 'run':
        if (o.argv.length === 0) throw new HarnessError('harness defect: empty command');
        if (o.stdin !== undefined) out.push('i', String(Math.max(1, Math.ceil(o.timeoutMs / 1000))), o.stdin, String(o.argv.length), ...o.argv);
        else out.push('x', String(Math.max(1, Math.ceil(o.timeoutMs / 1000))), String(o.argv.length), ...o.argv);
        break;
    }
  }
  return out;
}

/**
 * The script's answer as records, one per operation; undefined when it is not what the script
 * writes (then the transport or the remote shell is broken, never a file's content). A record's
 * stdout (before its "!" line) and stderr (after it) are base64 lines, od hex lines (" xx ..."),
 * or "=TEXT" lines (TEXT and a newline); one line is told from another by its first character
 * ("@", "!", "=", " ", else base64), and base64 is decoded once per run of lines, so that its
 * decoding never depends on where the encoder wrapped them.
 */
export function parseBatch(out: string): BatchRecord[] | undefined {
  type Part = { bufs: Buffer[]; b64: string };
  type Rec = { out: Part; err: Part; status: number | undefined };
  const recs = new Map<number, Rec>();
  const newRec = (): Rec => ({ out: { bufs: [], b64: '' }, err: { bufs: [], b64: '' }, status: undefined });
  /** device runs ("&K"): their first operation's index and their record (bytes, then reports) */
  const runs: Array<{ k: number; rec: Rec }> = [];
  let cur: Rec | undefined;
  /** the base64 run so far, decoded (false: not whole base64: a broken transport) */
  const flush = (p: Part): boolean => {
    if (!p.b64) return true;
    if (p.b64.length % 4 !== 0 || !B64_RUN.test(p.b64)) return false;
    p.bufs.push(Buffer.from(p.b64, 'base64'));
    p.b64 = '';
    return true;
  };
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if (c === 0x40 /* @ */) {
      // "@K": operation K's record (commands answer out of order); "@": the next one
      if (!/^@\d*$/.test(line)) return undefined;
      if (cur && !flush(cur.err)) return undefined;
      const k = line.length > 1 ? Number(line.slice(1)) : recs.size;
      if (recs.has(k)) return undefined;
      recs.set(k, (cur = newRec()));
      continue;
    }
    if (c === 0x26 /* & */) {
      // "&K": a run of device reads from operation K on (BATCH_SCRIPT dv), cut up below
      if (!/^&\d+$/.test(line)) return undefined;
      if (cur && !flush(cur.err)) return undefined;
      runs.push({ k: Number(line.slice(1)), rec: (cur = newRec()) });
      continue;
    }
    if (!cur) return undefined;
    if (c === 0x21 /* ! */) {
      if (cur.status !== undefined || !/^!\d+$/.test(line) || !flush(cur.out)) return undefined;
      cur.status = Number(line.slice(1));
      continue;
    }
    const part = cur.status === undefined ? cur.out : cur.err;
    if (c === 0x3d /* = */) {
      if (cur.status !== undefined || !SAFE_NAME.test(line) || !flush(part)) return undefined;
      part.bufs.push(Buffer.from(`${line.slice(1)}\n`, 'latin1'));
    } else if (c === 0x20 /* space: od hex */) {
      if (!HEX_LINE.test(line) || !flush(part)) return undefined;
      part.bufs.push(Buffer.from(line.replace(/ /g, ''), 'hex'));
    } else if (B64_LINE.test(line)) part.b64 += line;
    else return undefined;
  }
  /** the device runs' reads, cut up: records of their own */
  const cut = new Map<number, BatchRecord>();
  for (const { k, rec } of runs) {
    if (rec.status !== 0 || !flush(rec.err)) return undefined;
    const reads = deviceRun(Buffer.concat(rec.out.bufs), Buffer.concat(rec.err.bufs).toString('utf8'));
    if (!reads) return undefined;
    for (const [i, r] of reads.entries()) {
      if (recs.has(k + i) || cut.has(k + i)) return undefined;
      cut.set(k + i, r);
    }
  }
  const result: BatchRecord[] = [];
  for (let k = 0; k < recs.size + cut.size; k++) {
    const read = cut.get(k);
    if (read) {
      result.push(read);
      continue;
    }
    const r = recs.get(k);
    if (!r || r.status === undefined || !flush(r.err)) return undefined;
    result.push({ stdout: r.out.bufs.length === 1 ? (r.out.bufs[0] as Buffer) : Buffer.concat(r.out.bufs), stderr: Buffer.concat(r.err.bufs).toString('utf8'), status: r.status });
  }
  return result;
}

/** dd's report of what it copied (coreutils dd.c print_stats): POSIX's "%u+%u records in" / "records out" lines */
const DD_RECORDS = /^(\d+)\+(\d+) records (in|out)$/;
/**
 * dd's transfer line, in every wording that shipped, the byte count leading each. GNU coreutils
 * src/dd.c print_xfer_stats, current: "%jd bytes copied, %s, %s" and "%jd byte copied, ..."
 * (select_plural; a count without a unit prefix, e.g. 9.1 here: "16 bytes copied, 3.6e-05 s, 444 kB/s"),
 * "%jd bytes (%s) copied, %s, %s" and "%jd bytes (%s, %s) copied, %s, %s" (SI and IEC sizes);
 * older: ngettext("%"PRIuMAX" byte (%s) copied", "%"PRIuMAX" bytes (%s) copied"); toybox's dd
 * "%llu bytes (%s) copied, ".
 */
const DD_BYTES = /^(\d+) bytes? (?:\([^)]*\) )?copied\b/;

/**
 * A run of device reads (BATCH_SCRIPT `dv`) cut into one record per read: `bytes` is every read's
 * stdout one after the other, `reports` each read's stderr followed by a line "@@STATUS BS". A read's
 * length is BS when dd reports one whole record out ("1+0 records out"), none for "0+0", and the
 * transfer line's byte count for a partial record; the report lines are taken out of its stderr, which
 * is then what `dd status=none` would have printed (its error, if any). undefined: not what the script
 * writes (a length that cannot be told, bytes left over or missing).
 */
function deviceRun(bytes: Buffer, reports: string): BatchRecord[] | undefined {
  const out: BatchRecord[] = [];
  let at = 0;
  let lines: string[] = [];
  for (const line of reports.split('\n')) {
    const end = /^@@(\d+) (\d+)$/.exec(line);
    if (!end) {
      lines.push(line);
      continue;
    }
    const bs = Number(end[2]);
    let whole: number | undefined;
    let partial: number | undefined;
    let copied: number | undefined;
    const stderr: string[] = [];
    for (const l of lines) {
      const r = DD_RECORDS.exec(l);
      const b = DD_BYTES.exec(l);
      if (r && r[3] === 'out') [whole, partial] = [Number(r[1]), Number(r[2])];
      else if (b) copied = Number(b[1]);
      else if (!r) stderr.push(`${l}\n`);
    }
    // no report at all (the path was missing, dd never ran): nothing copied
    const length = whole === undefined ? (copied ?? 0) : whole === 1 && partial === 0 ? bs : whole === 0 && partial === 0 ? 0 : copied;
    if (length === undefined || at + length > bytes.length) return undefined;
    out.push({ stdout: bytes.subarray(at, at + length), stderr: stderr.join(''), status: Number(end[1]) });
    at += length;
    lines = [];
  }
  // after the last "@@" line only the newline that ended it
  if (at !== bytes.length || lines.some((l) => l !== '') || out.length === 0) return undefined;
  return out;
}

/** BATCH_SCRIPT's stat line (an `s` operation's stdout): MODE:UID:GID[:CONTEXT], MODE the raw st_mode in hex (stat -c %f) */
export function parseStatLine(path: string, out: string): StatInfo {
  const m = /^([0-9a-f]{1,8}):(\d+):(\d+)(?::([^\n]+))?\n?$/.exec(out);
  const raw = m ? parseInt(m[1] as string, 16) : Number.NaN;
  const type = STAT_TYPES.get(raw & 0o170000);
  if (!m || !type) throw hostError('EIO', path, `unexpected stat output "${out.trim()}"`);
  const label = m[4];
  return { path, type, mode: raw & 0o7777, uid: Number(m[2]), gid: Number(m[3]), selinux: label && label !== '?' ? label : undefined };
}

/** od -An -tx1 output lines: " xx" per byte */
const HEX_LINE = /^( [0-9a-f]{2})+$/;
/** a line of base64 output (coreutils wraps at 76 characters; "=" only as padding at the end of a run) */
const B64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;
/** a run of base64 lines joined: padding only at its very end */
const B64_RUN = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A batch's limit on the host, ms (SERVER_SCRIPT runs it under coreutils `timeout`, so that its
 * time is measured there): reads READS_LIMIT_MS, plus each command's own timeout.
 */
export function batchLimitMs(ops: readonly BatchOp[]): number {
  return READS_LIMIT_MS + ops.reduce((t, o) => t + (o.op === 'run' ? Math.ceil(o.timeoutMs / 1000) * 1000 + 2000 : 0), 0);
}

/**
 * The one session of a run (issue 23): POSIX sh, constant, started once per connection as
 * `sh -c SERVER_SCRIPT sevcheck BATCH_SCRIPT`. It reads batches from its stdin, each as a line
 * with the number of arguments, a line with the batch's limit in seconds, and one line per
 * argument (serverRequest), and runs BATCH_SCRIPT on them exactly as a remote command of its own
 * would (`timeout -k 5 LIMIT sh -c BATCH_SCRIPT sevcheck ARGS...`, stdin /dev/null), then
 * writes a line "#<exit status>". The framing lines of BATCH_SCRIPT are "@", "!<n>" and hex, so
 * "#" cannot be mistaken for them. An argument line is "=" and the argument as it is, or, when it
 * holds a backslash, a newline or another control character, "%" and every byte as a `\0ooo`
 * escape, which `printf %b` turns back into the bytes (POSIX printf; a trailing "x" keeps
 * command substitution from dropping final newlines). The arguments never reach the shell's
 * parser: `read -r` and parameter expansion only. At the end of its stdin (the run is over, or
 * the controller went away) it exits.
 */
export const SERVER_SCRIPT = [
  's=$1',
  'while IFS= read -r n && IFS= read -r t; do',
  "  case $n:$t in *[!0-9:]*|:*|*:) exit 2 ;; esac",
  '  set --',
  '  while [ "$#" -lt "$n" ]; do',
  '    IFS= read -r a || exit 2',
  '    case $a in',
  '      =*) set -- "$@" "${a#=}" ;;',
  '      %*) a=$(printf \'%bx\' "${a#%}"); set -- "$@" "${a%x}" ;;',
  '      *) exit 2 ;;',
  '    esac',
  '  done',
  '  timeout -k 5 "$t" sh -c "$s" sevcheck "$@" </dev/null',
  '  printf \'#%s\\n\' "$?"',
  'done',
  '',
].join('\n');

/** One batch as SERVER_SCRIPT reads it: the count, the limit in seconds, one line per argument. */
export function serverRequest(args: readonly string[], limitS: number): string {
  const line = (a: string): string => {
    if (!/[\\\x00-\x1f\x7f]/.test(a)) return `=${a}`;
    return `%${[...Buffer.from(a, 'utf8')].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('')}`;
  };
  return `${args.length}\n${Math.max(1, Math.ceil(limitS))}\n${args.map((a) => `${line(a)}\n`).join('')}`;
}

/** An operation as messages name it: the command it stands for. */
function describeOp(o: BatchOp): string {
  switch (o.op) {
    case 'readFile':
      return `cat ${o.path}`;
    case 'stat':
      return `stat ${o.path}`;
    case 'listDir':
      return `ls ${o.path}`;
    case 'cpuid':
      return `CPUID 0x${(o.leaf >>> 0).toString(16)} on CPU ${o.cpu}`;
    case 'msr':
      return `MSR 0x${(o.index >>> 0).toString(16)} on CPU ${o.cpu}`;
    case 'run':
      return o.argv.join(' ');
  }
}

/** what a remote side that cannot run BATCH_SCRIPT lacks, as the one-line error says it */
const NEEDS = 'the host needs POSIX sh and coreutils (stat, ls, dd, base64 or od, timeout)';

/** what a batch's reads may take on the host, beyond its commands' own timeouts */
const READS_LIMIT_MS = DEFAULT_TIMEOUT_MS;
/**
 * Timeouts are measured on the host (issue 23): each command under coreutils `timeout` in
 * BATCH_SCRIPT, the whole batch under `timeout` too (SERVER_SCRIPT, batchLimitMs), so a controller busy with a
 * hundred hosts makes a host slow, not timed out. The local side only guards against a
 * transport that never answers, with this much on top of the remote limit (a dead peer is found
 * sooner by ServerAliveInterval; a hung host as a whole by the fleet's --host-timeout).
 */
const TRANSPORT_GRACE_MS = 300_000;
/** a batch's arguments become the argv of the remote `sh -c BATCH_SCRIPT` (Linux: 128 KiB per argument, ARG_MAX for all): a batch stays well under both */
const BATCH_ARG_BYTES = 64 * 1024;
/** how often a connection that died is made again within one run */
export const MAX_RECONNECTS = 1;

/**
 * The connection itself failed (ssh exit 255): unreachable, refused, host key, auth (ssh says
 * why on stderr), or a connection that went away under the command (the master killed: ssh
 * exits 255 without a word, `silent`).
 */
class ConnectionFailed extends HarnessError {
  constructor(
    message: string,
    readonly silent: boolean,
  ) {
    super(message);
  }
}

/** What one batch got back through the session: BATCH_SCRIPT's output, its exit status, and the stderr written meanwhile. */
interface BatchAnswer {
  readonly stdout: string;
  readonly exitCode: number;
  readonly stderr: string;
}

/**
 * One ssh session running SERVER_SCRIPT: batches written to its stdin one at a time, each answer
 * read up to its "#<status>" line. Whatever the login shell prints before the command (startup
 * files) is skipped up to EXEC_MARK. When ssh exits, the batch in flight fails: exit 255 is
 * ssh's own failure (ConnectionFailed: unreachable, auth, host key, the connection or its master
 * gone), anything else a remote side that does not run the script.
 */
class BatchSession {
  private readonly child: ChildProcess;
  private out = '';
  private err = '';
  private outMarked = false;
  private errMarked = false;
  private waiting: { resolve: (a: BatchAnswer) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout } | undefined;
  /** ssh's exit status once it exited (null: killed by a signal) */
  exited: { code: number | null } | undefined;
  private closing = false;

  constructor(
    args: readonly string[],
    private readonly target: string,
    private readonly onReady: () => void = () => {},
  ) {
    this.child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('latin1');
    this.child.stderr?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => this.onOut(d));
    this.child.stderr?.on('data', (d: string) => this.onErr(d));
    // a session that went away takes no more input: EPIPE is reported through its exit
    this.child.stdin?.on('error', () => {});
    this.child.on('error', (e) => this.fail(new HarnessError(`${this.target}: could not start ssh: ${e.message}`)));
    this.child.on('close', (code) => {
      this.exited = { code };
      if (this.closing && !this.waiting) return;
      const said = this.err.trim().split('\n').pop();
      if (code === 255) this.fail(new ConnectionFailed(said || 'ssh exited 255 without a message (the connection or its control master went away)', !said));
      else this.fail(new HarnessError(`${this.target}: the remote read script failed (${said || `exit status ${code ?? 'killed'}`}): ${NEEDS}`));
    });
  }

  private onOut(d: string): void {
    this.out += d;
    if (!this.outMarked) {
      const i = this.out.indexOf(EXEC_MARK);
      if (i < 0) return;
      this.outMarked = true;
      this.out = this.out.slice(i + EXEC_MARK.length);
      this.onReady();
    }
    if (!this.waiting) return;
    // the answer ends with a line "#<status>"; the output before it is at the start of a line
    const m = /(?:^|\n)#(\d+)\n/.exec(this.out);
    if (!m) return;
    const end = m.index + m[0].length;
    const stdout = this.out.slice(0, m.index + (m[0].startsWith('\n') ? 1 : 0));
    this.out = this.out.slice(end);
    const w = this.waiting;
    this.waiting = undefined;
    clearTimeout(w.timer);
    const stderr = this.err;
    this.err = '';
    w.resolve({ stdout, exitCode: Number(m[1]), stderr });
  }

  private onErr(d: string): void {
    this.err += d;
    if (!this.errMarked) {
      const i = this.err.indexOf(EXEC_MARK);
      if (i >= 0) {
        this.errMarked = true;
        this.err = this.err.slice(i + EXEC_MARK.length);
      }
    }
    if (this.err.length > 65536) this.err = this.err.slice(-65536);
  }

  private fail(e: unknown): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (!w) return;
    clearTimeout(w.timer);
    w.reject(e);
  }

  /** One batch (the session takes one at a time; SshHost.batch serializes them). */
  send(request: string, timeoutMs: number, what: string): Promise<BatchAnswer> {
    if (this.exited) return Promise.reject(new ConnectionFailed('the session had ended', true));
    return new Promise<BatchAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new CommandTimedOut(`${this.target}: no answer within ${Math.round(timeoutMs / 1000)} s: ${what}`));
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.child.stdin?.write(request);
    });
  }

  /** End of input: the script exits, and so does ssh. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

interface Pending {
  readonly op: BatchOp;
  readonly resolve: (r: BatchRecord) => void;
  readonly reject: (e: unknown) => void;
}

export class SshHost implements Host {
  readonly kind = 'ssh' as const;
  readonly system = 'running' as const;
  readonly target: string;
  private readonly base: string[];
  private readonly controlDir: string;
  private connected: Promise<string> | undefined;
  private qmpProbe: HostQmpProbe | undefined;
  private queue: Pending[] = [];
  private flushing = false;
  /** the connection is up (open() succeeded): a later ssh exit 255 is a lost connection */
  private up = false;
  private reconnects = 0;
  /** the connection's first batch's speculative answers (QEMU_IDENTITY_READS): the answer to every later read of them in this run, as the run's read cache gives one answer per fact */
  private readonly early = new Map<string, BatchRecord>();
  /** the session running SERVER_SCRIPT, and the batches queued for it (one at a time) */
  private session: BatchSession | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** remote commands (ssh sessions) this host ran (the issue 23 measure: independent of the CPU count and of the phases) */
  remoteCommands = 0;
  /** batches sent through the session */
  batches = 0;
  /**
   * Where a run's time went on this connection (the ssh benchmark prints it): performance.now()
   * of each step: the ssh client started, the remote shell reached the script (connection, key
   * exchange, authentication, session, the login shell's startup files), each batch sent and
   * answered with its operation count.
   */
  readonly timeline: Array<{ readonly at: number; readonly event: string }> = [];

  constructor(
    readonly dest: SshTarget,
    opts: SshOptions = {},
  ) {
    this.target = `ssh://${dest.user ? `${dest.user}@` : ''}${dest.host}${dest.port ? `:${dest.port}` : ''}`;
    for (const o of opts.options ?? []) {
      if (FORBIDDEN.some((re) => re.test(o.replace(/\s+/g, '')))) {
        throw new HarnessError(`${this.target}: refusing ssh option "${o}": sevcheck never disables host-key checking`);
      }
    }
    this.controlDir = mkdtempSync(join(tmpdir(), 'sevcheck-ssh-'));
    this.base = [
      '-o', 'BatchMode=yes',
      // 30 s: a host whose sshd is slow to greet under load is slow, not unreachable
      '-o', `ConnectTimeout=${opts.connectTimeoutS ?? 30}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(this.controlDir, 'cm')}`,
      '-o', 'ControlPersist=60',
      ...(opts.options ?? []).flatMap((o) => ['-o', o]),
      // after the user's options (ssh keeps the first value given): a dead peer is noticed
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=4',
      ...(opts.identityFile ? ['-i', opts.identityFile] : []),
      ...(dest.port ? ['-p', String(dest.port)] : []),
      '--',
      dest.user ? `${dest.user}@${dest.host}` : dest.host,
    ];
  }

  /** The control socket (for tests that kill the master to see the connection made again). */
  get controlPath(): string {
    return join(this.controlDir, 'cm');
  }

  /**
   * The session every batch goes through, started when none runs. sshd runs the command through
   * the user's shell, which may print from its startup files first (a .bashrc that runs `pyenv
   * init` does, and bash sources .bashrc for ssh commands): a marker written just before `exec`
   * separates that from the script's own output.
   */
  private sessionNow(): BatchSession {
    if (this.session && !this.session.exited) return this.session;
    const argv = ['sh', '-c', SERVER_SCRIPT, 'sevcheck', BATCH_SCRIPT];
    const command = `printf '%s' '${EXEC_MARK}'; printf '%s' '${EXEC_MARK}' >&2; exec ${argv.map(shellQuote).join(' ')}`;
    this.remoteCommands++;
    this.timeline.push({ at: performance.now(), event: 'ssh started' });
    this.session = new BatchSession([...this.base, command], this.target, () => this.timeline.push({ at: performance.now(), event: 'remote shell ready' }));
    return this.session;
  }

  /**
   * One batch through the session; when the connection died under it (the master killed, the
   * network dropped), once more on a new session: ControlMaster=auto makes a new master (ssh's
   * mux client unlinks a stale socket). The batch is sent again (it only reads); a connection
   * that dies again after it was made again ends the host, in one line. Batches go one at a time.
   */
  private batch(ops: readonly BatchOp[], what: string): Promise<BatchAnswer> {
    const run = async (): Promise<BatchAnswer> => {
      const limitMs = batchLimitMs(ops);
      const request = serverRequest(batchArgs(ops), limitMs / 1000);
      const k = ++this.batches;
      this.timeline.push({ at: performance.now(), event: `batch ${k} sent: ${ops.length} ops` });
      try {
        const a = await this.sessionNow().send(request, limitMs + TRANSPORT_GRACE_MS, what);
        this.timeline.push({ at: performance.now(), event: `batch ${k} answered` });
        return a;
      } catch (e) {
        if (!(e instanceof ConnectionFailed)) throw e;
        // before the connection was ever up, only a connection that went away is worth another try
        if (!this.up && !e.silent) throw new HarnessError(`${this.target}: unreachable: ${e.message}`);
        if (this.reconnects >= MAX_RECONNECTS) throw new HarnessError(`${this.target}: connection lost again after it was re-established once: ${e.message}`);
        this.reconnects++;
        try {
          return await this.sessionNow().send(request, limitMs + TRANSPORT_GRACE_MS, what);
        } catch (e2) {
          if (e2 instanceof ConnectionFailed) throw new HarnessError(`${this.target}: connection lost and could not be re-established: ${e2.message}`);
          throw e2;
        }
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Fail fast (exit 2) when the host cannot be reached, before any check runs. */
  async open(): Promise<void> {
    await this.connect();
  }

  /**
   * The multiplexed connection every read goes through, made once. Its first batch reads the host
   * name (describe) and, speculatively, what the QEMU probe's identity is decided from
   * (QEMU_IDENTITY_READS: every live run reads them, and the probe can then go out with the
   * run's first batch of facts instead of a round trip later); those answers are kept and answer
   * the run's reads of them (early).
   */
  private connect(): Promise<string> {
    this.connected ??= (async () => {
      const ops: BatchOp[] = [{ op: 'readFile', path: '/proc/sys/kernel/hostname' }, ...QEMU_IDENTITY_READS];
      const r = await this.batch(ops, 'connect');
      this.up = true;
      const recs = r.exitCode === 0 ? parseBatch(r.stdout) : undefined;
      if (recs && recs.length === ops.length) ops.forEach((op, i) => i > 0 && this.early.set(earlyKey(op), recs[i] as BatchRecord));
      const rec = recs?.[0];
      return rec && rec.status === 0 ? rec.stdout.toString('utf8').trim() : '';
    })();
    return this.connected;
  }

  async describe(): Promise<HostDescription> {
    const name = await this.connect();
    return { name: name || this.dest.host, source: 'live' };
  }

  /** Queue one operation for the next batch (sent when this turn of the event loop ends); the first batch's answer if it was read there. */
  private enqueue(op: BatchOp): Promise<BatchRecord> {
    const early = this.early.get(earlyKey(op));
    if (early) return Promise.resolve(early);
    return new Promise<BatchRecord>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushing = false;
    const items = this.queue;
    this.queue = [];
    // split only where the command line would grow too long
    let chunk: Pending[] = [];
    let bytes = 0;
    for (const p of items) {
      let size: number;
      try {
        size = batchArgs([p.op]).reduce((n, a) => n + Buffer.byteLength(a) + 3, 0);
      } catch (e) {
        p.reject(e);
        continue;
      }
      if (chunk.length && bytes + size > BATCH_ARG_BYTES) {
        void this.send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(p);
      bytes += size;
    }
    if (chunk.length) void this.send(chunk);
  }

  /** One batch for `items` (through the session); each gets its record, or all the transport's error. */
  private async send(items: readonly Pending[]): Promise<void> {
    try {
      await this.connect();
      const ops = items.map((p) => p.op);
      const first = describeOp(ops[0] as BatchOp);
      const what = ops.length === 1 ? first : `${ops.length} reads and commands (${first}, ...)`;
      const r = await this.batch(ops, what);
      if (r.exitCode === 124) throw new CommandTimedOut(`${this.target}: timed out on the host after ${batchLimitMs(ops) / 1000} s: ${what}`);
      const recs = r.exitCode === 0 ? parseBatch(r.stdout) : undefined;
      if (!recs || recs.length !== items.length) {
        const why = String(r.stderr).trim().split('\n').pop() || `exit status ${r.exitCode ?? '?'}`;
        throw new HarnessError(`${this.target}: the remote read script failed (${why}): ${NEEDS}`);
      }
      items.forEach((p, i) => p.resolve(recs[i] as BatchRecord));
    } catch (e) {
      for (const p of items) p.reject(e);
    }
  }

  /** The value or HostError of one read, from its record: the same as the single-command reads gave. */
  private decode(op: ReadRequest, rec: BatchRecord): Buffer | StatInfo | string[] | CpuidRegs | bigint {
    switch (op.op) {
      case 'readFile':
        if (rec.status !== 0) throw fromToolStderr(rec.stderr, op.path);
        return rec.stdout;
      case 'stat':
        if (rec.status !== 0) throw fromToolStderr(rec.stderr, op.path);
        return parseStatLine(op.path, rec.stdout.toString('utf8'));
      case 'listDir': {
        if (rec.status !== 0) throw fromToolStderr(rec.stderr, op.path);
        const names = rec.stdout.toString('utf8').split('\n').filter(Boolean);
        // `ls` of a non-directory prints the path itself
        if (names.length === 1 && names[0] === op.path) throw hostError('ENOTDIR', op.path);
        return names.sort();
      }
      case 'cpuid': {
        const dev = cpuidDevice(op.cpu);
        if (rec.status !== 0) throw cpuidDeviceError(fromToolStderr(rec.stderr, dev), dev);
        return cpuidRegsFromBytes(rec.stdout, dev);
      }
      case 'msr':
        if (rec.status !== 0) throw msrDeviceError(fromToolStderr(rec.stderr, msrDevice(op.cpu)), op.cpu, op.index);
        return msrValueFromBytes(rec.stdout, op.cpu, op.index);
    }
  }

  private async read<T>(op: ReadRequest): Promise<T> {
    return this.decode(op, await this.enqueue(op)) as T;
  }

  readMany(reads: readonly ReadRequest[]): Promise<ReadOutcome[]> {
    return Promise.allSettled(reads.map((op) => this.enqueue(op).then((rec) => this.decode(op, rec))));
  }

  readFile(path: string): Promise<Buffer> {
    return this.read({ op: 'readFile', path });
  }

  stat(path: string): Promise<StatInfo> {
    return this.read({ op: 'stat', path });
  }

  listDir(path: string): Promise<string[]> {
    return this.read({ op: 'listDir', path });
  }

  /**
   * A command, in the next batch. Its timeout is measured on the host (coreutils `timeout`,
   * exit 124), not from here: waiting for a session on a busy controller does not count.
   */
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (opts.stdin !== undefined) throw new HarnessError(`${this.target}: cannot give ${argv[0] ?? 'a command'} standard input over ssh`);
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const rec = await this.enqueue({ op: 'run', argv, timeoutMs: timeout });
    if (rec.status === 124) throw new CommandTimedOut(`${this.target}: command timed out after ${timeout / 1000} s: ${argv.join(' ')}`);
    const res = runResultFromExeca(this.target, argv, { exitCode: rec.status, stdout: rec.stdout.toString('utf8'), stderr: rec.stderr }, timeout);
    // the shell's "not found", or coreutils timeout's "failed to run command" (it runs the argv)
    if (res.exitCode === 127 && /not found|failed to run command/.test(res.stderr)) {
      return { ...res, stdout: '', stderr: `${argv[0]}: command not found\n` };
    }
    return res;
  }

  /** `ls -ld`, then getfacl only when it shows "+" (host/acl.ts): one batched command for most nodes. */
  acl(path: string): Promise<readonly string[] | undefined> {
    return readExtendedAcl((argv) => this.run(argv, { timeoutMs: ACL_TIMEOUT_MS }), path);
  }

  cpuid(leaf: number, cpu = 0): Promise<CpuidRegs> {
    return this.read({ op: 'cpuid', leaf, cpu });
  }

  /**
   * GNU coreutils dd with only `if=` and no `of=` opens the input O_RDONLY and writes to stdout
   * (coreutils dd.c: the input is opened with O_RDONLY unless conv/oflag ask otherwise; nothing is
   * written to the device). `iflag=skip_bytes` makes skip= a byte offset (= the MSR index,
   * msr.c msr_read()); bs=8 count=1 is one 8-byte read, the only size msr_read() accepts.
   */
  readMsr(cpu: number, index: number): Promise<bigint> {
    return this.read({ op: 'msr', cpu, index });
  }

  /**
   * QMP from one throw-away QEMU on the remote host per run (`-qmp stdio`): same identity rules
   * and commands as the local backend (qemu-probe.ts HostQmpProbe). QEMU -machine none -S writes
   * nothing. It runs as an operation of the session's batch (`i`: its QMP commands on stdin, all
   * at once, pipelinedQmpInput), so it costs no session of its own; its output is played to the
   * QMP client afterwards (qmpProbeFromTranscript). The batch's coreutils `timeout` bounds it: the
   * remote QEMU is gone within REMOTE_QEMU_LIMIT_S whatever happens to the connection.
   */
  async qmp(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    this.qmpProbe ??= new HostQmpProbe(async () => {
      // the identity files and the login's user id: read by the connection's first batch (QEMU_IDENTITY_READS)
      const read = await this.readMany(QEMU_IDENTITY_READS);
      const text = (i: number): string | undefined => {
        const o = read[i];
        return o?.status === 'fulfilled' ? (o.value as Buffer).toString('utf8') : undefined;
      };
      const euid = /^Uid:\s+\d+\s+(\d+)\s/m.exec(text(4) ?? '')?.[1];
      const selfUid = euid !== undefined ? Number(euid) : -1;
      const identity = chooseProbeIdentity({ selfUid, qemuConf: text(0), osRelease: text(1), passwd: text(2), group: text(3) });
      // QEMU with its QMP commands on stdin, all at once, in the session's next batch: no session of its own
      const argv = [...setprivArgv(identity), DEFAULT_QEMU_BINARY, ...qemuProbeArgv('fallback')];
      const t0 = performance.now();
      const rec = await this.enqueue({ op: 'run', argv, timeoutMs: REMOTE_QEMU_LIMIT_S * 1000, stdin: pipelinedQmpInput(HOST_PROBE_COMMANDS) });
      const result = await qmpProbeFromTranscript({
        launch: { file: 'ssh', args: argv, label: `${this.target} ${DEFAULT_QEMU_BINARY}`, notFound: wrapperNotFound(DEFAULT_QEMU_BINARY) },
        commands: HOST_PROBE_COMMANDS,
        transcript: rec.stdout.toString('utf8'),
        stderr: rec.stderr,
        exitCode: rec.status,
        durationMs: performance.now() - t0,
      });
      return { result, identity };
    });
    return this.qmpProbe.reply(command, args);
  }

  async close(): Promise<void> {
    await this.session?.close();
    if (this.connected) {
      await execa('ssh', ['-o', `ControlPath=${join(this.controlDir, 'cm')}`, '-O', 'exit', 'x'], {
        reject: false,
        timeout: 5000,
        stdin: 'ignore',
      });
    }
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}
