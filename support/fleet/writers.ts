/** The fleet report set: file name → pure writer (FleetResults → text). The only place fleet report file names appear. */
import type { FleetResults } from './types.js';
export interface FleetWriter { readonly file: string; write(fleet: FleetResults): string }
export const FLEET_WRITERS: Readonly<Record<string, FleetWriter>> = {
  json: { file: 'fleet.json', write: (f) => `${JSON.stringify(f, null, 2)}\n` },
};
