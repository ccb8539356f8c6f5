/**
 * The files a site gives sevcheck (a config, feature files, allow-lists): regular files only
 * (a symbolic link is followed, and must end at one), at most MAX_SITE_FILE bytes. A problem is an
 * InputError naming the file (exit 2).
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';

/** A site file is written by hand: 1 MiB is far beyond any. */
export const MAX_SITE_FILE = 1 << 20;

export function readSiteFile(path: string, label = path): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(label, code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? String(e)}`);
  }
  if (!st.isFile()) throw new InputError(label, st.isDirectory() ? 'is a directory, not a file' : 'not a regular file');
  if (st.size > MAX_SITE_FILE) throw new InputError(label, `${st.size} bytes: more than the ${MAX_SITE_FILE} a site file may have`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(label, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
