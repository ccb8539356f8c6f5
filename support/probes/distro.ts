/**
 * Facts about a distribution's root file system (`--host rootfs:DIR`) for the distro layer: its
 * installed kernels' configurations, its QEMU's object types (the image's own binary, run inside
 * the image by the rootfs backend), its firmware descriptors and OVMF images, its libvirt domain
 * schema, its SELinux policy (the image's own sesearch), its udev rules and accounts. Reads go only
 * through the run's cached Host; every fact is read once per run. Rules: rules/distro.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memo } from '../memo.js';
import { readTextIfExists } from '../host/read.js';
import { isHostError, type Host } from '../host/types.js';
import { InputError } from '../errors.js';
import { parseKernelConfig } from '../parsers/kernel-config.js';
import { effectiveDescriptorFiles, FIRMWARE_DESCRIPTOR_DIRS, parseFirmwareDescriptor, type DescriptorFile } from '../parsers/firmware-descriptor.js';
import { parseObjectHelp, parseQemuVersion } from '../parsers/qemu-help.js';
import { parseSesearch } from '../parsers/sesearch.js';
import { formatParseError } from '../parsers/parse-result.js';
import { evaluateDeviceRules, KVM_DEVICE, SEV_DEVICE, UDEV_RULE_DIRS, type UdevDevice, type UdevRulesFile } from '../parsers/udev-rules.js';
import { parseOvmf } from '../sev/ovmf.js';
import { validateDomainFiles } from '../domain/schema.js';
import type { DeviceProbe } from './device.js';
import { parseGrubDefaults, parseKernelCmdlineFile, type ShellFile } from '../parsers/grub-default.js';
import { splitKernelArgs } from '../parsers/cmdline.js';
import { LIBVIRT_QEMU_ABSTRACTION } from '../device/apparmor.js';
import { generatedGuestRules, readLibvirtQemuAbstraction } from './selinux.js';
import { bootLsm, bootNode, templateDomain, type AppArmorAccessFact, type BootLsm, type BootParams, type BootNode, type DescriptorFact, type InstalledKernel, type OvmfFact, type QemuObjects, type SchemaFact, type SelinuxPolicyFact } from './distro-facts.js';
import type { Profile } from '../profile.js';

/** Where distributions install kernel configurations (Debian/Ubuntu: /boot; Fedora/Arch: the modules directory). */
export const KERNEL_CONFIG_PLACES = ['/boot', '/lib/modules', '/usr/lib/modules'] as const;
/** x86_64 system emulators: upstream/Debian name first, then RHEL/Fedora's qemu-kvm */
export const QEMU_BINARIES = ['/usr/bin/qemu-system-x86_64', '/usr/libexec/qemu-kvm', '/usr/bin/qemu-kvm'] as const;
/** OVMF images outside descriptors: Debian/Ubuntu ovmf, Fedora/RHEL edk2-ovmf */
export const OVMF_DIRS = ['/usr/share/OVMF', '/usr/share/edk2'] as const;
export const LIBVIRT_SCHEMA_DIR = '/usr/share/libvirt/schemas';
export const SELINUX_CONFIG = '/etc/selinux/config';
/** GRUB's defaults (grub-mkconfig sources them in this order) and kernel-install's command line */
export const GRUB_DEFAULT = '/etc/default/grub';
export const GRUB_DEFAULT_D = '/etc/default/grub.d';
export const KERNEL_CMDLINE_FILE = '/etc/kernel/cmdline';

const QEMU_TIMEOUT_MS = 15_000;
/** sesearch loads the whole policy */
const SESEARCH_TIMEOUT_MS = 60_000;
/** an OVMF image is 2-4 MiB (8 MiB with SVSM); larger files are not firmware */
const OVMF_MAX_BYTES = 64 * 1024 * 1024;
const FOREIGN_ARCH = /(^|\/)(aarch64|arm|armhf|arm64|riscv64|riscv|loongarch64|ia32|i386)(\/|$)/;

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

export class DistroProbe {
  private readonly memo = new Memo();
  constructor(
    readonly host: Host,
    private readonly device: DeviceProbe,
  ) {}

  get kind(): Host['kind'] {
    return this.host.kind;
  }

  /** Names in a directory; [] when it does not exist (or is not a directory). */
  private async list(dir: string): Promise<string[]> {
    try {
      return await this.host.listDir(dir);
    } catch (e) {
      if (isHostError(e, 'ENOENT') || isHostError(e, 'ENOTDIR')) return [];
      throw e;
    }
  }

  private async exists(path: string): Promise<boolean> {
    try {
      const s = await this.host.stat(path);
      // stat does not follow links: a link counts when what it names can be read
      if (s.type !== 'link') return true;
      await this.host.readFile(path);
      return true;
    } catch (e) {
      if (isHostError(e, 'ENOENT') || isHostError(e, 'ENOTDIR')) return false;
      throw e;
    }
  }

  /** Every installed kernel's configuration, one per release (/boot first; merged /usr lists modules twice). */
  kernels(): Promise<InstalledKernel[]> {
    return this.memo.once('kernels', async () => {
      const found = new Map<string, string>();
      for (const name of await this.list('/boot')) {
        const m = /^config-(.+)$/.exec(name);
        if (m?.[1] && !found.has(m[1])) found.set(m[1], `/boot/${name}`);
      }
      for (const dir of ['/lib/modules', '/usr/lib/modules']) {
        for (const rel of await this.list(dir)) {
          if (found.has(rel)) continue;
          if (await this.exists(`${dir}/${rel}/config`)) found.set(rel, `${dir}/${rel}/config`);
        }
      }
      const out: InstalledKernel[] = [];
      for (const [release, source] of [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const text = await readTextIfExists(this.host, source);
        if (text === undefined) continue; // a dangling config link: no kernel there
        out.push({ release, source, config: parseKernelConfig(text, source) });
      }
      return out;
    });
  }

  /** The image's QEMU: `--version` and `-object help`, run inside the image. */
  qemuObjects(): Promise<QemuObjects> {
    return this.memo.once('qemu-objects', async () => {
      let binary: string | undefined;
      for (const b of QEMU_BINARIES) if (await this.exists(b)) (binary ??= b);
      if (!binary) return { kind: 'absent', searched: [...QEMU_BINARIES] };
      const help = await this.host.run([binary, '-object', 'help'], { timeoutMs: QEMU_TIMEOUT_MS });
      if (help.exitCode !== 0)
        return { kind: 'broken', binary, reason: `\`${binary} -object help\` exited ${help.exitCode}${help.exitCode > 128 ? ` (signal ${help.exitCode - 128}?)` : ''}: ${firstLine(help.stderr || help.stdout) || 'no output'}` };
      const types = parseObjectHelp(help.stdout, `${binary} -object help`);
      if (!types.ok) return { kind: 'broken', binary, reason: `cannot parse ${formatParseError(types.error)}` };
      const ver = await this.host.run([binary, '--version'], { timeoutMs: QEMU_TIMEOUT_MS });
      const v = ver.exitCode === 0 ? parseQemuVersion(ver.stdout) : undefined;
      return { kind: 'listed', binary, version: v?.ok ? v.value : undefined, types: types.value };
    });
  }

  /** The firmware descriptors libvirt would consider, in its order, each with whether its image exists. */
  descriptors(): Promise<DescriptorFact[]> {
    return this.memo.once('descriptors', async () => {
      const files: DescriptorFile[] = [];
      for (const dir of FIRMWARE_DESCRIPTOR_DIRS) {
        for (const name of await this.list(dir)) {
          if (!name.endsWith('.json')) continue;
          const content = await this.maskable(`${dir}/${name}`);
          if (content !== undefined) files.push({ dir, name, content });
        }
      }
      const out: DescriptorFact[] = [];
      for (const f of effectiveDescriptorFiles(files).files) {
        const path = `${f.dir}/${f.name}`;
        const parsed = parseFirmwareDescriptor(f.content, path);
        out.push({ path, parsed, imageExists: parsed.ok && parsed.value.image ? await this.exists(parsed.value.image) : undefined });
      }
      return out;
    });
  }

  /** OVMF images: the x86_64 descriptors' targets, then *.fd under /usr/share/OVMF and /usr/share/edk2 (NVRAM templates left out). */
  ovmfImages(): Promise<OvmfFact[]> {
    return this.memo.once('ovmf', async () => {
      const paths: string[] = [];
      for (const d of await this.descriptors()) if (d.parsed.ok && d.parsed.value.image && d.imageExists && (d.parsed.value.architectures.length === 0 || d.parsed.value.architectures.includes('x86_64'))) paths.push(d.parsed.value.image);
      const walk = async (dir: string, depth: number): Promise<void> => {
        for (const name of await this.list(dir)) {
          const p = `${dir}/${name}`;
          if (FOREIGN_ARCH.test(p.slice(dir.length))) continue;
          if (/\.fd$/i.test(name) && !/VARS/i.test(name)) paths.push(p);
          else if (depth > 0 && !name.includes('.')) {
            try {
              const s = await this.host.stat(p);
              if (s.type === 'dir') await walk(p, depth - 1);
            } catch (e) {
              if (!isHostError(e)) throw e;
            }
          }
        }
      };
      for (const d of OVMF_DIRS) await walk(d, 2);
      const out: OvmfFact[] = [];
      for (const path of [...new Set(paths)]) {
        let data: Buffer;
        try {
          data = await this.host.readFile(path);
        } catch (e) {
          if (isHostError(e, 'ENOENT')) continue;
          if (isHostError(e) && e.code !== 'NOT_RUNNING') {
            out.push({ path, image: { error: `${path}: ${e.message}` } });
            continue;
          }
          throw e;
        }
        if (data.length > OVMF_MAX_BYTES) continue;
        try {
          out.push({ path, image: parseOvmf(data, path) });
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          out.push({ path, image: { error: e.message } });
        }
      }
      return out;
    });
  }

  /**
   * The template guests for SEV and SEV-SNP validated against the image's own libvirt schemas:
   * the .rng files are read from the image into a private temporary directory on this machine
   * and both templates are checked by one xmllint (as virt-xml-validate does: `xmllint --noout
   * --relaxng domain.rng FILE`; the schema is compiled once), so nothing is written to the image.
   */
  launchSecuritySchema(p: Profile): Promise<SchemaFact> {
    const type = p === 'sev-snp' ? 'sev-snp' : 'sev';
    return this.memo.once('schemas', async (): Promise<Record<'sev' | 'sev-snp', SchemaFact>> => {
      const names = (await this.list(LIBVIRT_SCHEMA_DIR)).filter((n) => n.endsWith('.rng'));
      if (!names.includes('domain.rng')) {
        const absent = { kind: 'absent', searched: `${LIBVIRT_SCHEMA_DIR}/domain.rng` } as const;
        return { sev: absent, 'sev-snp': absent };
      }
      const dir = await mkdtemp(join(tmpdir(), 'sevcheck-schemas-'));
      try {
        for (const n of names) await writeFile(join(dir, n), await this.host.readFile(`${LIBVIRT_SCHEMA_DIR}/${n}`));
        const docs = { sev: join(dir, 'template-sev.xml'), 'sev-snp': join(dir, 'template-sev-snp.xml') } as const;
        await writeFile(docs.sev, templateDomain('sev'));
        await writeFile(docs['sev-snp'], templateDomain('sev-snp'));
        // the image's schemas are untrusted: compiled in a sandbox with no network and nothing else visible
        const outcomes = await validateDomainFiles([docs.sev, docs['sev-snp']], { schemaDir: dir, sandbox: 'bwrap' });
        const via = `xmllint --relaxng ${LIBVIRT_SCHEMA_DIR}/domain.rng from the image`;
        const fact = (t: 'sev' | 'sev-snp'): SchemaFact => {
          const o = outcomes.get(docs[t]) ?? { status: 'unavailable', reason: 'xmllint gave no result' };
          // the errors name the template's temporary file: say what it is instead
          const outcome = o.status === 'invalid' || o.status === 'unreadable' ? { ...o, errors: o.errors.map((e) => ({ ...e, file: `template guest <launchSecurity type='${t}'>` })) } : o;
          return { kind: 'checked', via, outcome };
        };
        return { sev: fact('sev'), 'sev-snp': fact('sev-snp') };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }).then((r) => r[type]);
  }

  /** The image's SELinux policy file and what the image's sesearch says about svirt_t on sev_device_t. */
  selinuxPolicy(): Promise<SelinuxPolicyFact> {
    return this.memo.once('selinux', async () => {
      const config = await readTextIfExists(this.host, SELINUX_CONFIG);
      if (config === undefined) return { kind: 'none', why: `no ${SELINUX_CONFIG}` };
      const setting = (k: string): string | undefined => new RegExp(`^\\s*${k}\\s*=\\s*(\\S+)`, 'm').exec(config)?.[1];
      const type = setting('SELINUXTYPE') ?? 'targeted';
      const dir = `/etc/selinux/${type}/policy`;
      const versions = (await this.list(dir)).map((n) => /^policy\.(\d+)$/.exec(n)?.[1]).filter((v): v is string => v !== undefined).map(Number);
      if (versions.length === 0) return { kind: 'none', why: `${SELINUX_CONFIG} names SELINUXTYPE=${type}, but ${dir} has no policy.N file` };
      const policy = `${dir}/policy.${Math.max(...versions)}`;
      const r = await this.host.run(['sesearch', '-A', '-s', 'svirt_t', '-t', 'sev_device_t', '-c', 'chr_file', policy], { timeoutMs: SESEARCH_TIMEOUT_MS });
      if (r.exitCode === 127) return { kind: 'unusable', policy, reason: "the image has no sesearch (install setools in the image: the controller's setools may not read a newer policy format)" };
      const parsed = parseSesearch(r.stdout, `sesearch ${policy}`);
      if (!parsed.ok) return { kind: 'unusable', policy, reason: `cannot parse ${formatParseError(parsed.error)}` };
      if (r.exitCode !== 0 && parsed.value.kind !== 'unknown-type') return { kind: 'unusable', policy, reason: `sesearch exited ${r.exitCode}: ${firstLine(r.stderr || r.stdout) || 'no output'}` };
      return { kind: 'searched', policy, mode: setting('SELINUX'), result: parsed.value };
    });
  }

  /**
   * The kernel parameters the image's boot loader defaults give the default entry: GRUB's
   * GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT (/etc/default/grub, then
   * /etc/default/grub.d/*.cfg), then /etc/kernel/cmdline (kernel-install, systemd-boot).
   */
  bootParams(): Promise<BootParams> {
    return this.memo.once('boot-params', async () => {
      const files: ShellFile[] = [];
      const main = await readTextIfExists(this.host, GRUB_DEFAULT);
      if (main !== undefined) files.push({ path: GRUB_DEFAULT, content: main });
      for (const name of await this.list(GRUB_DEFAULT_D)) {
        if (!name.endsWith('.cfg')) continue;
        const t = await readTextIfExists(this.host, `${GRUB_DEFAULT_D}/${name}`);
        if (t !== undefined) files.push({ path: `${GRUB_DEFAULT_D}/${name}`, content: t });
      }
      const grub = parseGrubDefaults(files);
      const parts: string[] = [];
      const sources: string[] = [];
      for (const v of ['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT']) {
        const val = grub.vars.get(v);
        if (val === undefined || val.trim() === '') continue;
        parts.push(val);
        sources.push(`${grub.setAt.get(v) ?? GRUB_DEFAULT} ${v}="${val}"`);
      }
      const kc = await readTextIfExists(this.host, KERNEL_CMDLINE_FILE);
      if (kc !== undefined && parseKernelCmdlineFile(kc) !== '') {
        parts.push(parseKernelCmdlineFile(kc));
        sources.push(KERNEL_CMDLINE_FILE);
      }
      const params = new Map<string, string | undefined>();
      for (const a of splitKernelArgs(parts.join(' '))) {
        if (a.name === '--') break;
        params.set(a.name, a.value);
      }
      return { params, sources, uncertain: grub.uncertain };
    });
  }

  /** The LSM the image's kernel(s) start with its boot defaults (rules/distro.ts bootLsm). */
  bootLsm(): Promise<BootLsm> {
    return this.memo.once('boot-lsm', async () => bootLsm(await this.kernels(), await this.bootParams()));
  }

  /** /etc/selinux/config SELINUX= (enforcing, permissive, disabled), when the file sets it. */
  selinuxMode(): Promise<string | undefined> {
    return this.memo.once('selinux-mode', async () => {
      const config = await readTextIfExists(this.host, SELINUX_CONFIG);
      return config === undefined ? undefined : /^\s*SELINUX\s*=\s*(\S+)/m.exec(config)?.[1];
    });
  }

  /**
   * What libvirt would confine a SEV guest's QEMU with in this image: its QEMU abstraction (and
   * the files that includes), and the per-guest rules its own virt-aa-helper generates for a
   * template SEV guest, run in the image (dry run: nothing is written, apparmor_parser is not run).
   */
  apparmorAccess(securityDriver: () => Promise<readonly string[] | undefined>): Promise<AppArmorAccessFact> {
    return this.memo.once('apparmor-access', async (): Promise<AppArmorAccessFact> => {
      const files = await readLibvirtQemuAbstraction(this.host);
      if (files.length === 0) return { kind: 'no-profiles', searched: LIBVIRT_QEMU_ABSTRACTION };
      const q = await this.qemuObjects();
      const emulator = q.kind === 'absent' ? (QEMU_BINARIES[0] as string) : q.binary;
      return { kind: 'profiles', files, generated: await generatedGuestRules(this.host, emulator), securityDriver: await securityDriver() };
    });
  }

  /** The image's udev rules files (every copy; evaluateDeviceRules applies udev's override order). */
  udevRuleFiles(): Promise<UdevRulesFile[]> {
    return this.memo.once('udev', async () => {
      const out: UdevRulesFile[] = [];
      for (const dir of UDEV_RULE_DIRS) {
        let names: string[];
        try {
          names = await this.list(dir);
        } catch (e) {
          if (isHostError(e, 'NOT_RUNNING')) continue; // /run is not part of a root file system
          throw e;
        }
        for (const name of names) {
          if (!name.endsWith('.rules')) continue;
          const content = await this.maskable(`${dir}/${name}`);
          // a dangling link is ignored as udev does
          if (content !== undefined) out.push({ dir, name, content, masked: content === '' });
        }
      }
      return out;
    });
  }

  /**
   * A configuration file that may be masked: its text; '' when it is a link into /dev (the
   * systemd/udev convention is a link to /dev/null, udev(7); the rootfs target answers reads
   * there with NOT_RUNNING); undefined when it does not exist or dangles.
   */
  private async maskable(path: string): Promise<string | undefined> {
    try {
      return await readTextIfExists(this.host, path);
    } catch (e) {
      if (isHostError(e, 'NOT_RUNNING')) return '';
      throw e;
    }
  }

  /** The node the image's udev rules give a device at boot (or the kernel default). */
  bootNode(dev: UdevDevice): Promise<BootNode | { reason: string }> {
    return this.memo.once(`node:${dev.kernel}`, async () =>
      bootNode(evaluateDeviceRules(await this.udevRuleFiles(), dev), await this.device.passwdDb(), await this.device.groupDb()),
    );
  }

  sevNode(): Promise<BootNode | { reason: string }> {
    return this.bootNode(SEV_DEVICE);
  }

  kvmNode(): Promise<BootNode | { reason: string }> {
    return this.bootNode(KVM_DEVICE);
  }
}
