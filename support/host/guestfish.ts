/**
 * One guestfish(1) session (libguestfs, Debian package libguestfs-tools) driven over its standard
 * input: the appliance boots once and answers every command, so sevcheck can look before it copies
 * (which file systems the image has, whether the one there is holds /etc and /usr) without paying
 * the appliance's start again — under TCG, without KVM, that start is 15-35 s.
 *
 * - The drive is added `--ro` with its format given (image-host.ts checked it with qemu-img): no
 *   write ever reaches the file, and a raw image is never probed as qcow2.
 * - Commands are sevcheck's own text: fixed paths and the appliance's device names (checked
 *   against DEVICE below), never a name read from the image's files.
 * - Each command is followed by `echo <marker>`; its output is what stdout printed before the
 *   marker. guestfish ends at the first failing command when it reads a script (guestfish(1)
 *   "EXIT STATUS"), so a failure is the process's end and its stderr, mapped to one line by the
 *   caller. Every command has a timeout; at it the whole session is killed.
 * - stdin is a pipe from sevcheck: if sevcheck dies, guestfish reads end-of-file and shuts the
 *   appliance down.
 */
import { execa, type ResultPromise } from 'execa';

/** A device or mount point as the appliance names them (/dev/sda1, /dev/vg/root, /dev/md0, /boot) */
export const DEVICE = /^\/dev\/[A-Za-z0-9._+\/-]+$/;
export const MOUNTPOINT = /^\/[A-Za-z0-9._+\/-]*$/;

export class GuestfishError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'GuestfishError';
  }
}

/**
 * What libguestfs prints when the hypervisor itself died starting the appliance under KVM (a
 * /dev/kvm that is there but cannot run a guest: nested virtualization that refuses an MSR, seen
 * as "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" then "killed by signal 6" on a
 * 2026 CI machine); not a problem of the image. TCG can still start it.
 */
export function hypervisorFailed(stderr: string): boolean {
  return hypervisorFailure(stderr) !== undefined;
}

/** The line of `stderr` that says the hypervisor died (hypervisorFailed), printable and short, without guestfish's "*stdin*:N: " */
export function hypervisorFailure(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => /failed to set MSR|kvm_init_vcpu|KVM_[A-Z_]+ failed|failed to initialize kvm|qemu-system-[\w-]+ killed by signal/i.test(l));
  return line === undefined ? undefined : line.replace(/^\*stdin\*:\d+: /, '').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 200);
}

export class Guestfish {
  private readonly proc: ResultPromise;
  private out = '';
  private err = '';
  private ended = false;
  private seq = 0;
  private waiter: (() => void) | undefined;

  /**
   * `tcg`: run the appliance under TCG (libguestfs's backend setting force_tcg), for a machine
   * whose /dev/kvm is there but cannot run it. The user's own LIBGUESTFS_BACKEND_SETTINGS
   * (guestfs(3) "ENVIRONMENT VARIABLES") is passed on as it is and wins.
   */
  constructor(file: string, format: string, opts: { readonly tcg?: boolean } = {}) {
    const settings = process.env.LIBGUESTFS_BACKEND_SETTINGS ?? (opts.tcg ? 'force_tcg' : undefined);
    this.proc = execa('guestfish', ['--ro', `--format=${format}`, '-a', file], {
      reject: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      env: {
        LIBGUESTFS_BACKEND: 'direct',
        LC_ALL: 'C',
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
        ...(settings ? { LIBGUESTFS_BACKEND_SETTINGS: settings } : {}),
      },
      extendEnv: false,
      killSignal: 'SIGKILL',
    });
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (d: string) => {
      // a command that prints a lot (none of sevcheck's do) must not take the controller's memory
      if (this.out.length < 4 * 1024 * 1024) this.out += d;
      this.waiter?.();
    });
    this.proc.stderr?.on('data', (d: string) => {
      if (this.err.length < 64 * 1024) this.err += d;
    });
    this.proc.stdin?.on('error', () => undefined);
    void this.proc.then(() => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** Whether the session ended because guestfish is not installed. */
  async missing(): Promise<boolean> {
    const r = await this.proc;
    return r.code === 'ENOENT' || (r.exitCode === undefined && /ENOENT/.test(r.originalMessage ?? ''));
  }

  /** Run one command line; its standard output, or a GuestfishError with what guestfish said. */
  async cmd(line: string, timeoutMs: number): Promise<string> {
    if (/[\n\r]/.test(line)) throw new Error('guestfish command with a line break');
    const marker = `@@sevcheck-${process.pid}-${++this.seq}@@`;
    if (this.ended) throw new GuestfishError('guestfish ended', this.err);
    this.proc.stdin?.write(`${line}\necho ${marker}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.out.indexOf(`${marker}\n`);
      if (at >= 0) {
        const answer = this.out.slice(0, at);
        this.out = this.out.slice(at + marker.length + 1);
        return answer;
      }
      if (this.ended) {
        if (await this.missing()) throw new GuestfishError('guestfish not found (install libguestfs-tools)', '');
        throw new GuestfishError('guestfish failed', this.err);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.kill();
        throw new GuestfishError(`guestfish did not answer \`${line.split(' ')[0]}\` within ${Math.round(timeoutMs / 1000)} s`, this.err, true);
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 1000));
        this.waiter = () => {
          clearTimeout(t);
          res();
        };
      });
      this.waiter = undefined;
    }
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }

  /** `quit`, then wait for the appliance to shut down (killed if it does not within timeoutMs). */
  async close(timeoutMs = 30_000): Promise<void> {
    if (!this.ended) this.proc.stdin?.end('quit\n');
    const t = setTimeout(() => this.kill(), timeoutMs);
    try {
      await this.proc;
    } finally {
      clearTimeout(t);
    }
  }
}

/** `list-filesystems` output ("DEVICE: TYPE" lines) as pairs; lines that are not that are left out. */
export function parseFilesystems(out: string): Array<{ device: string; type: string }> {
  const fs: Array<{ device: string; type: string }> = [];
  for (const line of out.split('\n')) {
    const m = /^(\/dev\/\S+): (\S+)$/.exec(line);
    if (m?.[1] && m[2] && DEVICE.test(m[1])) fs.push({ device: m[1], type: m[2] });
  }
  return fs;
}

/** `inspect-get-mountpoints` output ("MOUNTPOINT: DEVICE" lines), parents before children. */
export function parseMountpoints(out: string): Array<{ mountpoint: string; device: string }> {
  const mps: Array<{ mountpoint: string; device: string }> = [];
  for (const line of out.split('\n')) {
    const m = /^(\/\S*): (\/dev\/\S+)$/.exec(line);
    if (m?.[1] && m[2] && MOUNTPOINT.test(m[1]) && DEVICE.test(m[2]) && !m[1].split('/').includes('..')) mps.push({ mountpoint: m[1], device: m[2] });
  }
  return mps.sort((a, b) => a.mountpoint.split('/').filter(Boolean).length - b.mountpoint.split('/').filter(Boolean).length);
}
