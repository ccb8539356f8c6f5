import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { RecordingHost, msrJson } from '../../support/host/recording-host.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { CountingHost } from '../../support/host/counting-host.js';
import { LocalHost } from '../../support/host/local-host.js';
import { HarnessError } from '../../support/host/types.js';
import { msrDeviceError, msrValueFromBytes } from '../../support/host/errno.js';
import { hostError } from '../../support/host/errno.js';
import { parseCpuList } from '../../support/parsers/cpulist.js';
import { BATCH_SCRIPT, batchArgs, SshHost, type BatchOp } from '../../support/host/ssh-host.js';
import { fixtureDir } from '../helpers.js';

const fixture = (files: Record<string, string>): string => fixtureDir('sevcheck-msr', files);

const harness = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a HarnessError');
};

const SYSCFG = 0xc0010010;
const ONLINE = { 'files/sys/devices/system/cpu/online': '0-127\n' };

describe('cpu list (/sys/devices/system/cpu/online)', () => {
  it('expands ranges and single CPUs', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual({ ok: true, cpus: [0, 1, 2, 3, 8, 10, 11] });
    expect(parseCpuList('0\n')).toEqual({ ok: true, cpus: [0] });
  });
  it('rejects garbage, reversed ranges and CPUs beyond NR_CPUS', () => {
    expect(parseCpuList('').ok).toBe(false);
    expect(parseCpuList('0-x').ok).toBe(false);
    expect(parseCpuList('5-2').ok).toBe(false);
    expect(parseCpuList('0-99999').ok).toBe(false);
  });
});

describe('MSR bytes', () => {
  it('reads the 8 bytes msr_read() returns as a little-endian 64-bit value', () => {
    expect(msrValueFromBytes(Buffer.from([0x00, 0x00, 0xf4, 0x03, 0, 0, 0, 0]), 0, SYSCFG)).toBe(0x03f40000n);
    expect(msrValueFromBytes(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0x80]), 0, SYSCFG)).toBe(0x8000000000000001n);
  });
  it('a short read is an EIO HostError naming the MSR and CPU', () => {
    expect(() => msrValueFromBytes(Buffer.from([1, 2, 3]), 4, SYSCFG)).toThrow(/MSR 0xc0010010 on CPU 4 \(\/dev\/cpu\/4\/msr\).*short read of 3 bytes/);
    try {
      msrValueFromBytes(Buffer.alloc(0), 0, SYSCFG);
    } catch (e) {
      expect(e).toMatchObject({ code: 'EIO' });
    }
  });
  it('open errors carry the exact fix', () => {
    expect(msrDeviceError(hostError('ENOENT', '/dev/cpu/0/msr'), 0, SYSCFG).message).toContain('modprobe msr');
    expect(msrDeviceError(hostError('EACCES', '/dev/cpu/0/msr'), 0, SYSCFG).message).toContain('run as root (reading MSRs needs CAP_SYS_RAWIO)');
    expect(msrDeviceError(hostError('EIO', '/dev/cpu/0/msr'), 0, SYSCFG).message).toContain('RDMSR faulted');
  });
});

describe('local host readMsr', () => {
  it('a CPU without an msr node is ENOENT with "modprobe msr" (never loads the module)', async () => {
    await expect(new LocalHost().readMsr(8191, SYSCFG)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('modprobe msr') });
  });
});

describe('fixture msr.json', () => {
  it('replays per-CPU values over "*" and says "not recorded" for the rest', async () => {
    const h = new FixtureHost(
      fixture({
        ...ONLINE,
        'msr.json': JSON.stringify({ '*': { '0xc0010010': '0x0000000003f40000' }, '64': { '0xC0010010': '0x0000000002f40000' } }),
      }),
    );
    expect(await h.readMsr(0, SYSCFG)).toBe(0x03f40000n);
    expect(await h.readMsr(127, SYSCFG)).toBe(0x03f40000n);
    expect(await h.readMsr(64, SYSCFG)).toBe(0x02f40000n);
    await expect(h.readMsr(0, 0xc0010132)).rejects.toMatchObject({ code: 'NOT_RECORDED', message: 'MSR 0xc0010132 on CPU 0: not recorded in this fixture' });
    await expect(h.readMsr(128, SYSCFG)).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('a fixture without msr.json has no MSRs recorded', async () => {
    await expect(new FixtureHost(fixture({})).readMsr(0, SYSCFG)).rejects.toMatchObject({ code: 'NOT_RECORDED' });
  });
  it('replays recorded MSR errors', async () => {
    const h = new FixtureHost(fixture({ 'errors.json': JSON.stringify({ msr: { '0:0xc0010010': { code: 'ENOENT', message: 'MSR 0xc0010010 on CPU 0 (/dev/cpu/0/msr): no such file or directory (load the msr module: modprobe msr)' } } }) }));
    await expect(h.readMsr(0, SYSCFG)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('modprobe msr') });
  });
  it('bad input: non-hex, wrong width, a CPU not in the CPU list, a bad CPU key — one line each', () => {
    expect(harness(() => new FixtureHost(fixture({ 'msr.json': JSON.stringify({ '0': { '0xc0010010': '0xZZ00000003f40000' } }) })))).toMatch(
      /msr\.json: key "0\.0xc0010010": "0xZZ00000003f40000" is not a 64-bit value of 16 hex digits/,
    );
    expect(harness(() => new FixtureHost(fixture({ 'msr.json': JSON.stringify({ '0': { '0xc0010010': '0x3f40000' } }) })))).toMatch(/16 hex digits/);
    expect(harness(() => new FixtureHost(fixture({ 'msr.json': JSON.stringify({ '0': { 'SYSCFG': '0x0000000003f40000' } }) })))).toMatch(/MSR index must be a hex number/);
    expect(harness(() => new FixtureHost(fixture({ ...ONLINE, 'msr.json': JSON.stringify({ '200': { '0xc0010010': '0x0000000003f40000' } }) })))).toMatch(
      /key "200": names CPU 200, which is not in the fixture's CPU list/,
    );
    expect(harness(() => new FixtureHost(fixture({ 'msr.json': JSON.stringify({ '3': { '0xc0010010': '0x0000000003f40000' } }) })))).toMatch(/no CPU list/);
    expect(harness(() => new FixtureHost(fixture({ 'msr.json': JSON.stringify({ cpu0: {} }) })))).toMatch(/must be a CPU number like "0" or "\*"/);
    expect(harness(() => new FixtureHost(fixture({ 'files/sys/devices/system/cpu/online': 'zero\n' })))).toMatch(/online: "zero" is not a CPU number/);
  });
});

describe('fixture cpuid.json per-CPU maps', () => {
  const leaf = (eax: string) => ({ eax, ebx: '0x00004173', ecx: '0x000001fd', edx: '0x00000080' });
  it('the flat form holds for every CPU, a "cpuN" map overrides it', async () => {
    const h = new FixtureHost(fixture({ ...ONLINE, 'cpuid.json': JSON.stringify({ '0x8000001f': leaf('0x0101fd3f'), cpu64: { '0x8000001f': leaf('0x0101fd2f') } }) }));
    expect((await h.cpuid(0x8000001f, 0)).eax).toBe(0x0101fd3f);
    expect((await h.cpuid(0x8000001f, 12)).eax).toBe(0x0101fd3f);
    expect((await h.cpuid(0x8000001f, 64)).eax).toBe(0x0101fd2f);
  });
  it('a per-CPU map naming a CPU that does not exist is exit 2, one line', () => {
    expect(harness(() => new FixtureHost(fixture({ ...ONLINE, 'cpuid.json': JSON.stringify({ cpu512: { '0x8000001f': leaf('0x1') } }) })))).toMatch(
      /cpuid\.json: key "cpu512": names CPU 512, which is not in the fixture's CPU list/,
    );
    expect(harness(() => new FixtureHost(fixture({ ...ONLINE, 'cpuid.json': JSON.stringify({ cpu1: { '0x8000001f': { eax: 'x' } } }) })))).toMatch(/key "cpu1\.0x8000001f\.eax"/);
  });
});

describe('recording MSRs and per-CPU CPUID', () => {
  it('writes CPU 0 (as "*" when other CPUs were read) and only the CPUs that differ', () => {
    expect(msrJson(new Map([[0, new Map([['0xc0010010', 0x3f40000n]])]]))).toEqual({ '0': { '0xc0010010': '0x0000000003f40000' } });
    expect(
      msrJson(
        new Map([
          [0, new Map([['0xc0010010', 0x3f40000n]])],
          [1, new Map([['0xc0010010', 0x3f40000n]])],
          [64, new Map([['0xc0010010', 0x2f40000n]])],
        ]),
      ),
    ).toEqual({ '*': { '0xc0010010': '0x0000000003f40000' }, '64': { '0xc0010010': '0x0000000002f40000' } });
    expect(msrJson(new Map())).toBeUndefined();
  });
  it('record → replay gives the same values and errors, through the caching and counting wrappers', async () => {
    const src = new FixtureHost(
      fixture({
        ...ONLINE,
        'msr.json': JSON.stringify({ '*': { '0xc0010010': '0x0000000003f40000' }, '64': { '0xc0010010': '0x0000000002f40000' } }),
        'cpuid.json': JSON.stringify({ '0x8000001f': { eax: '0x0101fd3f', ebx: '0x4173', ecx: '0x1fd', edx: '0x80' }, cpu64: { '0x8000001f': { eax: '0x0101fd2f', ebx: '0x4173', ecx: '0x1fd', edx: '0x80' } } }),
        'errors.json': JSON.stringify({ msr: { '0:0xc0010132': { code: 'EACCES', message: 'denied' } } }),
      }),
    );
    const rec = new RecordingHost(src);
    const counting = new CountingHost(rec);
    const h = new CachingHost(counting);
    await h.readFile('/sys/devices/system/cpu/online');
    for (const cpu of [0, 1, 64, 127]) {
      await h.readMsr(cpu, SYSCFG);
      await h.readMsr(cpu, SYSCFG);
      await h.cpuid(0x8000001f, cpu);
    }
    await expect(h.readMsr(0, 0xc0010132)).rejects.toMatchObject({ code: 'EACCES' });
    expect(counting.counts.get('msr 0xc0010010 cpu64')).toBe(1);
    const out = mkdtempSync(join(tmpdir(), 'sevcheck-msr-rec-'));
    await rec.writeFixture(out, { name: 'rec' });
    expect(JSON.parse(readFileSync(join(out, 'msr.json'), 'utf8'))).toEqual({ '*': { '0xc0010010': '0x0000000003f40000' }, '64': { '0xc0010010': '0x0000000002f40000' } });
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'cpuid.json'), 'utf8')))).toEqual(['0x8000001f', 'cpu64']);
    expect(existsSync(join(out, 'errors.json'))).toBe(true);
    const replay = new FixtureHost(out);
    for (const cpu of [0, 1, 64, 127]) {
      expect(await replay.readMsr(cpu, SYSCFG)).toBe(await src.readMsr(cpu, SYSCFG));
      expect(await replay.cpuid(0x8000001f, cpu)).toEqual(await src.cpuid(0x8000001f, cpu));
    }
    await expect(replay.readMsr(0, 0xc0010132)).rejects.toMatchObject({ code: 'EACCES', message: 'denied' });
  });
});

describe('ssh host readMsr', () => {
  /** One record as BATCH_SCRIPT writes it: "@", stdout as od hex, "!<status>", stderr as od hex. */
  const record = (a: { exitCode: number; stdout?: Buffer; stderr?: string }): string => {
    const hex = (b: Buffer): string => (b.length ? `${[...b].map((x) => ` ${x.toString(16).padStart(2, '0')}`).join('')}\n` : '');
    return `@\n${hex(a.stdout ?? Buffer.alloc(0))}!${a.exitCode}\n${hex(Buffer.from(a.stderr ?? ''))}`;
  };
  /** An SshHost whose transport is replaced: records the script's arguments, answers every operation with `answer`. */
  const stubbed = (answer: { exitCode: number; stdout?: Buffer; stderr?: string }) => {
    const h = new SshHost({ host: 'epyc1', user: 'root', port: undefined });
    const argvs: string[][] = [];
    const any = h as unknown as Record<string, unknown>;
    any.connect = async () => '';
    any.batch = async (ops: BatchOp[]) => {
      const args = batchArgs(ops);
      argvs.push(args);
      return { exitCode: 0, stdout: ops.map(() => record(answer)).join(''), stderr: '' };
    };
    return { h, argvs };
  };
  it('reads 8 bytes at the MSR index with dd, input only (no of=, no conv=, no oflag=)', async () => {
    const { h, argvs } = stubbed({ exitCode: 0, stdout: Buffer.from([0, 0, 0xf4, 3, 0, 0, 0, 0]) });
    expect(await h.readMsr(64, SYSCFG)).toBe(0x3f40000n);
    expect(argvs[0]).toEqual(['d', '/dev/cpu/64/msr', '8', String(SYSCFG)]);
    // the one line that runs dd (BATCH_SCRIPT dv; its report, not status=none: parseBatch cuts a run of reads by it)
    const dds = BATCH_SCRIPT.split('\n').filter((l) => /\bdd\b/.test(l) && !/^\s*#/.test(l));
    expect(dds).toHaveLength(1);
    expect(dds[0]).toContain('dd if="$2" bs="$3" count=1 skip="$4" iflag=skip_bytes 2>&4');
    expect(/\b(of|conv|oflag)=/.test(dds[0] ?? '')).toBe(false);
  });
  it('a short read and dd errors become HostErrors with the fix', async () => {
    await expect(stubbed({ exitCode: 0, stdout: Buffer.from([1, 2]) }).h.readMsr(0, SYSCFG)).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('short read of 2 bytes') });
    await expect(stubbed({ exitCode: 1, stderr: "dd: failed to open '/dev/cpu/0/msr': No such file or directory" }).h.readMsr(0, SYSCFG)).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('modprobe msr'),
    });
    await expect(stubbed({ exitCode: 1, stderr: "dd: failed to open '/dev/cpu/0/msr': Operation not permitted" }).h.readMsr(0, SYSCFG)).rejects.toMatchObject({
      code: 'EACCES',
      message: expect.stringContaining('CAP_SYS_RAWIO'),
    });
    await expect(stubbed({ exitCode: 1, stderr: "dd: error reading '/dev/cpu/0/msr': Input/output error" }).h.readMsr(0, 0xc0011234)).rejects.toMatchObject({
      code: 'EIO',
      message: expect.stringContaining('RDMSR faulted'),
    });
  });
  it('every CPU of a 256-CPU host is one batch', async () => {
    const { h, argvs } = stubbed({ exitCode: 0, stdout: Buffer.from([0, 0, 0xf4, 3, 0, 0, 0, 0]) });
    const out = await h.readMany(Array.from({ length: 256 }, (_, cpu) => ({ op: 'msr' as const, cpu, index: SYSCFG })));
    expect(out.every((o) => o.status === 'fulfilled' && o.value === 0x3f40000n)).toBe(true);
    expect(argvs).toHaveLength(1);
  });
});

describe('per-CPU CPUID errors', () => {
  it('a failed read on another CPU is recorded as "cpuN:<leaf>" and replayed on that CPU only', async () => {
    const src = new FixtureHost(
      fixture({
        ...ONLINE,
        'cpuid.json': JSON.stringify({ '0x8000001f': { eax: '0x0101fd3f', ebx: '0x4173', ecx: '0x1fd', edx: '0x80' } }),
        'errors.json': JSON.stringify({ cpuid: { 'cpu5:0x8000001f': { code: 'EIO', message: '/dev/cpu/5/cpuid: input/output error' } } }),
      }),
    );
    await expect(src.cpuid(0x8000001f, 5)).rejects.toMatchObject({ code: 'EIO' });
    const rec = new RecordingHost(src);
    await rec.readFile('/sys/devices/system/cpu/online');
    await rec.cpuid(0x8000001f, 0);
    await rec.cpuid(0x8000001f, 4);
    await expect(rec.cpuid(0x8000001f, 5)).rejects.toMatchObject({ code: 'EIO' });
    const out = mkdtempSync(join(tmpdir(), 'sevcheck-cpuerr-'));
    await rec.writeFixture(out, { name: 'rec' });
    const replay = new FixtureHost(out);
    expect((await replay.cpuid(0x8000001f, 4)).eax).toBe(0x0101fd3f);
    expect((await replay.cpuid(0x8000001f, 0)).eax).toBe(0x0101fd3f);
    await expect(replay.cpuid(0x8000001f, 5)).rejects.toMatchObject({ code: 'EIO', message: '/dev/cpu/5/cpuid: input/output error' });
  });
  it('"cpu0" needs no CPU list; "cpu3" does', () => {
    expect(() => new FixtureHost(fixture({ 'cpuid.json': JSON.stringify({ cpu0: {} }) }))).not.toThrow();
    expect(harness(() => new FixtureHost(fixture({ 'cpuid.json': JSON.stringify({ cpu3: {} }) })))).toMatch(/no CPU list/);
  });
});
