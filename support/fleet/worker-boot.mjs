// Starts fleet/worker.ts in a worker thread from the TypeScript sources (tsx's loader, as
// bin/sevcheck.js does for the main thread); the prebuilt bundle starts dist/run/worker.mjs instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
