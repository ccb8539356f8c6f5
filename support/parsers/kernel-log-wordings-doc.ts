/**
 * docs/kernel-wordings.md, rendered from the wording table (kernel-log-wordings.ts). The doc is
 * generated, never edited: `npm run docs:wordings` writes it and test/host/kernel-wordings.test.ts
 * fails when it is not what this renders.
 */
import { MAINLINE, mainlineReleases, TREES_READ, WORDINGS, type Wording, type WordingSource } from './kernel-log-wordings.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

const TITLES: Record<WordingSource, string> = {
  ccp: 'ccp (drivers/crypto/ccp/psp-dev.c, sev-dev.c): firmware status, INIT, SNP_INIT, shutdown',
  kvm_amd: 'kvm_amd (arch/x86/kvm/svm.c, svm/sev.c): SEV / SEV-ES / SEV-SNP in KVM',
  'SEV-SNP': 'SEV-SNP (arch/x86/kernel/sev.c on AMDESE, arch/x86/virt/svm/sev.c): the RMP table',
  mem_encrypt: 'mem_encrypt (arch/x86/mm/mem_encrypt.c): the memory-encryption banner',
};

const MEANING: Record<Wording['outcome'], string> = { success: 'success', failure: '**failure**', info: 'information' };

/** How many (wording, kernel) pairs the table holds: mainline releases plus the other kernel lines named. */
export function tableSize(): { wordings: number; pairs: number; mainline: number; others: number } {
  let mainline = 0;
  let others = 0;
  for (const w of WORDINGS) {
    mainline += mainlineReleases(w).length;
    others += w.others?.length ?? 0;
  }
  return { wordings: WORDINGS.length, pairs: mainline + others, mainline, others };
}

export function renderWordingsDoc(): string {
  const size = tableSize();
  const out: string[] = [
    '# Kernel log wordings sevcheck reads',
    '',
    '<!-- Generated from support/parsers/kernel-log-wordings.ts by `npm run docs:wordings`; do not edit. -->',
    '',
    'Every kernel message sevcheck takes a fact from, with the kernels that print it and where it comes from.',
    'A line counts only when its whole message (after the `ccp 0000:47:00.1: `, `kvm_amd: ` or `SEV-SNP: ` prefix) is one of these wordings;',
    'each row is tested with its sample line (test/host/kernel-wordings.test.ts).',
    `The table holds ${size.wordings} wordings; over the ${MAINLINE.length} mainline releases ${MAINLINE[0]}–${MAINLINE[MAINLINE.length - 1]} and the other kernel lines named`,
    `(AMDESE snp-host, distribution kernels) that is ${size.pairs} wording × kernel pairs (${size.mainline} mainline, ${size.others} other).`,
    '',
    'Ranges marked ≈ are bounded by the source versions read (torvalds/linux e606073b ≈ v5.10, 0410c612 ≈ v6.11–v6.13, linux-next 281a569a ≈ v6.18,',
    'the v4.16 psp-dev.c, the patches that changed each line), not by a bisected commit. Distribution kernels backport:',
    'a RHEL 8 4.18 or RHEL 9 5.14 kernel may print a later wording, so the parser reads every row whatever kernel the log names.',
    '',
    '## How the rules use them',
    '',
    '- A **failure** line of a step (status, INIT, SEV-ES TMR, SNP_INIT, RMP, PSP timeout) decides that step\'s check as failed, citing the line,',
    '  whatever success line of another step follows it. AMDESE snp-host kernels and mainline v6.11–v6.13 log `SEV: failed to INIT …`',
    '  and then `SEV API:…` (sev_pci_init prints the version PLATFORM_STATUS gave whatever INIT did): `host.firmware.sev-init` is failed.',
    '- A ccp / kvm_amd / SEV-SNP line that no row matches and that reads like a failure (fail, error, not enabled, requires, disabled,',
    '  unable, timed out, invalid …; of kvm_amd only the lines about SEV, SNP, ASIDs, RMP or VMSA, since it also logs AVIC or PMU notices)',
    '  keeps the checks that depend on it (`host.firmware.sev-init`, `host.snp.init`, `host.snp.rmp` from the log)',
    '  from passing on the log: they are undecided and quote the line, unless a platform tool answers the question directly.',
    '- **information** rows are known and decide nothing; shutdown failures concern module unload, kexec or panic, not bring-up.',
    '',
  ];
  for (const source of Object.keys(TITLES) as WordingSource[]) {
    out.push(`## ${TITLES[source]}`, '');
    out.push('| wording | step | meaning | kernels | introduced / removed | printed by | read in (citation) | sample |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const w of WORDINGS.filter((x) => x.source === source)) {
      const releases = mainlineReleases(w);
      const span = releases.length > 0 ? `mainline ${releases[0]}–${w.mainline?.[1] ?? 'today'} (${releases.length})` : 'no mainline release';
      const kernels = `${w.kernels}; ${span}${w.others?.length ? `; also ${w.others.join(', ')}` : ''}`;
      const when = `${w.introduced}${w.removed ? ` / ${w.removed}` : ''}`;
      out.push(`| <a id="${w.id}"></a>${code(w.format)} | ${w.step} | ${MEANING[w.outcome]} | ${cell(kernels)} | ${cell(when)} | ${cell(w.file)} | ${cell(w.seen)} | ${code(w.sample)} |`);
    }
    out.push('');
  }
  out.push(
    '## Trees read one by one',
    '',
    'Besides mainline, each of these trees\' files was read whole at the commit named (the search index\'s stored version), and every message it prints',
    'checked against the rows above; "added" are the rows the tree brought (none: all its wordings were already rows).',
    '',
    '| tree | repository @ commit | files | rows added | note |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const t of TREES_READ) {
    const added = t.added.length > 0 ? t.added.map((id) => `[${id}](#${id})`).join(', ') : 'none';
    out.push(`| ${cell(t.tree)} | ${code(`${t.repo}@${t.commit.slice(0, 12)}`)} | ${t.files.map(code).join(', ')} | ${added} | ${cell(t.note ?? '')} |`);
  }
  out.push('');
  return `${out.join('\n')}`;
}
