import { HostError, type CpuidRegs, type FileType, type HostErrorCode } from './types.js';

/** Human text per error code, shared by every backend so that messages are identical. */
const TEXT: Record<HostErrorCode, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
  NOT_RECORDED: 'not recorded in this fixture',
  UNSUPPORTED: 'not supported by this host backend',
  NOT_RUNNING: 'not a running system (a root file system target)',
};

export function hostError(code: HostErrorCode, what: string, detail?: string): HostError {
  return new HostError(code, what, `${what}: ${TEXT[code]}${detail ? ` (${detail})` : ''}`);
}

/** Map a Node fs errno (or a remote tool's stderr) to a HostError. */
export function fromErrno(err: unknown, what: string): HostError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENXIO':
    case 'ENODEV':
      return hostError('ENOENT', what);
    case 'EACCES':
    case 'EPERM':
      return hostError('EACCES', what);
    case 'ENOTDIR':
      return hostError('ENOTDIR', what);
    case 'EISDIR':
      return hostError('EISDIR', what);
    default:
      return hostError('EIO', what, code ?? (err instanceof Error ? err.message : String(err)));
  }
}

/** Classify stderr of coreutils (cat, stat, ls, dd) run on a remote host. */
export function fromToolStderr(stderr: string, what: string): HostError {
  const s = stderr.toLowerCase();
  if (s.includes('no such file') || s.includes('no such device')) return hostError('ENOENT', what);
  if (s.includes('permission denied') || s.includes('operation not permitted')) return hostError('EACCES', what);
  if (s.includes('not a directory')) return hostError('ENOTDIR', what);
  if (s.includes('is a directory')) return hostError('EISDIR', what);
  return hostError('EIO', what, stderr.trim().split('\n')[0] ?? '');
}

export function cpuidDevice(cpu: number): string {
  return `/dev/cpu/${cpu}/cpuid`;
}

/**
 * An error opening or reading /dev/cpu/N/cpuid, with the fix. Linux arch/x86/kernel/cpuid.c: the
 * device exists only with the cpuid module (CONFIG_X86_CPUID) and opening it needs CAP_SYS_RAWIO.
 */
export function cpuidDeviceError(err: HostError, dev: string): HostError {
  if (err.code === 'ENOENT') return hostError('ENOENT', dev, 'load the cpuid module: modprobe cpuid');
  if (err.code === 'EACCES') return hostError('EACCES', dev, 'reading CPUID through /dev/cpu needs root');
  return err;
}

/** The 16 bytes read at offset = leaf of /dev/cpu/N/cpuid: EAX, EBX, ECX, EDX, little-endian. */
export function cpuidRegsFromBytes(buf: Buffer, dev: string): CpuidRegs {
  if (buf.length !== 16) throw hostError('EIO', dev, `short read of ${buf.length} bytes`);
  return { eax: buf.readUInt32LE(0), ebx: buf.readUInt32LE(4), ecx: buf.readUInt32LE(8), edx: buf.readUInt32LE(12) };
}

export function msrDevice(cpu: number): string {
  return `/dev/cpu/${cpu}/msr`;
}

/** "MSR 0xc0010010 on CPU 0", as messages and recorded errors name one read. */
export function msrWhat(cpu: number, index: number): string {
  return `MSR 0x${(index >>> 0).toString(16).padStart(8, '0')} on CPU ${cpu}`;
}

/**
 * An error opening or reading /dev/cpu/N/msr, with the fix. Linux arch/x86/kernel/msr.c: the
 * device exists only with the msr module (CONFIG_X86_MSR) and for an online CPU (msr_open():
 * -ENXIO for a CPU that is not online); msr_open() needs CAP_SYS_RAWIO (-EPERM); msr_read()
 * returns -EIO when RDMSR faults on that CPU (an MSR the processor does not implement).
 */
export function msrDeviceError(err: HostError, cpu: number, index: number): HostError {
  const what = `${msrWhat(cpu, index)} (${msrDevice(cpu)})`;
  if (err.code === 'ENOENT') return hostError('ENOENT', what, 'load the msr module: modprobe msr');
  if (err.code === 'EACCES') return hostError('EACCES', what, 'run as root (reading MSRs needs CAP_SYS_RAWIO)');
  if (err.code === 'EIO') return hostError('EIO', what, 'RDMSR faulted: the processor does not implement this MSR, or a hypervisor hides it')
  return err;
}

/** The 8 bytes msr_read() returns: EAX then EDX, i.e. the 64-bit MSR value little-endian. */
export function msrValueFromBytes(buf: Buffer, cpu: number, index: number): bigint {
  if (buf.length !== 8) throw hostError('EIO', `${msrWhat(cpu, index)} (${msrDevice(cpu)})`, `short read of ${buf.length} bytes, expected 8`);
  return buf.readBigUInt64LE(0);
}

/** The FileType of an lstat() result (Node fs.Stats), as every local-disk backend reports it. */
export function fileType(st: { isFile(): boolean; isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean }): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isSymbolicLink()) return 'link';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}
