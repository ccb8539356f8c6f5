/**
 * A run of device reads in one batch (issue 23): BATCH_SCRIPT reads every CPU's CPUID leaf and MSR
 * with one `dd` each and nothing else, the bytes of the whole run through one encoder and dd's
 * reports through one more; parseBatch cuts the run back into one record per read, the same as
 * one `dd status=none` per read gave. A 256-CPU host's 512 reads cost the host 2,049 processes
 * before (each dd with its own capture, pipeline and encoders), 518 now (strace -f, docs/ssh.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_SCRIPT, parseBatch } from '../../support/host/ssh-host.js';
import { pathWithout } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sevcheck-devrun-'));
// a sparse file standing in for /dev/cpu/N/cpuid and msr: the file offset is the leaf or MSR index
const dev = join(dir, 'dev');
closeSync(openSync(dev, 'w'));
truncateSync(dev, 0xc0010100);
const fd = openSync(dev, 'r+');
writeSync(fd, Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'), 0, 16, 0x8000001f);
writeSync(fd, Buffer.from('f0e1d2c3b4a59687', 'hex'), 0, 8, 0xc0010010);
closeSync(fd);
writeFileSync(join(dir, 'short'), 'abc');
// a name the shell would expand if it were ever parsed as shell text
const odd = join(dir, `a b'"$(touch pwned)\`touch pwned\`;|&\n*`);
writeFileSync(odd, 'odd\n');

type Arg = readonly [path: string, bs: number, offset: number];
/** the device reads of the tests: whole records, a partial one, none, a missing path, a directory, an odd name */
const READS: readonly Arg[] = [
  [dev, 16, 0x8000001f],
  [dev, 8, 0xc0010010],
  [join(dir, 'short'), 16, 1],
  ['/dev/null', 8, 0],
  [join(dir, 'missing'), 8, 0],
  [join(dir, 'missing-dir/x/y'), 16, 0],
  [dir, 8, 0],
  [odd, 8, 0],
  [dev, 16, 0],
];

/** what one `dd status=none` per read gives: the oracle (BATCH_SCRIPT's former way, and `sevcheck run --host local`'s reads) */
function alone([path, bs, offset]: Arg): { stdout: Buffer; stderr: string; status: number } {
  if (!existsSync(path) && !existsSync(join(path, '..'))) return { stdout: Buffer.alloc(0), stderr: 'No such file or directory\n', status: 1 };
  const r = spawnSync('dd', [`if=${path}`, `bs=${bs}`, 'count=1', `skip=${offset}`, 'iflag=skip_bytes', 'status=none'], { env: { ...process.env, LC_ALL: 'C' } });
  // the script answers a path missing from a directory that exists from the shell, in ls/dd's words
  if (r.status !== 0 && /No such file or directory/.test(String(r.stderr))) return { stdout: Buffer.alloc(0), stderr: 'No such file or directory\n', status: 1 };
  return { stdout: r.stdout, stderr: String(r.stderr), status: r.status ?? -1 };
}

const script = (args: string[], path?: string): string =>
  execFileSync('sh', ['-c', BATCH_SCRIPT, 'sevcheck', ...args], { maxBuffer: 64 << 20, env: path ? { ...process.env, PATH: path } : process.env }).toString('latin1');
const dArgs = (reads: readonly Arg[]): string[] => reads.flatMap(([p, bs, o]) => ['d', p, String(bs), String(o)]);


describe.each([
  ['base64', undefined],
  ['od (a host without base64)', pathWithout('base64')],
] as const)('a run of device reads through /bin/sh, encoding with %s', (_name, path) => {
  it('answers each read as one `dd status=none` does: its bytes, its error, its status', () => {
    const recs = parseBatch(script(dArgs(READS), path));
    expect(recs).toHaveLength(READS.length);
    READS.forEach((r, i) => {
      const want = alone(r);
      expect({ i, hex: recs?.[i]?.stdout.toString('hex'), stderr: recs?.[i]?.stderr, status: recs?.[i]?.status }).toEqual({ i, hex: want.stdout.toString('hex'), stderr: want.stderr, status: want.status });
    });
    expect(recs?.[0]?.stdout.toString('hex')).toBe('000102030405060708090a0b0c0d0e0f');
    expect(recs?.[1]?.stdout.toString('hex')).toBe('f0e1d2c3b4a59687');
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('keeps every operation at its index when device runs, files and commands alternate', () => {
    const args = ['f', join(dir, 'short'), ...dArgs(READS.slice(0, 3)), 'x', '5', '2', 'printf', 'cmd', ...dArgs(READS.slice(3, 5)), 'f', odd, ...dArgs(READS.slice(5))];
    const recs = parseBatch(script(args, path));
    expect(recs).toHaveLength(2 + READS.length + 1);
    expect(recs?.[0]?.stdout.toString()).toBe('abc');
    expect(recs?.[4]?.stdout.toString()).toBe('cmd');
    expect(recs?.[7]?.stdout.toString()).toBe('odd\n');
    const devices = [1, 2, 3, 5, 6, 8, 9, 10, 11];
    devices.forEach((k, i) => expect(recs?.[k]?.stdout.toString('hex')).toBe(alone(READS[i] as Arg).stdout.toString('hex')));
  });
});

describe('a run of device reads costs one dd per read and one encoder per run', () => {
  it('64 reads: 64 dd, 2 encoders (one dd and one encoder per read, and their pipelines, before)', () => {
    // dd and base64 wrapped so that each run of them is counted (the wrappers log, then exec the real one)
    const bin = pathWithout();
    const log = join(dir, 'count.log');
    for (const n of ['dd', 'base64']) {
      const real = execFileSync('sh', ['-c', `command -v ${n}`], { encoding: 'utf8' }).trim();
      const w = join(dir, `wrap-${n}`);
      writeFileSync(w, `#!/bin/sh\necho ${n} >> '${log}'\nexec ${real} "$@"\n`);
      chmodSync(w, 0o755);
      execFileSync('ln', ['-sf', w, join(bin, n)]);
    }
    const reads: Arg[] = Array.from({ length: 64 }, (_, i) => [dev, i % 2 ? 8 : 16, i % 2 ? 0xc0010010 : 0x8000001f]);
    const recs = parseBatch(script(dArgs(reads), bin));
    expect(recs?.map((r) => r.stdout.length)).toEqual(reads.map(([, bs]) => bs));
    const counted = readFileSync(log, 'utf8').trim().split('\n');
    expect(counted.filter((n) => n === 'dd')).toHaveLength(64);
    expect(counted.filter((n) => n === 'base64')).toHaveLength(2);
  });
});

describe('parseBatch: a run of device reads ("&K")', () => {
  const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s) : s).toString('base64');
  const run = (k: number, bytes: Buffer, reports: string): string => `&${k}\n${bytes.length ? `${b64(bytes)}\n` : ''}!0\n${b64(reports)}\n`;

  it('cuts the bytes by dd\'s records, and by its byte count for a partial record, in every wording that shipped', () => {
    const bytes = Buffer.from('0123456789abcdef' + 'ABCDEFGH' + 'xy' + 'z', 'latin1');
    const reports = [
      '1+0 records in\n1+0 records out\n16 bytes copied, 3.1e-05 s, 516 kB/s\n@@0 16\n', // coreutils ≥ 8.24
      '1+0 records in\n1+0 records out\n8 bytes (8 B) copied, 3.1e-05 s, 258 kB/s\n@@0 8\n', // older coreutils
      '0+1 records in\n0+1 records out\n2 bytes copied, 3.1e-05 s, 64.5 kB/s\n@@0 16\n',
      '0+1 records in\n0+1 records out\n1 bytes (1 B, 1 B) copied, 3.1e-05 s, 64.5 kB/s\n@@0 16\n', // SI and IEC sizes
      "dd: error reading '/dev/cpu/1/msr': Input/output error\n0+0 records in\n0+0 records out\n0 bytes copied, 4e-05 s, 0.0 kB/s\n@@1 8\n",
      'No such file or directory\n@@1 8\n',
    ].join('');
    expect(parseBatch(`@0\n=x\n!0\n${run(1, bytes, reports)}`)).toEqual([
      { stdout: Buffer.from('x\n'), stderr: '', status: 0 },
      { stdout: Buffer.from('0123456789abcdef'), stderr: '', status: 0 },
      { stdout: Buffer.from('ABCDEFGH'), stderr: '', status: 0 },
      { stdout: Buffer.from('xy'), stderr: '', status: 0 },
      { stdout: Buffer.from('z'), stderr: '', status: 0 },
      { stdout: Buffer.alloc(0), stderr: "dd: error reading '/dev/cpu/1/msr': Input/output error\n", status: 1 },
      { stdout: Buffer.alloc(0), stderr: 'No such file or directory\n', status: 1 },
    ]);
    // one byte: "1 byte copied" (and "1 byte (1 B) copied")
    for (const w of ['1 byte copied, 1e-05 s, 100 kB/s', '1 byte (1 B) copied, 1e-05 s, 100 kB/s', '1 bytes (1 B) copied, 1e-05 s, 100 kB/s']) {
      expect(parseBatch(run(0, Buffer.from('z'), `0+1 records in\n0+1 records out\n${w}\n@@0 8\n`))?.[0]?.stdout.toString()).toBe('z');
    }
  });

  it('refuses a run it cannot cut exactly (never a read\'s bytes given to another)', () => {
    const ok = '1+0 records in\n1+0 records out\n2 bytes copied\n@@0 2\n';
    expect(parseBatch(run(0, Buffer.from('ab'), ok))).toHaveLength(1);
    expect(parseBatch(run(0, Buffer.from('abc'), ok))).toBeUndefined(); // bytes left over
    expect(parseBatch(run(0, Buffer.from('a'), ok))).toBeUndefined(); // bytes missing
    expect(parseBatch(run(0, Buffer.from('ab'), '0+1 records in\n0+1 records out\n@@0 4\n'))).toBeUndefined(); // partial, no byte count
    expect(parseBatch(run(0, Buffer.from('ab'), '1+0 records in\n1+0 records out\n'))).toBeUndefined(); // no end of the read (killed)
    expect(parseBatch(run(0, Buffer.alloc(0), ''))).toBeUndefined(); // no read at all
    expect(parseBatch(run(0, Buffer.from('ab'), `${ok}trailing\n`))).toBeUndefined();
    expect(parseBatch(`&0\n${b64('ab')}\n!1\n${b64(ok)}\n`)).toBeUndefined(); // the run itself failed
    expect(parseBatch(`@0\n!0\n${run(0, Buffer.from('ab'), ok)}`)).toBeUndefined(); // index 0 twice
    expect(parseBatch(`&x\n!0\n`)).toBeUndefined();
    expect(parseBatch(run(1, Buffer.from('ab'), ok))).toBeUndefined(); // index 0 missing
  });

  it('gives back any reads, whatever their bytes, lengths, errors and the encoder\'s wrapping (property)', () => {
    const read = fc.record({
      bs: fc.constantFrom(8, 16, 64),
      kind: fc.constantFrom('whole', 'partial', 'none', 'error', 'missing'),
      data: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      cut: fc.integer({ min: 1, max: 63 }),
      wording: fc.constantFrom('new', 'old'),
      status: fc.integer({ min: 1, max: 255 }),
      // an error message as dd prints it: "dd: ..." lines only (the script's own "@@" lines end a read)
      error: fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => `dd: ${s.replace(/\n/g, ' ')}\n`),
    });
    fc.assert(
      fc.property(fc.array(read, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 30 }), (reads, width) => {
        const want: Array<{ stdout: Buffer; stderr: string; status: number }> = [];
        const bytes: Buffer[] = [];
        let reports = '';
        const copied = (n: number, w: string): string => (w === 'new' ? `${n} byte${n === 1 ? '' : 's'} copied, 1e-05 s, 1 kB/s\n` : `${n} byte${n === 1 ? '' : 's'} (${n} B) copied, 1e-05 s, 1 kB/s\n`);
        for (const r of reads) {
          const n = r.kind === 'whole' ? r.bs : r.kind === 'partial' ? Math.min(r.cut, r.bs - 1) : 0;
          const out = Buffer.from(r.data.subarray(0, n));
          bytes.push(out);
          if (r.kind === 'missing') reports += `No such file or directory\n@@1 ${r.bs}\n`;
          else if (r.kind === 'error') reports += `${r.error}0+0 records in\n0+0 records out\n${copied(0, r.wording)}@@${r.status} ${r.bs}\n`;
          else reports += `${n === r.bs ? '1+0' : n ? '0+1' : '0+0'} records in\n${n === r.bs ? '1+0' : n ? '0+1' : '0+0'} records out\n${copied(n, r.wording)}@@0 ${r.bs}\n`;
          want.push({ stdout: out, stderr: r.kind === 'missing' ? 'No such file or directory\n' : r.kind === 'error' ? r.error : '', status: r.kind === 'missing' ? 1 : r.kind === 'error' ? r.status : 0 });
        }
        const wrap = (s: string): string => (s.match(new RegExp(`.{1,${width * 4}}`, 'g')) ?? []).join('\n');
        const all = Buffer.concat(bytes);
        const text = `&0\n${all.length ? `${wrap(all.toString('base64'))}\n` : ''}!0\n${wrap(Buffer.from(reports).toString('base64'))}\n`;
        expect(parseBatch(text)).toEqual(want);
      }),
      { seed: 23, numRuns: 300 },
    );
  });
});
