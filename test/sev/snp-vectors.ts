/**
 * Test helper: paths to, and loaders for, the real upstream vectors in test/vectors/virtee-sev
 * (virtee/sev, see its COMMIT file). Read at test time; never copied into the project.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexToBytes } from '../../support/sev/snp-report.js';
import { loadPemChain, loadSnpCert, type SnpCert } from '../../support/sev/snp-verify.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const virteeSev = path.resolve(repoRoot, 'test/vectors/virtee-sev');

export function vectorPath(rel: string): string {
  return path.join(virteeSev, rel);
}

export function vectorBytes(rel: string): Buffer {
  return readFileSync(vectorPath(rel));
}

/** report_milan.hex as the 1184 raw bytes */
export function milanReportBytes(): Buffer {
  const rel = 'tests/certs_data/report_milan.hex';
  return hexToBytes(readFileSync(vectorPath(rel), 'utf8'), rel);
}

export function cert(rel: string): SnpCert {
  return loadSnpCert(vectorBytes(rel), rel);
}

export function builtin(gen: 'milan' | 'genoa' | 'turin', which: 'ark' | 'ask'): SnpCert {
  return cert(`src/certs/snp/builtin/${gen}/${which}.pem`);
}

/** KDS cert_chain file: ASK first, then ARK */
export function kdsChain(gen: 'milan' | 'turin'): { ask: SnpCert; ark: SnpCert } {
  const rel = `tests/certs_data/cert_chain_${gen}`;
  const certs = loadPemChain(readFileSync(vectorPath(rel), 'utf8'), rel);
  if (certs.length !== 2) throw new Error(`${rel}: expected 2 certificates, got ${certs.length}`);
  return { ask: certs[0] as SnpCert, ark: certs[1] as SnpCert };
}
