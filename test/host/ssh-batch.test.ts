/**
 * The ssh backend's batch (issue 23): BATCH_SCRIPT run through this machine's own /bin/sh (what
 * the remote login shell execs), its framing against hostile content, and the wrappers treating
 * every request of a batch as the single read it stands for (cache, count, record).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BATCH_SCRIPT, batchArgs, parseBatch, parseStatLine, SERVER_SCRIPT, serverRequest, type BatchOp } from '../../support/host/ssh-host.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { CountingHost } from '../../support/host/counting-host.js';
import { RecordingHost } from '../../support/host/recording-host.js';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { readMany } from '../../support/host/read.js';
import type { ReadRequest } from '../../support/host/types.js';
import { fixtureDir, pathWithout } from '../helpers.js';

/** The script's raw output: `sh -c BATCH_SCRIPT sevcheck ARGS...` as the remote side runs it (PATH: `path`, else this process's). */
const rawScript = (ops: BatchOp[], cwd?: string, path?: string): string =>
  execFileSync('sh', ['-c', BATCH_SCRIPT, 'sevcheck', ...batchArgs(ops)], { maxBuffer: 64 << 20, cwd, env: path ? { ...process.env, PATH: path } : process.env }).toString('latin1');


const ENCODERS: ReadonlyArray<readonly [string, string | undefined, RegExp]> = [
  // the encoder is seen in the raw output: base64 lines (no space), or od's " xx" lines
  ['base64', undefined, /^[A-Za-z0-9+/]+={0,2}$/m],
  ['od (a host without base64)', pathWithout('base64'), /^( [0-9a-f]{2})+$/m],
];

describe.each(ENCODERS)('BATCH_SCRIPT through /bin/sh, encoding with %s', (_name, path, encoded) => {
  /** The script as the remote side runs it, parsed back (and the raw output shows the encoder under test). */
  const runScript = (ops: BatchOp[], cwd?: string) => {
    const out = rawScript(ops, cwd, path);
    const recs = parseBatch(out);
    if (ops.some((o, i) => o.op === 'readFile' && recs?.[i]?.stdout.length)) expect(out).toMatch(encoded);
    return recs;
  };

  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-batch-'));
  // content that looks like the framing, NUL bytes, no final newline, every byte value
  const hostile = Buffer.concat([Buffer.from('@\n!\n@\n0\n'), Buffer.from([0, 0, 255, 10, 64, 10]), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
  writeFileSync(join(dir, 'hostile'), hostile);
  // a name the shell would expand if it were ever parsed as shell text
  const odd = join(dir, `a b'"$(touch pwned)\`touch pwned\`;|&\n*`);
  writeFileSync(odd, 'odd\n');
  writeFileSync(join(dir, 'empty'), '');
  mkdirSync(join(dir, 'sub'));

  it('gives every file its exact bytes and every failure its tool error, in order', () => {
    const recs = runScript([
      { op: 'readFile', path: join(dir, 'hostile') },
      { op: 'readFile', path: odd },
      { op: 'readFile', path: join(dir, 'empty') },
      { op: 'readFile', path: join(dir, 'missing') },
      { op: 'readFile', path: join(dir, 'sub') },
      { op: 'listDir', path: dir },
      { op: 'stat', path: join(dir, 'sub') },
    ], dir);
    expect(recs).toHaveLength(7);
    const [h, o, e, m, d, l, st] = recs ?? [];
    expect(h?.stdout.equals(hostile)).toBe(true);
    expect(h?.status).toBe(0);
    expect(o?.stdout.toString()).toBe('odd\n');
    expect(e?.stdout.length).toBe(0);
    expect(e?.status).toBe(0);
    expect(m?.status).not.toBe(0);
    expect(m?.stderr).toMatch(/No such file or directory/);
    expect(d?.stderr).toMatch(/Is a directory/);
    expect(l?.stdout.toString().split('\n')).toContain('hostile');
    // MODE:UID:GID (S_IFDIR | 0755 = 0x41ed), a context only where the host has one
    expect(st?.stdout.toString()).toMatch(/^41ed:\d+:\d+(:[^\n]+)?\n$/);
    expect(parseStatLine('sub', st?.stdout.toString() ?? '')).toMatchObject({ type: 'dir', mode: 0o755 });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('runs a command with its exact argv, stdout, stderr and exit status; a missing one is 127', () => {
    const tricky = ['$(id)', '`id`', "it's", 'a "b"', '*', '', '\n', '${1}', '; exit 7'];
    const recs = runScript([
      { op: 'run', argv: ['printf', '%s|', ...tricky], timeoutMs: 5000 },
      { op: 'run', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 5000 },
      { op: 'run', argv: ['sevcheck-no-such-program'], timeoutMs: 5000 },
      { op: 'readFile', path: join(dir, 'empty') },
    ]);
    expect(recs?.[0]?.stdout.toString()).toBe(`${tricky.join('|')}|`);
    expect(recs?.[1]).toMatchObject({ status: 3, stderr: 'err\n' });
    expect(recs?.[1]?.stdout.toString()).toBe('out\n');
    expect(recs?.[2]?.status).toBe(127);
    expect(recs?.[3]?.status).toBe(0);
  });

  it('gives a command its input on stdin when asked (i), byte for byte, and /dev/null otherwise (x)', () => {
    const input = '{"execute": "qmp_capabilities"}\nline 2 $(id) `id` \\0101 \\c %s\n\n';
    const recs = runScript([
      { op: 'run', argv: ['cat'], timeoutMs: 5000, stdin: input },
      { op: 'run', argv: ['cat'], timeoutMs: 5000 },
      { op: 'run', argv: ['sh', '-c', 'cat; exit 4'], timeoutMs: 5000, stdin: '' },
    ]);
    expect(recs?.[0]).toMatchObject({ status: 0, stderr: '' });
    expect(recs?.[0]?.stdout.toString()).toBe(input);
    expect(recs?.[1]?.stdout.length).toBe(0);
    expect(recs?.[2]).toMatchObject({ status: 4 });
  });

  it('answers commands, commands with input and reads in the order asked', () => {
    const recs = runScript([
      { op: 'run', argv: ['sh', '-c', 'sleep 0.6; echo first; echo e1 >&2; exit 1'], timeoutMs: 5000 },
      { op: 'readFile', path: join(dir, 'hostile') },
      { op: 'run', argv: ['sh', '-c', 'echo second'], timeoutMs: 5000 },
      { op: 'run', argv: ['cat'], timeoutMs: 5000, stdin: 'third' },
      { op: 'run', argv: ['sh', '-c', 'sleep 0.3; echo fourth'], timeoutMs: 5000 },
      { op: 'stat', path: join(dir, 'sub') },
    ]);
    expect(recs?.map((r) => r.status)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(recs?.[0]).toMatchObject({ stderr: 'e1\n' });
    expect([0, 2, 3, 4].map((i) => recs?.[i]?.stdout.toString())).toEqual(['first\n', 'second\n', 'third', 'fourth\n']);
    expect(recs?.[1]?.stdout.equals(hostile)).toBe(true);
    expect(recs?.[5]?.stdout.toString()).toMatch(/^41ed:/);
  });

  it('lists a directory from the shell (plain names as they are, any other name as hex) with the names ls -1A gives; missing paths answer as the tools do', () => {
    const plain = mkdtempSync(join(tmpdir(), 'sevcheck-ls-'));
    for (const n of ['a.conf', '.hidden', '..dots', 'b-c_d+e,f:g@h=i']) writeFileSync(join(plain, n), '');
    symlinkSync(join(plain, 'loop'), join(plain, 'loop'));
    const recs = runScript([
      { op: 'listDir', path: plain },
      { op: 'listDir', path: dir },
      { op: 'listDir', path: join(dir, 'missing') },
      { op: 'stat', path: join(dir, 'missing') },
      { op: 'readFile', path: join(dir, 'missing', 'deeper') },
      { op: 'listDir', path: join(dir, 'empty') },
      // not "missing": the tool's own error (ENOTDIR, ELOOP)
      { op: 'readFile', path: join(dir, 'empty', 'below') },
      { op: 'stat', path: join(dir, 'empty', 'below') },
      { op: 'readFile', path: join(plain, 'loop') },
    ]);
    const names = (i: number): string[] => (recs?.[i]?.stdout.toString() ?? '').split('\n').filter(Boolean).sort();
    expect(names(0)).toEqual(['..dots', '.hidden', 'a.conf', 'b-c_d+e,f:g@h=i', 'loop']);
    // (a name with a newline is two lines, as ls -1A prints it)
    expect(names(1)).toEqual(readdirSync(dir).join('\n').split('\n').sort());
    // missing in a directory that exists, or below one that does not: answered by the shell
    for (const i of [2, 3, 4]) expect(recs?.[i]).toMatchObject({ status: 1, stderr: 'No such file or directory\n' });
    // a file: ls prints its path (decode: ENOTDIR)
    expect(names(5)).toEqual([join(dir, 'empty')]);
    expect(recs?.[6]?.stderr).toMatch(/Not a directory/);
    expect(recs?.[7]?.stderr).toMatch(/Not a directory/);
    expect(recs?.[8]?.stderr).toMatch(/Too many levels of symbolic links/);
    // plain names only as they are: a line "=..." with anything else is not the framing
    expect(parseBatch('@0\n=a b\n!0\n')).toBeUndefined();
    expect(parseBatch('@0\n=a.conf\n 41 0a\n!0\n')?.[0]?.stdout.toString()).toBe('a.conf\nA\n');
  });

  it('answers a path below missing directories from the shell (no process), and leaves every other failure to the tool', () => {
    // a PATH without the tools: a tool that ran would answer 127 "not found", so the shell's own
    // "No such file or directory" shows that no process ran
    const bare = mkdtempSync(join(tmpdir(), 'sevcheck-bare-'));
    for (const n of ['sh', 'dash', 'cat', 'timeout']) if (existsSync(join('/usr/bin', n))) symlinkSync(join('/usr/bin', n), join(bare, n));
    const sub = mkdtempSync(join(tmpdir(), 'sevcheck-nx-'));
    writeFileSync(join(sub, 'file'), 'x');
    symlinkSync(join(sub, 'nowhere'), join(sub, 'dangling'));
    symlinkSync(join(sub, 'self'), join(sub, 'self'));
    const missing = [join(sub, 'a', 'b', 'c'), '/sevcheck-no-such-dir/x/y', join(sub, 'a', 'b', ''), 'no-such-dir/x'];
    const ops: BatchOp[] = [
      ...missing.flatMap((p): BatchOp[] => [{ op: 'readFile', path: p }, { op: 'stat', path: p }, { op: 'listDir', path: p }]),
      // the tool's: below a file (ENOTDIR), a dangling link (the link's target is not ours to judge), a loop (ELOOP)
      { op: 'readFile', path: join(sub, 'file', 'x', 'y') },
      { op: 'readFile', path: join(sub, 'dangling', 'x') },
      { op: 'readFile', path: join(sub, 'self', 'x', 'y') },
    ];
    const bareRecs = parseBatch(rawScript(ops, sub, bare));
    expect(bareRecs).toHaveLength(ops.length);
    for (let i = 0; i < missing.length * 3; i++) expect(bareRecs?.[i]).toEqual({ stdout: Buffer.alloc(0), stderr: 'No such file or directory\n', status: 1 });
    for (const i of [0, 1, 2]) expect(bareRecs?.[missing.length * 3 + i]?.status).toBe(127);
    // with the tools, their own messages
    const recs = runScript(ops, sub);
    expect(recs?.[missing.length * 3]?.stderr).toMatch(/Not a directory/);
    expect(recs?.[missing.length * 3 + 1]?.stderr).toMatch(/No such file or directory/);
    expect(recs?.[missing.length * 3 + 1]?.stderr).not.toBe('No such file or directory\n');
    expect(recs?.[missing.length * 3 + 2]?.stderr).toMatch(/Too many levels of symbolic links/);
  });

  it('answers every operation by its index when there are more commands than lanes, reads and commands interleaved', () => {
    const ops: BatchOp[] = [];
    for (let i = 0; i < 11; i++) {
      ops.push(i % 3 === 0 ? { op: 'run', argv: ['cat'], timeoutMs: 5000, stdin: `in${i}` } : { op: 'run', argv: ['printf', '%s', `cmd${i}`, '$(id)'], timeoutMs: 5000 });
      ops.push({ op: 'readFile', path: join(dir, i % 2 ? 'hostile' : 'missing') });
    }
    const recs = runScript(ops);
    expect(recs).toHaveLength(22);
    for (let i = 0; i < 11; i++) {
      expect(recs?.[2 * i]?.stdout.toString()).toBe(i % 3 === 0 ? `in${i}` : `cmd${i}$(id)`);
      const read = recs?.[2 * i + 1];
      if (i % 2) expect(read?.stdout.equals(hostile)).toBe(true);
      else expect(read?.stderr).toMatch(/No such file or directory/);
    }
  });

  it('runs the commands of a batch concurrently (the second sees the first still running)', () => {
    // the first sleeps with a unique argument; the second looks for it in the process table
    const recs = runScript([
      { op: 'run', argv: ['sleep', '4.321'], timeoutMs: 10_000 },
      { op: 'run', argv: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do pgrep -x -f "sleep 4.321" >/dev/null && exit 0; sleep 0.1; i=$((i + 1)); done; exit 1'], timeoutMs: 10_000 },
    ]);
    expect(recs?.map((r) => r.status)).toEqual([0, 0]);
  });

  it('kills a command at its timeout on the host (exit 124) and goes on with the batch', () => {
    const t0 = Date.now();
    const recs = runScript([
      { op: 'run', argv: ['sleep', '30'], timeoutMs: 1000 },
      { op: 'readFile', path: join(dir, 'empty') },
    ]);
    expect(recs?.[0]?.status).toBe(124);
    expect(recs?.[1]?.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('reads a CPUID leaf with dd at the leaf offset (when /dev/cpu/0/cpuid is readable here)', (ctx) => {
    if (!existsSync('/dev/cpu/0/cpuid')) return ctx.skip();
    const [r] = runScript([{ op: 'cpuid', leaf: 0, cpu: 0 }]) ?? [];
    if (r?.status !== 0) return ctx.skip();
    expect(r.stdout.length).toBe(16);
    // CPUID 0: EBX EDX ECX spell the vendor
    expect(Buffer.concat([r.stdout.subarray(4, 8), r.stdout.subarray(12, 16), r.stdout.subarray(8, 12)]).toString()).toMatch(/^(AuthenticAMD|GenuineIntel|\w{12})$/);
  });

  it('frames any file content (random contents, seeded)', () => {
    let seed = 23;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    const ops: BatchOp[] = [];
    const want: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const b = Buffer.from(Array.from({ length: next() % 300 }, () => (next() % 3 === 0 ? [0, 10, 64, 33][next() % 4] as number : next() & 255)));
      writeFileSync(join(dir, `prop${i}`), b);
      ops.push({ op: 'readFile', path: join(dir, `prop${i}`) });
      want.push(b);
    }
    const recs = runScript(ops);
    expect(recs?.map((r) => r.stdout.toString('hex'))).toEqual(want.map((b) => b.toString('hex')));
  });

  it('frames a stat line that is not plain (a context with a space, a newline, framing-like text) as encoded bytes', () => {
    // a stat whose context is hostile (what stat -c %C printed is the host's word): the line must come back byte for byte
    const bin = mkdtempSync(join(tmpdir(), 'sevcheck-stat-'));
    const line = '81a4:0:0:u:r:t:s0 x\n!0\n@1\n=a';
    writeFileSync(join(bin, 'stat'), `#!/bin/sh\nprintf '%s\\n' '${line}'\n`, { mode: 0o755 });
    const recs = parseBatch(rawScript([{ op: 'stat', path: join(dir, 'sub') }, { op: 'readFile', path: join(dir, 'empty') }], undefined, `${bin}:${path ?? process.env.PATH ?? ''}`));
    expect(recs).toHaveLength(2);
    expect(recs?.[0]).toMatchObject({ status: 0, stderr: '' });
    expect(recs?.[0]?.stdout.toString()).toBe(`${line}\n`);
    expect(recs?.[1]).toMatchObject({ status: 0 });
  });
});

describe('parseBatch', () => {
  it('refuses output that is not the framing (a broken transport is never read as content)', () => {
    expect(parseBatch('@\nhello\n!0\n')).toBeUndefined();
    expect(parseBatch('@\n 41\n')).toBeUndefined(); // no status
    expect(parseBatch('')).toEqual([]);
    expect(parseBatch('login banner\n@\n!0\n')).toBeUndefined();
    expect(parseBatch('@\n 41\n!0\n 45\n')).toEqual([{ stdout: Buffer.from('A'), stderr: 'E', status: 0 }]);
  });

  it('decodes base64 runs whatever their wrapping, and refuses base64 that is not whole', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 255));
    const b64 = data.toString('base64');
    const wrapped = (w: number) => b64.match(new RegExp(`.{1,${w}}`, 'g'))?.join('\n') ?? '';
    for (const w of [4, 76, 400]) expect(parseBatch(`@0\n${wrapped(w)}\n!0\nRQo=\n`)).toEqual([{ stdout: data, stderr: 'E\n', status: 0 }]);
    expect(parseBatch('@0\nQUJD\n!0\n@1\n=x\n!1\n')).toEqual([{ stdout: Buffer.from('ABC'), stderr: '', status: 0 }, { stdout: Buffer.from('x\n'), stderr: '', status: 1 }]);
    expect(parseBatch('@0\nQUJ\n!0\n')).toBeUndefined(); // not a whole quantum
    expect(parseBatch('@0\nQQ==\nQQ==\n!0\n')).toBeUndefined(); // padding inside a run
    expect(parseBatch('@0\n!0\nQUJ\n')).toBeUndefined(); // stderr not whole
    expect(parseBatch('@0\nQU JD\n!0\n')).toBeUndefined(); // neither base64 nor od's hex
    expect(parseBatch('@0\n 4\n!0\n')).toBeUndefined();
    expect(parseBatch('@0\n!0\n=x\n')).toBeUndefined(); // "=TEXT" only in stdout
  });
});

describe('parseStatLine (BATCH_SCRIPT stat lines: raw st_mode in hex, uid, gid, context)', () => {
  it('reads the type and permission bits from st_mode, and the context when there is one', () => {
    expect(parseStatLine('/etc/passwd', '81a4:0:0\n')).toEqual({ path: '/etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, selinux: undefined });
    expect(parseStatLine('/dev/kvm', '21b0:0:107:system_u:object_r:kvm_device_t:s0\n')).toEqual({ path: '/dev/kvm', type: 'char', mode: 0o660, uid: 0, gid: 107, selinux: 'system_u:object_r:kvm_device_t:s0' });
    expect(parseStatLine('/tmp', '43ff:0:0:?\n')).toMatchObject({ type: 'dir', mode: 0o1777, selinux: undefined });
    expect(parseStatLine('l', 'a1ff:1:2')).toMatchObject({ type: 'link', mode: 0o777, uid: 1, gid: 2 });
    expect(parseStatLine('b', '61b0:0:6\n')).toMatchObject({ type: 'block', mode: 0o660 });
    expect(parseStatLine('f', '11a4:0:0\n')).toMatchObject({ type: 'fifo' });
    expect(parseStatLine('s', 'c1ed:0:0\n')).toMatchObject({ type: 'socket', mode: 0o755 });
    expect(parseStatLine('u', '8da4:0:0\n')).toMatchObject({ type: 'file', mode: 0o6644 });
  });

  it('refuses anything else (EIO, naming the path)', () => {
    for (const bad of ['', 'directory|755|0|0|?\n', 'd1a4:0:0\n', '81a4:0\n', '81a4:x:0\n', '81a4:0:0:\n', '81a4:0:0:a\nb\n']) {
      expect(() => parseStatLine('/p', bad)).toThrow(expect.objectContaining({ code: 'EIO', message: expect.stringContaining('/p') }));
    }
  });
});

describe('SERVER_SCRIPT through /bin/sh (all the batches of a run in one session)', () => {
  /** The session as the remote side runs it: `sh -c SERVER_SCRIPT sevcheck BATCH_SCRIPT`, batches on stdin; each answer and its "#status". */
  const session = (input: string, cwd?: string) => {
    const r = spawnSync('sh', ['-c', SERVER_SCRIPT, 'sevcheck', BATCH_SCRIPT], { input, cwd, maxBuffer: 64 << 20, timeout: 60_000 });
    const out = r.stdout.toString('latin1');
    const answers = [...out.matchAll(/([^#]*?)#(\d+)\n/gs)].map((m) => ({ recs: parseBatch(m[1] as string), status: Number(m[2]) }));
    return { answers, exit: r.status };
  };

  it('gives each batch the exact arguments, whatever their bytes (never parsed as shell text)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-server-'));
    const hostile = ['$(touch pwned)', '`touch pwned`', "it's", 'a "b"', '*', '', '\n', 'a\nb', '\\', 'back\\0101slash', '\\c', '=x', '%x', '#0', '@', 'tab\tand\r', 'ünï€ode', '${1}', '; exit 7', ' lead and trail '];
    const b1: BatchOp[] = [{ op: 'run', argv: ['printf', '%s|', ...hostile], timeoutMs: 5000 }];
    const b2: BatchOp[] = [
      { op: 'readFile', path: '/etc/hostname' },
      { op: 'readFile', path: join(dir, 'no\nsuch') },
      { op: 'run', argv: ['sh', '-c', 'exit 3'], timeoutMs: 5000 },
    ];
    const { answers, exit } = session(serverRequest(batchArgs(b1), 10) + serverRequest(batchArgs(b2), 10), dir);
    expect(exit).toBe(0);
    expect(answers.map((a) => a.status)).toEqual([0, 0]);
    expect(answers[0]?.recs?.[0]?.stdout.toString()).toBe(`${hostile.join('|')}|`);
    expect(answers[1]?.recs?.[0]?.stdout).toEqual(readFileSync('/etc/hostname'));
    expect(answers[1]?.recs?.[1]?.stderr).toMatch(/No such file or directory/);
    expect(answers[1]?.recs?.[2]?.status).toBe(3);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('runs a batch under its limit on the host (exit 124) and takes the next one', () => {
    const t0 = Date.now();
    const { answers } = session(serverRequest(batchArgs([{ op: 'run', argv: ['sleep', '30'], timeoutMs: 30_000 }]), 1) + serverRequest(batchArgs([{ op: 'readFile', path: '/etc/hostname' }]), 10));
    expect(answers.map((a) => a.status)).toEqual([124, 0]);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('stops at a request that is not the framing (exit 2), and at the end of its input (exit 0)', () => {
    expect(session('1\n10\nf /etc/hostname\n').exit).toBe(2);
    expect(session('x\n10\n').exit).toBe(2);
    expect(session('2\n10\n=f\n').exit).toBe(2);
    expect(session('').exit).toBe(0);
  });
});

describe('wrappers over a batch', () => {
  const files = {
    'host.json': JSON.stringify({ name: 'b' }),
    'files/etc/a': 'A\n',
    'files/etc/b': 'B\n',
    'cpuid.json': JSON.stringify({ '0x8000001f': { eax: '0x1', ebx: '0x2', ecx: '0x3', edx: '0x4' } }),
  };
  const reads: ReadRequest[] = [
    { op: 'readFile', path: '/etc/a' },
    { op: 'readFile', path: '/etc/missing' },
    { op: 'listDir', path: '/etc' },
    { op: 'cpuid', leaf: 0x8000001f, cpu: 0 },
    { op: 'readFile', path: '/etc/a' },
  ];

  it('the cache answers the single reads that follow a batch, and asks each read once', async () => {
    const counter = new CountingHost(new FixtureHost(fixtureDir('sevcheck-batch', files)));
    const host = new CachingHost(counter);
    const out = await host.readMany(reads);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((await host.readFile('/etc/a')).toString()).toBe('A\n');
    await expect(host.readFile('/etc/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await host.listDir('/etc')).toEqual(['a', 'b']);
    expect(Object.fromEntries(counter.counts)).toEqual({ 'readFile /etc/a': 1, 'readFile /etc/missing': 1, 'listDir /etc': 1, 'cpuid 0x8000001f cpu0': 1 });
  });

  it('counts and records a batch exactly as the same single reads', async () => {
    const viaBatch = new RecordingHost(new FixtureHost(fixtureDir('sevcheck-batch', files)));
    const viaSingle = new RecordingHost(new FixtureHost(fixtureDir('sevcheck-batch', files)));
    const c1 = new CountingHost(viaBatch);
    const c2 = new CountingHost(viaSingle);
    await readMany(c1, reads);
    for (const r of reads) {
      await (r.op === 'readFile' ? c2.readFile(r.path) : r.op === 'listDir' ? c2.listDir(r.path) : r.op === 'cpuid' ? c2.cpuid(r.leaf, r.cpu) : Promise.resolve()).catch(() => undefined);
    }
    expect(Object.fromEntries(c1.counts)).toEqual(Object.fromEntries(c2.counts));
    const [a, b] = [mkdtempSync(join(tmpdir(), 'rb-')), mkdtempSync(join(tmpdir(), 'rs-'))];
    await viaBatch.writeFixture(a, { name: 'x' });
    await viaSingle.writeFixture(b, { name: 'x' });
    for (const f of ['files/etc/a', 'cpuid.json', 'listings.json']) expect(readFileSync(join(a, f), 'utf8')).toBe(readFileSync(join(b, f), 'utf8'));
    expect(existsSync(join(a, 'files/etc/missing'))).toBe(false);
  });
});
