/**
 * caps.pdh.chain-valid end to end on real SEV chains (../shared/vectors/virtee-sev, read in place,
 * never copied): AMD roots from --amd-certs, from a local HTTP server standing in for AMD (the
 * KDS fetch with its cache), the corrupted Naples ARK, and the synthetic fixture chain.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmdRootSource, defaultKdsCacheDir, rootsFromDir, rootsFromKds } from '../../support/host/kds-fetch.js';
import { checkChain } from '../../support/probes/caps.js';
import { chainValid } from '../../support/rules/caps.js';
import { askArkUrl } from '../../support/sev/kds.js';
import { ROOT, sevcheck } from '../helpers.js';

const V = join(import.meta.dirname, '../../../shared/vectors/virtee-sev');
const BUILTIN = join(V, 'src/certs/sev/builtin');
const read = (p: string): Buffer => readFileSync(join(V, p));
const platform = (gen: 'naples' | 'rome') => ({
  from: `test ${gen}`,
  pdh: read(`tests/${gen}/pdh.cert`).toString('base64'),
  certChain: Buffer.concat(['pek', 'oca', 'cek'].map((n) => read(`tests/${gen}/${n}.cert`))).toString('base64'),
});
const askArk = (gen: string): Buffer => Buffer.concat([read(`src/certs/sev/builtin/${gen}/ask.cert`), read(`src/certs/sev/builtin/${gen}/ark.cert`)]);
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

let server: Server;
let base = '';
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const m = /^\/ask_ark_(\w+)\.cert$/.exec(req.url ?? '');
    if (req.url === '/ask_ark_rome.cert' && process.env.CORRUPT_ROME === '1') {
      // the truncated Naples ARK of AMDSEV#17 in place of Rome's roots
      res.end(Buffer.concat([read('src/certs/sev/builtin/rome/ask.cert'), read('tests/naples/ark.cert.bad')]));
      return;
    }
    if (m && existsSync(join(BUILTIN, m[1] as string))) res.end(askArk(m[1] as string));
    else if (req.url === '/slow/ask_ark_milan.cert') setTimeout(() => res.end(askArk('milan')), 3000);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('AMD roots from --amd-certs', () => {
  it('reads <gen>/ark.cert + <gen>/ask.cert and pins the ARK', async () => {
    const r = await rootsFromDir(BUILTIN, 'naples');
    expect(r.ok && r.roots.generation).toBe('naples');
  });
  it('reads ask_ark_<gen>.cert (AMD download layout)', async () => {
    const d = tmp('amd-');
    writeFileSync(join(d, 'ask_ark_rome.cert'), askArk('rome'));
    const r = await rootsFromDir(d, 'rome');
    expect(r.ok).toBe(true);
  });
  it('refuses an ARK that is not the pinned one of its generation', async () => {
    const d = tmp('amd-');
    writeFileSync(join(d, 'ask_ark_milan.cert'), askArk('rome'));
    const r = await rootsFromDir(d, 'milan');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/not AMD's pinned milan ARK .*; it is the rome ARK/);
  });
  it('says which files are missing', async () => {
    const r = await rootsFromDir(tmp('amd-'), 'genoa');
    expect(!r.ok && r.reason).toMatch(/neither ask_ark_genoa.cert nor genoa\/ark.cert/);
  });
});

describe('caps.pdh.chain-valid on real chains', () => {
  it('passes the real Naples and Rome chains with --amd-certs', async () => {
    for (const gen of ['naples', 'rome'] as const) {
      const v = chainValid(await checkChain(platform(gen), new AmdRootSource({ amdCertsDir: BUILTIN })));
      expect(v.status, v.message).toBe('passed');
      expect(v.message).toMatch(new RegExp(`pinned ${gen} root`));
    }
  });
  it('fails a chain with a flipped PEK byte, naming the broken links', async () => {
    const p = platform('naples');
    const chain = Buffer.from(p.certChain, 'base64');
    chain.writeUInt8(chain.readUInt8(0x100) ^ 0xff, 0x100); // inside the PEK public key
    const v = chainValid(await checkChain({ ...p, certChain: chain.toString('base64') }, new AmdRootSource({ amdCertsDir: BUILTIN })));
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/PEK ← OCA/);
  });
  it('fails a truncated chain as malformed', async () => {
    const p = platform('rome');
    const v = chainValid(await checkChain({ ...p, certChain: p.certChain.slice(0, 400) }, new AmdRootSource({ amdCertsDir: BUILTIN })));
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/does not parse/);
  });
  it('the corrupted Naples ARK (ark.cert.bad) is refused: no roots, so undecided, never passed', async () => {
    const d = tmp('amd-');
    mkdirSync(join(d, 'naples'));
    writeFileSync(join(d, 'naples/ark.cert'), read('tests/naples/ark.cert.bad'));
    writeFileSync(join(d, 'naples/ask.cert'), read('src/certs/sev/builtin/naples/ask.cert'));
    const v = chainValid(await checkChain(platform('naples'), new AmdRootSource({ amdCertsDir: d })));
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/naples: .*ark/i);
  });
  it('the synthetic fixture chain: platform links verify, but it is not AMD-signed', async () => {
    const j = JSON.parse(readFileSync(join(ROOT, 'fixtures/caps-samples/synthetic-sev-chain.json'), 'utf8'));
    const src = { from: 'fixture', pdh: j.pdh, certChain: j['cert-chain'] };
    expect(chainValid(await checkChain(src, new AmdRootSource({}))).status).toBe('undecided');
    const v = chainValid(await checkChain(src, new AmdRootSource({ amdCertsDir: BUILTIN })));
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/CEK ← ASK/);
  });
  it('without any root source it is undecided with that reason', async () => {
    const v = chainValid(await checkChain(platform('rome'), new AmdRootSource({ kds: false })));
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/AMD's ASK\/ARK are not available .*--amd-certs DIR/);
  });
});

describe('fetching from AMD (a local HTTP server stands in)', () => {
  it('fetches, pins, caches, and reads the cache next time', async () => {
    const cache = tmp('kds-');
    hits.length = 0;
    const r1 = await rootsFromKds('rome', { kdsUrl: base, kdsCacheDir: cache });
    expect(r1.ok).toBe(true);
    expect(existsSync(join(cache, 'ask_ark_rome.cert'))).toBe(true);
    const r2 = await rootsFromKds('rome', { kdsUrl: base, kdsCacheDir: cache });
    expect(r2.ok && r2.roots.source).toBe(join(cache, 'ask_ark_rome.cert'));
    expect(hits).toEqual(['/ask_ark_rome.cert']);
  });
  it('verifies the real Rome chain via the fetcher, trying generations in order', async () => {
    const v = chainValid(await checkChain(platform('rome'), new AmdRootSource({ kds: true, kdsUrl: base, kdsCacheDir: tmp('kds-') })));
    expect(v.status, v.message).toBe('passed');
  });
  it('a corrupted download is refused and not cached', async () => {
    const cache = tmp('kds-');
    process.env.CORRUPT_ROME = '1';
    try {
      const r = await rootsFromKds('rome', { kdsUrl: base, kdsCacheDir: cache });
      expect(r.ok).toBe(false);
      expect(existsSync(join(cache, 'ask_ark_rome.cert'))).toBe(false);
    } finally {
      delete process.env.CORRUPT_ROME;
    }
  });
  it('HTTP errors, timeouts and unreachable servers are reasons, not crashes', async () => {
    expect(await rootsFromKds('turin', { kdsUrl: `${base}/nothing`, kdsCacheDir: tmp('kds-') })).toMatchObject({ ok: false, reason: expect.stringMatching(/HTTP 404/) });
    const t0 = Date.now();
    expect(await rootsFromKds('milan', { kdsUrl: `${base}/slow`, kdsCacheDir: tmp('kds-'), timeoutMs: 300 })).toMatchObject({ ok: false, reason: expect.stringMatching(/timed out/) });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await rootsFromKds('milan', { kdsUrl: 'http://127.0.0.1:9', kdsCacheDir: tmp('kds-'), timeoutMs: 2000 })).toMatchObject({ ok: false, reason: expect.stringMatching(/GET http:\/\/127\.0\.0\.1:9\/ask_ark_milan.cert/) });
  });
  it('cache dir follows XDG_CACHE_HOME', () => {
    expect(defaultKdsCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/sevcheck/amd');
    expect(askArkUrl('https://a/b/', 'genoa')).toBe('https://a/b/ask_ark_genoa.cert');
  });
});

describe('sevcheck run with --amd-certs / --kds-url on fixture hosts', () => {
  /** a throw-away fixture host whose QEMU answers with the real Naples platform chain */
  function naplesHost(): string {
    const d = join(tmp('fx-'), 'naples-chain');
    mkdirSync(d);
    writeFileSync(join(d, 'host.json'), JSON.stringify({ name: 'naples-chain', source: 'authored' }));
    const p = platform('naples');
    writeFileSync(join(d, 'qmp.json'), JSON.stringify({ 'query-sev-capabilities': { return: { pdh: p.pdh, 'cert-chain': p.certChain, cbitpos: 47, 'reduced-phys-bits': 1 } } }));
    return d;
  }
  const chainVerdict = async (args: string[]) => {
    const r = await sevcheck(['run', ...args, '--tags', '@check:caps.pdh.chain-valid', '--format', 'json', '--out', tmp('o-')]);
    return (JSON.parse(r.stdout) as { checks: Array<{ status: string; message: string }> }).checks[0]!;
  };
  it('passes with --amd-certs; undecided without (fixture replays never fetch)', async () => {
    const host = `fixture:${naplesHost()}`;
    expect((await chainVerdict(['--host', host, '--amd-certs', BUILTIN])).status).toBe('passed');
    expect((await chainVerdict(['--host', host])).status).toBe('undecided');
    const kds = await chainVerdict(['--host', host, '--kds', '--kds-url', base, '--kds-cache', tmp('kc-')]);
    expect(kds.status, kds.message).toBe('passed');
  });
  it('reference-milan (synthetic chain) fails against AMD\'s real roots, naming CEK ← ASK', async () => {
    const v = await chainVerdict(['--host', 'fixture:fixtures/hosts/reference-milan', '--amd-certs', BUILTIN]);
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/CEK ← ASK/);
  });
});
