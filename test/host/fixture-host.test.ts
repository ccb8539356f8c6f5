import { describe, expect, it } from 'vitest';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { HarnessError, HostError } from '../../support/host/types.js';
import { CachingHost } from '../../support/host/caching-host.js';
import { openHost } from '../../support/host/target.js';
import { shellQuote } from '../../support/host/ssh-host.js';
import { fixtureDir } from '../helpers.js';

const fixture = (files: Record<string, string>): string => fixtureDir('sevcheck-fx', files);

const harness = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    return (e as Error).message;
  }
  throw new Error('expected a HarnessError');
};

describe('fixture host: format semantics', () => {
  const dir = fixture({
    'files/proc/cmdline': 'quiet\n',
    'files/etc/modprobe.d/a.conf': 'options kvm_amd sev=1\n',
    'stat.json': JSON.stringify({ '/dev/sev': { type: 'char', mode: '0600', uid: 0, gid: 0, selinux: 'system_u:object_r:sev_device_t:s0' }, '/etc/modprobe.d/b.conf': { mode: '0640' } }),
    'commands.json': JSON.stringify([{ argv: ['virsh', 'domcapabilities'], exitCode: 0, stdout: '<x/>' }]),
    'cpuid.json': JSON.stringify({ '0x8000001F': { eax: '0x0101fd3f', ebx: '0x4173', ecx: '0x1fd', edx: '0x80' } }),
    'qmp.json': JSON.stringify({ 'query-sev': { error: { class: 'GenericError', desc: 'SEV feature is not enabled' } } }),
  });
  const h = new FixtureHost(dir);

  it('reads files under files/ and reports ENOENT for everything else', async () => {
    expect((await h.readFile('/proc/cmdline')).toString()).toBe('quiet\n');
    await expect(h.readFile('/proc/cpuinfo')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(h.readFile('/../../etc/passwd')).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('stats from stat.json, defaults to 0644 root files, and knows device nodes', async () => {
    expect(await h.stat('/dev/sev')).toMatchObject({ type: 'char', mode: 0o600, selinux: 'system_u:object_r:sev_device_t:s0' });
    expect(await h.stat('/proc/cmdline')).toMatchObject({ type: 'file', mode: 0o644, uid: 0, gid: 0 });
    expect(await h.stat('/proc')).toMatchObject({ type: 'dir' });
    await expect(h.stat('/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(h.readFile('/etc/modprobe.d/b.conf')).rejects.toMatchObject({ code: 'NOT_RECORDED' });
  });
  it('lists directories from files/ and stat.json together', async () => {
    expect(await h.listDir('/etc/modprobe.d')).toEqual(['a.conf', 'b.conf']);
    expect(await h.listDir('/dev')).toEqual(['sev']);
    await expect(h.listDir('/etc/udev')).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('replays commands, CPUID and QMP; unrecorded ones are NOT_RECORDED (undecided), never empty', async () => {
    expect((await h.run(['virsh', 'domcapabilities'])).stdout).toBe('<x/>');
    await expect(h.run(['virsh', 'nodesevinfo'])).rejects.toMatchObject({ code: 'NOT_RECORDED' });
    expect((await h.cpuid(0x8000001f)).ebx).toBe(0x4173);
    await expect(h.cpuid(0x80000000)).rejects.toBeInstanceOf(HostError);
    expect(await h.qmp('query-sev')).toEqual({ error: { class: 'GenericError', desc: 'SEV feature is not enabled' } });
    await expect(h.qmp('query-sev-capabilities')).rejects.toMatchObject({ code: 'NOT_RECORDED' });
  });
  it('warns about unknown host.json keys instead of failing', () => {
    const warnings: string[] = [];
    new FixtureHost(fixture({ 'host.json': '{"name":"x","colour":"red"}' }), { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/host.json: unknown key "colour" ignored/)]);
  });
  it('host.json "system": a recording of a root file system stays one (the distro layer judges it), else a running system', () => {
    expect(new FixtureHost(fixture({ 'host.json': '{"name":"x","system":"rootfs"}' })).system).toBe('rootfs');
    expect(new FixtureHost(fixture({})).system).toBe('running');
  });
});

describe('fixture host: host.json "covers" (a fixture that recorded only some checks\' reads)', () => {
  const partial = fixture({
    'host.json': JSON.stringify({ name: 'pasted', covers: ['host.firmware', 'host.kvm-amd.sev'] }),
    'files/sys/module/kvm_amd/parameters/sev': 'N\n',
  });

  it('reads what it holds; a path it does not hold is NOT_RECORDED, not "no such file"', async () => {
    const h = new FixtureHost(partial);
    expect((await h.describe()).covers).toEqual(['host.firmware', 'host.kvm-amd.sev']);
    expect((await h.readFile('/sys/module/kvm_amd/parameters/sev')).toString()).toBe('N\n');
    await expect(h.readFile('/sys/module/kvm_amd/parameters/sev_es')).rejects.toMatchObject({ code: 'NOT_RECORDED' });
    await expect(h.stat('/dev/sev')).rejects.toMatchObject({ code: 'NOT_RECORDED' });
    await expect(h.listDir('/etc/modprobe.d')).rejects.toMatchObject({ code: 'NOT_RECORDED' });
    expect(await h.listDir('/sys/module/kvm_amd/parameters')).toEqual(['sev']);
  });

  it('without "covers" the same paths do not exist (ENOENT)', async () => {
    const h = new FixtureHost(fixture({ 'host.json': JSON.stringify({ name: 'whole' }) }));
    expect((await h.describe()).covers).toBeUndefined();
    await expect(h.stat('/dev/sev')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an entry that is not a check id or prefix, or an empty list, is one line naming the key', () => {
    expect(harness(() => new FixtureHost(fixture({ 'host.json': JSON.stringify({ name: 'x', covers: [] }) })))).toMatch(/host\.json: key "covers": must be a non-empty array/);
    expect(harness(() => new FixtureHost(fixture({ 'host.json': JSON.stringify({ name: 'x', covers: ['host.firmware', 'Host Firmware'] }) })))).toMatch(/host\.json: key "covers\[1\]": must be a check id or id prefix/);
    expect(harness(() => new FixtureHost(fixture({ 'host.json': JSON.stringify({ name: 'x', covers: 'host' }) })))).toMatch(/key "covers"/);
  });
});

describe('fixture host: malformed input is one line naming file and key', () => {
  it.each([
    [{ 'host.json': '{"name": ' }, /host.json: malformed JSON/],
    [{ 'host.json': '{}' }, /host.json: key "name": required/],
    [{ 'host.json': '{"name":"x","system":"chroot"}' }, /host.json: key "system": must be "running" or "rootfs", not "chroot"/],
    [{ 'stat.json': '{"/dev/sev":{"mode":"rw-------"}}' }, /stat.json: key "\/dev\/sev.mode": "rw-------" is not an octal mode/],
    [{ 'stat.json': '{"/dev/sev":{"mode":"0800"}}' }, /not an octal mode/],
    [{ 'stat.json': '{"dev/sev":{}}' }, /paths must be absolute/],
    [{ 'stat.json': '{"/dev/sev":{"type":"pipe"}}' }, /unknown type "pipe"/],
    [{ 'cpuid.json': '{"0x8000001f":{"eax":"0xZZ","ebx":"0","ecx":"0","edx":"0"}}' }, /cpuid.json: key "0x8000001f.eax": "0xZZ" is not a 32-bit hex number/],
    [{ 'cpuid.json': '{"0x8000001f":{"eax":"0x123456789","ebx":"0x0","ecx":"0x0","edx":"0x0"}}' }, /not a 32-bit hex number/],
    [{ 'cpuid.json': '{"leaf31":{}}' }, /leaf must be a hex number/],
    [{ 'commands.json': '{"argv":[]}' }, /commands.json: expected a JSON array/],
    [{ 'commands.json': '[{"argv":"virsh"}]' }, /commands.json: key "\[0\].argv"/],
    [{ 'qmp.json': '{"query-sev":{"return":{},"error":{"class":"x","desc":"y"}}}' }, /exactly one of "return" or "error"/],
    [{ 'expected.json': '{"host.cpuid.sev":"ok"}' }, /expected.json: key "host.cpuid.sev": status "ok"/],
    [{ 'errors.json': '{"readFile":{"/x":{"code":"EWHAT","message":"m"}}}' }, /unknown code "EWHAT"/],
  ])('%j', (files, re) => {
    const msg = harness(() => new FixtureHost(fixture(files as Record<string, string>)));
    expect(msg).toMatch(re);
    expect(msg).not.toMatch(/\n/);
  });
  it('a missing directory is a harness error', () => {
    expect(harness(() => new FixtureHost('/nonexistent/fixture'))).toMatch(/fixture host directory does not exist/);
  });
});

describe('host targets', () => {
  it.each([
    ['gopher://x', /unknown host scheme "gopher:"/],
    ['fixture:', /needs a directory/],
    ['ssh://', /not a valid ssh/],
    ['ssh://-oProxyCommand=x', /not a valid ssh|may not start/],
    ['whatever', /unknown host target/],
  ])('%s', (spec, re) => {
    expect(harness(() => openHost(spec))).toMatch(re);
  });
  it('refuses ssh options that disable host-key checking', () => {
    expect(harness(() => openHost('ssh://root@h', { ssh: { options: ['StrictHostKeyChecking=no'] } }))).toMatch(/never disables host-key checking/);
  });
  it('quotes remote argv so the remote shell sees literal words', () => {
    expect(shellQuote('/proc/cpuinfo')).toBe('/proc/cpuinfo');
    expect(shellQuote("a b'c;$(rm -rf /)")).toBe(`'a b'\\''c;$(rm -rf /)'`);
    expect(shellQuote('')).toBe("''");
  });
});

describe('per-run cache', () => {
  it('reaches the inner host once per distinct read, failures included', async () => {
    const dir = fixture({ 'files/a': 'x' });
    const inner = new FixtureHost(dir);
    let calls = 0;
    const spy = new Proxy(inner, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        return typeof v === 'function' && p !== 'constructor' ? (...a: unknown[]) => (calls++, v.apply(t, a)) : v;
      },
    });
    const c = new CachingHost(spy);
    await Promise.all([c.readFile('/a'), c.readFile('/a'), c.readFile('/a')]);
    await c.readFile('/missing').catch(() => undefined);
    await c.readFile('/missing').catch(() => undefined);
    await c.cpuid(0x8000001f).catch(() => undefined);
    await c.cpuid(0x8000001f).catch(() => undefined);
    expect(calls).toBe(3);
  });
});
