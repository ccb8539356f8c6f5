import { isHostError, type Host } from './types.js';

/** A file's text, or undefined when the host has no such file; other read errors propagate. */
export async function readTextIfExists(host: Host, path: string): Promise<string | undefined> {
  try {
    return (await host.readFile(path)).toString('utf8');
  } catch (e) {
    if (isHostError(e, 'ENOENT')) return undefined;
    throw e;
  }
}
