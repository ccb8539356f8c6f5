/**
 * The one way sevcheck reads a file a user or another machine made (issue 19): an inventory, a
 * waivers file, a results.json fetched from a host, a previous fleet.json, a fixture's files.
 *
 * - Regular files only: the file is opened with O_NONBLOCK (a FIFO does not block the open) and
 *   `fstat`ed before a byte is read, so a FIFO, a device (`/dev/zero`), a socket or a directory is
 *   refused by what it is, never read.
 * - A size cap per kind of file (READ_CAPS), checked against fstat's size and again while reading
 *   (a file that grows is cut off at the cap and refused), so no input can fill the memory.
 * - `inside`: a file under a directory given on the command line (--from-results DIR, --compare
 *   DIR) is resolved with every symlink followed, and refused when it lands outside DIR.
 * - Text must be UTF-8.
 *
 * Every error is an InputError naming the file and what is wrong with it; none quotes the file's
 * bytes (a results.json that is a link to /etc/shadow must not end up in a report).
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { InputError } from '../errors.js';

const MiB = 1024 * 1024;

/**
 * Caps per kind, in bytes. Each is far above what sevcheck itself writes (a results.json of a
 * full run is about 100 KiB; a 1000-host fleet.json about 60 MiB) and far below what Node can
 * hold as one string (V8's String::kMaxLength, about 512 Mi UTF-16 units on 64-bit).
 */
export const READ_CAPS = {
  inventory: 16 * MiB,
  waivers: 16 * MiB,
  /** a results.json of `sevcheck run` */
  results: 32 * MiB,
  /** a fleet.json of `sevcheck fleet` */
  fleet: 256 * MiB,
  /** a file of a fixture host (host.json, recorded command output, files) */
  fixture: 64 * MiB,
  /** a file read from a root file system (rootfs:DIR) */
  image: 64 * MiB,
} as const;
export type ReadKind = keyof typeof READ_CAPS;

export interface ReadOptions {
  /** what the file is: picks the size cap and names it in errors */
  readonly kind: ReadKind;
  /** how errors name the file (default: the path), e.g. "--inventory inv.yaml" */
  readonly label?: string | undefined;
  /** the file must resolve (symlinks followed) inside this directory */
  readonly inside?: string | undefined;
  /** `inside` as realpath(3) resolved it, from a caller that reads many files under it (the fixture host: once per run) */
  readonly insideReal?: string | undefined;
  /** a cap other than READ_CAPS[kind] (tests) */
  readonly maxBytes?: number | undefined;
}

/** What a non-regular file is, for the error. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export const mib = (n: number): string => (n >= MiB ? `${Math.round((n / MiB) * 10) / 10} MiB` : `${n} bytes`);

/** `file` resolved with every link followed; refused when outside `dir` (itself resolved). */
export function resolveInside(file: string, dir: string, label: string, dirReal?: string): string {
  let real: string;
  let base: string;
  // realpath(3) (realpathSync.native): the same resolution as Node's JavaScript realpathSync, one
  // call instead of an lstat per path component from JavaScript (a fixture host reads ~100 files)
  try {
    base = dirReal ?? realpathSync.native(dir);
  } catch (e) {
    throw new InputError(label, errnoProblem(e));
  }
  try {
    real = realpathSync.native(file);
  } catch (e) {
    throw new InputError(label, errnoProblem(e));
  }
  const rel = relative(base, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new InputError(label, `is a symbolic link that leads outside ${dir}: refused (copy the file into the directory instead)`);
  }
  return real;
}

function errnoProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return `cannot read (${code ?? 'unknown error'})`;
  }
}

/** Read a user-supplied file as bytes under the rules above. */
export function readUserBytes(file: string, o: ReadOptions): Buffer {
  const label = o.label ?? file;
  const cap = o.maxBytes ?? READ_CAPS[o.kind];
  const path = o.inside !== undefined ? resolveInside(file, o.inside, label, o.insideReal) : file;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once (instead of waiting forever);
    // O_NOCTTY: a terminal device never becomes the controlling terminal
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (o.inside !== undefined ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    throw new InputError(label, errnoProblem(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(label, `is ${fileKind(st)}, not a regular file: refused`);
    if (st.size > cap) throw new InputError(label, `is ${st.size} bytes, more than the ${mib(cap)} a ${o.kind} file may have: refused`);
    // read at most cap + 1 bytes whatever fstat said (a file may grow while it is read); the first
    // buffer is the size fstat gave plus one byte (a small file is one small buffer and one read
    // that says end of file, not 64 KiB), later ones 64 KiB
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = total === 0 ? st.size + 1 : Math.max(st.size - total, 64 * 1024);
      const buf = Buffer.allocUnsafe(Math.min(want, cap + 1 - total, 16 * MiB));
      if (buf.length === 0) break;
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw new InputError(label, errnoProblem(e));
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > cap) throw new InputError(label, `grew past the ${mib(cap)} a ${o.kind} file may have while it was read: refused`);
      // a short read of a regular file at or past fstat's size is its end
      if (n < buf.length && total >= st.size) break;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Read a user-supplied text file (UTF-8; a BOM is dropped). */
export function readUserText(file: string, o: ReadOptions): string {
  const bytes = readUserBytes(file, o);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new InputError(o.label ?? file, 'is not UTF-8 text');
  }
}

/**
 * JSON.parse without its message: V8's SyntaxError quotes the text it choked on ("Unexpected
 * token 'r', "root:$y$j9T..." is not valid JSON"), which must not reach a report. The error says
 * where (line and column) and never what.
 */
export function parseJsonText(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    let where = '';
    if (m) {
      const pos = Math.min(Number(m[1]), text.length);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    } else if (/Unexpected end of JSON input/.test((e as Error).message)) where = ' (it ends too early)';
    throw new InputError(label, `is not valid JSON${where}`);
  }
}

/** Read and parse a user-supplied JSON file. */
export function readUserJson(file: string, o: ReadOptions): unknown {
  return parseJsonText(readUserText(file, o), o.label ?? file);
}
