/** sevcheck's version: `sevcheck --version`, metrics.prom's sevcheck_build_info, fleet.json `version` (package.json's; test/structure asserts they agree). */
export const VERSION = '0.1.0';
