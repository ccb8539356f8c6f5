import { World, setDefaultTimeout, setWorldConstructor, type IWorldOptions } from '@cucumber/cucumber';
import { AnswerError, HarnessError, HostError, coversCheck, type Host } from './host/types.js';
import { runContext, type Probes, type RunContext } from './run-context.js';
import { skipped, undecided, type Verdict } from './verdict.js';
import { VERDICT_MEDIA_TYPE } from './report/results.js';
import type { Profile } from './profile.js';


export interface SevWorldParameters {
  host?: string;
  profile?: string;
  /** the id of this run's context (run-context.ts registerRun): set by `sevcheck run`, or by the BeforeAll hook */
  run?: string;
}

/** What a step returns to cucumber: undefined = passed, 'pending' = undecided, 'skipped'. */
export type StepOutcome = 'pending' | 'skipped' | undefined;

/** Thrown to fail a scenario; cucumber shows `message`, which is the verdict's message. */
export class CheckFailed extends AnswerError {
  constructor(message: string) {
    // no stack captured (host/types.ts AnswerError), not even under SEVCHECK_DEBUG
    super(message);
    this.name = 'CheckFailed';
    // The message is the whole story: no stack frames in reports. (No stack at all also keeps
    // cucumber's error-stack-parser off its backtracking fallback regex, which costs tens of ms
    // per failure on long messages with quotes.)
    this.stack = undefined;
  }
}

export class SevWorld extends World<SevWorldParameters> {
  readonly ctx: RunContext;
  checkId: string | undefined;
  verdict: Verdict | undefined;
  /** the fixture's host.json "covers" (hooks.ts reads it before the scenario); undefined = everything */
  covers: readonly string[] | undefined;
  /** the scenario's feature file as cucumber names it (hooks.ts): site steps resolve relative paths next to it */
  featureUri: string | undefined;

  constructor(options: IWorldOptions<SevWorldParameters>) {
    super(options);
    this.ctx = runContext(options.parameters);
  }

  get host(): Host {
    return this.ctx.host;
  }
  get probes(): Probes {
    return this.ctx.probes;
  }
  get profile(): Profile {
    return this.ctx.profile;
  }

  /**
   * Settle the scenario's check. Accepts a verdict or a function computing one; a HostError
   * while computing it (unreadable file, unrecorded command, no privilege) makes the check
   * undecided with that reason; a HarnessError ends the run with exit 2.
   */
  async decide(v: Verdict | (() => Verdict | Promise<Verdict>)): Promise<StepOutcome> {
    let verdict: Verdict;
    try {
      verdict = typeof v === 'function' ? await v() : v;
    } catch (e) {
      if (e instanceof HostError && e.code === 'NOT_RUNNING') verdict = skipped(e.message);
      else if (e instanceof HostError) verdict = undecided(e.message);
      else if (e instanceof HarnessError) {
        this.ctx.fatal ??= e;
        throw e;
      } else throw e;
    }
    return this.record(verdict);
  }

  /** Record the verdict once (a scenario has one check) and map it onto cucumber's statuses. */
  record(verdict: Verdict): StepOutcome {
    if (this.verdict) throw new Error(`harness defect: scenario for ${this.checkId ?? '(no check id)'} decided twice`);
    // a fixture that recorded only some layers: a check outside them that could not decide gets
    // one reason, the same for all of them, instead of each naming the file it missed
    if (verdict.status === 'undecided' && this.checkId && !coversCheck(this.covers, this.checkId)) {
      verdict = undecided(`not recorded in this fixture (host.json "covers": ${(this.covers ?? []).join(', ')})`);
    }
    this.verdict = verdict;
    // the whole verdict: status, message and its fields (found/expected/fix, reason), which
    // report/results.ts copies into results.json for every writer to read
    this.attach(JSON.stringify({ check: this.checkId, ...verdict }), VERDICT_MEDIA_TYPE);
    switch (verdict.status) {
      case 'passed':
        this.log(verdict.message);
        return undefined;
      case 'failed':
        throw new CheckFailed(verdict.message);
      case 'undecided':
        this.log(verdict.message);
        return 'pending';
      case 'skipped':
        this.log(verdict.message);
        return 'skipped';
    }
  }
}


setWorldConstructor(SevWorld);

// Every host command has its own timeout (a harness error, exit 2); cucumber's own step timeout
// (5 s by default) must sit above them so that it never decides a check by itself.
setDefaultTimeout(60_000);
