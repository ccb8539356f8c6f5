import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The sevcheck checkout/package root (features/, steps/, cucumber.json live here): two levels up
 * from support/run/ under tsx, and from dist/run/ in the prebuilt bundle (scripts/build-run.mjs).
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
