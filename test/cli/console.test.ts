/**
 * The console of `sevcheck run` / `record` as a person sees it (issue 14 §2): sevcheck's own
 * lines by default — one per check, the failures once more with their fix, the totals and the
 * report paths — short enough for one screen; `--format pretty` is cucumber's pretty formatter;
 * colour only on a terminal and never with NO_COLOR.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck, type CliResult, type JsonResults } from '../helpers.js';

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
  it('npm start: one line per check, in under 110 lines, ending with the verdict, totals and report paths', async () => {
    const dir = out();
    const r = await sevcheck(['run', '--host', REF, '--out', dir]);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as JsonResults;
    expect(results.checks.length).toBe(88);
    const text = lines(r.stdout);
    expect(text.length).toBeLessThanOrEqual(110);
    expect(text[0]).toBe('sevcheck: reference-milan (fixture:fixtures/hosts/reference-milan), profile sev-snp');
    // one line per check (scenario), in the one vocabulary, with its id and title
    const checkLines = text.filter((l) => /^ {2}(passed|failed|undecided|skipped) +\S+ +\S/.test(l));
    expect(checkLines).toHaveLength(results.checks.length);
    for (const c of results.checks) expect(checkLines, c.id).toContainEqual(expect.stringMatching(new RegExp(`^  ${c.status} +${c.id.replace(/\./g, '\\.')} +${escapeRe(c.scenario)}$`)));
    // the undecided check again with its reason; nothing of cucumber's own output
    expect(r.stdout).toMatch(/^undecided \(15\)/m);
    expect(r.stdout).toMatch(/^ {2}caps\.pdh\.chain-valid: the platform part of the chain/m);
    expect(r.stdout).not.toMatch(/Scenario:|✔|\d+ scenarios|Warnings:|Pending/);
    expect(text.slice(-2)).toEqual([
      'COMPLIANT SO FAR for profile sev-snp: 48 passed, 0 failed, 15 undecided, 25 skipped',
      // the report set as written (report.html first once the report set has it)
      expect.stringMatching(new RegExp(`^reports: ${escapeRe(dir)}/ \\((report\\.html, )?summary\\.md, cucumber\\.html, results\\.json, junit\\.xml, messages\\.ndjson\\)$`)),
    ]);
  });

  it('a failing host: each failure twice at most (its line and the closing block, with the fix), never three times', async () => {
    const dir = out();
    const r = await sevcheck(['run', '--host', FAILING, '--out', dir]);
    expect(r.code).toBe(1);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as JsonResults;
    const failures = results.checks.filter((c) => c.status === 'failed');
    expect(failures.map((c) => c.id).sort()).toEqual(['host.kvm-amd.sev', 'host.modprobe.sev']);
    for (const c of failures) {
      // the check's line as it completed, and its entry in the closing block
      expect(lines(r.stdout).filter((l) => new RegExp(`^ {2}(failed +)?${c.id.replace(/\./g, '\\.')} `).test(l)), c.id).toHaveLength(2);
      // what was found, expected and the fix: once each (the closing block prints the verdict's fields)
      for (const part of [c.found, c.expected, c.fix]) expect(count(r.stdout, part as string), `${c.id}: ${part}`).toBe(1);
    }
    expect(r.stdout).toMatch(/^failed \(2\):\n {2}host\.kvm-amd\.sev {2}KVM's AMD module has SEV enabled\n {4}found {5}\/sys\/module\/kvm_amd\/parameters\/sev reads "N"\n {4}expected {2}"Y" or "1"\n {4}fix {7}/m);
    // every undecided check with its reason, briefly (one line each)
    const undecided = results.checks.filter((c) => c.status === 'undecided');
    expect(r.stdout).toContain(`undecided (${undecided.length}), full reasons in the reports:`);
    for (const c of undecided) {
      const line = lines(r.stdout).find((l) => l.startsWith(`  ${c.id}: `) && c.message.startsWith(`undecided: ${l.slice(c.id.length + 4).replace(/…$/, '')}`));
      expect(line, c.message).toBeDefined();
      expect((line as string).length).toBeLessThanOrEqual(4 + c.id.length + 150);
    }
    expect(lines(r.stdout).at(-2)).toBe('NOT COMPLIANT for profile sev: 13 passed, 2 failed, 18 undecided, 55 skipped');
  });

  it('record has the same console', async () => {
    const fixture = join(out(), 'rec');
    const r = await sevcheck(['record', '--host', REF, '--tags', '@layer:host', '--out', fixture, '--reports', out()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}passed +host\.cpuid\.sev +CPUID reports SEV$/m);
    expect(r.stdout).toMatch(/^COMPLIANT SO FAR for profile sev-snp: 24 passed, 0 failed, 14 undecided, 0 skipped$/m);
    expect(r.stdout).not.toMatch(/Scenario:/);
  });
});

describe("README's sample output", () => {
  it('is what the command prints today (lines elided with "  ..." only)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Sample output\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
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
    expect(coloured.stdout).toContain('  \x1b[31mfailed   \x1b[0m  host.kvm-amd.sev');
    expect(coloured.stdout).toContain('\x1b[31mNOT COMPLIANT\x1b[0m for profile sev');
    // no-color.org: "when present and not an empty string"
    expect((await onTerminal(args, { NO_COLOR: '' })).stdout).toMatch(SGR);
    for (const value of ['1', 'true', '0']) {
      const plain = await onTerminal(args, { NO_COLOR: value });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toMatch(/^ {2}failed +host\.kvm-amd\.sev/m);
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
    expect(r.stdout).toMatch(/^88 scenarios \(2 failed, 18 pending, 55 skipped, 13 passed\)$/m);
    expect(lines(r.stdout).slice(-2)).toEqual([
      'NOT COMPLIANT for profile sev: 13 passed, 2 failed, 18 undecided, 55 skipped',
      expect.stringMatching(new RegExp(`^reports: ${escapeRe(dir)}/ \\(`)),
    ]);
    // sevcheck's one-line-per-check list is the default's, not pretty's
    expect(r.stdout).not.toMatch(/^ {2}failed +host\.kvm-amd\.sev/m);
  });

  it('--format json is results.json alone, as before', async () => {
    const r = await sevcheck(['run', '--host', FAILING, '--format', 'json', '--out', out()]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as JsonResults).checks).toHaveLength(88);
  });

  it('--help names the formats', async () => {
    for (const cmd of ['run', 'record']) {
      const r = await sevcheck([cmd, '--help']);
      expect(r.stdout.replace(/\s+/g, ' '), cmd).toMatch(/--format <format> console output: text = one line per check .* pretty = cucumber's pretty formatter/);
    }
    expect((await sevcheck(['run', '--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/choices: "text", "pretty", "html", "json", "summary", "junit", default: "text"/);
    expect((await sevcheck(['record', '--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/choices: "text", "pretty", default: "text"/);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
