/**
 * What a step definition tells the users who write site features (issue 21, docs/steps.md): the
 * layer its facts come from, an example, what each parameter is, and an up-front check of the
 * values a feature file gives it (a bad one is the author's to fix: `FILE:LINE: ...`, exit 2,
 * before any host is opened: support/site/preflight.ts). Carried on the step definition itself
 * (cucumber keeps a definition's options, `wrapperOptions` included, on its StepDefinition), so
 * that `sevcheck steps` lists the definitions cucumber loaded, not a second list.
 */
export interface StepDoc {
  readonly layer: string;
  /** the whole step as a user writes it, keyword included */
  readonly example: string;
  /** one per {parameter} of the text, in order */
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  /**
   * Checks the transformed arguments of one use; returns the problem (one line) or undefined.
   * `dir` is the directory of the feature file (relative paths resolve there).
   */
  readonly check?: ((args: readonly unknown[], where: { readonly dir: string }) => string | undefined) | undefined;
}

/** The step options that carry a StepDoc (cucumber ignores wrapperOptions without a definition function wrapper). */
export const documented = (doc: StepDoc, timeout?: number): { timeout?: number; wrapperOptions: { stepDoc: StepDoc } } => ({
  ...(timeout !== undefined ? { timeout } : {}),
  wrapperOptions: { stepDoc: doc },
});

/** The StepDoc of a step definition's options, if it has one. */
export function stepDocOf(options: { wrapperOptions?: unknown }): StepDoc | undefined {
  const w = options.wrapperOptions as { stepDoc?: StepDoc } | undefined;
  return w?.stepDoc;
}

/** Each parameter type: what a user may write for it, and an example value (for definitions without a StepDoc). */
export const PARAMETER_TYPES: Readonly<Record<string, { readonly type: string; readonly example: string }>> = {
  int: { type: 'a whole number', example: '23' },
  float: { type: 'a number', example: '1.5' },
  word: { type: 'a word without spaces', example: 'sev_es' },
  string: { type: 'text in double quotes', example: '"mem_encrypt=on"' },
  feature: { type: 'SEV, SEV-ES or SEV-SNP', example: 'SEV-SNP' },
  machine: { type: 'the default machine or the q35 machine', example: 'the q35 machine' },
  devnode: { type: '/dev/sev or /dev/kvm', example: '/dev/sev' },
  firmware: { type: 'a SEV firmware version major.minor, each 0..255', example: '1.55' },
  version: { type: 'a version: 1 to 4 numbers separated by dots', example: '6.11' },
  tcb: { type: 'bootloader, TEE, SNP, microcode or FMC', example: 'SNP' },
  freedom: { type: 'debugging, migration or SMT', example: 'debugging' },
};
