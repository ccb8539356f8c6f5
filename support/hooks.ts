import { Before, After, BeforeAll, AfterAll, Status } from '@cucumber/cucumber';
import type { SevWorld, SevWorldParameters } from './world.js';
import { covers, parseProfile, requiredProfile } from './profile.js';
import { createRunContext, ownsTarget, registerRun, releaseRun, type RunContext } from './run-context.js';
import { openTarget } from './host/target.js';
import { HarnessError } from './host/types.js';
import { failed, skipped } from './verdict.js';
import { VERDICT_MEDIA_TYPE } from './report/results.js';

const CHECK_TAG = /^@check:(.+)$/;

/**
 * A plain `cucumber-js` run (no `sevcheck run` around it, so no worldParameters.run): make this
 * run's target and context from worldParameters.host / .profile and put its id into the
 * parameters every World of the run is built from (cucumber passes BeforeAll the run's
 * worldParameters object itself and clones it for each scenario afterwards).
 */
BeforeAll(async function (this: { parameters: SevWorldParameters }) {
  const parameters = this.parameters;
  if (parameters.run !== undefined) return;
  if (!parameters.host) throw new HarnessError('no host: run through `sevcheck run --host ...` or set worldParameters.host');
  const target = await openTarget(parameters.host);
  parameters.run = registerRun(createRunContext(target.host, parseProfile(parameters.profile ?? 'sev', 'worldParameters.profile')), target.close);
});

/** Close what BeforeAll opened; a run registered by `sevcheck run` is closed there. */
AfterAll(async function (this: { parameters: SevWorldParameters }) {
  if (ownsTarget(this.parameters.run)) await releaseRun(this.parameters.run);
});

/** a fixture's host.json "covers", per run: read at the run's first scenario, then known */
const coversOfRun = new WeakMap<RunContext, readonly string[] | undefined>();

/**
 * Returns a promise only at a fixture run's first scenario: cucumber runs a hook that returns
 * none without its timeout race (a timer and two promises per scenario).
 */
Before(function (this: SevWorld, { pickle }) {
  this.featureUri = pickle.uri;
  if (this.host.kind !== 'fixture') return beforeScenario(this, pickle.tags, undefined);
  if (coversOfRun.has(this.ctx)) return beforeScenario(this, pickle.tags, coversOfRun.get(this.ctx));
  return this.host.describe().then((d) => {
    coversOfRun.set(this.ctx, d.covers);
    return beforeScenario(this, pickle.tags, d.covers);
  });
});

function beforeScenario(world: SevWorld, pickleTags: ReadonlyArray<{ readonly name: string }>, fixtureCovers: readonly string[] | undefined): 'skipped' | undefined {
  const tags = pickleTags.map((t) => t.name);
  world.checkId = tags.map((t) => CHECK_TAG.exec(t)?.[1]).find((id) => id !== undefined);
  world.covers = fixtureCovers;
  // the site file's `exclude` (support/site/config.ts): skipped with the site's reason
  const excluded = world.checkId !== undefined ? world.ctx.options.exclude?.get(world.checkId) : undefined;
  if (excluded !== undefined) {
    world.record(skipped(excluded));
    return 'skipped';
  }
  const needed = requiredProfile(tags);
  if (!covers(world.profile, needed)) {
    world.record(skipped(`profile ${world.profile} does not require ${needed === 'sev-snp' ? 'SEV-SNP' : 'SEV-ES'} (run with --profile ${needed})`));
    return 'skipped';
  }
  return undefined;
}

After(function (this: SevWorld, { result, pickle }) {
  if (this.verdict || !this.checkId) return;
  // No fake greens: a check scenario that ends without a verdict is a harness defect.
  const why =
    result?.status === Status.PASSED
      ? `harness defect: scenario "${pickle.name}" passed without deciding its check`
      : `harness error in "${pickle.name}": ${result?.message?.split('\n')[0] ?? result?.status ?? 'unknown'}`;
  this.verdict = failed(why, 'a verdict from the check', 'report this as a sevcheck bug');
  this.attach(JSON.stringify({ check: this.checkId, ...this.verdict }), VERDICT_MEDIA_TYPE);
  if (result?.status === Status.PASSED) throw new Error(why);
});
