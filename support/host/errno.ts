import { HostError, type HostErrorCode } from './types.js';

/** Human text per error code, shared by every backend so that messages are identical. */
const TEXT: Record<HostErrorCode, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
  NOT_RECORDED: 'not recorded in this fixture',
  UNSUPPORTED: 'not supported by this host backend',
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

export function leafKey(leaf: number): string {
  return `0x${(leaf >>> 0).toString(16).padStart(8, '0')}`;
}
