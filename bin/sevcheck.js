#!/usr/bin/env node
// sevcheck launcher: TypeScript runs through tsx's loader, no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../support/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
