import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../support/errors.js';
import { QmpClient, QmpError } from '../../support/qemu/qmp.js';

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}';

/**
 * An in-test QMP peer: `toClient` is what QEMU would write, `fromClient` what the client sent.
 * `script` sees each command the client sends and decides what to write back.
 */
function fakeServer(script: (cmd: { execute: string; id?: unknown; arguments?: unknown }, write: (s: string) => void, end: () => void) => void, opts: { greeting?: string | null } = {}) {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const sent: Array<{ execute: string; id?: unknown }> = [];
  let buf = '';
  fromClient.setEncoding('utf8');
  fromClient.on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const cmd = JSON.parse(line) as { execute: string; id?: unknown };
      sent.push(cmd);
      script(cmd, (s) => toClient.write(s), () => toClient.end());
    }
  });
  if (opts.greeting !== null) setImmediate(() => toClient.write(`${opts.greeting ?? GREETING}\r\n`));
  return { toClient, fromClient, sent };
}

const answerCapabilities = (cmd: { execute: string; id?: unknown }, write: (s: string) => void): boolean => {
  if (cmd.execute !== 'qmp_capabilities') return false;
  write(`{"return": {}, "id": ${JSON.stringify(cmd.id)}}\r\n`);
  return true;
};

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('QmpClient', () => {
  it('reads the greeting, negotiates, sends ids and matches replies', async () => {
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      if (cmd.execute === 'query-sev-capabilities') write(`{"id": ${JSON.stringify(cmd.id)}, "error": {"class": "GenericError", "desc": "SEV is not enabled in KVM"}}\n`);
      if (cmd.execute === 'query-kvm') write(`{"return": {"enabled": true, "present": true}, "id": ${JSON.stringify(cmd.id)}}\n`);
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient, { source: 'fake' });
    expect(c.greeting.version).toEqual({ major: 7, minor: 2, micro: 22, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' });
    expect(c.greeting.capabilities).toEqual(['oob']);
    expect(await c.execute('query-sev-capabilities')).toEqual({ error: { class: 'GenericError', desc: 'SEV is not enabled in KVM' } });
    expect(await c.execute('query-kvm')).toEqual({ return: { enabled: true, present: true } });
    expect(s.sent.map((x) => x.execute)).toEqual(['qmp_capabilities', 'query-sev-capabilities', 'query-kvm']);
    expect(new Set(s.sent.map((x) => x.id)).size).toBe(3);
    c.close();
  });

  it('matches out-of-order replies by id and passes arguments', async () => {
    const held: Array<() => void> = [];
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      held.push(() => write(`{"return": ${JSON.stringify(cmd.execute)}, "id": ${JSON.stringify(cmd.id)}}\n`));
      if (held.length === 2) {
        held[1]!();
        held[0]!();
      }
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient);
    const [a, b] = await Promise.all([c.execute('first', { x: 1 }), c.execute('second')]);
    expect(a).toEqual({ return: 'first' });
    expect(b).toEqual({ return: 'second' });
    expect(s.sent[1]).toMatchObject({ execute: 'first', arguments: { x: 1 } });
    c.close();
  });

  it('ignores events interleaved with replies (and keeps them)', async () => {
    const seen: string[] = [];
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      write('{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}\n');
      write('{"timestamp": {"seconds": 1, "microseconds": 3}, "event": "RTC_CHANGE", "data": {"offset": 78}}\n');
      write(`{"return": {"enabled": false}, "id": ${JSON.stringify(cmd.id)}}\n`);
      write('{"timestamp": {"seconds": 2, "microseconds": 0}, "event": "SHUTDOWN", "data": {"guest": false}}\n');
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient, { onEvent: (e) => seen.push(e.event) });
    expect(await c.execute('query-sev')).toEqual({ return: { enabled: false } });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['RESUME', 'RTC_CHANGE', 'SHUTDOWN']);
    expect(c.events[1]).toEqual({ event: 'RTC_CHANGE', data: { offset: 78 }, timestamp: { seconds: 1, microseconds: 3 } });
    c.close();
  });

  it('handles replies split across chunks and CRLF line ends', async () => {
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      const line = `{"return": {"a": 1}, "id": ${JSON.stringify(cmd.id)}}\r\n`;
      write(line.slice(0, 5));
      setImmediate(() => write(line.slice(5)));
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient);
    expect(await c.execute('x')).toEqual({ return: { a: 1 } });
    c.close();
  });

  it('a reply without id goes to the oldest outstanding command (QEMU JSON parse errors)', async () => {
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      write('{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword"}}\n');
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient);
    expect(await c.execute('x')).toEqual({ error: { class: 'GenericError', desc: 'JSON parse error, invalid keyword' } });
    c.close();
  });

  it('garbage on the stream rejects the outstanding command with InputError naming the source', async () => {
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      write('qemu-system-x86_64: warning: host doesn\'t support requested feature\n');
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient, { source: 'QMP (fake)' });
    const e = await rejection(c.execute('query-sev'));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/^QMP \(fake\): garbage on the QMP stream \(not JSON\): "qemu-system-x86_64: warning/);
    // the client is broken from now on: later commands fail fast with the same error
    expect(await rejection(c.execute('query-kvm'))).toBe(e);
    c.close();
  });

  it('a JSON value that is not an object, or an object that is no QMP message, is garbage', async () => {
    for (const junk of ['[1,2,3]', '{"hello": "world"}', '{"error": "nope"}']) {
      const s = fakeServer((cmd, write) => {
        if (answerCapabilities(cmd, write)) return;
        write(`${junk}\n`);
      });
      const c = await QmpClient.connect(s.toClient, s.fromClient);
      expect(await rejection(c.execute('x'))).toBeInstanceOf(InputError);
      c.close();
    }
  });

  it('a first message that is not a greeting fails connect', async () => {
    const s = fakeServer(() => undefined, { greeting: '{"return": {}}' });
    const e = await rejection(QmpClient.connect(s.toClient, s.fromClient));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/first message is not a QMP greeting/);
  });

  it('early close before the greeting', async () => {
    const s = fakeServer(() => undefined, { greeting: null });
    setImmediate(() => s.toClient.end());
    const e = await rejection(QmpClient.connect(s.toClient, s.fromClient, { source: 'QMP (fake)' }));
    expect(e).toBeInstanceOf(QmpError);
    expect((e as QmpError).code).toBe('CLOSED');
    expect(e.message).toBe('QMP (fake): stream ended before the QMP greeting');
  });

  it('early close while a command is outstanding names the command', async () => {
    const s = fakeServer((cmd, write, end) => {
      if (answerCapabilities(cmd, write)) return;
      end();
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient, { source: 'QMP (fake)' });
    const e = await rejection(c.execute('query-sev-capabilities'));
    expect((e as QmpError).code).toBe('CLOSED');
    expect(e.message).toBe('QMP (fake): stream ended before the reply to query-sev-capabilities');
  });

  it('a peer that never answers times out per command, and a late reply is ignored', async () => {
    let late: (() => void) | undefined;
    const s = fakeServer((cmd, write) => {
      if (answerCapabilities(cmd, write)) return;
      if (cmd.execute === 'slow') late = () => write(`{"return": "late", "id": ${JSON.stringify(cmd.id)}}\n`);
      if (cmd.execute === 'fast') write(`{"return": "fast", "id": ${JSON.stringify(cmd.id)}}\n`);
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient, { source: 'QMP (fake)' });
    const t0 = Date.now();
    const e = await rejection(c.execute('slow', undefined, { timeoutMs: 150 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(e).toBeInstanceOf(QmpError);
    expect((e as QmpError).code).toBe('TIMEOUT');
    expect(e.message).toBe('QMP (fake): no reply to slow within 150 ms');
    late?.();
    expect(await c.execute('fast')).toEqual({ return: 'fast' });
    c.close();
  });

  it('no greeting at all times out', async () => {
    const s = fakeServer(() => undefined, { greeting: null });
    const e = await rejection(QmpClient.connect(s.toClient, s.fromClient, { greetingTimeoutMs: 100 }));
    expect((e as QmpError).code).toBe('TIMEOUT');
    expect(e.message).toMatch(/no QMP greeting within 100 ms/);
  });

  it('close() rejects outstanding commands, ends our side, and detaches', async () => {
    const s = fakeServer((cmd, write) => {
      answerCapabilities(cmd, write);
    });
    const c = await QmpClient.connect(s.toClient, s.fromClient);
    const p = c.execute('never');
    c.close();
    const e = await rejection(p);
    expect((e as QmpError).code).toBe('CLOSED');
    expect(s.fromClient.writableEnded).toBe(true);
    expect(s.toClient.listenerCount('data')).toBe(0);
    expect((await rejection(c.execute('after'))).message).toMatch(/client closed; cannot send after/);
  });

  it('a qmp_capabilities error fails connect with the QEMU error', async () => {
    const s = fakeServer((cmd, write) => {
      write(`{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": ${JSON.stringify(cmd.id)}}\n`);
    });
    const e = await rejection(QmpClient.connect(s.toClient, s.fromClient));
    expect((e as QmpError).code).toBe('PROTOCOL');
    expect(e.message).toMatch(/qmp_capabilities failed: CommandNotFound: nope/);
  });
});
