/**
 * Print a mkfs.xfs(8) prototype file ("-p protofile") describing the directory tree DIR, so that
 * scripts/ci-disk-image.sh can make an xfs file system holding DIR without mounting anything
 * (xfsprogs 6.1, Debian 12, has no xfs_protofile; the format is mkfs.xfs(8) "-p protofile").
 *
 *   node --import tsx scripts/xfs-protofile.ts DIR > proto
 *
 * Each entry: NAME MODE UID GID then, by type, the source file (regular), the link target
 * (symbolic link), major minor (device), or the directory's entries ended by "$". MODE is six
 * characters: type (- b c d p l), u or - (setuid), g or - (setgid), three octal digits (the
 * sticky bit has no place in it). What the format cannot hold is left out and counted on stderr:
 * names with white space, sockets; hard links become copies; extended attributes are lost.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '');
if (!process.argv[2]) {
  console.error('usage: xfs-protofile.ts DIR');
  process.exit(2);
}
const out: string[] = ['/dev/null', '0 0'];
let skipped = 0;
const mode = (type: string, m: number): string => `${type}${m & 0o4000 ? 'u' : '-'}${m & 0o2000 ? 'g' : '-'}${(m & 0o777).toString(8).padStart(3, '0')}`;

function walk(dir: string, depth: number): void {
  const pad = ' '.repeat(depth);
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (/\s/.test(name) || st.isSocket()) {
      skipped++;
      continue;
    }
    const ids = `${st.uid} ${st.gid}`;
    if (st.isDirectory()) {
      out.push(`${pad}${name} ${mode('d', st.mode)} ${ids}`);
      walk(p, depth + 1);
      out.push(`${pad}$`);
    } else if (st.isFile()) out.push(`${pad}${name} ${mode('-', st.mode)} ${ids} ${p}`);
    else if (st.isSymbolicLink()) {
      const target = readlinkSync(p);
      if (/\s/.test(target)) skipped++;
      else out.push(`${pad}${name} ${mode('l', st.mode)} ${ids} ${target}`);
    } else if (st.isBlockDevice() || st.isCharacterDevice()) out.push(`${pad}${name} ${mode(st.isBlockDevice() ? 'b' : 'c', st.mode)} ${ids} ${Math.floor(st.rdev / 256) & 0xfff} ${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`);
    else if (st.isFIFO()) out.push(`${pad}${name} ${mode('p', st.mode)} ${ids}`);
  }
}

const rst = lstatSync(root);
out.push(`${mode('d', rst.mode)} ${rst.uid} ${rst.gid}`);
walk(root, 1);
out.push('$');
process.stdout.write(`${out.join('\n')}\n`);
if (skipped) console.error(`xfs-protofile: ${skipped} entries the format cannot hold were left out (names with white space, sockets)`);
