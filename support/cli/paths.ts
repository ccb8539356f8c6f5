import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sevcheck checkout/package root (features/, steps/, cucumber.json live here). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
