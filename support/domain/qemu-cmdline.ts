/**
 * QEMU command lines: parse an argv (NUL-separated /proc/<pid>/cmdline, or a text file of
 * shell-quoted arguments such as Proxmox's `qm showcmd` / test/cfg2cmd/*.cmd), pull out the SEV
 * object, the machine, firmware and virtio devices, and apply the domain.* rules to them.
 *
 * Sources: QEMU docs/system/i386/amd-memory-encryption.rst (sev-guest / sev-snp-guest objects,
 * -machine confidential-guest-support); QEMU target/i386/sev.c (DEFAULT_GUEST_POLICY 0x1,
 * DEFAULT_SEV_SNP_POLICY 0x30000); QEMU hw/core/machine.c machine_run_board_init (with
 * confidential-guest-support, virtio devices default to iommu_platform=on, QEMU >= 6.0).
 */
import { InputError } from '../errors.js';
import { parseCIntPolicy } from '../sev/policy.js';
import { failed, failedBecause, passed, undecided, undecidedBecause, type Verdict } from '../verdict.js';
import { compareCbit, firmwareChoice, unknownHostCbit, isI440fx, isQ35, judgePolicy, looksLikeOvmf, policyHex, type HostSevFacts } from './rules.js';

export type Props = Record<string, string>;

export interface QemuSevObject {
  readonly qomType: 'sev-guest' | 'sev-snp-guest';
  readonly id?: string | undefined;
  readonly props: Props;
}

export interface QemuDevice {
  readonly driver: string;
  readonly props: Props;
  /** where it came from: "-device virtio-net-pci,..." */
  readonly arg: string;
}

export interface QemuCmdline {
  readonly source: string;
  readonly argv: readonly string[];
  readonly sevObjects: readonly QemuSevObject[];
  readonly machine: Props;
  readonly bios?: string | undefined;
  /** firmware images given as pflash (-drive if=pflash / -blockdev node for -machine pflash0=) */
  readonly pflash: readonly string[];
  readonly devices: readonly QemuDevice[];
  /** -m in MiB when stated */
  readonly memoryMiB?: number | undefined;
  readonly memLock: boolean;
  readonly incoming: boolean;
}

/**
 * The largest command line a process can have: execve(2) takes at most min(RLIMIT_STACK / 4,
 * _STK_LIM / 4 * 3) bytes of argv + envp strings, _STK_LIM being 8 MiB (Linux fs/exec.c
 * bprm_stack_limits(), since "exec: Limit arg stack to at most 75% of _STK_LIM", da029c11e6b1;
 * include/uapi/linux/resource.h _STK_LIM). Anything longer is not a QEMU command line, and
 * parsing it would cost seconds and gigabytes (a 50 MB file: 6.8 s, 1.9 GB).
 */
export const QEMU_CMDLINE_MAX_BYTES = 6 * 1024 * 1024;

/** Turn raw bytes into argv: NUL-separated if any NUL is present, else shell-like words. */
export function splitCmdline(input: string | Buffer, source: string): string[] {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > QEMU_CMDLINE_MAX_BYTES) {
    throw new InputError(source, `${size} bytes, over the ${QEMU_CMDLINE_MAX_BYTES}-byte limit of a process's arguments (Linux execve): not a QEMU command line`);
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.trim() === '') throw new InputError(source, 'empty command line');
  if (text.includes('\u0000')) return text.split('\u0000').filter((s, i, a) => !(s === '' && i === a.length - 1));
  return shellWords(text, source);
}

/** POSIX-shell-like word splitting: '...', "...", backslash escapes and line continuations, # comments. */
export function shellWords(text: string, source: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (c === '\\') {
      const n = text[i + 1];
      if (n === '\n') {
        line++;
        i += 2;
        continue;
      }
      if (n === undefined) throw new InputError(source, `line ${line}: trailing backslash`);
      cur += n;
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new InputError(source, `line ${line}: unterminated single quote`);
      cur += text.slice(i + 1, end);
      line += text.slice(i + 1, end).split('\n').length - 1;
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new InputError(source, `line ${line}: unterminated double quote`);
        const d = text[j]!;
        if (d === '"') break;
        if (d === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) {
          if (text[j + 1] !== '\n') cur += text[j + 1];
          j += 2;
          continue;
        }
        if (d === '\n') line++;
        cur += d;
        j++;
      }
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * QEMU keyval/QemuOpts syntax: "a=b,c=d", ",," is a literal comma, a first item without '=' is
 * the implied key (qom-type for -object, type for -machine, driver for -device).
 */
export function parseKeyval(s: string, impliedKey?: string): Props {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',') {
      if (s[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += s[i];
  }
  parts.push(cur);
  const out: Props = {};
  parts.forEach((p, idx) => {
    if (p === '') return;
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (idx === 0 && impliedKey) out[impliedKey] = p;
      else out[p] = 'on';
      return;
    }
    out[p.slice(0, eq)] = p.slice(eq + 1);
  });
  return out;
}

function jsonProps(s: string, source: string, opt: string): Props {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw new InputError(source, `${opt} ${s.slice(0, 60)}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(source, `${opt}: JSON is not an object`);
  const out: Props = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[k] = typeof x === 'string' ? x : typeof x === 'boolean' ? (x ? 'on' : 'off') : JSON.stringify(x);
  }
  return out;
}

/** Options that take an argument (enough of QEMU's table to walk an argv correctly). */
const NO_ARG = new Set([
  '-no-shutdown', '-daemonize', '-nodefaults', '-enable-kvm', '-no-reboot', '-S', '-nographic',
  '-no-user-config', '-no-hpet', '-no-acpi', '-snapshot', '-full-screen', '-version', '-help',
]);

export function parseQemuArgv(argv: readonly string[], source: string): QemuCmdline {
  if (argv.length === 0) throw new InputError(source, 'empty command line');
  const sevObjects: QemuSevObject[] = [];
  const devices: QemuDevice[] = [];
  const pflash: string[] = [];
  const blockdevFiles = new Map<string, string>();
  let machine: Props = {};
  let bios: string | undefined;
  let memoryMiB: number | undefined;
  let memLock = false;
  let incoming = false;
  let i = argv[0]!.startsWith('-') ? 0 : 1;
  let sawOption = false;
  for (; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-')) {
      throw new InputError(source, `argument ${i} '${raw.slice(0, 60)}' is not an option (QEMU argv expected)`);
    }
    sawOption = true;
    const opt = raw.startsWith('--') ? raw.slice(1) : raw;
    if (NO_ARG.has(opt)) continue;
    const val = argv[i + 1];
    if (val === undefined) throw new InputError(source, `${opt} at the end of the command line has no argument`);
    i++;
    const kv = (implied: string): Props => (val.trimStart().startsWith('{') ? jsonProps(val, source, opt) : parseKeyval(val, implied));
    switch (opt) {
      case '-object': {
        const p = kv('qom-type');
        const t = p['qom-type'];
        if (t === 'sev-guest' || t === 'sev-snp-guest') sevObjects.push({ qomType: t, id: p['id'], props: p });
        break;
      }
      case '-machine':
      case '-M':
        machine = { ...machine, ...kv('type') };
        break;
      case '-bios':
        bios = val;
        break;
      case '-drive': {
        const p = kv('file');
        if (p['if'] === 'pflash' && p['file']) pflash.push(p['file']);
        if (p['if'] === 'virtio') devices.push({ driver: 'virtio-blk-pci', props: p, arg: `-drive ${val}` });
        break;
      }
      case '-blockdev': {
        const p = kv('driver');
        const node = p['node-name'];
        const file = p['filename'] ?? fileFromJson(p['file']);
        if (node && file) blockdevFiles.set(node, file);
        break;
      }
      case '-device': {
        const p = kv('driver');
        devices.push({ driver: p['driver'] ?? '', props: p, arg: `-device ${val}` });
        break;
      }
      case '-m': {
        const p = parseKeyval(val, 'size');
        memoryMiB = sizeToMiB(p['size'] ?? '', source);
        break;
      }
      case '-overcommit':
        if (parseKeyval(val)['mem-lock'] === 'on') memLock = true;
        break;
      case '-realtime':
        if (parseKeyval(val)['mlock'] === 'on') memLock = true;
        break;
      case '-incoming':
        incoming = true;
        break;
      default:
        break;
    }
  }
  if (!sawOption) throw new InputError(source, 'no QEMU options found');
  for (const k of ['pflash0', 'pflash1']) {
    const node = machine[k];
    if (node) pflash.push(blockdevFiles.get(node) ?? node);
  }
  return { source, argv, sevObjects, machine, bios, pflash, devices, memoryMiB, memLock, incoming };
}

function fileFromJson(s: string | undefined): string | undefined {
  if (!s || !s.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(s) as { filename?: unknown };
    return typeof v.filename === 'string' ? v.filename : undefined;
  } catch {
    return undefined;
  }
}

/** -m size: plain number = MiB; suffixes K, M, G, T (powers of 1024). */
function sizeToMiB(s: string, source: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)[bB]?$/.exec(s.trim());
  if (!m) throw new InputError(source, `-m '${s}' is not a memory size`);
  const n = Number(m[1]);
  const mul: Record<string, number> = { '': 1, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Math.ceil(n * mul[m[2]!.toLowerCase()]!);
}

export function parseQemuCmdline(input: string | Buffer, source: string): QemuCmdline {
  return parseQemuArgv(splitCmdline(input, source), source);
}

// --- rules --------------------------------------------------------------------------------------

const QEMU_DOC = 'QEMU docs/system/i386/amd-memory-encryption.rst';

function cgsId(q: QemuCmdline): string | undefined {
  return q.machine['confidential-guest-support'] ?? q.machine['memory-encryption'];
}

function sevObject(q: QemuCmdline): QemuSevObject | undefined {
  const id = cgsId(q);
  return q.sevObjects.find((o) => o.id === id);
}

function kindOf(o: QemuSevObject): 'sev' | 'snp' {
  return o.qomType === 'sev-snp-guest' ? 'snp' : 'sev';
}

function policyOf(o: QemuSevObject, source: string): { value: bigint; defaulted: boolean } {
  const t = o.props['policy'];
  if (t === undefined) return { value: o.qomType === 'sev-snp-guest' ? 0x30000n : 0x1n, defaulted: true };
  return { value: parseCIntPolicy(t, `${source}: -object ${o.qomType} policy`), defaulted: false };
}

export function qemuCheckLaunchSecurity(q: QemuCmdline): Verdict {
  const id = cgsId(q);
  const ex = '-object sev-guest,id=sev0,cbitpos=47,reduced-phys-bits=1,policy=0xb -machine q35,confidential-guest-support=sev0';
  if (q.sevObjects.length === 0) {
    return failed(`no -object sev-guest / sev-snp-guest in ${q.source}`, `an SEV object referenced by -machine confidential-guest-support (${QEMU_DOC})`, ex);
  }
  const o = sevObject(q);
  if (!o) {
    return failed(
      `-object ${q.sevObjects[0]!.qomType},id=${q.sevObjects[0]!.id ?? '?'} but -machine ${id ? `confidential-guest-support=${id}` : 'has no confidential-guest-support'} in ${q.source}`,
      '-machine confidential-guest-support=<id of the SEV object>',
      `-machine ...,confidential-guest-support=${q.sevObjects[0]!.id ?? 'sev0'}`,
    );
  }
  const missing = ['cbitpos', 'reduced-phys-bits'].filter((k) => o.props[k] === undefined);
  if (missing.length) {
    return failed(`-object ${o.qomType},id=${o.id} without ${missing.join(', ')} in ${q.source}`, 'cbitpos and reduced-phys-bits stated (from query-sev-capabilities)', missing.map((k) => `${k}=N`).join(','));
  }
  return passed(`-object ${o.qomType},id=${o.id} cbitpos=${o.props['cbitpos']} reduced-phys-bits=${o.props['reduced-phys-bits']} policy=${o.props['policy'] ?? '(default)'}`);
}

export function qemuCheckPolicyValid(q: QemuCmdline, host: HostSevFacts = {}): Verdict {
  const o = sevObject(q);
  if (!o) return undecidedBecause('domain.launch-security', 'no SEV object wired to -machine');
  const kind = kindOf(o);
  let pol: { value: bigint; defaulted: boolean };
  try {
    pol = policyOf(o, q.source);
  } catch (e) {
    return failed(`policy=${o.props['policy']} in ${q.source}`, 'an integer policy', kind === 'sev' ? 'policy=0xb' : 'policy=0x30000');
  }
  const j = judgePolicy(kind, pol.value, host);
  const what = `${pol.defaulted ? "no policy= (QEMU's default) " : 'policy '}${j.explanation}`;
  if (j.errors.length) {
    return failed(`${what}: ${j.errors.map((e) => e.message).join('; ')}`, 'a policy the firmware and KVM accept', `policy=${policyHex(kind, j.corrected)}`);
  }
  return passed(`${what}${j.warnings.length ? `; note: ${j.warnings.map((w) => w.message).join('; ')}` : ''}`);
}

export function qemuCheckCbitpos(q: QemuCmdline, host: HostSevFacts = {}): Verdict {
  const o = sevObject(q);
  if (!o) return undecidedBecause('domain.launch-security', 'no SEV object wired to -machine');
  const unknown = unknownHostCbit(host, 'pass --host-cbitpos N --host-reduced-phys-bits N');
  if (unknown) return unknown;
  const num = (k: string) => (o.props[k] !== undefined ? Number(o.props[k]) : undefined);
  return compareCbit(
    { cbitpos: num('cbitpos'), reducedPhysBits: num('reduced-phys-bits') },
    host,
    q.source,
    (name, v) => `${name === 'cbitpos' ? 'cbitpos' : 'reduced-phys-bits'}=${v}`,
    'QEMU then fails its cbitpos check',
  );
}

export function machineTypeOf(q: QemuCmdline): string | undefined {
  const t = q.machine['type'];
  return t?.replace(/\+pve\d+$/, '');
}

export function qemuCheckMachine(q: QemuCmdline): Verdict {
  const t = machineTypeOf(q);
  if (t && isQ35(t)) return passed(`-machine ${q.machine['type']} (Q35)`);
  if (t === undefined || isI440fx(t)) {
    return failed(
      `-machine ${t ?? '(no type: QEMU default pc = i440fx)'} in ${q.source}`,
      'q35 (libvirt docs/kbase/launch_security_sev.rst: legacy PC is "strongly discouraged"; on i440fx virtio must be non-transitional — QEMU sets disable-legacy=on for virtio-pci itself when confidential-guest-support is used)',
      '-machine q35,...',
    );
  }
  return failed(`-machine ${t} in ${q.source}`, 'a q35 machine type', '-machine q35,...');
}

/**
 * The firmware a fix names: the image the host's QEMU firmware descriptors offer for the feature
 * (HostSevFacts.firmware), never a path from another distribution; without a descriptor that
 * lists it, what to install instead.
 */
function firmwareFix(host: HostSevFacts, snp: boolean): string {
  const c = firmwareChoice(host, snp);
  if ('image' in c) return snp || c.bios ? `-bios ${c.image} (${c.from})` : `-drive if=pflash,format=raw,unit=0,readonly=on,file=${c.image} (${c.from})`;
  return snp
    ? `-bios <an OVMF build for SEV-SNP: edk2 OvmfPkg/AmdSev, e.g. Fedora edk2-ovmf's OVMF.amdsev.fd> (${c.none})`
    : `-drive if=pflash,format=raw,unit=0,readonly=on,file=<an OVMF code image with SEV support (Debian/Ubuntu: apt-get install ovmf)> (${c.none})`;
}

export function qemuCheckLoader(q: QemuCmdline, host: HostSevFacts = {}): Verdict {
  const o = sevObject(q);
  const snp = o?.qomType === 'sev-snp-guest';
  if (snp) {
    if (q.pflash.length) return failed(`SEV-SNP guest with pflash firmware ${q.pflash.join(', ')} in ${q.source}`, 'OVMF via -bios (Proxmox qemu-server OVMF.pm refuses pflash for SNP)', firmwareFix(host, true));
    if (q.bios && looksLikeOvmf(q.bios)) return passed(`-bios ${q.bios} (OVMF) for an SEV-SNP guest`);
    return failed(`${q.bios ? `-bios ${q.bios}` : 'no -bios'} in ${q.source}`, 'an OVMF image via -bios for SNP', firmwareFix(host, true));
  }
  const code = q.pflash[0];
  if (code && looksLikeOvmf(code)) return passed(`pflash OVMF ${code}`);
  if (code) return undecided(`pflash image ${code} is not a recognised OVMF/edk2 file name`);
  if (q.bios && looksLikeOvmf(q.bios)) return passed(`-bios ${q.bios} (OVMF)`);
  return failed(
    `${q.bios ? `-bios ${q.bios}` : 'no -bios and no pflash firmware (SeaBIOS)'} in ${q.source}`,
    'OVMF (UEFI): "SEV is only going to work with OVMF" (libvirt docs/kbase/launch_security_sev.rst)',
    firmwareFix(host, false),
  );
}

const VIRTIO_DRIVER = /^virtio-|^vhost-(user-)?(fs|vsock|scsi|blk)/;

export function qemuCheckVirtioIommu(q: QemuCmdline): Verdict {
  const virtio = q.devices.filter((d) => VIRTIO_DRIVER.test(d.driver) && !/^virtio-(iommu|mem|pmem)/.test(d.driver));
  const viaCgs = q.machine['confidential-guest-support'] !== undefined;
  const bad = virtio.filter((d) => {
    const v = d.props['iommu_platform'];
    if (v === 'off' || v === 'false') return true;
    return v === undefined && !viaCgs;
  });
  if (bad.length) {
    return failed(
      `${bad.length} virtio device(s) without iommu_platform=on in ${q.source}: ${bad.map((d) => d.arg).join('; ')}`,
      viaCgs
        ? 'no iommu_platform=off (QEMU >= 6.0 defaults iommu_platform=on for confidential guests; an explicit off overrides it)'
        : 'iommu_platform=on on every virtio device (the machine uses memory-encryption=, not confidential-guest-support=, so QEMU does not set it)',
      bad.map((d) => `${d.driver},...,iommu_platform=on`).join('; '),
    );
  }
  return passed(
    virtio.length === 0
      ? 'no virtio devices'
      : `${virtio.length} virtio device(s)${viaCgs ? ' get iommu_platform=on from confidential-guest-support (QEMU hw/core/machine.c)' : ' set iommu_platform=on'}`,
  );
}

export function qemuCheckMemoryPinned(q: QemuCmdline): Verdict {
  if (q.memLock) return passed('-overcommit mem-lock=on: QEMU locks guest memory');
  return undecided(
    'the memory limit QEMU runs under (cgroup memory.max, RLIMIT_MEMLOCK) is not in its argv; check the unit/cgroup that starts it',
  );
}

export function qemuCheckNoMigration(q: QemuCmdline): Verdict {
  const o = sevObject(q);
  if (!o) return undecidedBecause('domain.launch-security', 'no SEV object wired to -machine');
  if (q.incoming) return failed(`-incoming on an SEV guest in ${q.source}`, 'no incoming migration (QEMU blocks migration of SEV guests)', 'remove -incoming');
  let pol: { value: bigint; defaulted: boolean };
  try {
    pol = policyOf(o, q.source);
  } catch {
    return undecidedBecause('domain.policy.valid', 'the policy cannot be read');
  }
  if (kindOf(o) === 'sev') {
    if ((pol.value & 0x8n) === 0n) {
      return failed(
        `policy ${policyHex('sev', pol.value)}${pol.defaulted ? " (QEMU's default)" : ''} without NOSEND (bit 3) in ${q.source}`,
        'NOSEND set so the firmware refuses SEND_START (Proxmox qemu-server sets it against the amd-sev-migration-attack)',
        `policy=${policyHex('sev', pol.value | 0x8n)}`,
      );
    }
    return passed(`policy ${policyHex('sev', pol.value)} sets NOSEND`);
  }
  if ((pol.value >> 18n) & 1n) {
    // domain.policy.valid owns MIGRATE_MA (snpPolicyProblems), with the one fix
    return failedBecause('domain.policy.valid', `SNP policy ${policyHex('snp', pol.value)} sets MIGRATE_MA (bit 18)`, 'MIGRATE_MA clear (KVM rejects it)');
  }
  return passed(`SNP policy ${policyHex('snp', pol.value)} allows no migration agent`);
}

export function lintQemuCmdline(q: QemuCmdline, host: HostSevFacts = {}): Record<string, Verdict> {
  return {
    'domain.launch-security': qemuCheckLaunchSecurity(q),
    'domain.policy.valid': qemuCheckPolicyValid(q, host),
    'domain.cbitpos.matches-host': qemuCheckCbitpos(q, host),
    'domain.machine.q35': qemuCheckMachine(q),
    'domain.loader.ovmf': qemuCheckLoader(q, host),
    'domain.virtio.iommu': qemuCheckVirtioIommu(q),
    'domain.memory.pinned': qemuCheckMemoryPinned(q),
    'domain.no-migration': qemuCheckNoMigration(q),
  };
}
