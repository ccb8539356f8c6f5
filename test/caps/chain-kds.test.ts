/**
 * The one KDS client (support/probes/kds-fetch.ts) and what the caps and launch layers take from it,
 * on real certificates (test/vectors/virtee-sev, copied with their origin in test/vectors/SOURCES):
 * caps.pdh.chain-valid with AMD roots from --amd-certs and from a local HTTP server standing in
 * for AMD (fetch, pin, cache), the corrupted Naples ARK, the synthetic fixture chain; and the SNP
 * VCEK / ASK+ARK of the launch layer fetched by the same client into the same cache.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmdRootSource, defaultKdsCacheDir, KdsClient, KDS_URL_ENV, rootsFromDir, rootsFromKds } from '../../support/probes/kds-fetch.js';
import { HarnessError, HostError, type Host } from '../../support/host/types.js';
import { checkChain } from '../../support/probes/caps.js';
import { LaunchProbe } from '../../support/probes/launch.js';
import { chainValid } from '../../support/rules/caps.js';
import * as launchRules from '../../support/rules/launch.js';
import { kdsVcekPath } from '../../support/sev/kds.js';
import { createRunContext } from '../../support/run-context.js';
import { ROOT, sevcheck } from '../helpers.js';

const V = join(import.meta.dirname, '../vectors/virtee-sev');
const BUILTIN = join(V, 'src/certs/sev/builtin');
const read = (p: string): Buffer => readFileSync(join(V, p));
const platform = (gen: 'naples' | 'rome') => ({
  from: `test ${gen}`,
  pdh: read(`tests/${gen}/pdh.cert`).toString('base64'),
  certChain: Buffer.concat(['pek', 'oca', 'cek'].map((n) => read(`tests/${gen}/${n}.cert`))).toString('base64'),
});
const askArk = (gen: string): Buffer => Buffer.concat([read(`src/certs/sev/builtin/${gen}/ask.cert`), read(`src/certs/sev/builtin/${gen}/ark.cert`)]);
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
/** a client of the local stand-in for AMD, on by default, with a fresh cache */
const client = (url = base, o: { cacheDir?: string; enabled?: boolean; timeoutMs?: number } = {}): KdsClient =>
  new KdsClient({ enabled: o.enabled ?? true, url, cacheDir: o.cacheDir ?? tmp('kds-'), timeoutMs: o.timeoutMs });

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
    if (req.url === '/vcek/v1/Milan/cert_chain') return void res.end(read('tests/certs_data/cert_chain_milan'));
    if (req.url?.startsWith('/vcek/v1/Milan/d49554ec717f4e5b')) return void res.end(read('tests/certs_data/vcek_milan.der'));
    if (req.url?.startsWith('/vcek/v1/Genoa/')) return void res.end('<html>not a certificate</html>');
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
    const v = chainValid(await checkChain(platform('rome'), new AmdRootSource({ kds: client(base, { enabled: false }) })));
    expect(v.status).toBe('undecided');
    expect(v.message).toMatch(/AMD's ASK\/ARK are not available .*--amd-certs DIR/);
  });
});

describe('fetching from AMD (a local HTTP server stands in)', () => {
  it('fetches, pins, caches, and reads the cache next time', async () => {
    const cache = tmp('kds-');
    hits.length = 0;
    const r1 = await rootsFromKds('rome', client(base, { cacheDir: cache }));
    expect(r1.ok).toBe(true);
    expect(existsSync(join(cache, 'ask_ark_rome.cert'))).toBe(true);
    const r2 = await rootsFromKds('rome', client(base, { cacheDir: cache }));
    expect(r2.ok && r2.roots.source).toBe(join(cache, 'ask_ark_rome.cert'));
    expect(hits).toEqual(['/ask_ark_rome.cert']);
  });
  it('verifies the real Rome chain via the fetcher, trying generations in order', async () => {
    const v = chainValid(await checkChain(platform('rome'), new AmdRootSource({ kds: client() })));
    expect(v.status, v.message).toBe('passed');
  });
  it('a corrupted download is refused and not cached', async () => {
    const cache = tmp('kds-');
    process.env.CORRUPT_ROME = '1';
    try {
      const r = await rootsFromKds('rome', client(base, { cacheDir: cache }));
      expect(r.ok).toBe(false);
      expect(existsSync(join(cache, 'ask_ark_rome.cert'))).toBe(false);
    } finally {
      delete process.env.CORRUPT_ROME;
    }
  });
  it('HTTP errors, timeouts and unreachable servers are reasons, not crashes', async () => {
    expect(await rootsFromKds('turin', client(`${base}/nothing`))).toMatchObject({ ok: false, reason: expect.stringMatching(/HTTP 404/) });
    const t0 = Date.now();
    expect(await rootsFromKds('milan', client(`${base}/slow`, { timeoutMs: 300 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/timed out/) });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await rootsFromKds('milan', client('http://127.0.0.1:9', { timeoutMs: 2000 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/GET http:\/\/127\.0\.0\.1:9\/ask_ark_milan.cert/) });
  });
  it('cache dir follows XDG_CACHE_HOME; a mirror URL serves both layouts', () => {
    expect(defaultKdsCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/sevcheck/kds');
    const c = new KdsClient({ enabled: true, url: 'https://mirror.example/amd/' });
    expect([c.base('sev'), c.base('snp')]).toEqual(['https://mirror.example/amd', 'https://mirror.example/amd']);
    const amd = new KdsClient({ enabled: true, url: undefined });
    if (!process.env[KDS_URL_ENV]) expect([amd.base('sev'), amd.base('snp')]).toEqual(['https://developer.amd.com/wp-content/resources', 'https://kdsintf.amd.com']);
    expect(() => new KdsClient({ enabled: true, url: 'kdsintf.amd.com' })).toThrow(HarnessError);
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

describe('SNP certificates of the launch layer come from the same client and cache', () => {
  const VECTORS = join(V, '..');
  const report = 'vectors:virtee-sev/tests/certs_data/report_milan.hex';
  const bundleDir = (launch: unknown): string => {
    const dir = tmp('sevcheck-bundle-');
    writeFileSync(join(dir, 'launch.json'), JSON.stringify(launch));
    return dir;
  };
  const liveHost = { kind: 'local', target: 'local', qmp: async () => { throw new Error('not used'); } } as unknown as Host;
  const probe = (dir: string, kds: KdsClient) => new LaunchProbe(liveHost, { bundle: dir, vectors: VECTORS }, { kds });

  it('builds the VCEK URL from CHIP_ID and REPORTED_TCB as snpguest does', async () => {
    const r = (await probe(bundleDir({ snp: { report, generation: 'milan' } }), client()).snpReport())!;
    expect(kdsVcekPath(r, 'milan')).toBe(`/vcek/v1/Milan/${r.chipId.toString('hex')}?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115`);
    expect(kdsVcekPath(r, 'turin')).toMatch(/^\/vcek\/v1\/Turin\/d49554ec717f4e5b\?fmcSPL=00&blSPL=03&/);
  });

  it('fetches VCEK and chain once into the one cache (next to the SEV roots), then serves them from it; the flow passes', async () => {
    const cache = tmp('kds-');
    const dir = bundleDir({ at: '2025-06-01T00:00:00Z', snp: { report, generation: 'milan' } });
    hits.length = 0;
    const first = probe(dir, client(base, { cacheDir: cache }));
    const c = await first.snpChain();
    expect(c.vek.source).toMatch(/^AMD KDS http:\/\/127\.0\.0\.1:\d+\/vcek\/v1\/Milan\/d495/);
    expect(launchRules.snpSignature((await first.snpReport())!, c).status).toBe('passed');
    expect(launchRules.snpChainVerdict((await first.snpReport())!, c, new Date('2025-06-01T00:00:00Z')).status).toBe('passed');
    expect((await rootsFromKds('rome', client(base, { cacheDir: cache }))).ok).toBe(true);
    expect(hits).toHaveLength(3);
    expect(existsSync(join(cache, 'vcek/v1/Milan/cert_chain'))).toBe(true);
    expect(existsSync(join(cache, 'ask_ark_rome.cert'))).toBe(true);
    const second = await probe(dir, client(base, { cacheDir: cache })).snpChain();
    expect(second.vek.source).toMatch(/\(cached from AMD KDS\)$/);
    expect(hits).toHaveLength(3);
  });

  it('with KDS off, neither the cache nor the network is used: undecided (HostError), never a pass', async () => {
    const cache = tmp('kds-');
    const dir = bundleDir({ snp: { report, generation: 'milan' } });
    await probe(dir, client(base, { cacheDir: cache })).snpVek();
    hits.length = 0;
    await expect(probe(dir, client(base, { cacheDir: cache, enabled: false })).snpVek()).rejects.toThrow(/fetching from AMD is off/);
    expect(hits).toEqual([]);
  });

  it('a KDS that does not answer, or answers garbage, makes the check undecided (HostError naming the URL); garbage is not cached', async () => {
    const cache = tmp('kds-');
    const p = probe(bundleDir({ snp: { report, generation: 'genoa' } }), client(base, { cacheDir: cache }));
    await expect(p.snpVek()).rejects.toThrow(HostError);
    await expect(p.snpVek()).rejects.toThrow(/the VCEK .* from http:\/\/127\.0\.0\.1:\d+\/vcek\/v1\/Genoa\/.* is not usable/);
    expect(existsSync(join(cache, 'vcek'))).toBe(false);
    const q = probe(bundleDir({ snp: { report, generation: 'milan' } }), client(`${base}/nothing`));
    await expect(q.snpVek()).rejects.toThrow(/could not fetch the VCEK .*: GET http:\/\/127\.0\.0\.1:\d+\/nothing\/vcek\/v1\/Milan\/.*HTTP 404/);
  });

  it('a run has one client: the caps and launch probes share it (one --kds-url, one cache)', () => {
    const host = { kind: 'local', target: 'local' } as unknown as Host;
    const ctx = createRunContext(host, 'sev', {}, { amdCerts: { kdsUrl: base, kdsCacheDir: '/tmp/x' } });
    const kds = ctx.probes.launch.certs.kds;
    expect(kds?.enabled).toBe(true);
    expect(ctx.probes.caps.amdRoots?.opts.kds).toBe(kds);
    expect(kds?.base('snp')).toBe(base);
    expect(kds?.cacheFile('ask_ark_milan.cert')).toBe('/tmp/x/ask_ark_milan.cert');
  });
});
