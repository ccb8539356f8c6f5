/**
 * Every kernel-log wording sevcheck reads, with where it comes from (pure data). The parser
 * (kernel-log.ts) is driven by this table, docs/kernel-wordings.md is generated from it
 * (scripts/kernel-wordings-doc.ts; test/host/kernel-wordings.test.ts asserts the doc is current),
 * and test/host/kernel-wordings.test.ts parses every row's sample line and checks its fact.
 *
 * How the rows were established (read at the commits named, December 2026):
 * - drivers/crypto/ccp/psp-dev.c as first merged (torvalds/linux 200664d5237f "crypto: ccp: Add
 *   Secure Encrypted Virtualization (SEV) command support", v4.16), quoted in the lore thread of
 *   Tom Rix's SEV_INIT_EX fix; the v4.19-era psp_pci_init with sev_update_firmware (a tree
 *   generated from it, read through the code index);
 * - drivers/crypto/ccp/sev-dev.c at torvalds/linux e606073b (the v5.10/v5.11 file: TMR,
 *   "SEV firmware update successful", "SEV: failed to INIT error %#x" then return), at
 *   torvalds/linux 0410c612 (the v6.11-v6.13 file: sev_pci_init logs the INIT failure with
 *   ", rc %d" and then `SEV%s API` whatever INIT did), and at linux-next 281a569a (v6.14+: the
 *   messages moved into __sev_platform_init_locked / __sev_snp_init_locked by Ashish Kalra's
 *   "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown");
 * - Peter Gonda's "crypto: ccp - Fix SEV_INIT error logging on init" (Nov 2021), which added
 *   ", rc %d";
 * - AMD's SNP host patches as carried by AMDESE/linux snp-host branches ("crypto: ccp: Add support
 *   to initialize the AMD-SP for SEV-SNP": "SEV-SNP: failed to INIT error %#x", "SEV-SNP support
 *   requires firmware version >= %d:%d" as dev_err, and `if (rc) dev_err(… "SEV: failed to INIT
 *   error %#x\n"); dev_info(… "SEV%s API…")` — the INIT failure followed by an API line);
 * - arch/x86/kvm/svm/sev.c sev_hardware_setup in the patches that changed its pr_info lines
 *   (6d1bc9754b04, 0aa6b90ef9d7, the SNP host series, the ciphertext-hiding series);
 * - arch/x86/virt/svm/sev.c snp_probe_rmptable_info / the AMDESE arch/x86/kernel/sev.c
 *   get_rmptable_info, and arch/x86/mm/mem_encrypt.c print_mem_encrypt_feature_info in the
 *   commits that changed it (Joerg Roedel's SEV-ES banner, the TDX "Memory Encryption Features
 *   active:" change, Kirill Shutemov's cc_vendor switch);
 * - real pasted logs: coconut-svsm/svsm Documentation/docs/installation/INSTALL.md (an AMDESE
 *   snp-host kernel: "SEV-SNP: RMP table physical address [...]", "SEV firmware update
 *   successful", "kvm_amd: SEV-ES and SEV-SNP supported: 127 ASIDs"), and a user's SNP host
 *   README quoting "SEV-SNP: RMP table physical address 0x… - 0x…" from a 6.5.0-rc2-snp-host
 *   kernel.
 * Version ranges marked "≈" are bounded by the files read, not by a bisected commit; the doc says
 * so per row. Distribution kernels backport (a RHEL 8 4.18 kernel carries 5.x wordings): the
 * parser reads every row whatever `Linux version` the log names.
 */

export type WordingSource = 'ccp' | 'kvm_amd' | 'SEV-SNP' | 'mem_encrypt';

/** The step of SEV bring-up a line reports on. */
export type Step =
  | 'status' // PLATFORM_STATUS at probe (the firmware answers at all: API version)
  | 'fw-update' // DOWNLOAD_FIRMWARE at probe
  | 'sev-init' // INIT / INIT_EX + DF_FLUSH
  | 'sev-es' // the SEV-ES TMR handed to INIT
  | 'snp-init' // SNP_INIT / SNP_INIT_EX + SNP_DF_FLUSH
  | 'psp' // the PSP itself (command timeout)
  | 'shutdown' // SHUTDOWN / SNP_SHUTDOWN_EX (module unload, kexec, panic)
  | 'rmp' // the RMP table the BIOS reserved
  | 'kvm' // kvm_amd's SEV / SEV-ES / SEV-SNP enablement
  | 'memenc'; // the memory-encryption banner

export type Outcome = 'success' | 'failure' | 'info';

/** What a matched line says, for the parser to record. */
export type WordingFact =
  | { kind: 'api'; snp: boolean; major: number; minor: number; build: number }
  | { kind: 'fw-update'; from?: string; to?: string }
  | { kind: 'failed'; step: 'status' | 'sev-init' | 'sev-es' | 'snp-init' | 'psp' | 'shutdown' | 'rmp' }
  | { kind: 'kvm'; feature: 'SEV' | 'SEV-ES' | 'SEV-SNP'; state: 'enabled' | 'disabled' | 'unusable'; asids?: [number, number]; also?: 'SEV-SNP' }
  | { kind: 'rmp-range'; base: bigint; end: bigint }
  | { kind: 'memenc'; vendor: 'AMD' | 'Intel'; features: readonly string[] }
  | { kind: 'info' };

export interface Wording {
  /** stable id, used in docs anchors and tests */
  readonly id: string;
  readonly source: WordingSource;
  readonly step: Step;
  readonly outcome: Outcome;
  /** the format string as in the kernel source (printk / dev_* / pr_*) */
  readonly format: string;
  /** the message after its prefix ("ccp 0000:47:00.1: ", "kvm_amd: ", "SEV-SNP: "), whole */
  readonly re: RegExp;
  readonly fact: (m: RegExpExecArray) => WordingFact;
  /** the function and file that print it */
  readonly file: string;
  /** the kernels that print it, as told in the doc */
  readonly kernels: string;
  /** mainline releases printing it (first, last); last undefined = still printed */
  readonly mainline?: readonly [string, string | undefined];
  /** other kernel lines that print it (AMDESE snp-host, distribution backports) */
  readonly others?: readonly string[];
  readonly introduced: string;
  readonly removed?: string;
  /** where sevcheck's authors read the wording (file at commit, patch, or pasted log) */
  readonly seen: string;
  /** a line as the kernel logs it (prefix included), for the test and the doc */
  readonly sample: string;
}

/** %#x prints 0 as "0" and anything else as 0x…; %d may be negative. */
const HEX = '(?:0|0x[0-9a-f]+)';
const INT = '-?\\d+';
const n = (s: string | undefined): number => Number(s);
const hex = (s: string | undefined): bigint => BigInt(`0x${s}`);
const failed = (step: Extract<WordingFact, { kind: 'failed' }>['step']) => (): WordingFact => ({ kind: 'failed', step });
const info = (): WordingFact => ({ kind: 'info' });

/** Mainline releases from the first SEV host driver on, for the wordings × versions count. */
export const MAINLINE = [
  'v4.16', 'v4.17', 'v4.18', 'v4.19', 'v4.20', 'v5.0', 'v5.1', 'v5.2', 'v5.3', 'v5.4', 'v5.5', 'v5.6', 'v5.7', 'v5.8', 'v5.9',
  'v5.10', 'v5.11', 'v5.12', 'v5.13', 'v5.14', 'v5.15', 'v5.16', 'v5.17', 'v5.18', 'v5.19', 'v6.0', 'v6.1', 'v6.2', 'v6.3',
  'v6.4', 'v6.5', 'v6.6', 'v6.7', 'v6.8', 'v6.9', 'v6.10', 'v6.11', 'v6.12', 'v6.13', 'v6.14', 'v6.15', 'v6.16', 'v6.17', 'v6.18',
] as const;

/** The mainline releases a wording is printed by. */
export function mainlineReleases(w: Wording): string[] {
  if (!w.mainline) return [];
  const [first, last] = w.mainline;
  const a = MAINLINE.indexOf(first as (typeof MAINLINE)[number]);
  const b = last === undefined ? MAINLINE.length - 1 : MAINLINE.indexOf(last as (typeof MAINLINE)[number]);
  if (a < 0 || b < 0) throw new Error(`wording ${w.id}: unknown release in ${first}..${last}`);
  return MAINLINE.slice(a, b + 1) as string[];
}

const CCP = 'ccp 0000:47:00.1: ';

export const WORDINGS: readonly Wording[] = [
  // ---- ccp: PLATFORM_STATUS and the API version ----
  {
    id: 'ccp-api',
    seen: 'psp-dev.c psp_pci_init as merged in 200664d5237f (quoted in the lore thread "crypto: ccp - Fix SEV_INIT_EX error logging"); sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a; pasted in coconut-svsm INSTALL.md',
    source: 'ccp', step: 'status', outcome: 'success',
    format: '"SEV API:%d.%d build:%d\\n"',
    re: /^SEV API:(\d{1,3})\.(\d{1,3}) build:(\d{1,5})$/,
    fact: (m) => ({ kind: 'api', snp: false, major: n(m[1]), minor: n(m[2]), build: n(m[3]) }),
    file: 'drivers/crypto/ccp/psp-dev.c psp_pci_init (v4.16–v5.3), sev-dev.c sev_pci_init, later __sev_platform_init_locked',
    kernels: 'v4.16 to today. Up to v6.10 printed only after INIT succeeded; v6.11–v6.13 sev_pci_init prints it whatever INIT did (0410c612), and AMDESE snp-host kernels likewise; v6.14+ prints it at the end of a successful INIT',
    mainline: ['v4.16', undefined],
    others: ['AMDESE snp-host', 'RHEL 8 4.18', 'SLES 15'],
    introduced: '200664d5237f (v4.16)',
    sample: `${CCP}SEV API:1.55 build:21`,
  },
  {
    id: 'ccp-snp-api',
    seen: 'sev-dev.c at torvalds/linux 0410c612; Ashish Kalra, "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (lore, v2+) and sev-dev.c at ColinIanKing/linux-next 281a569a; pasted in coconut-svsm INSTALL.md',
    source: 'ccp', step: 'snp-init', outcome: 'success',
    format: '"SEV%s API:%d.%d build:%d\\n" with "-SNP"; v6.14+ "SEV-SNP API:%d.%d build:%d\\n"',
    re: /^SEV-SNP API:(\d{1,3})\.(\d{1,3}) build:(\d{1,5})$/,
    fact: (m) => ({ kind: 'api', snp: true, major: n(m[1]), minor: n(m[2]), build: n(m[3]) }),
    file: 'drivers/crypto/ccp/sev-dev.c sev_pci_init (v6.11–v6.13, when snp_initialized), __sev_snp_init_locked (v6.14+)',
    kernels: 'v6.11+ and AMDESE snp-host kernels: printed only once SNP_INIT succeeded',
    mainline: ['v6.11', undefined],
    others: ['AMDESE snp-host'],
    introduced: 'the SNP host series (crypto: ccp: Add support to initialize the AMD-SP for SEV-SNP), v6.11',
    sample: `${CCP}SEV-SNP API:1.55 build:21`,
  },
  {
    id: 'ccp-status-failed-v416',
    seen: 'psp-dev.c psp_pci_init as merged in 200664d5237f (quoted in the lore thread "crypto: ccp - Fix SEV_INIT_EX error logging")',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"SEV: failed to get status error %#x\\n"',
    re: new RegExp(`^SEV: failed to get status error ${HEX}$`),
    fact: failed('status'),
    file: 'drivers/crypto/ccp/psp-dev.c psp_pci_init',
    kernels: '≈v4.16–v4.18 (the first psp_pci_init, which ran INIT before PLATFORM_STATUS)',
    mainline: ['v4.16', 'v4.18'],
    others: ['RHEL 8 4.18 (early)'],
    introduced: '200664d5237f (v4.16)',
    removed: 'the firmware-update rework of psp_pci_init (sev_get_api_version), ≈v4.19',
    sample: `${CCP}SEV: failed to get status error 0x1`,
  },
  {
    id: 'ccp-status-failed',
    seen: 'psp_pci_init with sev_get_api_version/sev_update_firmware (a v4.19-era psp-dev.c in the code index); sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"SEV: failed to get status. Error: %#x\\n"',
    re: new RegExp(`^SEV: failed to get status\\. Error: ${HEX}$`),
    fact: failed('status'),
    file: 'drivers/crypto/ccp/psp-dev.c, then sev-dev.c sev_get_api_version',
    kernels: '≈v4.19 to today: ccp gives up on SEV (no /dev/sev commands, no INIT)',
    mainline: ['v4.19', undefined],
    others: ['AMDESE snp-host', 'RHEL 8 4.18'],
    introduced: 'sev_get_api_version (DOWNLOAD_FIRMWARE support), ≈v4.19',
    sample: `${CCP}SEV: failed to get status. Error: 0x1`,
  },
  {
    id: 'ccp-snp-status-failed',
    seen: 'sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"SNP PLATFORM_STATUS command failed, ret = %d, error = %#x\\n"',
    re: new RegExp(`^SNP PLATFORM_STATUS command failed, ret = ${INT}, error = ${HEX}$`),
    fact: failed('status'),
    file: 'drivers/crypto/ccp/sev-dev.c snp_get_platform_data (sev_get_api_version gives up)',
    kernels: '≈v6.15+ (linux-next 281a569a)',
    mainline: ['v6.15', undefined],
    introduced: 'snp_get_platform_data (ciphertext hiding / SNP feature info), ≈v6.15',
    sample: `${CCP}SNP PLATFORM_STATUS command failed, ret = -5, error = 0x3`,
  },
  {
    id: 'ccp-snp-feature-info-failed',
    seen: 'sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"SNP FEATURE_INFO command failed, ret = %d, error = %#x\\n"',
    re: new RegExp(`^SNP FEATURE_INFO command failed, ret = ${INT}, error = ${HEX}$`),
    fact: failed('status'),
    file: 'drivers/crypto/ccp/sev-dev.c snp_get_platform_data',
    kernels: '≈v6.15+ (linux-next 281a569a)',
    mainline: ['v6.15', undefined],
    introduced: 'snp_get_platform_data, ≈v6.15',
    sample: `${CCP}SNP FEATURE_INFO command failed, ret = -5, error = 0x1`,
  },
  {
    id: 'ccp-psp-timeout',
    seen: 'sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'psp', outcome: 'failure',
    format: '"sev command %#x timed out, disabling PSP\\n"',
    re: new RegExp(`^sev command ${HEX} timed out, disabling PSP$`),
    fact: failed('psp'),
    file: 'drivers/crypto/ccp/psp-dev.c, then sev-dev.c __sev_do_cmd_locked',
    kernels: 'v4.16 to today: every later SEV command fails with -EBUSY (psp_dead) until reboot',
    mainline: ['v4.16', undefined],
    others: ['AMDESE snp-host', 'RHEL 8 4.18'],
    introduced: '≈v4.16/v4.19 (psp_dead)',
    sample: `${CCP}sev command 0x1 timed out, disabling PSP`,
  },
  {
    id: 'ccp-sev-not-enabled-by-bios',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"SEV: memory encryption not enabled by BIOS\\n" (dev_info_once)',
    re: /^SEV: memory encryption not enabled by BIOS$/,
    fact: failed('status'),
    file: 'drivers/crypto/ccp/sev-dev.c sev_dev_init (no X86_FEATURE_SEV: no SEV device)',
    kernels: '≈v6.x to today (sev-dev.c at 0410c612 and linux-next)',
    mainline: ['v6.11', undefined],
    introduced: 'sev_dev_init X86_FEATURE_SEV check, ≤v6.11',
    sample: `${CCP}SEV: memory encryption not enabled by BIOS`,
  },
  {
    id: 'ccp-sev-init-failed-notice',
    seen: 'sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'failure',
    format: '"sev initialization failed\\n" (dev_notice)',
    re: /^sev initialization failed$/,
    fact: failed('status'),
    file: 'drivers/crypto/ccp/sev-dev.c sev_dev_init',
    kernels: 'v5.5+ (sev-dev.c split from psp-dev.c) to today',
    mainline: ['v5.5', undefined],
    introduced: 'the psp-dev.c / sev-dev.c split, ≈v5.5',
    sample: `${CCP}sev initialization failed`,
  },
  {
    id: 'ccp-sev-enabled-notice',
    seen: 'sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'status', outcome: 'info',
    format: '"sev enabled\\n" (dev_notice)',
    re: /^sev enabled$/,
    fact: info,
    file: 'drivers/crypto/ccp/sev-dev.c sev_dev_init (the device is registered; says nothing about INIT)',
    kernels: 'v5.5+ to today',
    mainline: ['v5.5', undefined],
    introduced: 'the psp-dev.c / sev-dev.c split, ≈v5.5',
    sample: `${CCP}sev enabled`,
  },
  // ---- ccp: firmware update at probe ----
  {
    id: 'ccp-fw-update-ok',
    seen: 'sev-dev.c at torvalds/linux e606073b; pasted in coconut-svsm INSTALL.md',
    source: 'ccp', step: 'fw-update', outcome: 'success',
    format: '"SEV firmware update successful\\n"',
    re: /^SEV firmware update successful$/,
    fact: () => ({ kind: 'fw-update' }),
    file: 'drivers/crypto/ccp/psp-dev.c, then sev-dev.c sev_update_firmware',
    kernels: '≈v4.19–v6.x (sev-dev.c at e606073b; replaced by the "updated from" line by 0410c612), AMDESE snp-host',
    mainline: ['v4.19', 'v6.10'],
    others: ['AMDESE snp-host', 'RHEL 8 4.18'],
    introduced: 'DOWNLOAD_FIRMWARE support, ≈v4.19',
    removed: 'the "SEV firmware updated from" change, ≤v6.11',
    sample: `${CCP}SEV firmware update successful`,
  },
  {
    id: 'ccp-fw-updated-from',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'fw-update', outcome: 'success',
    format: '"SEV firmware updated from %d.%d.%d to %d.%d.%d\\n"',
    re: /^SEV firmware updated from (\d{1,3}\.\d{1,3}\.\d{1,5}) to (\d{1,3}\.\d{1,3}\.\d{1,5})$/,
    fact: (m) => ({ kind: 'fw-update', from: m[1] as string, to: m[2] as string }),
    file: 'drivers/crypto/ccp/sev-dev.c sev_pci_init',
    kernels: '≤v6.11 to today (0410c612, linux-next)',
    mainline: ['v6.11', undefined],
    introduced: '≤v6.11',
    sample: `${CCP}SEV firmware updated from 1.49.3 to 1.55.21`,
  },
  // ---- ccp: INIT ----
  {
    id: 'ccp-init-failed-v416',
    seen: 'psp-dev.c psp_pci_init as merged in 200664d5237f (quoted in the lore thread "crypto: ccp - Fix SEV_INIT_EX error logging"); psp_pci_init with sev_get_api_version/sev_update_firmware (a v4.19-era psp-dev.c in the code index); sev-dev.c at torvalds/linux e606073b; the AMD SNP host patch "crypto: ccp: Add support to initialize the AMD-SP for SEV-SNP" (AMDESE snp-host series, lore)',
    source: 'ccp', step: 'sev-init', outcome: 'failure',
    format: '"SEV: failed to INIT error %#x\\n"',
    re: new RegExp(`^SEV: failed to INIT error ${HEX}$`),
    fact: failed('sev-init'),
    file: 'drivers/crypto/ccp/psp-dev.c psp_pci_init, then sev-dev.c sev_pci_init',
    kernels: 'v4.16–≈v5.16 (then ", rc %d" was added); AMDESE snp-host kernels print it and then "SEV API:…" anyway',
    mainline: ['v4.16', 'v5.16'],
    others: ['AMDESE snp-host', 'RHEL 8 4.18', 'SLES 15 SP1-SP3', 'Ubuntu 20.04 (5.4)'],
    introduced: '200664d5237f (v4.16)',
    removed: '"crypto: ccp - Fix SEV_INIT error logging on init" (Peter Gonda, Nov 2021), ≈v5.17',
    sample: `${CCP}SEV: failed to INIT error 0x1`,
  },
  {
    id: 'ccp-init-failed-rc',
    seen: "Peter Gonda's patch (lore, Nov 2021); sev-dev.c at torvalds/linux 0410c612",
    source: 'ccp', step: 'sev-init', outcome: 'failure',
    format: '"SEV: failed to INIT error %#x, rc %d\\n"',
    re: new RegExp(`^SEV: failed to INIT error ${HEX}, rc ${INT}$`),
    fact: failed('sev-init'),
    file: 'drivers/crypto/ccp/sev-dev.c sev_pci_init',
    kernels: '≈v5.17–v6.13 (0410c612 logs it and then "SEV API:…")',
    mainline: ['v5.17', 'v6.13'],
    others: ['RHEL 9 5.14 (backport)'],
    introduced: '"crypto: ccp - Fix SEV_INIT error logging on init" (Peter Gonda), ≈v5.17',
    removed: '"crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown", ≈v6.14',
    sample: `${CCP}SEV: failed to INIT error 0x3, rc -5`,
  },
  {
    id: 'ccp-init-failed-v614',
    seen: 'Ashish Kalra, "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (lore, v2+) and sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'sev-init', outcome: 'failure',
    format: '"SEV: %s failed %#x, rc %d\\n" with "INIT" or "INIT_EX"',
    re: new RegExp(`^SEV: (?:INIT|INIT_EX) failed ${HEX}, rc ${INT}$`),
    fact: failed('sev-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_platform_init_locked',
    kernels: '≈v6.14+ (linux-next 281a569a); INIT runs when kvm_amd loads',
    mainline: ['v6.14', undefined],
    introduced: '"crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (Ashish Kalra), ≈v6.14',
    sample: `${CCP}SEV: INIT failed 0x3, rc -5`,
  },
  {
    id: 'ccp-df-flush-failed',
    seen: 'Ashish Kalra, "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (lore, v2+) and sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'sev-init', outcome: 'failure',
    format: '"SEV: DF_FLUSH failed %#x, rc %d\\n"',
    re: new RegExp(`^SEV: DF_FLUSH failed ${HEX}, rc ${INT}$`),
    fact: failed('sev-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_platform_init_locked',
    kernels: '≈v6.14+',
    mainline: ['v6.14', undefined],
    introduced: 'Ashish Kalra, ≈v6.14',
    sample: `${CCP}SEV: DF_FLUSH failed 0x9, rc -5`,
  },
  {
    id: 'ccp-init-retry',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'sev-init', outcome: 'info',
    format: '"SEV: retrying INIT command because of SECURE_DATA_INVALID error. Retrying once to reset PSP SEV state." (dev_err, no newline)',
    re: /^SEV: retrying INIT command because of SECURE_DATA_INVALID error\. Retrying once to reset PSP SEV state\.$/,
    fact: info,
    file: 'drivers/crypto/ccp/sev-dev.c __sev_platform_init_locked (the retry usually succeeds; a failure is logged separately)',
    kernels: '≈v5.18+ (0410c612, linux-next); earlier kernels retried with a dev_dbg',
    mainline: ['v5.18', undefined],
    introduced: 'the INIT retry moved into __sev_platform_init_locked, ≈v5.18',
    sample: `${CCP}SEV: retrying INIT command because of SECURE_DATA_INVALID error. Retrying once to reset PSP SEV state.`,
  },
  {
    id: 'ccp-tmr-failed',
    seen: 'sev-dev.c at torvalds/linux e606073b; sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'sev-es', outcome: 'failure',
    format: '"SEV: TMR allocation failed, SEV-ES support unavailable\\n" (dev_warn)',
    re: /^SEV: TMR allocation failed, SEV-ES support unavailable$/,
    fact: failed('sev-es'),
    file: 'drivers/crypto/ccp/sev-dev.c sev_pci_init, later __sev_platform_init_handle_tmr',
    kernels: 'v5.10+ (e606073b, 0410c612, linux-next): INIT runs without the SEV-ES flag',
    mainline: ['v5.10', undefined],
    introduced: 'SEV-ES host support (the TMR), v5.10',
    sample: `${CCP}SEV: TMR allocation failed, SEV-ES support unavailable`,
  },
  {
    id: 'ccp-init-ex-nv-failed',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'sev-init', outcome: 'failure',
    format: '"SEV: INIT_EX NV memory allocation failed\\n"',
    re: /^SEV: INIT_EX NV memory allocation failed$/,
    fact: failed('sev-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_platform_init_handle_init_ex_path',
    kernels: '≈v5.17+ (init_ex_path set)',
    mainline: ['v5.17', undefined],
    introduced: '3d725965f836 "crypto: ccp - Add SEV_INIT_EX support", ≈v5.17',
    sample: `${CCP}SEV: INIT_EX NV memory allocation failed`,
  },
  // ---- ccp: SNP_INIT ----
  {
    id: 'ccp-snp-init-failed-amdese',
    seen: 'the AMD SNP host patch "crypto: ccp: Add support to initialize the AMD-SP for SEV-SNP" (AMDESE snp-host series, lore)',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV-SNP: failed to INIT error %#x\\n"',
    re: new RegExp(`^SEV-SNP: failed to INIT error ${HEX}$`),
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c sev_pci_init (AMD SNP host patches)',
    kernels: 'AMDESE snp-host kernels (5.14–6.x based); never in a mainline release',
    others: ['AMDESE snp-host'],
    introduced: 'AMD "crypto: ccp: Add support to initialize the AMD-SP for SEV-SNP" (snp-host patch series)',
    removed: 'reworded before mainline (v6.11 prints "rc %d, error %#x")',
    sample: `${CCP}SEV-SNP: failed to INIT error 0x3`,
  },
  {
    id: 'ccp-snp-init-failed-rc',
    seen: 'sev-dev.c at torvalds/linux 0410c612',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV-SNP: failed to INIT rc %d, error %#x\\n"',
    re: new RegExp(`^SEV-SNP: failed to INIT rc ${INT}, error ${HEX}$`),
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c _sev_platform_init_locked',
    kernels: 'v6.11–≈v6.13 (0410c612)',
    mainline: ['v6.11', 'v6.13'],
    others: ['AMDESE snp-host (late)'],
    introduced: 'the SNP host series, v6.11',
    removed: 'Ashish Kalra\'s message move, ≈v6.14',
    sample: `${CCP}SEV-SNP: failed to INIT rc -5, error 0x3`,
  },
  {
    id: 'ccp-snp-init-failed-v614',
    seen: 'Ashish Kalra, "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (lore, v2+) and sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV-SNP: %s failed rc %d, error %#x\\n" with "SNP_INIT" or "SNP_INIT_EX"',
    re: new RegExp(`^SEV-SNP: (?:SNP_INIT|SNP_INIT_EX) failed rc ${INT}, error ${HEX}$`),
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_init_locked',
    kernels: '≈v6.14+ (linux-next 281a569a)',
    mainline: ['v6.14', undefined],
    introduced: 'Ashish Kalra, ≈v6.14',
    sample: `${CCP}SEV-SNP: SNP_INIT_EX failed rc -5, error 0x3`,
  },
  {
    id: 'ccp-snp-df-flush-failed',
    seen: 'Ashish Kalra, "crypto: ccp: Move dev_info/err messages for SEV/SNP init and shutdown" (lore, v2+) and sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV-SNP: SNP_DF_FLUSH failed rc %d, error %#x\\n"',
    re: new RegExp(`^SEV-SNP: SNP_DF_FLUSH failed rc ${INT}, error ${HEX}$`),
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_init_locked',
    kernels: '≈v6.14+',
    mainline: ['v6.14', undefined],
    introduced: 'Ashish Kalra, ≈v6.14',
    sample: `${CCP}SEV-SNP: SNP_DF_FLUSH failed rc -5, error 0x3`,
  },
  {
    id: 'ccp-snp-requires-fw',
    seen: 'the AMD SNP host patch "crypto: ccp: Add support to initialize the AMD-SP for SEV-SNP" (AMDESE snp-host series, lore) (dev_err); sev-dev.c at torvalds/linux 0410c612 and sev-dev.c at ColinIanKing/linux-next 281a569a (dev_dbg)',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV-SNP support requires firmware version >= %d:%d\\n"',
    re: /^SEV-SNP support requires firmware version >= (\d{1,3}):(\d{1,3})$/,
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c (dev_err in the AMDESE snp-host patches; dev_dbg in mainline __sev_snp_init_locked)',
    kernels: 'AMDESE snp-host kernels always; mainline v6.11+ only with dynamic debug on',
    mainline: ['v6.11', undefined],
    others: ['AMDESE snp-host'],
    introduced: 'AMD snp-host patches; SNP_MIN_API 1.51',
    sample: `${CCP}SEV-SNP support requires firmware version >= 1:51`,
  },
  {
    id: 'ccp-snp-range-alloc-failed',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV: SNP_INIT_EX range list memory allocation failed\\n"',
    re: /^SEV: SNP_INIT_EX range list memory allocation failed$/,
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_init_locked',
    kernels: 'v6.11+',
    mainline: ['v6.11', undefined],
    introduced: 'the SNP host series, v6.11',
    sample: `${CCP}SEV: SNP_INIT_EX range list memory allocation failed`,
  },
  {
    id: 'ccp-snp-range-walk-failed',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'snp-init', outcome: 'failure',
    format: '"SEV: SNP_INIT_EX walk_iomem_res_desc failed rc = %d\\n"',
    re: new RegExp(`^SEV: SNP_INIT_EX walk_iomem_res_desc failed rc = ${INT}$`),
    fact: failed('snp-init'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_init_locked',
    kernels: 'v6.11+',
    mainline: ['v6.11', undefined],
    introduced: 'the SNP host series, v6.11',
    sample: `${CCP}SEV: SNP_INIT_EX walk_iomem_res_desc failed rc = -7`,
  },
  // ---- ccp: shutdown (module unload, kexec, panic): no bring-up check depends on it ----
  {
    id: 'ccp-shutdown-failed',
    seen: 'sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'shutdown', outcome: 'failure',
    format: '"SEV: failed to SHUTDOWN error %#x, rc %d\\n"',
    re: new RegExp(`^SEV: failed to SHUTDOWN error ${HEX}, rc ${INT}$`),
    fact: failed('shutdown'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_platform_shutdown_locked',
    kernels: '≈v6.14+ (linux-next)',
    mainline: ['v6.14', undefined],
    introduced: 'Ashish Kalra, ≈v6.14',
    sample: `${CCP}SEV: failed to SHUTDOWN error 0x3, rc -5`,
  },
  {
    id: 'ccp-snp-shutdown-failed-v611',
    seen: 'sev-dev.c at torvalds/linux 0410c612',
    source: 'ccp', step: 'shutdown', outcome: 'failure',
    format: '"SEV-SNP firmware shutdown failed\\n"',
    re: /^SEV-SNP firmware shutdown failed$/,
    fact: failed('shutdown'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_shutdown_locked',
    kernels: 'v6.11–≈v6.13 (0410c612)',
    mainline: ['v6.11', 'v6.13'],
    introduced: 'the SNP host series, v6.11',
    sample: `${CCP}SEV-SNP firmware shutdown failed`,
  },
  {
    id: 'ccp-snp-shutdown-failed',
    seen: 'sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'shutdown', outcome: 'failure',
    format: '"SEV-SNP firmware shutdown failed, rc %d, error %#x\\n"',
    re: new RegExp(`^SEV-SNP firmware shutdown failed, rc ${INT}, error ${HEX}$`),
    fact: failed('shutdown'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_shutdown_locked',
    kernels: '≈v6.14+ (linux-next)',
    mainline: ['v6.14', undefined],
    introduced: 'Ashish Kalra, ≈v6.14',
    sample: `${CCP}SEV-SNP firmware shutdown failed, rc -5, error 0x3`,
  },
  {
    id: 'ccp-snp-shutdown-dfflush-failed',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'shutdown', outcome: 'failure',
    format: '"SEV-SNP DF_FLUSH failed\\n" (v6.11); "SEV-SNP DF_FLUSH failed, ret = %d, error = %#x\\n" (≈v6.14+)',
    re: new RegExp(`^SEV-SNP DF_FLUSH failed(?:, ret = ${INT}, error = ${HEX})?$`),
    fact: failed('shutdown'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_shutdown_locked',
    kernels: 'v6.11+',
    mainline: ['v6.11', undefined],
    introduced: 'the SNP host series, v6.11',
    sample: `${CCP}SEV-SNP DF_FLUSH failed, ret = -5, error = 0x3`,
  },
  {
    id: 'ccp-snp-iommu-shutdown-failed',
    seen: 'sev-dev.c at torvalds/linux 0410c612; sev-dev.c at ColinIanKing/linux-next 281a569a',
    source: 'ccp', step: 'shutdown', outcome: 'failure',
    format: '"SNP IOMMU shutdown failed\\n"',
    re: /^SNP IOMMU shutdown failed$/,
    fact: failed('shutdown'),
    file: 'drivers/crypto/ccp/sev-dev.c __sev_snp_shutdown_locked',
    kernels: 'v6.11+',
    mainline: ['v6.11', undefined],
    introduced: 'the SNP host series, v6.11',
    sample: `${CCP}SNP IOMMU shutdown failed`,
  },
  // ---- kvm_amd (pr_fmt "kvm_amd: ") ----
  {
    id: 'kvm-sev-supported-v416',
    seen: 'arch/x86/kvm/svm.c sev_hardware_setup (a v5.x svm.c in the code index: printed after PLATFORM_STATUS answered, until the 2020 stable fix that dropped that query), svm/sev.c (v5.7–v5.10), and the SEV-ES patch replacing it with "SEV supported: %u ASIDs" (lore)',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV supported\\n"',
    re: /^SEV supported$/,
    fact: () => ({ kind: 'kvm', feature: 'SEV', state: 'enabled' }),
    file: 'arch/x86/kvm/svm.c sev_hardware_setup (v4.16–v5.6), arch/x86/kvm/svm/sev.c (v5.7–v5.10)',
    kernels: 'v4.16–v5.10',
    mainline: ['v4.16', 'v5.10'],
    others: ['RHEL 8 4.18', 'Ubuntu 20.04 (5.4)', 'Debian 11 (5.10)', 'SLES 15 SP2/SP3'],
    introduced: 'SEV host support in KVM, v4.16',
    removed: 'SEV-ES host support (ASID counts), v5.11',
    sample: 'kvm_amd: SEV supported',
  },
  {
    id: 'kvm-sev-supported-asids',
    seen: 'the SEV-ES host patch to svm/sev.c sev_hardware_setup (lore: pr_info("SEV supported: %u ASIDs\\n", max_sev_asid - min_sev_asid + 1)); pasted in coconut-svsm INSTALL.md',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV supported: %u ASIDs\\n"',
    re: /^SEV supported: (\d{1,6}) ASIDs$/,
    fact: () => ({ kind: 'kvm', feature: 'SEV', state: 'enabled' }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: 'v5.11–v6.4; AMDESE snp-host kernels',
    mainline: ['v5.11', 'v6.4'],
    others: ['AMDESE snp-host', 'RHEL 8 4.18 (8.4+)', 'RHEL 9 5.14', 'Ubuntu 22.04 (5.15)', 'Debian 12 (6.1)'],
    introduced: 'SEV-ES host support, v5.11',
    removed: '6d1bc9754b04 "KVM: SVM: enhance info printk\'s in SEV init" (2023-05-22), v6.5',
    sample: 'kvm_amd: SEV supported: 509 ASIDs',
  },
  {
    id: 'kvm-sev-es-supported-asids',
    seen: 'svm/sev.c before 6d1bc9754b04',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV-ES supported: %u ASIDs\\n"',
    re: /^SEV-ES supported: (\d{1,6}) ASIDs$/,
    fact: () => ({ kind: 'kvm', feature: 'SEV-ES', state: 'enabled' }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: 'v5.11–v6.4',
    mainline: ['v5.11', 'v6.4'],
    others: ['RHEL 8 4.18 (8.4+)', 'RHEL 9 5.14', 'Ubuntu 22.04 (5.15)', 'Debian 12 (6.1)'],
    introduced: 'SEV-ES host support, v5.11',
    removed: '6d1bc9754b04, v6.5',
    sample: 'kvm_amd: SEV-ES supported: 0 ASIDs',
  },
  {
    id: 'kvm-sev-es-snp-supported-amdese',
    seen: 'pasted in coconut-svsm INSTALL.md and a 6.5.0-rc2-snp-host README ("SEV-ES and SEV-SNP supported: 99 ASIDs")',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV-ES and SEV-SNP supported: %u ASIDs\\n"',
    re: /^SEV-ES and SEV-SNP supported: (\d{1,6}) ASIDs$/,
    fact: () => ({ kind: 'kvm', feature: 'SEV-ES', state: 'enabled', also: 'SEV-SNP' }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup (AMD SNP host patches)',
    kernels: 'AMDESE snp-host kernels (pasted in coconut-svsm INSTALL.md and a 6.5.0-rc2-snp-host README); never in a mainline release',
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches',
    sample: 'kvm_amd: SEV-ES and SEV-SNP supported: 127 ASIDs',
  },
  {
    id: 'kvm-sev-state',
    seen: 'svm/sev.c sev_hardware_setup in the SNP host and ciphertext-hiding patches (lore); Ashish Kalra\'s example "kvm_amd: SEV enabled (ASIDs 100 - 1006)"',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV %s (ASIDs %u - %u)\\n" with enabled / disabled / unusable',
    re: /^SEV (enabled|disabled|unusable) \(ASIDs (\d{1,6}) - (\d{1,6})\)$/,
    fact: (m) => ({ kind: 'kvm', feature: 'SEV', state: m[1] as 'enabled', asids: [n(m[2]), n(m[3])] }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: 'v6.5+ ("unusable" since 0aa6b90ef9d7, 2024)',
    mainline: ['v6.5', undefined],
    others: ['Ubuntu 24.04 (6.8)', 'Debian 13 (6.12)', 'RHEL 10 6.12'],
    introduced: '6d1bc9754b04 (v6.5)',
    sample: 'kvm_amd: SEV enabled (ASIDs 100 - 1006)',
  },
  {
    id: 'kvm-sev-es-state',
    seen: 'svm/sev.c sev_hardware_setup (lore); "kvm_amd: SEV-ES unusable (ASIDs 100 - 99)" quoted in review',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV-ES %s (ASIDs %u - %u)\\n"',
    re: /^SEV-ES (enabled|disabled|unusable) \(ASIDs (\d{1,6}) - (\d{1,6})\)$/,
    fact: (m) => ({ kind: 'kvm', feature: 'SEV-ES', state: m[1] as 'enabled', asids: [n(m[2]), n(m[3])] }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: 'v6.5+',
    mainline: ['v6.5', undefined],
    others: ['Ubuntu 24.04 (6.8)', 'Debian 13 (6.12)', 'RHEL 10 6.12'],
    introduced: '6d1bc9754b04 (v6.5)',
    sample: 'kvm_amd: SEV-ES unusable (ASIDs 1 - 0)',
  },
  {
    id: 'kvm-sev-snp-state',
    seen: 'svm/sev.c "KVM: SEV: Add initial SEV-SNP support" (lore, pr_info("SEV-SNP %s (ASIDs %u - %u)"))',
    source: 'kvm_amd', step: 'kvm', outcome: 'success',
    format: '"SEV-SNP %s (ASIDs %u - %u)\\n"',
    re: /^SEV-SNP (enabled|disabled|unusable) \(ASIDs (\d{1,6}) - (\d{1,6})\)$/,
    fact: (m) => ({ kind: 'kvm', feature: 'SEV-SNP', state: m[1] as 'enabled', asids: [n(m[2]), n(m[3])] }),
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: 'v6.11+',
    mainline: ['v6.11', undefined],
    others: ['Debian 13 (6.12)', 'RHEL 10 6.12'],
    introduced: 'KVM SNP host support, v6.11',
    sample: 'kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)',
  },
  {
    id: 'kvm-snp-ciphertext-hiding',
    seen: '"kvm_amd: SEV-SNP ciphertext hiding enabled" quoted in the ciphertext-hiding review (lore)',
    source: 'kvm_amd', step: 'kvm', outcome: 'info',
    format: '"SEV-SNP ciphertext hiding enabled\\n"',
    re: /^SEV-SNP ciphertext hiding enabled$/,
    fact: info,
    file: 'arch/x86/kvm/svm/sev.c sev_hardware_setup',
    kernels: '≈v6.18+',
    mainline: ['v6.18', undefined],
    introduced: 'the ciphertext-hiding series (Ashish Kalra), ≈v6.18',
    sample: 'kvm_amd: SEV-SNP ciphertext hiding enabled',
  },
  // ---- RMP (pr_fmt "SEV-SNP: ") ----
  {
    id: 'rmp-range',
    seen: 'arch/x86/virt/svm/sev.c snp_probe_rmptable_info (lore patches, "That\'s \\"RMP table physical range\\"" in review)',
    source: 'SEV-SNP', step: 'rmp', outcome: 'success',
    format: '"RMP table physical range [0x%016llx - 0x%016llx]\\n"',
    re: /^RMP table physical range \[0x([0-9a-f]{16}) - 0x([0-9a-f]{16})\]$/,
    fact: (m) => ({ kind: 'rmp-range', base: hex(m[1]), end: hex(m[2]) }),
    file: 'arch/x86/virt/svm/sev.c snp_probe_rmptable_info',
    kernels: '≈v6.9+ (the wording asked for in review of the host series)',
    mainline: ['v6.9', undefined],
    others: ['Ubuntu 24.04 HWE', 'Debian 13 (6.12)', 'RHEL 10 6.12'],
    introduced: 'x86 SNP host initialization (arch/x86/virt/svm/sev.c), ≈v6.9',
    sample: 'SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]',
  },
  {
    id: 'rmp-address-brackets-amdese',
    seen: 'AMDESE get_rmptable_info (code index); pasted in coconut-svsm INSTALL.md',
    source: 'SEV-SNP', step: 'rmp', outcome: 'success',
    format: '"RMP table physical address [0x%016llx - 0x%016llx]\\n"',
    re: /^RMP table physical address \[0x([0-9a-f]{16}) - 0x([0-9a-f]{16})\]$/,
    fact: (m) => ({ kind: 'rmp-range', base: hex(m[1]), end: hex(m[2]) }),
    file: 'arch/x86/kernel/sev.c get_rmptable_info (AMD SNP host patches)',
    kernels: 'AMDESE snp-host kernels (pasted in coconut-svsm INSTALL.md); the mainline review renamed it "range"',
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches (x86/sev: Add RMP entry lookup helpers / snp_rmptable_init)',
    sample: 'SEV-SNP: RMP table physical address [0x0000000064000000 - 0x00000000747fffff]',
  },
  {
    id: 'rmp-address-amdese-old',
    seen: "pasted from a 6.5.0-rc2-snp-host kernel (a user README) and by AMDSEV's snp component test output",
    source: 'SEV-SNP', step: 'rmp', outcome: 'success',
    format: '"RMP table physical address 0x%016llx - 0x%016llx\\n"',
    re: /^RMP table physical address 0x([0-9a-f]{16}) - 0x([0-9a-f]{16})$/,
    fact: (m) => ({ kind: 'rmp-range', base: hex(m[1]), end: hex(m[2]) }),
    file: 'arch/x86/kernel/sev.c (earlier AMD SNP host patches)',
    kernels: 'AMDESE snp-host kernels up to ≈6.5 (pasted from a 6.5.0-rc2-snp-host kernel and by AMDSEV\'s component test)',
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches (early)',
    sample: 'SEV-SNP: RMP table physical address 0x0000000035600000 - 0x0000000075bfffff',
  },
  {
    id: 'rmp-not-reserved',
    seen: 'AMDESE get_rmptable_info; arch/x86/virt/svm/sev.c snp_probe_rmptable_info (lore)',
    source: 'SEV-SNP', step: 'rmp', outcome: 'failure',
    format: '"Memory for the RMP table has not been reserved by BIOS\\n"',
    re: /^Memory for the RMP table has not been reserved by BIOS$/,
    fact: failed('rmp'),
    file: 'arch/x86/virt/svm/sev.c snp_probe_rmptable_info; arch/x86/kernel/sev.c get_rmptable_info (AMDESE)',
    kernels: '≈v6.9+ and AMDESE snp-host kernels',
    mainline: ['v6.9', undefined],
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches',
    sample: 'SEV-SNP: Memory for the RMP table has not been reserved by BIOS',
  },
  {
    id: 'rmp-not-cover',
    seen: 'AMDESE get_rmptable_info and the host series as posted (lore)',
    source: 'SEV-SNP', step: 'rmp', outcome: 'failure',
    format: '"Memory reserved for the RMP table does not cover full system RAM (expected 0x%llx got 0x%llx)\\n"',
    re: /^Memory reserved for the RMP table does not cover full system RAM \(expected 0x[0-9a-f]+ got 0x[0-9a-f]+\)$/,
    fact: failed('rmp'),
    file: 'arch/x86/kernel/sev.c get_rmptable_info (AMDESE), the host series as posted',
    kernels: 'AMDESE snp-host kernels; ≈v6.9–v6.10 mainline (dropped when the RMP covers only what the BIOS reserved)',
    mainline: ['v6.9', 'v6.10'],
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches',
    sample: 'SEV-SNP: Memory reserved for the RMP table does not cover full system RAM (expected 0x1f680000 got 0x10000000)',
  },
  {
    id: 'rmp-map-failed',
    seen: 'AMDESE __snp_rmptable_init and the host series as posted (lore)',
    source: 'SEV-SNP', step: 'rmp', outcome: 'failure',
    format: '"Failed to map RMP table addr 0x%llx size 0x%llx\\n"',
    re: /^Failed to map RMP table addr 0x[0-9a-f]+ size 0x[0-9a-f]+$/,
    fact: failed('rmp'),
    file: 'arch/x86/kernel/sev.c __snp_rmptable_init (AMDESE)',
    kernels: 'AMDESE snp-host kernels and the host series as posted; the merged mainline wording was not read (a shorter one is an unknown failure line: undecided)',
    others: ['AMDESE snp-host'],
    introduced: 'AMD SNP host patches',
    sample: 'SEV-SNP: Failed to map RMP table addr 0x64000000 size 0x10800000',
  },
  {
    id: 'rmp-config-invalid',
    seen: 'arch/x86/virt/svm/sev.c snp_probe_rmptable_info (lore, "RMP configuration not valid: base=%#llx, end=%#llx")',
    source: 'SEV-SNP', step: 'rmp', outcome: 'failure',
    format: '"RMP configuration not valid: base=%#llx, end=%#llx\\n"',
    re: /^RMP configuration not valid: base=(?:0|0x[0-9a-f]+), end=(?:0|0x[0-9a-f]+)$/,
    fact: failed('rmp'),
    file: 'arch/x86/virt/svm/sev.c snp_probe_rmptable_info',
    kernels: '≈v6.10+',
    mainline: ['v6.10', undefined],
    introduced: 'RMP_ADDR_MASK checks in snp_probe_rmptable_info, ≈v6.10',
    sample: 'SEV-SNP: RMP configuration not valid: base=0xa8f00000, end=0x88900000',
  },
  // ---- the memory-encryption banner (arch/x86/mm/mem_encrypt.c, no pr_fmt) ----
  {
    id: 'memenc-sme-active-v414',
    seen: 'mem_encrypt_init, removed in Joerg Roedel\'s "x86/sev-es: Print SEV-ES info into kernel log" (lore)',
    source: 'mem_encrypt', step: 'memenc', outcome: 'success',
    format: '"AMD %s active\\n" with "Secure Memory Encryption (SME)"',
    re: /^AMD Secure Memory Encryption \(SME\) active$/,
    fact: () => ({ kind: 'memenc', vendor: 'AMD', features: ['SME'] }),
    file: 'arch/x86/mm/mem_encrypt.c mem_encrypt_init',
    kernels: 'v4.14–v5.9',
    mainline: ['v4.16', 'v5.9'],
    others: ['RHEL 8 4.18', 'Ubuntu 20.04 (5.4)', 'SLES 15 SP1/SP2'],
    introduced: 'SME support, v4.14',
    removed: 'Joerg Roedel, "x86/sev-es: Print SEV-ES info into kernel log", v5.10',
    sample: 'AMD Secure Memory Encryption (SME) active',
  },
  {
    id: 'memenc-sev-active-v416',
    seen: "mem_encrypt_init, removed in Joerg Roedel's patch (lore)",
    source: 'mem_encrypt', step: 'memenc', outcome: 'success',
    format: '"AMD %s active\\n" with "Secure Encrypted Virtualization (SEV)" (a guest)',
    re: /^AMD Secure Encrypted Virtualization \(SEV\) active$/,
    fact: () => ({ kind: 'memenc', vendor: 'AMD', features: ['SEV'] }),
    file: 'arch/x86/mm/mem_encrypt.c mem_encrypt_init',
    kernels: 'v4.16–v5.9 (SEV guests)',
    mainline: ['v4.16', 'v5.9'],
    others: ['RHEL 8 4.18'],
    introduced: 'SEV guest support, v4.16',
    removed: 'v5.10 (the feature list)',
    sample: 'AMD Secure Encrypted Virtualization (SEV) active',
  },
  {
    id: 'memenc-features-v510',
    seen: 'print_mem_encrypt_feature_info as added by Joerg Roedel (lore) and in a v5.15-era mem_encrypt.c (code index)',
    source: 'mem_encrypt', step: 'memenc', outcome: 'success',
    format: '"AMD Memory Encryption Features active:" then pr_cont " SME" | " SEV" " SEV-ES" (" SEV-SNP" from v5.19)',
    re: /^AMD Memory Encryption Features active:((?: (?:SME|SEV|SEV-ES|SEV-SNP))*)$/,
    fact: (m) => ({ kind: 'memenc', vendor: 'AMD', features: (m[1] ?? '').trim().split(' ').filter(Boolean) }),
    file: 'arch/x86/mm/mem_encrypt.c print_mem_encrypt_feature_info',
    kernels: 'v5.10–≈v5.19 (" SEV-SNP" with SNP guest support, v5.19)',
    mainline: ['v5.10', 'v5.19'],
    others: ['RHEL 9 5.14', 'Ubuntu 22.04 (5.15)', 'Debian 11 (5.10)', 'SLES 15 SP4/SP5'],
    introduced: 'Joerg Roedel, "x86/sev-es: Print SEV-ES info into kernel log", v5.10',
    removed: 'the Intel TDX guest change ("Memory Encryption Features active:" + " AMD"/" Intel TDX"), ≈v6.0',
    sample: 'AMD Memory Encryption Features active: SME',
  },
  {
    id: 'memenc-features-v60',
    seen: 'print_mem_encrypt_feature_info after the TDX change and Kirill Shutemov\'s cc_vendor switch (lore); pasted "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP" in many guest logs',
    source: 'mem_encrypt', step: 'memenc', outcome: 'success',
    format: '"Memory Encryption Features active:" then " AMD" and " SME" | " SEV" " SEV-ES" " SEV-SNP", or " Intel TDX"',
    re: /^Memory Encryption Features active: (AMD|Intel TDX)((?: (?:SME|SEV|SEV-ES|SEV-SNP))*)$/,
    fact: (m) => ({ kind: 'memenc', vendor: m[1] === 'AMD' ? 'AMD' : 'Intel', features: (m[2] ?? '').trim().split(' ').filter(Boolean) }),
    file: 'arch/x86/mm/mem_encrypt.c print_mem_encrypt_feature_info',
    kernels: '≈v6.0 to today (the output is unchanged by the 2024 cc_vendor switch)',
    mainline: ['v6.0', undefined],
    others: ['Ubuntu 24.04 (6.8)', 'Debian 12 (6.1)', 'Debian 13 (6.12)', 'RHEL 10 6.12'],
    introduced: 'Intel TDX guest support, ≈v6.0',
    sample: 'Memory Encryption Features active: AMD SME',
  },
];

/** The prefix each source's lines carry in the log (dev_* prints "<driver> <device>: "). */
export const PREFIX: Record<WordingSource, RegExp> = {
  ccp: /\bccp [0-9A-Fa-f]{4}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]: (.*)$/,
  kvm_amd: /\bkvm_amd: (.*)$/,
  'SEV-SNP': /\bSEV-SNP: (.*)$/,
  mem_encrypt: /\b((?:AMD )?Memory Encryption Features active:.*|AMD Secure (?:Memory Encryption \(SME\)|Encrypted Virtualization \(SEV\)) active.*)$/,
};

/**
 * A line the table does not know reads like a failure when it says so in one of these words
 * (issue 18: fail, error, not enabled, requires, disabled, unable, and their kin).
 */
export const FAILURE_WORDS = /\b(?:fail(?:s|ed|ure)?|errors?|not enabled|requires?|disabled|unable|unusable|timed out|timeout|not supported|unsupported|invalid|not valid|not been reserved|does not|cannot|can't|broken|denied)\b/i;
