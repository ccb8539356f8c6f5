/**
 * Inputs that are too large, and text from a probed host or an input file: `lint-qemu` has a size
 * cap like lint-domain, and no message of any command writes raw control bytes to the terminal
 * or a report (issue 13 §3).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sevcheck } from '../helpers.js';
import { QEMU_CMDLINE_MAX_BYTES } from '../../support/domain/qemu-cmdline.js';
import { printable, printableJson } from '../../support/report/printable.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
/** raw C0 (but newline and tab), DEL, C1 */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('printable', () => {
  it('escapes C0, DEL, C1, bidi controls and newlines; leaves text alone', () => {
    expect(printable('a\u001b[2Jb\rc\nd\u0007\u007f\u009b\u202e\u2066é→')).toBe('a\\x1b[2Jb\\x0dc\\x0ad\\x07\\x7f\\x9b\\u{202e}\\u{2066}é→');
    expect(printable('plain text: /dev/sev 0600 root')).toBe('plain text: /dev/sev 0600 root');
  });
  it('printableJson keeps the value and leaves no raw control character in the text', () => {
    const v = { m: 'x\u001by\u009bz\u007f\u2028' };
    const text = printableJson(v);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toContain('\u2028');
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe('lint-qemu input size', () => {
  it('a file over the cap is one line and exit 2, without being parsed', async () => {
    const f = join(tmp('sevcheck-big-'), 'huge.cmd');
    writeFileSync(f, `qemu-system-x86_64 ${'-S '.repeat(Math.ceil(QEMU_CMDLINE_MAX_BYTES / 3) + 10)}\n`);
    const started = Date.now();
    const r = await sevcheck(['lint-qemu', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^sevcheck: .*huge\\.cmd: \\d+ bytes, over the ${QEMU_CMDLINE_MAX_BYTES}-byte input limit`));
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a device that never ends (/dev/zero) is cut off at the cap, not read forever', async () => {
    const r = await sevcheck(['lint-qemu', '/dev/zero'], {}, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`sevcheck: /dev/zero: over the ${QEMU_CMDLINE_MAX_BYTES}-byte input limit`);
  });

  it('a command line just under the cap is still linted', async () => {
    const f = join(tmp('sevcheck-big-'), 'long.cmd');
    const head = 'qemu-system-x86_64 -machine q35 ';
    writeFileSync(f, `${head}${'-S '.repeat(Math.floor((QEMU_CMDLINE_MAX_BYTES - head.length - 1) / 3))}\n`);
    const r = await sevcheck(['lint-qemu', f]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/domain\.machine\.q35/);
  });
});

describe('control bytes from inputs are escaped in every message', () => {
  it('lint-qemu: in verdict messages (text and JSON) and in input errors', async () => {
    const d = tmp('sevcheck-ctl-');
    writeFileSync(join(d, 'q1.cmd'), 'qemu-system-x86_64 -machine q35,confidential-guest-support=sev0 -object sev-guest,id=sev0,policy=0x1\u001b[2J\u009b31m,cbitpos=47\n');
    writeFileSync(join(d, 'q2.cmd'), 'qemu-system-x86_64 \u001b]0;owned\u0007 -S\n');
    for (const format of ['text', 'json']) {
      const r = await sevcheck(['lint-qemu', '--format', format, join(d, 'q1.cmd'), join(d, 'q2.cmd')]);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
      expect(r.stderr).toContain("'\\x1b]0;owned\\x07' is not an option");
      if (format === 'text') expect(r.stdout).toContain('policy=0x1\\x1b[2J\\x9b31m');
      else {
        const j = JSON.parse(r.stdout) as { files: Array<{ checks: Array<{ message: string }> }> };
        expect(j.files.flatMap((f) => f.checks.map((c) => c.message)).join('\n')).toContain('policy=0x1\\x1b[2J\\x9b31m');
      }
    }
  });

  it('measure: an input file name with control bytes, prebuilt bundle or tsx', async () => {
    for (const env of [{}, { SEVCHECK_NO_PREBUILT: '1' }] as Array<Record<string, string>>) {
      const r = await sevcheck(['measure', '--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', '/no/such\u001b[2J.fd'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('/no/such\\x1b[2J.fd');
      expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    }
  });

  it('lint-domain: a file name with control bytes', async () => {
    const r = await sevcheck(['lint-domain', join(tmp('sevcheck-ctl-'), 'no\u001b[2Jsuch.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no\\x1b[2Jsuch.xml');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });

  it('run: a host file with control bytes reaches console, results.json, summary.md, junit.xml, cucumber.html and messages escaped', async () => {
    const fx = tmp('sevcheck-ctlhost-');
    cpSync(join(ROOT, 'fixtures/hosts/kvm-sev-off'), fx, { recursive: true });
    writeFileSync(join(fx, 'files/sys/module/kvm_amd/parameters/sev'), 'N\u001b[2J\u0007\u009b\n');
    const out = join(tmp('sevcheck-ctlout-'), 'r');
    const r = await sevcheck(['run', '--host', `fixture:${fx}`, '--tags', '@check:host.kvm-amd.sev', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^1 cause of 1 failed check, one fix each:\n {2}host\.kvm-amd\.sev  /m);
    expect(r.stdout).toContain('N\\x1b[2J\\x07\\x9b');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    for (const f of readdirSync(out)) {
      const text = readFileSync(join(out, f), 'utf8');
      expect(text, f).toMatch(/N\\+x1b\\?\[2J\\+x07\\+x9b/); // escaped (JSON text doubles the backslash)
      // cucumber.html embeds cucumber's minified JavaScript, which has control bytes of its own
      if (f === 'cucumber.html') expect(text, f).not.toContain('N\u001b[2J');
      else expect(text, f).not.toMatch(RAW_CONTROL);
    }
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toContain('N\\\\x1b[2J\\\\x07\\\\x9b');
  });
});
