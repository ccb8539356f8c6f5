/**
 * Capability-probing rules: typed facts from libvirt, QEMU and the CPU in, Verdict out. No I/O.
 *
 * Sources:
 * - libvirt docs/formatdomaincaps.rst "SEV capabilities" (<sev supported>, cbitpos,
 *   reducedPhysBits, maxGuests, maxESGuests) and docs/kbase/launch_security_sev.rst ("Enabling
 *   SEV on the host": kvm_amd sev=1, mem_encrypt=on; "virsh domcapabilities" shows <sev>; after
 *   enabling, libvirt's capabilities cache must be refreshed).
 * - libvirt tests/domaincapsdata/qemu_10.0.0-q35.x86_64+amdsev.xml: SNP is the `sev-snp` value
 *   of <launchSecurity><enum name='sectype'> (libvirt ≥ 10.5 with QEMU ≥ 9.1's sev-snp-guest).
 * - QEMU target/i386/sev.c sev_get_capabilities() (7.x–9.x): GenericError "KVM not enabled"
 *   without the KVM accelerator, "SEV is not enabled in KVM" when KVM_MEMORY_ENCRYPT_OP is refused
 *   (kvm_amd without SEV), "…Failed to open /dev/sev: <strerror>" (error_setg_errno) when the
 *   SEV device cannot be opened by QEMU's user; "SEV is not available in this QEMU" from the stub
 *   of a QEMU built without CONFIG_SEV (target/i386/sev-sysemu-stub.c).
 * - SEV chain: support/sev/sev-cert.ts (SEV API spec Appendix C; PDH ← PEK ← (OCA, CEK) ← ASK ← ARK).
 * - Cross-layer rules: support/sev/consistency.ts.
 */
import { passed, failed, undecided, type Verdict } from '../verdict.js';
import type { EncryptedMemoryCaps } from '../sev/cpuid.js';
import type { DomainCapabilities } from '../parsers/domcaps.js';
import type { QmpProbeContext, SevCapabilities } from '../qemu/qemu-probe.js';
import type { CapsCacheFact, ChainCheck, ChainSource, LiveSevState, NodeSevInfoFact, QmpAnswer } from '../probes/caps.js';
import type { Disagreement } from '../sev/consistency.js';
import type { LinkResult } from '../sev/sev-cert.js';
import { known, type Fact } from '../facts.js';
import { leafAbsence } from './host.js';

export const CACHE_FIX =
  "clear libvirt's capabilities cache: rm -f /var/cache/libvirt/qemu/capabilities/*.xml && systemctl restart libvirtd (or virtqemud on modular daemons)";
const SEV_KVM_FIX = `enable SEV in KVM: boot with mem_encrypt=on kvm_amd.sev=1 (or echo "options kvm_amd sev=1" > /etc/modprobe.d/sev.conf and reload kvm_amd), then ${CACHE_FIX}`;
const CPUID = 'CPUID 0x8000001F EBX[5:0]';

function qemuWho(ctx: QmpProbeContext | undefined): string {
  if (!ctx) return '';
  return ` (QEMU ${ctx.qemu}, run as ${ctx.ranAs}${ctx.stderr ? `; QEMU stderr: ${ctx.stderr}` : ''})`;
}

function domcapsSource(dc: DomainCapabilities): string {
  return dc.source;
}

/** What else is known when libvirt says no: picks the fix that applies. */
export interface DomcapsContext {
  readonly kvmSev?: boolean | undefined;
  readonly qmp?: QmpAnswer<SevCapabilities> | undefined;
}

function notSupportedFix(ctx: DomcapsContext): string {
  const q = ctx.qmp;
  if (q && !q.ok && /Failed to open/.test(q.error.desc)) {
    const v = qmpSevCapabilities(q);
    return `libvirt probes QEMU as its QEMU user, which gets "${q.error.desc}": ${v.status === 'failed' ? v.fix : v.message}; then ${CACHE_FIX}`;
  }
  if (q?.ok || ctx.kvmSev === true) return `SEV is enabled in KVM${q?.ok ? ' and QEMU answers query-sev-capabilities' : ''}, so libvirt's view is stale: ${CACHE_FIX}`;
  return SEV_KVM_FIX;
}

/** caps.domcaps.sev-supported */
export async function domcapsSevSupported(dc: DomainCapabilities, context: Fact<DomcapsContext> = known({})): Promise<Verdict> {
  const src = domcapsSource(dc);
  const expected = "<sev supported='yes'> with <cbitpos> and <reducedPhysBits>";
  if (!dc.sev) {
    return failed(`${src} has no <sev> element${dc.machine ? ` (machine ${dc.machine})` : ''}`, expected,
      `use libvirt ≥ 4.5 with a QEMU that has the sev-guest object (qemu-system-x86_64 -object help lists sev-guest), then ${CACHE_FIX}`);
  }
  if (!dc.sev.supported) {
    // KVM's and QEMU's view only pick the fix: asked for only here (the QMP probe starts a QEMU)
    return failed(`${src} reports <sev supported='no'>`, expected, notSupportedFix(await context()));
  }
  const missing = [dc.sev.cbitpos === undefined ? '<cbitpos>' : '', dc.sev.reducedPhysBits === undefined ? '<reducedPhysBits>' : ''].filter(Boolean);
  if (missing.length) return failed(`${src} reports <sev supported='yes'> without ${missing.join(' and ')}`, expected, `update libvirt, then ${CACHE_FIX}`);
  const counts = dc.sev.maxGuests !== undefined ? `, maxGuests ${dc.sev.maxGuests}, maxESGuests ${dc.sev.maxESGuests ?? '?'}` : '';
  return passed(`${src}: <sev supported='yes'> with cbitpos ${dc.sev.cbitpos}, reducedPhysBits ${dc.sev.reducedPhysBits}${counts}`);
}

/** caps.domcaps.cbitpos-matches-cpuid */
export async function domcapsCbitpos(dc: DomainCapabilities, cpuidFact: Fact<EncryptedMemoryCaps>): Promise<Verdict> {
  const src = domcapsSource(dc);
  if (!dc.sev?.supported || dc.sev.cbitpos === undefined) {
    return undecided(`${src} gives no SEV cbitpos to compare (${dc.sev ? "<sev supported='no'>" : 'no <sev> element'}; see caps.domcaps.sev-supported)`);
  }
  const cpuid = await cpuidFact();
  const absent = leafAbsence(cpuid);
  if (absent !== undefined) {
    return failed(`${src} <cbitpos>${dc.sev.cbitpos}</cbitpos>, but ${absent}`, "libvirt's cbitpos to equal the CPU's C-bit position", `libvirt describes another CPU: ${CACHE_FIX}`);
  }
  if (dc.sev.cbitpos === cpuid.cbitpos) return passed(`${src} <cbitpos>${dc.sev.cbitpos}</cbitpos> equals ${CPUID} = ${cpuid.cbitpos}`);
  return failed(
    `${src} <cbitpos>${dc.sev.cbitpos}</cbitpos> but ${CPUID} = ${cpuid.cbitpos}`,
    `libvirt's cbitpos to equal the CPU's C-bit position`,
    `libvirt describes another CPU (a cache copied from another host or written before a CPU/BIOS change): ${CACHE_FIX}`,
  );
}

/** caps.domcaps.sev-snp-supported */
export function domcapsSnp(dc: DomainCapabilities): Verdict {
  const src = domcapsSource(dc);
  const expected = "<launchSecurity supported='yes'> listing the sectype sev-snp";
  if (!dc.launchSecurity) {
    return failed(`${src} has no <launchSecurity> element: this libvirt does not report SEV-SNP`, expected,
      `SEV-SNP guests need libvirt ≥ 10.5 and QEMU ≥ 9.1: upgrade both, then ${CACHE_FIX}`);
  }
  if (dc.snpSupported) return passed(`${src}: <launchSecurity supported='yes'> with sectypes ${dc.launchSecurity.sectypes.join(', ')}`);
  return failed(
    `${src}: <launchSecurity supported='${dc.launchSecurity.supported ? 'yes' : 'no'}'> with sectypes ${dc.launchSecurity.sectypes.join(', ') || '(none)'}`,
    expected,
    `enable SEV-SNP in KVM (kvm_amd sev_snp=1, needs SNP enabled in the BIOS and SNP firmware), use QEMU ≥ 9.1, then ${CACHE_FIX}`,
  );
}

/** caps.qmp.sev-capabilities */
export function qmpSevCapabilities(a: QmpAnswer<SevCapabilities>): Verdict {
  if (a.ok) {
    const v = a.value;
    return passed(
      `QMP query-sev-capabilities${a.context ? ` from QEMU ${a.context.qemu}` : ''} returns cbitpos ${v.cbitpos}, reduced-phys-bits ${v.reducedPhysBits}, pdh (${v.pdh.length} base64 chars) and cert-chain (${v.certChain.length} base64 chars)${v.cpu0Id ? ', cpu0-id' : ''}`,
    );
  }
  const { class: cls, desc } = a.error;
  const found = `QMP query-sev-capabilities answered ${cls} "${desc}"${qemuWho(a.context)}`;
  const expected = 'a return with pdh, cert-chain, cbitpos and reduced-phys-bits';
  if (desc === 'KVM not enabled') {
    if (a.context && !a.context.asLibvirtUser) {
      return undecided(
        `${found}: the probe QEMU could not use KVM as that user, so SEV could not be asked; run sevcheck as root on a host where libvirt's QEMU user exists (QEMU is then probed as that user, like libvirt does)`,
      );
    }
    return failed(found, expected,
      "let QEMU's user open /dev/kvm read-write: load kvm_amd (modprobe kvm_amd), and make /dev/kvm group kvm mode 0660 with that user in group kvm (usermod -aG kvm <qemu user>)");
  }
  if (desc === 'SEV is not enabled in KVM') return failed(found, expected, SEV_KVM_FIX);
  const open = /Failed to open '?(\/[^\s:']+)/.exec(desc);
  if (open) {
    const dev = open[1] as string;
    if (/No such file/i.test(desc)) {
      return failed(found, expected, `make the SEV firmware device ${dev} appear: load the PSP driver (modprobe ccp), check dmesg for "SEV API" firmware initialisation errors, enable SEV in the BIOS`);
    }
    return failed(found, expected,
      `give QEMU's user read-write access to ${dev}: e.g. /etc/udev/rules.d/60-sev.rules with KERNEL=="sev", GROUP="kvm", MODE="0660", then udevadm control --reload && udevadm trigger (libvirt copies the node's owner and mode into each guest's /dev)`);
  }
  if (/not available in this QEMU/i.test(desc)) {
    return failed(found, expected, 'install a QEMU built with SEV support (CONFIG_SEV; x86_64 builds of QEMU ≥ 2.12 from the distribution have it)');
  }
  return failed(found, expected, 'check dmesg for ccp/SEV firmware errors and kvm_amd messages; QEMU target/i386/sev.c names this error');
}

/** caps.qmp.cbitpos-matches-cpuid */
export async function qmpCbitpos(a: QmpAnswer<SevCapabilities>, cpuidFact: Fact<EncryptedMemoryCaps>): Promise<Verdict> {
  if (!a.ok) return undecided(`QEMU gave no cbitpos: query-sev-capabilities answered ${a.error.class} "${a.error.desc}" (see caps.qmp.sev-capabilities)`);
  const cpuid = await cpuidFact();
  const absent = leafAbsence(cpuid);
  if (absent !== undefined) {
    return failed(`QMP query-sev-capabilities cbitpos ${a.value.cbitpos}${qemuWho(a.context)}, but ${absent}`, "QEMU to report the CPU's C-bit position", 'the answering QEMU runs on another CPU (nested, or a wrapper script): probe the host\'s own QEMU');
  }
  if (a.value.cbitpos === cpuid.cbitpos) return passed(`QMP query-sev-capabilities cbitpos ${a.value.cbitpos} equals ${CPUID} = ${cpuid.cbitpos}`);
  return failed(
    `QMP query-sev-capabilities cbitpos ${a.value.cbitpos}${qemuWho(a.context)} but ${CPUID} = ${cpuid.cbitpos}`,
    'QEMU to report the CPU\'s C-bit position (QEMU reads it from CPUID itself, target/i386/sev.c)',
    'the answering QEMU runs on another CPU (nested, or a wrapper script for qemu-system-x86_64): probe the host\'s own QEMU and update it',
  );
}

// --- caps.cache.fresh --------------------------------------------------------------------------

/** Is SEV usable now, by the best evidence? undefined: no evidence either way. */
function liveSev(live: LiveSevState): { on: boolean; why: string } | undefined {
  if (live.qmp?.ok) return { on: true, why: 'QEMU answers query-sev-capabilities now' };
  // any other answer from QEMU as libvirt's user: libvirt's own probe gets the same refusal
  if (live.qmp && !live.qmp.ok) return { on: false, why: `QEMU answers query-sev-capabilities with "${live.qmp.error.desc}" now` };
  if (live.kvmSev === true) return { on: true, why: `${live.kvmSevSource} is enabled` };
  if (live.kvmSev === false) return { on: false, why: `${live.kvmSevSource} is disabled` };
  return undefined;
}

/** caps.cache.fresh: `agreement` are the disagreements tagged caps.cache.fresh (consistency.ts). */
export function cacheFresh(cache: CapsCacheFact | undefined, live: LiveSevState, agreement: readonly Disagreement[]): Verdict {
  if (!cache) {
    return undecided('/var/cache/libvirt/qemu/capabilities does not exist: libvirt has not cached QEMU capabilities here (libvirt not installed or never started)');
  }
  const x86 = cache.files.filter((f) => f.cache && (f.cache.arch === 'x86_64' || /x86_64/.test(f.cache.emulator)));
  if (x86.length === 0) {
    const problems = cache.files.filter((f) => f.problem).map((f) => f.problem);
    return undecided(`no readable x86_64 QEMU capabilities in ${cache.dir}${problems.length ? `: ${problems.join('; ')}` : ' (no *.xml files)'}`);
  }
  const now = liveSev(live);
  const stale: string[] = [];
  for (const f of x86) {
    const c = f.cache!;
    if (now?.on && !c.sev) stale.push(`${f.path} has no <sev> (cached before SEV was enabled) although ${now.why}`);
    if (now && !now.on && c.sev) stale.push(`${f.path} still holds <sev> (cbitpos ${c.sev.cbitpos}) although ${now.why}`);
  }
  for (const d of agreement) stale.push(`${d.fact}: ${d.a.value} (${d.a.source}) vs ${d.b.value} (${d.b.source}) — ${d.why}`);
  if (stale.length) return failed(stale.join('; '), "libvirt's cached QEMU capabilities to describe the host as it is now", CACHE_FIX);
  if (!now) return undecided(`cannot tell whether ${x86.map((f) => f.path).join(', ')} is current: neither kvm_amd's sev parameter nor QEMU could be read`);
  return passed(`${x86.length} cached x86_64 capability file(s) agree with the host (${now.why}; cache ${x86[0]!.cache!.sev ? `has <sev> cbitpos ${x86[0]!.cache!.sev.cbitpos}` : 'has no <sev>'})`);
}

/** caps.layers.agree: every disagreement between layers (those another check owns too: one cause, named in both). */
export function layersAgree(disagreements: readonly Disagreement[], compared: readonly string[]): Verdict {
  if (disagreements.length === 0) {
    const upper = compared.filter((l) => l !== 'kvm_amd' && l !== 'CPUID');
    if (upper.length === 0) {
      return undecided(`neither QEMU nor libvirt gave SEV facts to compare with ${compared.join(' and ') || 'the CPU'} (see caps.qmp.sev-capabilities and caps.domcaps.sev-supported)`);
    }
    return passed(`${compared.join(', ')} agree on SEV`);
  }
  const lines = disagreements.map((d) => `${d.fact}: ${d.a.value} (${d.a.source}) vs ${d.b.value} (${d.b.source}) — ${d.why}`);
  return failed(lines.join('; '), `${compared.join(', ')} to agree`, `bring the layers in line (see each disagreement); when libvirt is the odd one out: ${CACHE_FIX}`);
}

// --- caps.pdh.chain-valid ----------------------------------------------------------------------

/** Where the PDH/cert chain comes from: QMP, else virsh nodesevinfo; or why there is none. */
export async function chainSource(qmp: QmpAnswer<SevCapabilities> | { error: string }, nodeFact: Fact<NodeSevInfoFact>): Promise<ChainSource | { none: string }> {
  if ('ok' in qmp && qmp.ok) return { from: 'QMP query-sev-capabilities', pdh: qmp.value.pdh, certChain: qmp.value.certChain };
  // virsh nodesevinfo is asked only when QEMU gave no chain
  const node = await nodeFact();
  if (node.ok && node.info.pdh && node.info.certChain) return { from: 'virsh nodesevinfo', pdh: node.info.pdh, certChain: node.info.certChain };
  const q = 'ok' in qmp ? `QMP query-sev-capabilities answered ${qmp.error.class} "${qmp.error.desc}"` : `QMP could not be asked (${qmp.error})`;
  const n = node.ok ? 'virsh nodesevinfo has no pdh/cert-chain' : `virsh nodesevinfo: ${node.error}`;
  return { none: `no PDH/cert chain to verify: ${q}; ${n}` };
}

const broken = (links: readonly LinkResult[]): string =>
  links.filter((l) => !l.ok).map((l) => `${l.subject} ← ${l.issuer}: ${l.detail}`).join('; ');

/** caps.pdh.chain-valid */
export function chainValid(c: ChainCheck | { none: string }): Verdict {
  if ('none' in c) return undecided(c.none);
  const expected = 'PDH ← PEK ← (OCA, CEK) ← ASK ← ARK, every signature valid and the ARK AMD\'s pinned root';
  switch (c.kind) {
    case 'malformed':
      return failed(`the PDH/cert chain from ${c.from} does not parse: ${c.problem}`, expected,
        'the platform exported a damaged chain: check the SEV firmware (dmesg), regenerate the PDH (sevctl generate / PDH_GEN after a platform reset), then restart libvirtd');
    case 'platform-broken':
      return failed(`the platform chain from ${c.from} is broken: ${broken(c.links)}`, expected,
        'the PEK/PDH on this platform are not consistent: re-export them (sevctl export), or reset the platform (sevctl reset) and restart libvirtd');
    case 'no-roots':
      return undecided(
        `the platform part of the chain from ${c.from} (PDH ← PEK ← OCA, PEK ← CEK) verifies, but AMD's ASK/ARK are not available (${c.rootSource}): ${c.reasons.join('; ')}. Give sevcheck --amd-certs DIR with ask_ark_<generation>.cert from https://developer.amd.com/sev (offline hosts), or let it fetch them (live hosts do unless --no-kds)`,
      );
    case 'verified':
      return passed(`the chain from ${c.from} verifies: PDH ← PEK ← (OCA, CEK) ← ASK ← ARK, and the ARK is AMD's pinned ${c.generation} root (from ${c.rootSource})`);
    case 'not-amd-signed':
      return failed(
        `the chain from ${c.from} does not lead to an AMD root: ${c.tried.map((t) => `${t.gen}: ${broken(t.links)}`).join(' | ')}`,
        expected,
        "the CEK is not signed by AMD's ASK for any generation tried: the chain is forged, corrupted, or from a pre-production part; fetch the CEK again (sevctl export --full) and compare with https://kdsintf.amd.com/cek/id/<chip id>",
      );
  }
}
