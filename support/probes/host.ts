/**
 * Host enablement facts: CPU flags, CPUID 0x8000001F, kvm_amd parameters, kernel command line,
 * kernel config, modprobe.d. Each fact is read once per run (the Host is a CachingHost) and
 * parsed once here. Reads that fail surface as HostError; the rules decide what that means.
 */
import { Memo } from '../memo.js';
import { gunzipSync } from 'node:zlib';
import { HostError, isHostError, type Host } from '../host/types.js';
import { decodeEncryptedMemory, decodeVendor, LEAF_ENCRYPTED_MEMORY, LEAF_MAX_EXTENDED, LEAF_VENDOR, type EncryptedMemoryCaps } from '../sev/cpuid.js';
import { optional } from '../facts.js';
import { parseCpuinfo, type CpuInfo } from '../parsers/cpuinfo.js';
import { isEpycBrand, sevGeneration } from '../sev/generation.js';
import { parseCmdline, type KernelCmdline } from '../parsers/cmdline.js';
import { effectiveConfFiles, MODPROBE_DIRS, parseModprobeConf, type ModprobeDirective } from '../parsers/modprobe.js';
import { parseBoolParam } from '../parsers/bool-param.js';
import { prefetch } from '../host/read.js';

export const KVM_AMD_PARAMS = '/sys/module/kvm_amd/parameters';

export interface ModuleParam {
  readonly path: string;
  readonly raw: string;
  readonly enabled: boolean | undefined;
}

export interface KernelConfig {
  readonly source: string;
  readonly values: ReadonlyMap<string, string>;
}

export class HostProbe {
  private readonly memo = new Memo();
  constructor(private readonly host: Host) {}

  private async text(path: string): Promise<string> {
    return (await this.host.readFile(path)).toString('utf8');
  }

  cpuinfo(): Promise<CpuInfo> {
    return this.memo.once('cpuinfo', async () => parseCpuinfo(await this.text('/proc/cpuinfo')));
  }

  /**
   * CPUID 0x8000001F, guarded by the vendor and by the highest extended leaf (CPUID 0x80000000
   * EAX). The leaf is AMD's (APM Vol. 3, E.4.17) and the kernel reads SEV from it on AuthenticAMD
   * CPUs only (arch/x86/kernel/cpu/amd.c early_detect_mem_encrypt(), from early_init_amd()); a
   * processor that does not implement the leaf may return another leaf's data (Intel SDM Vol. 2A,
   * CPUID: "data for the highest basic information leaf"). Neither is read as SEV bits: the leaf
   * is then reported absent, without reading it. The vendor comes from /proc/cpuinfo vendor_id
   * (the kernel's copy of CPUID 0, arch/x86/kernel/cpu/common.c get_cpu_vendor()), else CPUID 0.
   * Authored fixtures may omit 0x80000000 and CPUID 0; then those guards are skipped.
   */
  encryptedMemory(): Promise<EncryptedMemoryCaps> {
    return this.memo.once('cpuid', async () => {
      const vendor = await this.vendor();
      const zero = decodeEncryptedMemory({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
      if (vendor && vendor.vendor !== 'AuthenticAMD') {
        return { ...zero, implemented: false, vendor: vendor.vendor, vendorSource: vendor.source };
      }
      let maxExtended: number | undefined;
      try {
        maxExtended = (await this.host.cpuid(LEAF_MAX_EXTENDED)).eax >>> 0;
      } catch (e) {
        if (!isHostError(e, 'NOT_RECORDED')) throw e;
      }
      const known = { vendor: vendor?.vendor, vendorSource: vendor?.source, maxExtendedLeaf: maxExtended };
      if (maxExtended !== undefined && maxExtended < LEAF_ENCRYPTED_MEMORY) return { ...zero, ...known, implemented: false };
      return { ...decodeEncryptedMemory(await this.host.cpuid(LEAF_ENCRYPTED_MEMORY)), ...known, implemented: true };
    });
  }

  /** The CPU vendor and where it was read; undefined when neither source can give it. */
  private async vendor(): Promise<{ vendor: string; source: string } | undefined> {
    const info = await optional(() => this.cpuinfo());
    if (info?.vendor) return { vendor: info.vendor, source: '/proc/cpuinfo vendor_id' };
    const regs = await optional(() => this.host.cpuid(LEAF_VENDOR));
    return regs ? { vendor: decodeVendor(regs), source: 'CPUID 0x00000000' } : undefined;
  }

  /** Is kvm_amd loaded? (/sys/module/kvm_amd exists for a loaded or built-in module) */
  kvmAmdLoaded(): Promise<boolean> {
    return this.memo.once('kvm_amd', async () => {
      try {
        await this.host.stat('/sys/module/kvm_amd');
        return true;
      } catch (e) {
        if (isHostError(e, 'ENOENT')) return false;
        throw e;
      }
    });
  }

  /** A kvm_amd parameter; undefined when the running module has no such parameter. */
  kvmAmdParam(name: string): Promise<ModuleParam | undefined> {
    return this.memo.once(`param:${name}`, async () => {
      const path = `${KVM_AMD_PARAMS}/${name}`;
      try {
        const raw = (await this.text(path)).trim();
        return { path, raw, enabled: parseBoolParam(raw) };
      } catch (e) {
        if (isHostError(e, 'ENOENT')) return undefined;
        throw e;
      }
    });
  }

  /**
   * What this run already read about the machine, for the report's host line (results.json
   * hostInfo): nothing is read for it, so a run whose checks did not look at /proc/cpuinfo or the
   * kernel release simply has no such facts (and a recording gets no extra file).
   */
  async known(): Promise<{ kernel?: string; cpuModel?: string; sevGeneration?: string }> {
    const info = await this.memo.peek<CpuInfo>('cpuinfo');
    const kernel = await this.memo.peek<string>('osrelease');
    const gen =
      info?.vendor === 'AuthenticAMD' && info.family !== undefined && info.model !== undefined && isEpycBrand(info.modelName)
        ? sevGeneration(info.family, info.model)
        : undefined;
    return {
      ...(kernel ? { kernel } : {}),
      ...(info?.modelName ? { cpuModel: info.modelName } : {}),
      ...(gen ? { sevGeneration: gen } : {}),
    };
  }

  cmdline(): Promise<KernelCmdline> {
    return this.memo.once('cmdline', async () => parseCmdline(await this.text('/proc/cmdline')));
  }

  kernelRelease(): Promise<string> {
    return this.memo.once('osrelease', async () => (await this.text('/proc/sys/kernel/osrelease')).trim());
  }

  /**
   * /boot/config-$(uname -r), else /proc/config.gz; undefined when neither exists. Without the
   * release (/proc/sys/kernel/osrelease unreadable) only /proc/config.gz can be tried; when it is
   * absent too, the release's error is the answer (the /boot file may exist).
   */
  kernelConfig(): Promise<KernelConfig | undefined> {
    return this.memo.once('kconfig', async () => {
      let release: string | undefined;
      let releaseError: HostError | undefined;
      try {
        release = await this.kernelRelease();
      } catch (e) {
        if (!(e instanceof HostError)) throw e;
        releaseError = e;
      }
      const candidates: Array<[string, (b: Buffer) => string]> = [
        ...(release !== undefined ? [[`/boot/config-${release}`, (b: Buffer) => b.toString('utf8')] as [string, (b: Buffer) => string]] : []),
        ['/proc/config.gz', (b) => gunzipSync(b).toString('utf8')],
      ];
      for (const [path, decode] of candidates) {
        let buf: Buffer;
        try {
          buf = await this.host.readFile(path);
        } catch (e) {
          if (isHostError(e, 'ENOENT')) continue;
          throw e;
        }
        const values = new Map<string, string>();
        for (const line of decode(buf).split('\n')) {
          const m = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line) ?? /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line);
          if (m) values.set(m[1] as string, m[2] ?? 'n');
        }
        return { source: path, values };
      }
      if (releaseError) throw releaseError;
      return undefined;
    });
  }

  /** Every directive (options, install, remove, blacklist) of the effective modprobe.d files, in the order kmod reads them. */
  modprobeOptions(): Promise<ModprobeDirective[]> {
    return this.memo.once('modprobe', async () => {
      const listing: Array<{ dir: string; names: string[] }> = [];
      // every directory in one batch, then every file in one (over ssh: two batches in the one session)
      await prefetch(this.host, MODPROBE_DIRS.map((path) => ({ op: 'listDir' as const, path })));
      for (const dir of MODPROBE_DIRS) {
        try {
          listing.push({ dir, names: await this.host.listDir(dir) });
        } catch (e) {
          if (isHostError(e, 'ENOENT')) continue;
          throw e;
        }
      }
      const out: ModprobeDirective[] = [];
      const files = effectiveConfFiles(listing);
      await prefetch(this.host, files.map((path) => ({ op: 'readFile' as const, path })));
      for (const file of files) {
        try {
          out.push(...parseModprobeConf(file, await this.text(file)));
        } catch (e) {
          // dangling symlink; a directory named *.conf (kmod skips it: "Directories inside directories are not supported")
          if (isHostError(e, 'ENOENT') || isHostError(e, 'EISDIR')) continue;
          throw e;
        }
      }
      return out;
    });
  }
}
