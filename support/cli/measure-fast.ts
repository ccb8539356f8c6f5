/**
 * `sevcheck measure` as one function for the prebuilt bundle (scripts/build-measure.mjs →
 * dist/measure.mjs), which bin/sevcheck.js runs without loading tsx or commander so that the
 * whole process starts faster than `python3 sev-snp-measure.py`. Same behaviour as the
 * `measure` entry of main.ts's STANDALONE table: 0 ok, 2 bad input, one `sevcheck measure: ...` line.
 */
import { measureMain } from './measure.js';
import { tolerateClosedPipes } from './closed-pipe.js';
import { printable, printableLines } from '../report/printable.js';

export async function runMeasure(argv: string[]): Promise<number> {
  tolerateClosedPipes();
  try {
    return await measureMain(argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(printableLines(s)) });
  } catch (e) {
    process.stderr.write(`sevcheck measure: ${printable(e instanceof Error ? e.message : String(e))}\n`);
    return 2;
  }
}
