/**
 * The output of virtee's read-only platform tools (pure: text in, answers out). Every released
 * version's wording, from the repositories' history (tags and release commits read in the
 * virtee/sevctl and virtee/snphost mirrors, December 2026; test/host/platform-tools.test.ts has
 * a sample per version):
 *
 * - `sevctl ok` (src/ok.rs emit_result, unchanged from 0.2.0 (8a866b1) to 0.6.2 (8b47f3a)): one
 *   line per test, `[ {:^4} ] {:width$}- {name}{": " + message}` where the status is PASS / FAIL /
 *   SKIP coloured by the colorful crate, which writes its ANSI codes whether or not stdout is a
 *   terminal; the codes are dropped before reading. sevctl 0.1.x had no `ok`.
 * - `snphost ok` text (src/ok.rs, the same emit_result, 0.1.1 to 0.7.0): the same line shape;
 *   test names "SEV INIT", "SEV-ES INIT", "SNP INIT", "RMP INIT", "SEV Firmware Version" in
 *   0.3.0–0.5.0 (b8c3491), renamed "SEV initialized", "SEV-ES initialized", "SNP initialized",
 *   "RMP table initialized", "SEV firmware version", with "Alias check" added, in 0.6.0
 *   (f91631f, 5d4bb41, e9925f6). Some messages span lines (the firmware-minimum FAIL prints
 *   "SEV firmware version needs to be at least 1.51, " and "current firmware version: X.Y" on the
 *   next line; the TCB comparison prints both TCBs on following lines): a line that is not a test
 *   line continues the previous test's message. The version PASS message is "Sev firmware
 *   version: X.Y" in 0.3.0–0.5.0 and "X.Y" from 0.6.0.
 * - `snphost ok -o json` (virtee/snphost 3d502af, 2026-06-05, after 0.7.0 — no released
 *   version has it yet; 56d5d7e src/ok/mod.rs render_json):
 *   `{tests:[{name,status,category,description,message?,fix_hint?}], failures:[{name,hint}],
 *   skipped:[name], summary:{total,passed,failed,skipped}}`; the "Compare TCB values" test's message
 *   is an object `{match, platform_tcb_version:{microcode,snp,tee,boot_loader,fmc},
 *   reported_tcb_version:{…}}` (docs/parity.md).
 * - `snphost ok --features` (`-f`; virtee/snphost d233197, 2026-06-19, after 0.7.0 — no released
 *   version has it): adds the optional test that KVM offers Secure TSC. It is run only with the flag
 *   (run_test drops the OptionalFeatures category without it, so `snphost ok` never lists it); when it
 *   runs its name is `format!("({}) Secure TSC", TestCategory::OptionalFeatures)` = "(Optional
 *   Features) Secure TSC", while a SKIP (its parent "Secure Nested Paging (SEV-SNP)" failed) prints the
 *   static name "(Optional Feature) Secure TSC". PASS message "Configurable"; FAIL message, joined
 *   by "; ": "SecureTSC bit 8 not set in CPUID 0x8000001F EAX: 0x…", "SecureTSC bit 9 not set in KVM
 *   sev_supported_vmsa_features: 0x…" (d233197) / "SecureTSC not set in KVM
 *   sev_supported_vmsa_features: 0x…" (56d5d7e, the VmsaFeatures bitflags), "KVM_GET_DEVICE_ATTR
 *   failed: <errno text>", "unable to open /dev/kvm: <errno text>" (56d5d7e src/ok/mod.rs, src/ok/kvm.rs).
 * - `sevctl show version` (virtee/sevctl 8b47f3a src/main.rs, `show version`): the firmware's
 *   `<major>.<minor>.<build>`.
 * Test names are compared case-insensitively against the aliases in TOOL_TESTS. Anything else is
 * an unknown format: the caller says so and decides nothing from it.
 */
export type ToolName = 'snphost' | 'sevctl';
export type ToolStatus = 'pass' | 'fail' | 'skip';

export interface TcbVersion {
  readonly microcode?: number;
  readonly snp?: number;
  readonly tee?: number;
  readonly boot_loader?: number;
  readonly fmc?: number | null;
}

export interface ToolTest {
  readonly tool: ToolName;
  /** the name as the tool printed it */
  readonly name: string;
  readonly status: ToolStatus;
  readonly message?: string;
  readonly tcb?: { readonly match: boolean; readonly platform: TcbVersion; readonly reported: TcbVersion };
}

export type ToolParse = { readonly ok: true; readonly tests: readonly ToolTest[] } | { readonly ok: false; readonly reason: string };

/**
 * The facts sevcheck shares with the tools, by test name (lower case; every alias the tool
 * versions above print). The key is what host-firmware.ts and the rules call the fact.
 */
export const TOOL_TESTS = {
  'cpuid.sme': ['secure memory encryption (sme)'],
  'cpuid.sev': ['secure encrypted virtualization (sev)'],
  'cpuid.sev-es': ['encrypted state (sev-es)'],
  'cpuid.sev-snp': ['secure nested paging (sev-snp)'],
  'cpuid.vmpl': ['vm permission levels'],
  'kvm.sev': ['sev enabled in kvm'],
  'kvm.sev-es': ['sev-es enabled in kvm'],
  'kvm.sev-snp': ['sev-snp enabled in kvm'],
  'fw.version': ['sev firmware version'],
  'fw.sev-init': ['sev initialized', 'sev init'],
  'fw.sev-es-init': ['sev-es initialized', 'sev-es init'],
  'snp.init': ['snp initialized', 'snp init'],
  'snp.rmp': ['rmp table addresses', 'reading rmp table', 'read rmp tables'],
  'snp.rmp-init': ['rmp table initialized', 'rmp init'],
  'snp.alias-check': ['alias check'],
  'snp.tcb': ['compare tcb values', 'comparing tcb values'],
  'kvm.secure-tsc': ['(optional features) secure tsc', '(optional feature) secure tsc'],
} as const satisfies Record<string, readonly string[]>;

export type ToolFact = keyof typeof TOOL_TESTS;

/**
 * What snphost's Secure TSC test message says (the FAIL parts above): the CPU lacks it, KVM does
 * not offer it (with the mask KVM returned), or KVM could not be asked.
 */
export interface SecureTscMessage {
  readonly cpuMissing: boolean;
  /** KVM's sev_supported_vmsa_features as snphost printed it, when KVM answered without bit 9 */
  readonly kvmMask?: bigint;
  /** "KVM_GET_DEVICE_ATTR failed: …" / "unable to open /dev/kvm: …" */
  readonly kvmError?: string;
}

export function parseSecureTscMessage(message: string | undefined): SecureTscMessage {
  const parts = (message ?? '').split('; ').map((p) => p.trim());
  const cpuMissing = parts.some((p) => /^SecureTSC bit 8 not set in CPUID 0x8000001F EAX: 0x[0-9a-f]{1,8}$/i.test(p));
  let kvmMask: bigint | undefined;
  let kvmError: string | undefined;
  for (const p of parts) {
    const m = /^SecureTSC (?:bit 9 )?not set in KVM sev_supported_vmsa_features: 0x([0-9a-f]{1,16})$/i.exec(p);
    if (m) kvmMask = BigInt(`0x${m[1]}`);
    else if (/^(?:KVM_GET_DEVICE_ATTR failed|unable to open \/dev\/kvm): /.test(p)) kvmError = p;
  }
  return { cpuMissing, ...(kvmMask !== undefined ? { kvmMask } : {}), ...(kvmError ? { kvmError } : {}) };
}

/** The test answering `fact`, when the tool ran it. */
export function findTest(tests: readonly ToolTest[], fact: ToolFact): ToolTest | undefined {
  const names: readonly string[] = TOOL_TESTS[fact];
  return tests.find((t) => names.includes(t.name.trim().toLowerCase()));
}

const STATUS: Record<string, ToolStatus> = { pass: 'pass', passed: 'pass', fail: 'fail', failed: 'fail', skip: 'skip', skipped: 'skip' };

/**
 * A TCB as snphost prints it: numbers, or (virtee/snphost 56d5d7e src/ok/mod.rs parse_tcb_message,
 * which splits sev's `TcbVersion` Display text "Microcode:   213" / "FMC:         None" into
 * `json!(value)` of the text) decimal strings, with "None" for a CPU without an FMC field.
 */
function tcbOf(v: unknown): TcbVersion | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const out: Record<string, number | null> = {};
  for (const k of ['microcode', 'snp', 'tee', 'boot_loader', 'fmc']) {
    const raw = o[k];
    const x = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : raw;
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255) out[k] = x;
    else if ((x === null || x === 'None') && k === 'fmc') out[k] = null;
    else if (x !== undefined) return undefined;
  }
  return Object.keys(out).length > 0 ? (out as TcbVersion) : undefined;
}

export function parseSnphostOkJson(stdout: string): ToolParse {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return { ok: false, reason: 'snphost ok -o json did not print JSON (no released snphost, 0.1.1 to 0.7.0, has -o json)' };
  }
  const tests = (doc as { tests?: unknown } | null)?.tests;
  if (!Array.isArray(tests)) return { ok: false, reason: 'snphost ok -o json printed JSON without a "tests" list (unknown format)' };
  const out: ToolTest[] = [];
  for (const t of tests) {
    const o = t as Record<string, unknown> | null;
    const status = typeof o?.status === 'string' ? STATUS[o.status.toLowerCase()] : undefined;
    if (!o || typeof o.name !== 'string' || !status) {
      return { ok: false, reason: `snphost ok -o json: a test without a name or a PASS/FAIL/SKIP status (unknown format): ${JSON.stringify(t).slice(0, 120)}` };
    }
    const msg = o.message;
    if (msg && typeof msg === 'object') {
      const m = msg as Record<string, unknown>;
      const platform = tcbOf(m.platform_tcb_version);
      const reported = tcbOf(m.reported_tcb_version);
      if (typeof m.match !== 'boolean' || !platform || !reported) {
        return { ok: false, reason: `snphost ok -o json: test "${o.name}" has a message object that is not a TCB comparison (unknown format)` };
      }
      out.push({ tool: 'snphost', name: o.name, status, message: JSON.stringify(msg), tcb: { match: m.match, platform, reported } });
    } else {
      out.push({ tool: 'snphost', name: o.name, status, ...(typeof msg === 'string' ? { message: msg } : {}) });
    }
  }
  if (out.length === 0) return { ok: false, reason: 'snphost ok -o json listed no tests' };
  return { ok: true, tests: out };
}

// CSI sequences (the colorful crate's colours)
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const OK_LINE = /^\[\s*(PASS|FAIL|SKIP)\s*\]\s*-\s*(.+?)\s*$/;

/** Text with the terminal colour codes the tools print removed. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** `sevctl ok` / `snphost ok` text: `[ PASS ] - name[: message]` lines, a message continuing on the lines after. */
export function parseOkText(stdout: string, tool: ToolName): ToolParse {
  const out: Array<{ name: string; status: ToolStatus; message?: string }> = [];
  for (const raw of stripAnsi(stdout).split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = OK_LINE.exec(line);
    if (!m) {
      // a message that spans lines (snphost's firmware-minimum FAIL, its TCB comparison)
      const last = out[out.length - 1];
      if (last && !line.startsWith('[')) last.message = last.message === undefined ? line : `${last.message} ${line}`;
      continue;
    }
    const rest = m[2] as string;
    // the name is the longest known name the line starts with; "Page flush MSR: ENABLED" and the
    // other names with a colon in them stay whole when unknown
    const lower = rest.toLowerCase();
    let name = rest;
    let message: string | undefined;
    let best = -1;
    for (const names of Object.values(TOOL_TESTS) as readonly (readonly string[])[]) {
      for (const n of names) {
        if (lower === n && n.length > best) {
          name = rest;
          message = undefined;
          best = n.length;
        } else if (lower.startsWith(`${n}: `) && n.length > best) {
          name = rest.slice(0, n.length);
          message = rest.slice(n.length + 2);
          best = n.length;
        }
      }
    }
    out.push({ name, status: (m[1] as string).toLowerCase() as ToolStatus, ...(message !== undefined ? { message } : {}) });
  }
  if (out.length === 0) return { ok: false, reason: `${tool} ok printed no "[ PASS|FAIL|SKIP ] - <test>" line (unknown format)` };
  return { ok: true, tests: out.map((t) => ({ tool, name: t.name, status: t.status, ...(t.message !== undefined ? { message: t.message.trim() } : {}) })) };
}

export function parseSevctlOk(stdout: string): ToolParse {
  return parseOkText(stdout, 'sevctl');
}

/** `snphost ok` text, every released version (0.1.1–0.7.0 have no -o json). */
export function parseSnphostOkText(stdout: string): ToolParse {
  return parseOkText(stdout, 'snphost');
}

export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build?: number;
}

/** `sevctl show version` → `<major>.<minor>.<build>`; undefined for anything else. */
export function parseSevctlVersion(stdout: string): FirmwareVersion | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})$/.exec(stdout.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), build: Number(m[3]) } : undefined;
}

/** snphost's "SEV firmware version" PASS message: `<major>.<minor>` (0.6.0+), `Sev firmware version: <major>.<minor>` (0.3.0–0.5.0). */
export function parseVersionMessage(message: string | undefined): FirmwareVersion | undefined {
  const m = /^(?:Sev firmware version: )?(\d{1,3})\.(\d{1,3})$/.exec((message ?? '').trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}
