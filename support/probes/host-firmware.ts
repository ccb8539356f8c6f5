/**
 * Firmware facts a running host gives without an ioctl: the kernel log of the current boot, and
 * virtee's platform tools where they are installed on the probed host (snphost, sevctl), run with
 * their read-only commands only (TOOL_COMMANDS). Facts from several sources
 * (the project's design notes): the kernel log is tried as `journalctl -k -b`, then `dmesg`, then
 * /var/log/kern.log; a source that is missing (exit 127 / ENOENT), not recorded, fails, times out
 * or has no SEV line moves on to the next, and the answer names the source used and what the others
 * said.
 *
 * A command that hangs (CommandTimedOut) does not end the run here: a wedged PSP can hang the
 * tools' /dev/sev ioctls and a huge journal can outlast the timeout, and neither says the harness
 * or its input is broken; the facts that command would give are undecided with the reason, and
 * every other check still runs.
 */
import { Memo } from '../memo.js';
import { optional } from '../facts.js';
import type { HostProbe, ModuleParam } from './host.js';
import type { EncryptedMemoryCaps } from '../sev/cpuid.js';
import { isHostError, type Host, type RunResult } from '../host/types.js';
import { CommandTimedOut } from '../host/run-result.js';
import { hasSevLines, parseKernelLog, type KernelLogFacts } from '../parsers/kernel-log.js';
import {
  parseSevctlOk,
  parseSevctlVersion,
  parseSnphostOkJson,
  parseSnphostOkText,
  type FirmwareVersion,
  type ToolName,
  type ToolTest,
} from '../parsers/platform-tools.js';

/** The kernel log sources, in the order they are tried. */
export const KERNEL_LOG_COMMANDS: readonly (readonly string[])[] = [
  ['journalctl', '-k', '-b', '-o', 'short-monotonic'],
  ['dmesg'],
];
export const KERN_LOG_FILE = '/var/log/kern.log';

/**
 * Every platform-tool argv sevcheck may run: read-only commands only (virtee/snphost 56d5d7e
 * src/main.rs: `ok`, `show`; virtee/sevctl 8b47f3a src/main.rs: `ok`, `show`). Never `commit`,
 * `config`, `reset`, `export`, `import`, `generate`, `provision`, `rotate`, `fetch` or `verify`
 * (test/host/firmware-probe.test.ts asserts this list).
 */
export const TOOL_COMMANDS = {
  snphostOk: ['snphost', 'ok', '-o', 'json'],
  snphostOkText: ['snphost', 'ok'],
  /** only where CPUID says the CPU has Secure TSC (host.kvm.vmsa-features); no release has --features yet */
  snphostFeatures: ['snphost', 'ok', '--features', '-o', 'json'],
  snphostTcb: ['snphost', 'show', 'tcb'],
  sevctlOk: ['sevctl', 'ok'],
  sevctlVersion: ['sevctl', 'show', 'version'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Per command. One step may wait for journalctl, dmesg, snphost and `sevctl show version` in turn
 * (host.firmware.version with nothing installed and every source hanging): 4 × 10 s stays below
 * cucumber's 60 s step timeout (world.ts), which must never decide a check by itself.
 */
const LOG_TIMEOUT_MS = 10_000;
const TOOL_TIMEOUT_MS = 10_000;

export interface KernelLog {
  /** the source whose lines decide, e.g. "journalctl -k -b -o short-monotonic" */
  readonly source?: string;
  readonly facts?: KernelLogFacts;
  /** what every source tried said, in order (e.g. "journalctl -k -b …: not installed") */
  readonly tried: readonly string[];
}

export interface ToolRun {
  readonly tool: ToolName;
  readonly command: string;
  /** not installed on the probed host (exit 127) */
  readonly absent: boolean;
  readonly tests?: readonly ToolTest[];
  /** why the output gives no answer (not recorded, timed out, unknown format, failed) */
  readonly reason?: string;
  /** the command timed out (it is not run again in another form) */
  readonly timedOut?: boolean;
}

type Outcome = { ok: true; r: RunResult } | { ok: false; absent: boolean; reason: string; timedOut?: boolean };

export class FirmwareProbe {
  private readonly memo = new Memo();
  constructor(private readonly host: Host) {}

  private async exec(argv: readonly string[], timeoutMs: number): Promise<Outcome> {
    const cmd = argv.join(' ');
    try {
      const r = await this.host.run(argv, { timeoutMs });
      if (r.exitCode === 127) return { ok: false, absent: true, reason: `${cmd}: not installed (exit 127)` };
      return { ok: true, r };
    } catch (e) {
      if (e instanceof CommandTimedOut) return { ok: false, absent: false, reason: `${cmd}: timed out after ${timeoutMs / 1000} s`, timedOut: true };
      if (isHostError(e) && e.code !== 'NOT_RUNNING') return { ok: false, absent: false, reason: `${cmd}: ${e.message}` };
      throw e;
    }
  }

  /** The current boot's kernel log from the first source that has SEV lines. */
  kernelLog(): Promise<KernelLog> {
    return this.memo.once('kernel-log', async () => {
      const tried: string[] = [];
      for (const argv of KERNEL_LOG_COMMANDS) {
        const cmd = argv.join(' ');
        const o = await this.exec(argv, LOG_TIMEOUT_MS);
        if (!o.ok) {
          tried.push(o.reason);
          continue;
        }
        if (o.r.exitCode !== 0) {
          tried.push(`${cmd}: exit ${o.r.exitCode}${firstLine(o.r.stderr) ? ` (${firstLine(o.r.stderr)})` : ''}`);
          continue;
        }
        const facts = parseKernelLog(o.r.stdout);
        if (!hasSevLines(facts)) {
          tried.push(`${cmd}: ${facts.lines === 0 ? 'empty' : `no SEV line in ${facts.lines} lines`}`);
          continue;
        }
        return { source: cmd, facts, tried };
      }
      let text: string;
      try {
        text = (await this.host.readFile(KERN_LOG_FILE)).toString('utf8');
      } catch (e) {
        if (isHostError(e) && e.code !== 'NOT_RUNNING') {
          tried.push(`${KERN_LOG_FILE}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
          return { tried };
        }
        throw e;
      }
      const facts = parseKernelLog(text);
      // kern.log spans boots: without a boot banner the lines may be an older boot's
      if (!facts.bootBanner) tried.push(`${KERN_LOG_FILE}: no "Linux version" boot line, so the current boot's lines cannot be told apart`);
      else if (!hasSevLines(facts)) tried.push(`${KERN_LOG_FILE}: no SEV line in the last boot's ${facts.lines} lines`);
      else return { source: `${KERN_LOG_FILE} (last boot)`, facts, tried };
      return { tried };
    });
  }

  /**
   * `snphost ok -o json`: exit 0 (all passed) and 1 (some failed) both print the JSON report. No
   * released snphost (0.1.1–0.7.0) has -o json (it came after 0.7.0, virtee/snphost 3d502af): when
   * the run prints no JSON, `snphost ok`'s text is read instead (the same `[ PASS ] - name`
   * lines as sevctl). A run that timed out is not repeated (a wedged PSP hangs both).
   */
  snphost(): Promise<ToolRun> {
    return this.memo.once('snphost', async () => {
      const json = await this.toolRun('snphost', TOOL_COMMANDS.snphostOk, parseSnphostOkJson, true);
      if (json.absent || json.tests || json.timedOut) return json;
      const text = await this.toolRun('snphost', TOOL_COMMANDS.snphostOkText, parseSnphostOkText, true);
      if (text.tests || text.absent) return text;
      return { ...text, reason: `${json.reason}; ${text.reason}` };
    });
  }

  /**
   * `snphost ok --features -o json`: the same report plus the optional-feature tests, of which
   * "(Optional Features) Secure TSC" asks KVM for its VMSA features (KVM_GET_DEVICE_ATTR on /dev/kvm,
   * group KVM_X86_GRP_SEV, attribute KVM_X86_SEV_VMSA_FEATURES). `--features` came after 0.7.0
   * (virtee/snphost d233197, 2026-06-19) and after `-o json` (3d502af, 2026-06-05), so a snphost
   * that has it prints JSON; an older one refuses the argument (clap: "unexpected argument", exit 2)
   * and the reason says which build has it. Not run when the plain run timed out (a wedged PSP hangs
   * both) or snphost is not installed.
   */
  snphostFeatures(): Promise<ToolRun> {
    return this.memo.once('snphost-features', async () => {
      const plain = await this.snphost();
      const command = TOOL_COMMANDS.snphostFeatures.join(' ');
      if (plain.absent || plain.timedOut) return { tool: 'snphost', command, absent: plain.absent, reason: `not run: ${plain.reason ?? 'snphost is not installed'}`, ...(plain.timedOut ? { timedOut: true } : {}) };
      const o = await this.exec(TOOL_COMMANDS.snphostFeatures, TOOL_TIMEOUT_MS);
      if (!o.ok) return { tool: 'snphost', command, absent: o.absent, reason: o.reason, ...(o.timedOut ? { timedOut: true } : {}) };
      const clap = /unexpected argument '(--features|-o)'/.exec(o.r.stderr);
      if (o.r.exitCode === 2 && clap) {
        return { tool: 'snphost', command, absent: false, reason: `${command}: the installed snphost has no ${clap[1]} ("${firstLine(o.r.stderr)}"); --features came after snphost 0.7.0 (virtee/snphost d233197), so no released snphost has it: build snphost from virtee/snphost master` };
      }
      const p = parseSnphostOkJson(o.r.stdout);
      if (!p.ok) return { tool: 'snphost', command, absent: false, reason: `${p.reason} (exit ${o.r.exitCode}${firstLine(o.r.stderr) ? `: ${firstLine(o.r.stderr)}` : ''})` };
      return { tool: 'snphost', command, absent: false, tests: p.tests };
    });
  }

  /** `sevctl ok`: the tree of PASS/FAIL/SKIP lines (exit 1 when one failed). */
  sevctl(): Promise<ToolRun> {
    return this.memo.once('sevctl', () => this.toolRun('sevctl', TOOL_COMMANDS.sevctlOk, parseSevctlOk, false));
  }

  /** One platform tool's `ok` run: absent, failed to run, unparseable (with its exit code, and stderr's first line where asked), or its tests. */
  private async toolRun(
    tool: ToolRun['tool'],
    argv: readonly string[],
    parse: (stdout: string) => { ok: true; tests: NonNullable<ToolRun['tests']> } | { ok: false; reason: string },
    withStderr: boolean,
  ): Promise<ToolRun> {
    const command = argv.join(' ');
    const o = await this.exec(argv, TOOL_TIMEOUT_MS);
    if (!o.ok) return { tool, command, absent: o.absent, reason: o.reason, ...(o.timedOut ? { timedOut: true } : {}) };
    const p = parse(o.r.stdout);
    if (!p.ok) {
      const err = withStderr && firstLine(o.r.stderr) ? `: ${firstLine(o.r.stderr)}` : '';
      return { tool, command, absent: false, reason: `${p.reason} (exit ${o.r.exitCode}${err})` };
    }
    return { tool, command, absent: false, tests: p.tests };
  }

  /** `sevctl show version`: the SEV firmware version, or why there is none. */
  sevctlVersion(): Promise<{ readonly version?: FirmwareVersion; readonly reason?: string; readonly absent: boolean }> {
    return this.memo.once('sevctl-version', async () => {
      const argv = TOOL_COMMANDS.sevctlVersion;
      const cmd = argv.join(' ');
      const o = await this.exec(argv, TOOL_TIMEOUT_MS);
      if (!o.ok) return { absent: o.absent, reason: o.reason };
      if (o.r.exitCode !== 0) return { absent: false, reason: `${cmd}: exit ${o.r.exitCode}${firstLine(o.r.stderr) ? ` (${firstLine(o.r.stderr)})` : ''}` };
      const version = parseSevctlVersion(o.r.stdout);
      return version ? { absent: false, version } : { absent: false, reason: `${cmd}: not a <major>.<minor>.<build> version (unknown format): ${JSON.stringify(o.r.stdout.slice(0, 80))}` };
    });
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.trim().slice(0, 160) ?? '';
}

/** sevcheck's own answers to the facts the platform tools share (host.tools.agree's input). */
export interface AgreeFacts {
  readonly cpuid?: EncryptedMemoryCaps;
  readonly params: { readonly sev?: ModuleParam; readonly sev_es?: ModuleParam; readonly sev_snp?: ModuleParam };
  readonly firmware?: { readonly version: FirmwareVersion; readonly from: string };
}

/** sevcheck's own answers to the facts the tools share (host.tools.agree); each absent when the host cannot give it. */
export async function agreeFacts(host: HostProbe, fw: FirmwareProbe): Promise<AgreeFacts> {
  const [cpuid, sev, sevEs, sevSnp, log] = await Promise.all([
    optional(() => host.encryptedMemory()),
    optional(() => host.kvmAmdParam('sev')),
    optional(() => host.kvmAmdParam('sev_es')),
    optional(() => host.kvmAmdParam('sev_snp')),
    fw.kernelLog(),
  ]);
  const api = log.facts?.snpApi ?? log.facts?.sevApi;
  return {
    ...(cpuid ? { cpuid } : {}),
    params: { ...(sev ? { sev } : {}), ...(sevEs ? { sev_es: sevEs } : {}), ...(sevSnp ? { sev_snp: sevSnp } : {}) },
    ...(api ? { firmware: { version: api, from: `${log.source} line ${api.lineNo}` } } : {}),
  };
}
