import { defineParameterType } from '@cucumber/cucumber';
import type { Feature } from './rules/host.js';

/** {feature}: SEV, SEV-ES or SEV-SNP as written in the features. */
defineParameterType({
  name: 'feature',
  regexp: /SEV-SNP|SEV-ES|SEV/,
  transformer: (s: string): Feature => s.toLowerCase() as Feature,
});
