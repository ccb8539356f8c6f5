/**
 * Host.qmp() behind the local/ssh backends: one lazily started QEMU per run, every QMP command
 * answered from it, clear HostErrors (never a pass, never a hang, never an orphan) when the
 * peer sends garbage, closes early or never answers; who QEMU runs as.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostError } from '../../support/host/types.js';
import { chooseProbeIdentity, HostQmpProbe, HOST_PROBE_COMMANDS, pipelinedQmpInput, probeContextOf, qemuProbeArgv, qmpProbeFromTranscript, runQmpProbe, setprivArgv, wrapperNotFound } from '../../support/qemu/qemu-probe.js';
import { sevcheck } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sevcheck-hostqmp-'));
function gone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
function fake(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!${process.execPath}
process.stdout.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 9}, "package": "fake"}, "capabilities": []}}\\n');
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { buf += c; let i; while ((i = buf.indexOf('\\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); onCmd(JSON.parse(l)); } });
const reply = (cmd, r) => process.stdout.write(JSON.stringify({ ...r, id: cmd.id }) + '\\n');
${body}
`);
  chmodSync(p, 0o755);
  return p;
}
const probe = (bin: string, timeoutMs = 2000) => {
  let pid: number | undefined;
  let starts = 0;
  const h = new HostQmpProbe(async () => {
    starts++;
    const result = await runQmpProbe({ launch: { file: bin, args: qemuProbeArgv('fallback') }, commands: HOST_PROBE_COMMANDS, timeoutMs, exitGraceMs: 200 }).catch((e) => {
      pid = (e as { pid?: number }).pid;
      throw e;
    });
    pid = result.pid;
    return { result, identity: { description: 'the test user', asLibvirtUser: false } };
  });
  return { h, pid: () => pid, starts: () => starts };
};

describe('HostQmpProbe', () => {
  it('starts QEMU once, answers every probe command from it, adds who/what answered', async () => {
    const bin = fake('good', `function onCmd(c) {
      if (c.execute === 'query-sev-capabilities') return reply(c, { error: { class: 'GenericError', desc: 'SEV is not enabled in KVM' } });
      if (c.execute === 'quit') { reply(c, { return: {} }); process.exit(0); }
      reply(c, { return: c.execute === 'query-kvm' ? { enabled: true, present: true } : {} });
    }`);
    const p = probe(bin);
    const caps = await p.h.reply('query-sev-capabilities');
    expect(caps).toMatchObject({ error: { desc: 'SEV is not enabled in KVM' } });
    expect(probeContextOf(caps)).toMatchObject({ qemu: '9.2.0 (fake)', ranAs: 'the test user', asLibvirtUser: false });
    expect(await p.h.reply('query-kvm')).toMatchObject({ return: { enabled: true } });
    await p.h.reply('query-sev');
    expect(p.starts()).toBe(1);
    expect(p.h.durationMs).toBeGreaterThan(0);
    expect(gone(p.pid())).toBe(true);
  });
  it('refuses commands it does not ask, and arguments, without starting QEMU', async () => {
    const p = probe('/nonexistent');
    await expect(p.h.reply('query-sev-launch-measure')).rejects.toThrow(/answers only query-sev-capabilities, query-sev, query-kvm/);
    await expect(p.h.reply('query-sev', { x: 1 })).rejects.toBeInstanceOf(HostError);
    expect(p.starts()).toBe(0);
  });
  for (const [name, body, re] of [
    ['garbage', `function onCmd(c) { if (c.execute === 'qmp_capabilities') return reply(c, { return: {} }); process.stdout.write('*** stack smashing detected ***\\n'); setInterval(() => {}, 1000); }`, /garbage on the QMP stream/],
    ['closes', `function onCmd(c) { if (c.execute === 'qmp_capabilities') return reply(c, { return: {} }); process.exit(3); }`, /before the reply to query-sev-capabilities/],
    ['hangs', `function onCmd(c) { if (c.execute === 'qmp_capabilities') return reply(c, { return: {} }); } process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`, /no reply to query-sev-capabilities within 2000 ms/],
  ] as const) {
    it(`a peer that ${name}: every command throws the same HostError, QEMU is gone, no second start`, async () => {
      // 2 s: the fake peer is a Node script, whose start alone can pass 300 ms on a loaded 2-core machine
      const p = probe(fake(name, body), 2000);
      const t0 = Date.now();
      const e = await p.h.reply('query-sev-capabilities').catch((x: unknown) => x);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(e).toBeInstanceOf(HostError);
      expect((e as Error).message).toMatch(re);
      expect((e as Error).message).toMatch(/QEMU probe .* got no answer/);
      await expect(p.h.reply('query-sev')).rejects.toBe(e);
      expect(p.starts()).toBe(1);
      expect(gone(p.pid())).toBe(true);
    });
  }
});

describe('the QEMU probe from its transcript (ssh: QMP commands on stdin all at once, no session of its own; issue 23)', () => {
  const launch = { file: 'ssh', args: [], label: 'ssh://h qemu-system-x86_64', notFound: wrapperNotFound('qemu-system-x86_64') };
  const fromTranscript = (transcript: string, exitCode = 0, stderr = '') =>
    qmpProbeFromTranscript({ launch, commands: HOST_PROBE_COMMANDS, transcript, stderr, exitCode, durationMs: 1, timeoutMs: 2000 });

  it('gives the replies a live QMP conversation with the same QEMU gives (when qemu-system-x86_64 is installed)', async (ctx) => {
    const bin = ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].find((b) => existsSync(b));
    if (!bin) return ctx.skip();
    const live = await runQmpProbe({ launch: { file: bin, args: qemuProbeArgv('fallback') }, commands: HOST_PROBE_COMMANDS, timeoutMs: 20_000 });
    const r = spawnSync(bin, qemuProbeArgv('fallback'), { input: pipelinedQmpInput(HOST_PROBE_COMMANDS), encoding: 'utf8', timeout: 30_000 });
    const played = await qmpProbeFromTranscript({ launch, commands: HOST_PROBE_COMMANDS, transcript: r.stdout, stderr: r.stderr, exitCode: r.status ?? undefined, durationMs: 1 });
    expect(r.status).toBe(0);
    expect([...played.replies]).toEqual([...live.replies]);
    expect(played.qemuVersion).toEqual(live.qemuVersion);
    expect(played.events.map((e) => e.event)).toEqual(live.events.map((e) => e.event));
  }, 60_000);

  it('sends what QmpClient sends: qmp_capabilities, the commands, quit, with its ids', () => {
    expect(pipelinedQmpInput(['query-kvm']).split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([
      { execute: 'qmp_capabilities', id: 'sevcheck-1' },
      { execute: 'query-kvm', id: 'sevcheck-2' },
      { execute: 'quit', id: 'sevcheck-3' },
    ]);
  });

  it('a missing QEMU or setpriv, garbage and a QEMU that died early are one reason each, never replies', async () => {
    await expect(fromTranscript('', 127, "timeout: failed to run command 'qemu-system-x86_64': No such file or directory\n")).rejects.toThrow(/^qemu-system-x86_64: command not found$/);
    await expect(fromTranscript('', 127, "timeout: failed to run command 'setpriv': No such file or directory\n")).rejects.toThrow(/^setpriv: command not found$/);
    const greeting = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 9}, "package": ""}, "capabilities": []}}\n{"return": {}, "id": "sevcheck-1"}\n';
    await expect(fromTranscript(`${greeting}*** stack smashing detected ***\n`, 134)).rejects.toThrow(/garbage on the QMP stream/);
    await expect(fromTranscript(greeting, 137, 'Killed\n')).rejects.toThrow(/before the reply to query-sev-capabilities.*Killed/);
  });
});

describe('who the probe QEMU runs as', () => {
  const passwd = 'root:x:0:0::/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\nlibvirt-qemu:x:64055:993:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n';
  const group = 'root:x:0:\nkvm:x:993:\nlibvirt-qemu:x:64056:libvirt-qemu\nnogroup:x:65534:\n';
  const debian = 'ID=debian\n';
  it('as root: libvirt\'s QEMU user with its groups, capabilities dropped', () => {
    const id = chooseProbeIdentity({ selfUid: 0, passwd, group, osRelease: debian });
    expect(id).toMatchObject({ uid: 64055, gid: 64056, groups: [993, 64056], asLibvirtUser: true });
    expect(setprivArgv(id)).toEqual(['setpriv', '--reuid=64055', '--regid=64056', '--groups=993,64056', '--inh-caps=-all', '--bounding-set=-all', '--']);
  });
  it('qemu.conf user/group win', () => {
    const id = chooseProbeIdentity({ selfUid: 0, passwd, group, osRelease: debian, qemuConf: 'user = "nobody"\ngroup = "kvm"\n' });
    expect(id).toMatchObject({ uid: 65534, gid: 993, asLibvirtUser: true });
  });
  it('libvirt\'s user missing (libvirt not installed): nobody as a stand-in, never root', () => {
    const id = chooseProbeIdentity({ selfUid: 0, passwd: 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', group, osRelease: debian });
    expect(id).toMatchObject({ uid: 65534, gid: 65534, asLibvirtUser: false });
    expect(id.description).toMatch(/stand-in.*libvirt-qemu' does not exist/);
    expect(setprivArgv(id)).toContain('--clear-groups');
  });
  it('not root: as the caller, no setpriv', () => {
    const id = chooseProbeIdentity({ selfUid: 1000, passwd, group });
    expect(setprivArgv(id)).toEqual([]);
    expect(id.asLibvirtUser).toBe(false);
  });
});

describe('malformed host output is undecided with the reason, never a pass (exit 0, no stack)', () => {
  it('domcapabilities that is not XML, nodesevinfo garbage, QMP return of the wrong shape', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'fx-')), 'garbled-caps');
    mkdirSync(d);
    writeFileSync(join(d, 'host.json'), JSON.stringify({ name: 'garbled-caps', source: 'authored' }));
    const V = ['virsh', '-c', 'qemu:///system'];
    writeFileSync(join(d, 'commands.json'), JSON.stringify([
      { argv: [...V, 'domcapabilities'], exitCode: 0, stdout: '<domainCapabilities><features><sev supported="maybe"/>', stderr: '' },
      { argv: [...V, 'domcapabilities', '--machine', 'q35'], exitCode: 0, stdout: '<!DOCTYPE x [<!ENTITY a "b">]><domainCapabilities/>', stderr: '' },
      { argv: [...V, 'nodesevinfo'], exitCode: 0, stdout: 'this is not virsh output\n', stderr: '' },
    ]));
    writeFileSync(join(d, 'qmp.json'), JSON.stringify({ 'query-sev-capabilities': { return: { pdh: 1 } } }));
    const r = await sevcheck(['run', '--host', `fixture:${d}`, '--tags', '@layer:caps', '--format', 'json', '--out', mkdtempSync(join(tmpdir(), 'o-'))]);
    expect(r.code).toBe(0);
    const checks = (JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; message: string }> }).checks;
    for (const c of checks) expect(['undecided', 'skipped'], `${c.id}: ${c.message}`).toContain(c.status);
    const msg = (id: string) => checks.filter((c) => c.id === id).map((c) => c.message).join(' | ');
    expect(msg('caps.domcaps.sev-supported')).toMatch(/malformed XML/);
    expect(msg('caps.domcaps.sev-supported')).toMatch(/DOCTYPE\/ENTITY declaration is refused/);
    expect(msg('caps.qmp.sev-capabilities')).toMatch(/QMP query-sev-capabilities: "pdh" is 1; expected a string/);
  });
});
