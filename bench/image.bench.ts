/**
 * `npm run bench image`: `sevcheck run --host image:FILE` on the Debian 13 qcow2 (goal ≤ 60 s on
 * the 2-core CI machine without KVM, issue 22), and where the time goes: ImageHost.open() alone
 * with its breakdown (qemu-img/blkid checks, appliance launch, finding the root file system, the
 * tar-out copy, the emulator's download, appliance shutdown, unpacking, RootfsHost.open), and the
 * same checks on the tree itself (`rootfs:DIR`), the judging that is not the image's.
 *
 * The image: $SEVCHECK_IMAGE_DEBIAN13 (first of its ":"-separated list), else the CI cache
 * /var/cache/sevcheck/images/trixie-*.qcow2; the tree: $SEVCHECK_ROOTFS_DEBIAN13 (else beside it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ImageHost } from '../support/host/image-host.js';

const ROOT = resolve(import.meta.dirname, '..');
const IMAGES = '/var/cache/sevcheck/images';

function findImage(): string | undefined {
  const env = (process.env.SEVCHECK_IMAGE_DEBIAN13 ?? '').split(':').find(Boolean);
  if (env) return env;
  if (!existsSync(IMAGES)) return undefined;
  const q = readdirSync(IMAGES).find((n) => /^trixie-[0-9a-f]+\.qcow2$/.test(n));
  return q ? join(IMAGES, q) : undefined;
}

function timeRun(args: string[]): { ms: number; code: number } {
  const t0 = performance.now();
  let code = 0;
  try {
    execFileSync(process.execPath, [join(ROOT, 'bin/sevcheck.js'), ...args, '--out', mkdtempSync(join(tmpdir(), 'sevcheck-bench-'))], { cwd: ROOT, stdio: 'ignore' });
  } catch (e) {
    code = (e as { status?: number }).status ?? -1;
  }
  return { ms: performance.now() - t0, code };
}

const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function benchImage(log: (s: string) => void = console.log): Promise<void> {
  const image = findImage();
  if (!image || !existsSync(image)) {
    log('image: skipped (no Debian 13 qcow2: scripts/ci-disk-image.sh builds it; or set SEVCHECK_IMAGE_DEBIAN13)');
    return;
  }
  const tree = process.env.SEVCHECK_ROOTFS_DEBIAN13 ?? join('/var/cache/sevcheck/rootfs', basename(image).replace(/(-gpt|-xfs)?\.(qcow2|raw)$/, ''));
  log(`image: ${image} (load average ${load()})`);
  const host = new ImageHost(image);
  const t0 = performance.now();
  await host.open();
  const open = performance.now() - t0;
  await host.close();
  const t = host.timings;
  log(
    `  ImageHost.open ${s(open)}: checks ${s(t.check)}, appliance launch ${s(t.launch)}, root found ${s(t.find)} via ${t.via ?? '?'}, ` +
      `listing ${s(t.list)}, tar-out ${s(t.tar)}, unpack ${s(t.unpack)}, download ${s(t.download)} (${t.downloaded?.files ?? 0} files, ${((t.downloaded?.bytes ?? 0) / 1e6).toFixed(0)} MB), shutdown ${s(t.shutdown)}, RootfsHost.open ${s(t.open)}`,
  );
  const img = timeRun(['run', '--host', `image:${image}`]);
  log(`  sevcheck run --host image:${basename(image)}: ${s(img.ms)} (exit ${img.code}; goal ≤ 60 s) (load average ${load()})`);
  if (existsSync(tree)) {
    const fs = timeRun(['run', '--host', `rootfs:${tree}`]);
    log(`  sevcheck run --host rootfs:${basename(tree)} (the same tree, judging only): ${s(fs.ms)} (exit ${fs.code})`);
  }
}

export default benchImage;
