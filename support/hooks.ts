import { Before, After, Status } from '@cucumber/cucumber';
import type { SevWorld } from './world.js';
import { covers, requiredProfile } from './profile.js';
import { failed, skipped } from './verdict.js';
import { VERDICT_MEDIA_TYPE } from './report/results.js';

const CHECK_TAG = /^@check:(.+)$/;

Before(function (this: SevWorld, { pickle }) {
  const tags = pickle.tags.map((t) => t.name);
  this.checkId = tags.map((t) => CHECK_TAG.exec(t)?.[1]).find((id) => id !== undefined);
  const needed = requiredProfile(tags);
  if (!covers(this.profile, needed)) {
    this.record(skipped(`profile ${this.profile} does not require ${needed === 'sev-snp' ? 'SEV-SNP' : 'SEV-ES'} (run with --profile ${needed})`));
    return 'skipped';
  }
  return undefined;
});

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
