import { describe, expect, it } from 'vitest';
import { FirmwareProbe, KERNEL_LOG_COMMANDS, TOOL_COMMANDS } from '../../support/probes/host-firmware.js';
import { HarnessError, HostError, type Host, type RunResult } from '../../support/host/types.js';
import { CommandTimedOut } from '../../support/host/run-result.js';

type Answer = RunResult | Error;

/** A host that answers run() from a table keyed by the argv joined with spaces, and records every argv. */
function host(commands: Record<string, Partial<RunResult> | Error>, files: Record<string, string> = {}): Host & { ran: string[][] } {
  const ran: string[][] = [];
  return {
    kind: 'fixture',
    target: 'test',
    ran,
    async run(argv: readonly string[]) {
      ran.push([...argv]);
      const a: Answer | undefined = (commands[argv.join(' ')] as Answer | undefined) ?? undefined;
      if (a === undefined) throw new HostError('NOT_RECORDED', argv.join(' '), `command "${argv.join(' ')}": not recorded`);
      if (a instanceof Error) throw a;
      return { ...{ argv: [...argv], exitCode: 0, stdout: "", stderr: "" }, ...a } as RunResult;
    },
    async readFile(path: string) {
      if (path in files) return Buffer.from(files[path] as string);
      throw new HostError('ENOENT', path, `${path}: no such file`);
    },
  } as unknown as Host & { ran: string[][] };
}

const JOURNAL = KERNEL_LOG_COMMANDS[0]!.join(' ');
const SEV_LINE = 'ccp 0000:47:00.1: SEV API:1.55 build:21\n';

describe('FirmwareProbe.kernelLog: journalctl → dmesg → kern.log', () => {
  it('uses journalctl when it has SEV lines', async () => {
    const log = await new FirmwareProbe(host({ [JOURNAL]: { stdout: SEV_LINE } })).kernelLog();
    expect(log.source).toBe(JOURNAL);
    expect(log.facts?.sevApi?.minor).toBe(55);
  });

  it('moves on from an absent, failing, empty or timed-out source and says so', async () => {
    const h = host({ [JOURNAL]: { exitCode: 127 }, dmesg: { exitCode: 1, stderr: 'dmesg: read kernel buffer failed: Operation not permitted\n' } }, { '/var/log/kern.log': `kernel: Linux version 6.8\n${SEV_LINE}` });
    const log = await new FirmwareProbe(h).kernelLog();
    expect(log.source).toBe('/var/log/kern.log (last boot)');
    expect(log.tried).toEqual([`${JOURNAL}: not installed (exit 127)`, 'dmesg: exit 1 (dmesg: read kernel buffer failed: Operation not permitted)']);

    const h2 = host({ [JOURNAL]: { stdout: '-- No entries --\n' }, dmesg: new CommandTimedOut('test: command timed out after 20 s: dmesg') });
    const log2 = await new FirmwareProbe(h2).kernelLog();
    expect(log2.source).toBeUndefined();
    expect(log2.tried.join('; ')).toMatch(/empty; dmesg: timed out after 10 s; \/var\/log\/kern.log: no such file/);
  });

  it('a kern.log without a boot banner is not used (its lines may be an older boot)', async () => {
    const log = await new FirmwareProbe(host({}, { '/var/log/kern.log': SEV_LINE })).kernelLog();
    expect(log.source).toBeUndefined();
    expect(log.tried.at(-1)).toMatch(/no "Linux version" boot line/);
  });

  it('a transport failure (not a timeout) still ends the run', async () => {
    await expect(new FirmwareProbe(host({ [JOURNAL]: new HarnessError('ssh://h: unreachable') })).kernelLog()).rejects.toThrow('unreachable');
  });
});

describe('platform tools', () => {
  it('runs only the read-only allow-list, and nothing that changes the platform', async () => {
    const h = host({});
    const p = new FirmwareProbe(h);
    await Promise.all([p.snphost(), p.snphostFeatures(), p.sevctl(), p.sevctlVersion(), p.kernelLog()]);
    const allowed = [...Object.values(TOOL_COMMANDS), ...KERNEL_LOG_COMMANDS].map((a) => a.join(' '));
    for (const argv of h.ran) expect(allowed).toContain(argv.join(' '));
    for (const argv of Object.values(TOOL_COMMANDS)) {
      expect(['ok', 'show']).toContain(argv[1]);
      expect(argv.join(' ')).not.toMatch(/commit|config|reset|export|import|generate|provision|rotate|fetch|verify/);
    }
  });

  it('a hanging tool gives no answer but does not end the run', async () => {
    const t = await new FirmwareProbe(host({ 'snphost ok -o json': new CommandTimedOut('x: command timed out after 20 s: snphost ok -o json') })).snphost();
    expect(t).toMatchObject({ absent: false, reason: 'snphost ok -o json: timed out after 10 s' });
    expect(t.tests).toBeUndefined();
  });

  it('absent (127), unknown output, and exit 1 with a JSON report', async () => {
    const p = new FirmwareProbe(host({ 'snphost ok -o json': { exitCode: 127 }, 'sevctl ok': { exitCode: 2, stdout: 'error: unexpected argument' } }));
    expect((await p.snphost()).absent).toBe(true);
    expect((await p.sevctl()).reason).toMatch(/unknown format/);
    const json = JSON.stringify({ tests: [{ name: 'Alias check', status: 'FAIL' }] });
    const q = await new FirmwareProbe(host({ 'snphost ok -o json': { exitCode: 1, stdout: json } })).snphost();
    expect(q.tests?.[0]).toMatchObject({ name: 'Alias check', status: 'fail' });
  });

  it('a released snphost (no -o json, clap exits 2) is read from `snphost ok` text; both failing says both', async () => {
    const clap = { exitCode: 2, stderr: "error: unexpected argument '-o' found\n" };
    const text = '[ \u001b[38;5;2mPASS\u001b[0m ] - SEV initialized\n[ \u001b[38;5;1mFAIL\u001b[0m ] - SNP initialized\n';
    const h = host({ 'snphost ok -o json': clap, 'snphost ok': { exitCode: 1, stdout: text } });
    const t = await new FirmwareProbe(h).snphost();
    expect(t).toMatchObject({ command: 'snphost ok', absent: false });
    expect(t.tests?.map((x) => `${x.name}=${x.status}`)).toEqual(['SEV initialized=pass', 'SNP initialized=fail']);
    const both = await new FirmwareProbe(host({ 'snphost ok -o json': clap, 'snphost ok': { exitCode: 1, stderr: 'Error: unable to open /dev/sev\n' } })).snphost();
    expect(both.reason).toMatch(/no released snphost.*-o json.*unexpected argument.*snphost ok printed no/);
    // a timed-out JSON run is not repeated as text
    const hung = host({ 'snphost ok -o json': new CommandTimedOut('x: command timed out after 20 s: snphost ok -o json') });
    await new FirmwareProbe(hung).snphost();
    expect(hung.ran.map((a) => a.join(' '))).toEqual(['snphost ok -o json']);
  });
});

describe('snphost ok --features -o json (Secure TSC in KVM)', () => {
  const FEAT = 'snphost ok --features -o json';
  const report = JSON.stringify({ tests: [{ name: '(Optional Features) Secure TSC', status: 'fail', message: 'SecureTSC not set in KVM sev_supported_vmsa_features: 0x0000000000000020' }] });
  it('reads the JSON report (exit 1 when a test failed)', async () => {
    const t = await new FirmwareProbe(host({ 'snphost ok -o json': { stdout: JSON.stringify({ tests: [{ name: 'AMD CPU', status: 'pass' }] }) }, [FEAT]: { exitCode: 1, stdout: report } })).snphostFeatures();
    expect(t).toMatchObject({ command: FEAT, absent: false });
    expect(t.tests?.[0]).toMatchObject({ name: '(Optional Features) Secure TSC', status: 'fail' });
  });
  it('a snphost without --features (clap, exit 2) says which build has it', async () => {
    for (const flag of ['--features', '-o']) {
      const clap = { exitCode: 2, stderr: `error: unexpected argument '${flag}' found\n\nUsage: snphost ok [OPTIONS]\n` };
      const t = await new FirmwareProbe(host({ 'snphost ok -o json': clap, 'snphost ok': { stdout: '[ PASS ] - AMD CPU\n' }, [FEAT]: clap })).snphostFeatures();
      expect(t.tests).toBeUndefined();
      expect(t.reason).toMatch(new RegExp(`has no ${flag}.*after snphost 0\\.7\\.0 \\(virtee/snphost d233197\\)`));
    }
  });
  it('not run when snphost is absent or its plain run hung (a wedged PSP hangs both)', async () => {
    const absent = host({ 'snphost ok -o json': { exitCode: 127 } });
    expect((await new FirmwareProbe(absent).snphostFeatures()).absent).toBe(true);
    expect(absent.ran.map((a) => a.join(' '))).not.toContain(FEAT);
    const hung = host({ 'snphost ok -o json': new CommandTimedOut('x: command timed out after 20 s: snphost ok -o json') });
    const t = await new FirmwareProbe(hung).snphostFeatures();
    expect(t.timedOut).toBe(true);
    expect(hung.ran.map((a) => a.join(' '))).toEqual(['snphost ok -o json']);
  });
});

describe('record → replay', () => {
  it('the recording wrapper keeps the kernel log and tool outputs (127 included), and the replay gives the same facts', async () => {
    const { RecordingHost } = await import('../../support/host/recording-host.js');
    const { FixtureHost } = await import('../../support/host/fixture-host.js');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const json = JSON.stringify({ tests: [{ name: 'Alias check', status: 'FAIL' }] });
    const live = host({ [JOURNAL]: { exitCode: 127 }, dmesg: { stdout: `Linux version 6.1\n${SEV_LINE}` }, 'snphost ok -o json': { exitCode: 1, stdout: json }, 'sevctl ok': { exitCode: 127 } });
    (live as unknown as { describe: () => Promise<unknown> }).describe = async () => ({ name: 'live' });
    const rec = new RecordingHost(live);
    const p = new FirmwareProbe(rec);
    const before = [await p.kernelLog(), await p.snphost(), await p.sevctl()];
    const dir = join(mkdtempSync(join(tmpdir(), 'sevcheck-fwrec-')), 'h');
    await rec.writeFixture(dir, { name: 'h' });
    const argvs = (JSON.parse(readFileSync(join(dir, 'commands.json'), 'utf8')) as Array<{ argv: string[] }>).map((c) => c.argv.join(' '));
    expect(argvs).toEqual(expect.arrayContaining([JOURNAL, 'dmesg', 'snphost ok -o json', 'sevctl ok']));
    const replay = new FirmwareProbe(new FixtureHost(dir));
    expect([await replay.kernelLog(), await replay.snphost(), await replay.sevctl()]).toEqual(before);
  });
});
