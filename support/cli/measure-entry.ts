/**
 * Process entry for `sevcheck measure` alone (no cucumber loaded):
 *   node --import tsx support/cli/measure-entry.ts --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf OVMF.fd
 */
import { measureMain } from './measure.js';

process.exitCode = await measureMain(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
