/**
 * Whole-directory replacement for report sets and recordings: everything is written into a
 * staging directory next to the target (same filesystem, so rename(2) moves it), and only a run
 * that finished is renamed into place. The previous directory is moved aside first and removed
 * after: a reader sees the old set or the new one, never a mix of two runs, and a run that ends
 * in a harness error leaves the previous set as it was.
 */
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** What `sevcheck run` writes into --out (README "Reports"). */
export const REPORT_FILES: readonly string[] = ['results.json', 'summary.md', 'junit.xml', 'report.html', 'cucumber.html', 'messages.ndjson'];

export interface Stage {
  /** where the run writes */
  readonly dir: string;
  /** the directory it replaces on commit */
  readonly target: string;
}

/**
 * Create the staging directory for `target` (and target's parent when missing). This is also the
 * proof that the place is writable: done before the host is opened, so an unwritable --out is an
 * input error (exit 2) before any check runs.
 */
export async function openStage(option: string, target: string): Promise<Stage> {
  // a symlink to the reports directory: replace the directory it points to, not the link
  const abs = existsSync(target) ? realpathSync(target) : resolve(target);
  const parent = dirname(abs);
  try {
    await mkdir(parent, { recursive: true });
    const dir = await mkdtemp(join(parent, `.${basename(abs)}.sevcheck-`));
    // mkdtemp makes it 0700; the directory it becomes gets the mode mkdir would have given it
    await chmod(dir, 0o777 & ~process.umask());
    return { dir, target: abs };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`${option} ${target}`, `cannot write in ${parent}: ${err.code ?? err.message}`);
  }
}

/** Move the finished stage into place, replacing whatever was at the target. */
export async function commitStage(stage: Stage): Promise<void> {
  const aside = `${stage.dir}.old`;
  const hadOld = existsSync(stage.target);
  if (hadOld) await rename(stage.target, aside);
  try {
    await rename(stage.dir, stage.target);
  } catch (e) {
    if (hadOld) await rename(aside, stage.target).catch(() => undefined);
    throw e;
  }
  if (hadOld) await rm(aside, { recursive: true, force: true });
}

/** Throw the stage away (the run did not finish): the target stays as it was. */
export async function discardStage(stage: Stage | undefined): Promise<void> {
  if (stage) await rm(stage.dir, { recursive: true, force: true });
}
