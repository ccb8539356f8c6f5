/**
 * The output of virtee's read-only platform tools (pure: text in, answers out).
 *
 * - `snphost ok -o json` (virtee/snphost 56d5d7e src/ok/mod.rs, JSON renderer):
 *   `{tests:[{name,status,category,description,message?,fix_hint?}], failures:[{name,hint}],
 *   skipped:[name], summary:{total,passed,failed,skipped}}`; the "Compare TCB values" test's message
 *   is an object `{match, platform_tcb_version:{microcode,snp,tee,boot_loader,fmc},
 *   reported_tcb_version:{…}}` (docs/parity.md).
 * - `sevctl ok` (virtee/sevctl 8b47f3a src/ok.rs): one line per test,
 *   `[ PASS|FAIL|SKIP ] <indent>- <name>[: <message>]`.
 * - `sevctl show version` (virtee/sevctl 8b47f3a src/main.rs, `show version`): the firmware's
 *   `<major>.<minor>.<build>`.
 * Test names changed between tool versions (snphost printed "SEV INIT" / "SEV Firmware Version"
 * before "SEV initialized" / "SEV firmware version"), so names are compared case-insensitively
 * against the aliases in TOOL_TESTS. Anything else is an unknown format: the caller says so and
 * decides nothing from it.
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
  'snp.rmp-init': ['rmp table initialized'],
  'snp.alias-check': ['alias check'],
  'snp.tcb': ['compare tcb values', 'comparing tcb values'],
  'kvm.secure-tsc': ['(optional feature) secure tsc'],
} as const satisfies Record<string, readonly string[]>;

export type ToolFact = keyof typeof TOOL_TESTS;

/** The test answering `fact`, when the tool ran it. */
export function findTest(tests: readonly ToolTest[], fact: ToolFact): ToolTest | undefined {
  const names: readonly string[] = TOOL_TESTS[fact];
  return tests.find((t) => names.includes(t.name.trim().toLowerCase()));
}

const STATUS: Record<string, ToolStatus> = { pass: 'pass', passed: 'pass', fail: 'fail', failed: 'fail', skip: 'skip', skipped: 'skip' };

function tcbOf(v: unknown): TcbVersion | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const out: Record<string, number | null> = {};
  for (const k of ['microcode', 'snp', 'tee', 'boot_loader', 'fmc']) {
    const x = o[k];
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255) out[k] = x;
    else if (x === null && k === 'fmc') out[k] = null;
    else if (x !== undefined) return undefined;
  }
  return Object.keys(out).length > 0 ? (out as TcbVersion) : undefined;
}

export function parseSnphostOkJson(stdout: string): ToolParse {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return { ok: false, reason: 'snphost ok -o json did not print JSON (a snphost older than 0.7 has no -o json)' };
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

const SEVCTL_LINE = /^\[\s*(PASS|FAIL|SKIP)\s*\]\s*-\s*(.+?)\s*$/;

export function parseSevctlOk(stdout: string): ToolParse {
  const out: ToolTest[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = SEVCTL_LINE.exec(line.trim());
    if (!m) continue;
    const rest = m[2] as string;
    // the name is the longest known name the line starts with; "Page flush MSR: ENABLED" and the
    // other names with a colon in them stay whole when unknown
    const lower = rest.toLowerCase();
    let name = rest;
    let message: string | undefined;
    for (const names of Object.values(TOOL_TESTS) as readonly (readonly string[])[]) {
      for (const n of names) {
        if (lower === n) name = rest;
        else if (lower.startsWith(`${n}: `)) {
          name = rest.slice(0, n.length);
          message = rest.slice(n.length + 2);
        }
      }
    }
    out.push({ tool: 'sevctl', name, status: (m[1] as string).toLowerCase() as ToolStatus, ...(message !== undefined ? { message } : {}) });
  }
  if (out.length === 0) return { ok: false, reason: 'sevctl ok printed no "[ PASS|FAIL|SKIP ] - <test>" line (unknown format)' };
  return { ok: true, tests: out };
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

/** snphost's "SEV firmware version" PASS message is `<major>.<minor>` (src/ok/mod.rs). */
export function parseVersionMessage(message: string | undefined): FirmwareVersion | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec((message ?? '').trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}
