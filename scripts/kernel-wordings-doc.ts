/** Writes docs/kernel-wordings.md from the wording table (support/parsers/kernel-log-wordings.ts). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderWordingsDoc } from '../support/parsers/kernel-log-wordings-doc.js';

const target = fileURLToPath(new URL('../docs/kernel-wordings.md', import.meta.url));
writeFileSync(target, renderWordingsDoc());
console.log(`wrote ${target}`);
