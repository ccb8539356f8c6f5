/**
 * A clone alone works (issue 20 item 5): the test vectors live in test/vectors, each folder with
 * its origin, commit and licence in test/vectors/SOURCES (and the upstream COMMIT file), and
 * nothing in the repository refers to a sibling directory outside it. The vectors (AMD's root
 * certificates among them) are test data: the npm package leaves them out (.npmignore), and the
 * product reads vectors only from a directory the user names (--vectors, SEVCHECK_VECTORS).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, VECTORS } from '../helpers.js';

/** Every file of the repository a clone has (no node_modules, build output, reports or .git). */
function repoFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    const rel = relative(ROOT, p);
    if (e.isDirectory()) return ['node_modules', '.git', 'dist', 'reports', 'test/vectors'].includes(rel) ? [] : repoFiles(p);
    return e.isFile() && statSync(p).size < 4 << 20 ? [rel] : [];
  });
}

// built so that this file does not name it itself
const SIBLING = new RegExp(['\\.\\./', 'shared\\b|\\bshared/', 'vectors'].join(''));

describe('test vectors in the repository', () => {
  it('nothing in the repository refers to the sibling directory the vectors came from', () => {
    const naming = repoFiles().filter((f) => !/\.(png|bin|fd|der|cert|gz)$/.test(f) && SIBLING.test(readFileSync(join(ROOT, f), 'latin1')));
    expect(naming).toEqual([]);
  });

  it('every vector folder has its origin, commit and licence in SOURCES, and the commit is its COMMIT', () => {
    const sources = readFileSync(join(VECTORS, 'SOURCES'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.split('|').map((x) => x.trim()));
    const folders = readdirSync(VECTORS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(sources.map((r) => r[0]).sort()).toEqual(folders);
    for (const [folder, origin, commit, licence, what] of sources) {
      expect(origin, folder).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
      expect(commit, folder).toMatch(/^[0-9a-f]{40}$/);
      expect(readFileSync(join(VECTORS, folder!, 'COMMIT'), 'utf8').split(' ')[0], folder).toBe(commit);
      expect(licence, folder).toBe('Apache-2.0');
      expect(what?.length, folder).toBeGreaterThan(20);
    }
  });

  it('the npm package leaves them out', () => {
    expect(readFileSync(join(ROOT, '.npmignore'), 'utf8').split('\n')).toContain('test/vectors/');
  });
});
