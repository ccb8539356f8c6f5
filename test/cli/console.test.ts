/**
 * The console of `sevcheck run` / `record` as a person sees it (issues 14 §2, 20 §2-3): sevcheck's
 * own lines by default — the causes with one fix each, the undecided checks by reason, one line
 * per layer, the totals by check id and the report paths — at most 40 lines; `--verbose` adds a
 * line per check; `--format pretty` is cucumber's pretty formatter;
 * colour only on a terminal and never with NO_COLOR.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck, type CliResult, type JsonResults } from '../helpers.js';
import { CONSOLE_MAX_LINES } from '../../support/report/console.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'sevcheck-console-'));
const REF = 'fixture:fixtures/hosts/reference-milan';
const FAILING = 'fixture:fixtures/hosts/modprobe-conflict';
const ESC = /\x1b/;
const SGR = /\x1b\[[0-9;]*m/;

/**
 * The CLI with a stdout that says it is a terminal (what Node reports for a tty), through a
 * preloaded module; `env` entries set to undefined are removed (NO_COLOR, CI, FORCE_COLOR).
 */
function onTerminal(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const preload = `data:text/javascript,${encodeURIComponent("Object.defineProperty(process.stdout, 'isTTY', { value: true });")}`;
  const merged: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: undefined, CI: undefined, TERM: 'xterm-256color', ...env };
  const childEnv = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  return new Promise((done) => {
    execFile(process.execPath, ['--import', preload, resolve(ROOT, 'bin/sevcheck.js'), ...args], { cwd: ROOT, env: childEnv, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? -1 : 0;
      done({ code, stdout, stderr });
    });
  });
}

const lines = (s: string): string[] => s.replace(/\n$/, '').split('\n');
const count = (text: string, part: string): number => text.split(part).length - 1;

describe('sevcheck run: the default console', () => {
  it('npm start: the header, the undecided checks by reason, one line per layer, the verdict with the totals by check id, the report paths; at most 40 lines', async () => {
    const dir = out();
    const r = await sevcheck(['run', '--host', REF, '--out', dir]);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as JsonResults & { totals: Record<string, number> };
    const text = lines(r.stdout);
    expect(text.length).toBeLessThanOrEqual(CONSOLE_MAX_LINES);
    expect(text[0]).toBe('sevcheck: reference-milan (fixture:fixtures/hosts/reference-milan), profile sev-snp');
    // no line per check without --verbose; nothing of cucumber's own output
    expect(text.filter((l) => /^ {2}(passed|failed|undecided|skipped) +\S+ +\S/.test(l))).toEqual([]);
    expect(r.stdout).not.toMatch(/Scenario:|✔|\d+ scenarios|Warnings:|Pending/);
    // the undecided checks grouped by reason, each group with one remedy
    const t = results.totals;
    // issue 18: the only undecided check of the bundled reference host is the chain without AMD's roots
    expect(t.undecided).toBe(1);
    expect(r.stdout).toMatch(/^1 undecided check, by reason:$/m);
    expect(r.stdout).toMatch(/^ {2}1 check needs AMD's root certificates \(ASK\/ARK\): caps\.pdh\.chain-valid\n {4}→ give --amd-certs DIR/m);
    // a complete recording (issue 18): nothing is undecided for want of the kernel log
    expect(r.stdout).not.toMatch(/needs? the kernel log/);
    // every layer once, with its totals
    const layers = [...new Set(results.checks.map((c) => c.id.split('.')[0]))];
    for (const l of layers) expect(text.filter((x) => new RegExp(`^ {2}${l} +\\d+ checks: \\d+ failed, `).test(x)), l).toHaveLength(1);
    expect(text.slice(-2)).toEqual([
      `COMPLIANT SO FAR for profile sev-snp: ${t.checks} checks: 0 failed, ${t.undecided} undecided, ${t.passed} passed, ${t.skipped} skipped`,
      // the report set as written (report.html first once the report set has it)
      expect.stringMatching(new RegExp(`^reports: ${escapeRe(dir)}/ \\((report\\.html, )?summary\\.md, cucumber\\.html, results\\.json, junit\\.xml, messages\\.ndjson\\)$`)),
    ]);
  });

  it('modprobe-conflict: the cause first with the file:line that is wrong and its one fix; host.kvm-amd.sev under it, without a fix of its own', async () => {
    const dir = out();
    const r = await sevcheck(['run', '--host', FAILING, '--out', dir]);
    expect(r.code).toBe(1);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as JsonResults & { totals: Record<string, number> };
    const failures = results.checks.filter((c) => c.status === 'failed');
    expect(failures.map((c) => c.id).sort()).toEqual(['host.kvm-amd.sev', 'host.modprobe.sev']);
    const cause = failures.find((c) => c.id === 'host.modprobe.sev')!;
    expect(r.stdout).toContain(
      [
        '1 cause of 2 failed checks (1 failing because of another), one fix each:',
        '  host.modprobe.sev  No persisted module option turns SEV off',
        `    found     ${cause.found}`,
        `    fix       ${cause.fix}`,
        '    failed because of it (1): host.kvm-amd.sev',
      ].join('\n'),
    );
    expect(cause.fix).toMatch(/zz-kvm-tuning\.conf:2/);
    // the symptom's fix is not printed, and no fix rewrites sev.conf, which already says sev=1
    const symptom = failures.find((c) => c.id === 'host.kvm-amd.sev')!;
    expect(r.stdout).not.toContain(symptom.fix as string);
    expect(r.stdout).not.toMatch(/> \/etc\/modprobe\.d\/sev\.conf/);
    expect(JSON.stringify(results)).not.toMatch(/> \/etc\/modprobe\.d\/sev\.conf/);
    // each reason once, however many checks it holds
    const reasons = text(r.stdout).filter((l) => l.startsWith('    → '));
    expect(new Set(reasons).size).toBe(reasons.length);
    const t = results.totals;
    expect(lines(r.stdout).at(-2)).toBe(`NOT COMPLIANT for profile sev: ${t.checks} checks: 2 failed, ${t.undecided} undecided, ${t.passed} passed, ${t.skipped} skipped`);
  });

  it('--verbose: one line per check as it completes, and the same closing block uncut', async () => {
    const dir = out();
    const r = await sevcheck(['run', '--verbose', '--host', FAILING, '--out', dir]);
    expect(r.code).toBe(1);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as JsonResults;
    const checkLines = lines(r.stdout).filter((l) => /^ {2}(passed|failed|undecided|skipped) +\S+ +\S/.test(l));
    expect(checkLines).toHaveLength(results.checks.length);
    for (const c of results.checks) expect(checkLines, c.id).toContainEqual(expect.stringMatching(new RegExp(`^  ${c.status} +${c.id.replace(/\./g, '\\.')} +${escapeRe(c.scenario)}$`)));
    // every symptom on a line of its own, with its cause
    expect(r.stdout).toMatch(/^ {4}failed +host\.kvm-amd\.sev \(because host\.modprobe\.sev\)$/m);
  });

  it('record has the same console', async () => {
    const fixture = join(out(), 'rec');
    const r = await sevcheck(['record', '--host', REF, '--tags', '@layer:host', '--out', fixture, '--reports', out()]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).length).toBeLessThanOrEqual(CONSOLE_MAX_LINES + 1); // + "recorded ... into ..."
    // the host layer of the reference host is decided whole (issue 18); one skip: host.kvm.vmsa-features
    // (Secure TSC is optional and this KVM does not offer it)
    expect(r.stdout).toMatch(/^COMPLIANT for profile sev-snp: \d+ checks: 0 failed, 0 undecided, \d+ passed, 1 skipped$/m);
    expect(r.stdout).toMatch(/^ {2}host +\d+ checks: /m);
    expect(r.stdout).not.toMatch(/Scenario:/);
  });
});

const text = lines;

describe("README's sample output", () => {
  it('is what the command prints today (lines elided with "  ..." only)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Sample output\n[\s\S]*?```\n(\$ sevcheck[\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const [command, ...shown] = lines(block as string);
    expect(command).toBe('$ sevcheck run --host fixture:fixtures/hosts/modprobe-conflict');
    const dir = out();
    const r = await sevcheck(['run', '--host', FAILING, '--out', dir]);
    // the same report set, under the default --out
    const printed = lines(r.stdout.replace(`reports: ${dir}/`, 'reports: reports/'));
    let at = 0;
    for (const line of shown.filter((l) => l !== '  ...')) {
      const found = printed.indexOf(line, at);
      expect(found, `README line not printed (in this order): ${line}`).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
    expect(shown.at(-1)).toBe(printed.at(-1));
  });
});

describe('colour', () => {
  it('none when stdout is not a terminal, even without NO_COLOR (text and pretty)', async () => {
    for (const format of ['text', 'pretty']) {
      const r = await sevcheck(['run', '--host', FAILING, '--format', format, '--out', out()], { NO_COLOR: '' });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/NOT COMPLIANT/);
      expect(r.stdout, format).not.toMatch(ESC);
    }
  });

  it('on a terminal: the labels and verdict are coloured; NO_COLOR (any non-empty value) turns it off', async () => {
    const args = ['run', '--host', FAILING, '--out', out()];
    const coloured = await onTerminal(args, { NO_COLOR: undefined });
    expect(coloured.code).toBe(1);
    expect(coloured.stdout).toContain('  \x1b[1mhost.modprobe.sev\x1b[0m  ');
    expect(coloured.stdout).toContain('\x1b[31mfailed because of it\x1b[0m (1): host.kvm-amd.sev');
    expect(coloured.stdout).toContain('\x1b[31mNOT COMPLIANT\x1b[0m for profile sev');
    // no-color.org: "when present and not an empty string"
    expect((await onTerminal(args, { NO_COLOR: '' })).stdout).toMatch(SGR);
    for (const value of ['1', 'true', '0']) {
      const plain = await onTerminal(args, { NO_COLOR: value });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toMatch(/^ {4}failed because of it \(1\): host\.kvm-amd\.sev$/m);
      expect(plain.stdout, `NO_COLOR=${value}`).not.toMatch(ESC);
    }
  });

  it("--format pretty on a terminal: cucumber's colours, and none with NO_COLOR", async () => {
    const args = ['run', '--host', FAILING, '--tags', '@layer:host', '--format', 'pretty', '--out', out()];
    const coloured = await onTerminal(args, { NO_COLOR: undefined });
    expect(coloured.stdout).toMatch(/\x1b\[31m✖ failed/);
    const plain = await onTerminal(args, { NO_COLOR: '1' });
    expect(plain.stdout).toMatch(/✖ failed/);
    expect(plain.stdout).not.toMatch(ESC);
  });
});

describe('--format pretty', () => {
  it("is cucumber's pretty formatter, then sevcheck's verdict, totals and report paths", async () => {
    const dir = out();
    const r = await sevcheck(['run', '--host', FAILING, '--format', 'pretty', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}Scenario: KVM's AMD module has SEV enabled/m);
    expect(r.stdout).toMatch(/^ {4}Then the kvm_amd module has SEV enabled\n {4}✖ failed\n {6}found \/sys\/module\/kvm_amd\/parameters\/sev reads "N"/m);
    expect(r.stdout).toMatch(/^89 scenarios \(2 failed, 18 pending, 56 skipped, 13 passed\)$/m);
    expect(lines(r.stdout).slice(-2)).toEqual([
      expect.stringMatching(/^NOT COMPLIANT for profile sev: \d+ checks: 2 failed, \d+ undecided, \d+ passed, \d+ skipped$/),
      expect.stringMatching(new RegExp(`^reports: ${escapeRe(dir)}/ \\(`)),
    ]);
    // sevcheck's one-line-per-check list is the default's, not pretty's
    expect(r.stdout).not.toMatch(/^ {2}failed +host\.kvm-amd\.sev/m);
    expect(r.stdout).not.toMatch(/cause/);
  });

  it('--format json is results.json alone, as before', async () => {
    const r = await sevcheck(['run', '--host', FAILING, '--format', 'json', '--out', out()]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as JsonResults).checks).toHaveLength(89);
  });

  it('--help names the formats', async () => {
    for (const cmd of ['run', 'record']) {
      const r = await sevcheck([cmd, '--help']);
      expect(r.stdout.replace(/\s+/g, ' '), cmd).toMatch(/--format <format> console output: text = at most 40 lines: the causes of the failures .* pretty = cucumber's pretty formatter/);
      expect(r.stdout.replace(/\s+/g, ' '), cmd).toMatch(/--verbose text console: also one line per check as it completes/);
    }
    expect((await sevcheck(['run', '--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/choices: "text", "pretty", "html", "json", "summary", "junit", default: "text"/);
    expect((await sevcheck(['record', '--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/choices: "text", "pretty", default: "text"/);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
