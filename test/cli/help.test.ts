/**
 * Help for every command, unknown commands, and a closed stdout (issue 13 §3).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck } from '../helpers.js';

const COMMANDS: Record<string, RegExp> = {
  run: /^Usage: sevcheck run \[options\]/,
  record: /^Usage: sevcheck record \[options\]/,
  fleet: /^Usage: sevcheck fleet \[options\]/,
  measure: /^usage: sevcheck measure /,
  'lint-domain': /^usage: sevcheck lint-domain /,
  'lint-pve': /^usage: sevcheck lint-pve /,
  'lint-qemu': /^usage: sevcheck lint-qemu /,
};

/** Run the CLI with its stdout read by nobody: the pipe is closed before the child writes. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'bin/sevcheck.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // like `| head -0`: the read end is gone
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('help', () => {
  for (const [name, usage] of Object.entries(COMMANDS)) it(`\`sevcheck help ${name}\` is \`sevcheck ${name} --help\``, async () => {
    const viaHelp = await sevcheck(['help', name]);
    const viaFlag = await sevcheck([name, '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(usage);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stderr).toBe('');
  });

  it('an unknown command is exit 2 with one line, with or without --help', async () => {
    for (const args of [['frobnicate'], ['frobnicate', '--help'], ['help', 'frobnicate']]) {
      const r = await sevcheck(args);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^sevcheck: (help: )?(frobnicate: )?unknown command.*run, record, fleet, steps, measure, lint-domain, lint-pve, lint-qemu/);
      expect(r.stdout).toBe('');
    }
  });

  for (const [args, re] of [
    [['run', '--bogus'], /^sevcheck: unknown option '--bogus' \(see sevcheck run --help\)$/],
    [['record'], /^sevcheck: required option '--out <dir>' not specified \(see sevcheck record --help\)$/],
    [['run', '--profile', 'tdx'], /^sevcheck: option '--profile <profile>' argument 'tdx' is invalid\. Allowed choices are sev, sev-es, sev-snp \(see sevcheck run --help\)$/],
    [['lint-qemu', '--bogus'], /^sevcheck: Unknown option '--bogus' \(see sevcheck lint-qemu --help\)$/],
    [['lint-domain'], /^sevcheck: no FILE given \(see sevcheck lint-domain --help\)$/],
  ] as const) {
    it(`usage error \`sevcheck ${args.join(' ')}\`: exit 2, one line`, async () => {
      const r = await sevcheck([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(re);
    });
  }

  it('an unknown command with control bytes is echoed escaped', async () => {
    const r = await sevcheck(['x\u001b[2Jy', '--help']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('x\\x1b[2Jy');
    expect(r.stderr).not.toContain('\u001b');
  });
});

describe('a closed stdout (`sevcheck ... --help | head -1`)', () => {
  for (const args of [['--help'], ['run', '--help'], ['help', 'record'], ['measure', '--help'], ['lint-qemu', '--help']]) it(`sevcheck ${args.join(' ')}: no EPIPE, no stack trace`, async () => {
    const r = await withClosedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
