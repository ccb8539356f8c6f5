/**
 * Whether this code runs from the prebuilt bundle (scripts/build-run.mjs → dist/run/, started by
 * bin/sevcheck.js while every source still has its recorded SHA-256) or from the TypeScript
 * sources through tsx, and what cucumber must be told differently in the bundle. The build
 * defines SEVCHECK_PREBUILT; under tsx it does not exist and everything here is the identity.
 */
import { fileURLToPath } from 'node:url';
import type { IRunConfiguration } from '@cucumber/cucumber/api';

declare const SEVCHECK_PREBUILT: boolean | undefined;

export function isPrebuilt(): boolean {
  return typeof SEVCHECK_PREBUILT === 'boolean' && SEVCHECK_PREBUILT;
}

/**
 * The run configuration for the code that is running:
 *  - support code: dist/run/support.mjs instead of the .ts files: cucumber imports it between
 *    its registry's reset and finalize, and it initialises the support code bundled in
 *    dist/run/sevcheck.cjs (world, hooks, parameter types, steps: what cucumber.json's `import`
 *    names), so the steps register with the bundle's one cucumber and see the same run context
 *    as the CLI. Cucumber names each step's .ts file and line through the bundle's source
 *    positions (scripts/cucumber-definition-line.cjs).
 *  - the "pretty" formatter: cucumber loads its built-in formatters by package name from its own
 *    directory (lib/formatter/builtin/index.js: pretty → @cucumber/pretty-formatter, its own
 *    nested copy, which requires @cucumber/cucumber). The build bundles that package on the
 *    bundle's cucumber; dist/run/pretty.mjs exports it, and is given to cucumber by file URL.
 */
export function forThisBuild(rc: IRunConfiguration): IRunConfiguration {
  if (!isPrebuilt()) return rc;
  const support = fileURLToPath(new URL('./support.mjs', import.meta.url));
  const pretty = new URL('./pretty.mjs', import.meta.url).href;
  const formatter = (name: string): string => (name === 'pretty' ? pretty : name);
  return {
    ...rc,
    support: { ...rc.support, requirePaths: [], importPaths: [support] },
    formats: { ...rc.formats, stdout: formatter(rc.formats.stdout), files: Object.fromEntries(Object.entries(rc.formats.files).map(([f, n]) => [f, formatter(n)])) },
  };
}
