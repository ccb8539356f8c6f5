/**
 * The prebuilt `sevcheck run` (scripts/build-run.mjs → dist/run/, used by bin/sevcheck.js while
 * its sources are unchanged): the same verdicts, messages, console output and exit codes as the
 * TypeScript sources through tsx, and never used once a source differs from the recorded hash.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, fixtureDir, sevcheck } from '../helpers.js';

/** node with its own flags running the launcher (what sevcheck() does, plus node options) */
const execNode = (argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    execFile(process.execPath, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (e, stdout, stderr) =>
      res({ code: e ? (typeof e.code === 'number' ? e.code : 2) : 0, stdout, stderr }),
    );
  });
const out = (): string => mkdtempSync(join(tmpdir(), 'sevcheck-prebuilt-'));
const TSX = { SEVCHECK_NO_PREBUILT: '1' };
/** results.json without the two fields that differ between any two runs */
const stable = (stdout: string): unknown => {
  const r = JSON.parse(stdout) as Record<string, unknown>;
  delete r.startedAt;
  delete r.durationMs;
  return r;
};
/** console output without timings and the report directory */
const pretty = (stdout: string): string => stdout.replace(/\d+m[\d.]+s|[\d.]+m?s\b/g, 'T').replace(/^reports: .*$/m, 'reports: DIR');

describe('prebuilt run bundle', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-run.mjs')], { cwd: ROOT, stdio: 'ignore' });
  }, 120_000);

  it('is what the launcher runs while its sources are unchanged', async () => {
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@check:host.cpu.sev-flag', '--out', out()], { SEVCHECK_LAUNCHER_TRACE: '1' });
    expect(r.stderr).toBe('sevcheck: launcher: prebuilt dist/run/sevcheck.cjs\n');
    expect(r.code).toBe(0);
  });

  it('compiles the bundle with the code cache the build made, and runs the same without it', async () => {
    // the build's training run wrote dist/run/sevcheck.cjs.cache (scripts/run-bundle-loader.cjs);
    // a V8 flag changes V8's flag hash, so V8 rejects the cache and the bundle is compiled from its text
    const args = ['run', '--host', 'fixture:fixtures/hosts/modprobe-conflict', '--format', 'json'];
    const trace = { SEVCHECK_CODE_CACHE_TRACE: '1' };
    const [cached, rejected, off] = await Promise.all([
      sevcheck([...args, '--out', out()], trace),
      execNode(['--no-opt', join(ROOT, 'bin/sevcheck.js'), ...args, '--out', out()], trace),
      sevcheck([...args, '--out', out()], { ...trace, SEVCHECK_CODE_CACHE: 'off' }),
    ]);
    expect([cached.stderr, rejected.stderr, off.stderr]).toEqual(['sevcheck: code cache used\n', 'sevcheck: code cache rejected\n', 'sevcheck: code cache off\n']);
    expect([cached.code, rejected.code, off.code]).toEqual([1, 1, 1]);
    expect(stable(rejected.stdout)).toEqual(stable(cached.stdout));
    expect(stable(off.stdout)).toEqual(stable(cached.stdout));
  });

  it('does not use a code cache made from another bundle text', async () => {
    const file = join(ROOT, 'dist/run/sevcheck.cjs.cache');
    const original = readFileSync(file);
    const other = Buffer.from(original);
    other[0] = other[0]! ^ 0xff; // the bundle's SHA-256 comes first
    writeFileSync(file, other);
    try {
      const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@check:host.cpu.sev-flag', '--out', out()], { SEVCHECK_CODE_CACHE_TRACE: '1' });
      expect(r.stderr).toBe('sevcheck: code cache stale\n');
      expect(r.code).toBe(0);
    } finally {
      writeFileSync(file, original);
    }
  });

  it.each([
    ['fixture:fixtures/hosts/reference-milan', []],
    ['fixture:fixtures/hosts/modprobe-conflict', []],
    ['fixture:fixtures/hosts/no-sev-cpu', ['--profile', 'sev-snp']],
  ])('gives the same results.json, stderr and exit code as tsx: %s %j', async (host, extra) => {
    const args = ['run', '--host', host, ...extra, '--format', 'json'];
    const [fast, slow] = await Promise.all([sevcheck([...args, '--out', out()]), sevcheck([...args, '--out', out()], TSX)]);
    expect(fast.code).toBe(slow.code);
    expect(fast.stderr).toBe(slow.stderr);
    expect(stable(fast.stdout)).toEqual(stable(slow.stdout));
  });

  it('prints the same default console output', async () => {
    const args = ['run', '--host', 'fixture:fixtures/hosts/modprobe-conflict'];
    const [fast, slow] = await Promise.all([sevcheck([...args, '--out', out()]), sevcheck([...args, '--out', out()], TSX)]);
    expect(fast.code).toBe(1);
    expect(pretty(fast.stdout)).toBe(pretty(slow.stdout));
    expect(fast.stdout).toMatch(/^ {4}failed because of it \(1\): host\.kvm-amd\.sev$/m);
  });

  it('prints the same pretty output (--format pretty), steps named by their .ts file and line', async () => {
    const args = ['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--format', 'pretty'];
    const [fast, slow] = await Promise.all([sevcheck([...args, '--out', out()]), sevcheck([...args, '--out', out()], TSX)]);
    expect(pretty(fast.stdout)).toBe(pretty(slow.stdout));
    expect(fast.stdout).toMatch(/# steps\/\w+\.steps\.ts:\d+/);
    expect(fast.stdout).not.toMatch(/dist\/run/);
  });

  it('names every step, hook and parameter type at the same .ts file and line as tsx (messages.ndjson)', async () => {
    // the bundle finds definition sites through V8 call sites and the support code's source map
    // (scripts/cucumber-definition-line.cjs); cucumber's own lookup runs under tsx
    const args = ['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@check:host.cpu.sev-flag'];
    const dirs = [out(), out()] as const;
    const [fast, slow] = await Promise.all([sevcheck([...args, '--out', dirs[0]]), sevcheck([...args, '--out', dirs[1]], TSX)]);
    expect([fast.code, slow.code]).toEqual([0, 0]);
    const definitions = (dir: string): unknown[] =>
      readFileSync(join(dir, 'messages.ndjson'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, { id?: string; sourceReference?: unknown; pattern?: unknown; name?: unknown }>)
        .flatMap((e) => ['stepDefinition', 'hook', 'parameterType'].filter((k) => e[k]).map((k) => [k, e[k]!.pattern ?? e[k]!.name ?? null, e[k]!.sourceReference]));
    const fastDefs = definitions(dirs[0]);
    expect(fastDefs.length).toBeGreaterThan(50);
    expect(fastDefs).toEqual(definitions(dirs[1]));
    expect(JSON.stringify(fastDefs)).toMatch(/"uri":"steps\/host\.steps\.ts","location":\{"line":\d+\}/);
    expect(JSON.stringify(fastDefs)).not.toMatch(/dist\/run|"line":0|unknown/);
  });

  it("runs cucumber on one message-id counter per thread and without cucumber's AsyncLocalStorage scopes", async () => {
    // scripts/build-run.mjs plugins cucumber-thread-ids and cucumber-no-async-scope (issue 23)
    const dir = out();
    const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--out', dir]);
    expect(r.code).toBe(0);
    const ids: string[] = [];
    const collect = (v: unknown, key?: string): void => {
      if (Array.isArray(v)) v.forEach((x) => collect(x));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k);
      else if (key === 'id' && typeof v === 'string') ids.push(v);
    };
    for (const line of readFileSync(join(dir, 'messages.ndjson'), 'utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as Record<string, unknown>;
      // step definitions, hooks and parameter types keep loadSupport's ids; every other message's id comes from the counter
      if (!e.stepDefinition && !e.hook && !e.parameterType) collect(e);
    }
    expect(ids.length).toBeGreaterThan(1000);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^\d+$/.test(id))).toBe(true);
    const bundle = readdirSync(join(ROOT, 'dist/run')).filter((f) => f.endsWith('.mjs') || f.endsWith('.cjs')).map((f) => readFileSync(join(ROOT, 'dist/run', f), 'utf8'));
    expect(bundle.some((text) => text.includes('AsyncLocalStorage'))).toBe(false);
    expect(bundle.some((text) => text.includes('IdGenerator.uuid()'))).toBe(true); // loadSupport's, and gherkin's unused default
  });

  it("hands out the feature files' messages its training run parsed, the same as a parse, only while every file is the same", async () => {
    // scripts/gherkin-precompiled.cjs (plugin gherkin-precompiled, issue 23)
    const args = ['run', '--host', 'fixture:fixtures/hosts/reference-milan'];
    const dirs = [out(), out()] as const;
    const trace = { SEVCHECK_FEATURES_TRACE: '1' };
    const [used, parsed] = await Promise.all([sevcheck([...args, '--out', dirs[0]], trace), sevcheck([...args, '--out', dirs[1]], { ...trace, SEVCHECK_FEATURES_PRECOMPILED: 'off' })]);
    expect([used.stderr, parsed.stderr]).toEqual(['sevcheck: features precompiled\n', 'sevcheck: features parsed\n']);
    expect([used.code, parsed.code]).toEqual([0, 0]);
    // every message but the clock's and loadSupport's random ids: the same ids, texts, pickles, results
    const messages = (dir: string): string =>
      readFileSync(join(dir, 'messages.ndjson'), 'utf8')
        .replace(/"(timestamp|duration)":\{"seconds":\d+,"nanos":\d+\}/g, '"$1":T')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');
    const m = messages(dirs[0]);
    expect(m.split('\n').filter((l) => l.startsWith('{"pickle":')).length).toBeGreaterThan(50);
    expect(m).toBe(messages(dirs[1]));
    // a set of feature files that is not what the build parsed is parsed: with a site feature,
    // the run's own set (the bundled files and the site's) after the suite's (the bundled files)
    const site = fixtureDir('sevcheck-site-', { 'kernel.feature': 'Feature: F\n  @check:site.k\n  Scenario: S\n    Then the kernel is at least 6.1\n' });
    const withSite = await sevcheck([...args, '--features', site, '--tags', '@check:site.k', '--out', out()], trace);
    expect(withSite.stderr).toBe('sevcheck: features precompiled\nsevcheck: features parsed\n');
    expect(withSite.code).toBe(0);
  });

  it("builds each step expression's syntax tree from the training run's record exactly as the parser makes it", () => {
    // scripts/cucumber-expression-asts.cjs (plugin cucumber-expression-asts, issue 23), on its own:
    // a copy next to a copy of the bundle's record
    const record = join(ROOT, 'dist/run/sevcheck.cjs.expressions.json');
    const texts = Object.keys(JSON.parse(readFileSync(record, 'utf8')) as Record<string, unknown>);
    expect(texts.length).toBeGreaterThan(80);
    const dir = out();
    copyFileSync(join(ROOT, 'scripts/cucumber-expression-asts.cjs'), join(dir, 'asts.cjs'));
    copyFileSync(record, join(dir, 'asts.cjs.expressions.json'));
    const req = createRequire(join(dir, 'x.cjs'));
    const { parse } = req('./asts.cjs') as { parse: (text: string, parser: { parse(text: string): unknown }, node: unknown) => unknown };
    // the package's own parser (not among its exports: by path)
    const src = dirname(createRequire(join(ROOT, 'package.json')).resolve('@cucumber/cucumber-expressions'));
    const Parser = (req(join(src, 'CucumberExpressionParser.js')) as { default: new () => { parse(text: string): unknown } }).default;
    const { Node } = req(join(src, 'Ast.js')) as { Node: unknown };
    const notParsed = { parse: (): never => { throw new Error('parsed'); } };
    for (const text of texts) expect(parse(text, notParsed, Node), text).toStrictEqual(new Parser().parse(text));
    // any other text is parsed
    expect(parse('a {int} (b)c', new Parser(), Node)).toStrictEqual(new Parser().parse('a {int} (b)c'));
    expect(() => parse('a {int} (b)c', notParsed, Node)).toThrow('parsed');
  });

  it('gives the same one-line input errors', async () => {
    for (const args of [['run', '--host', 'fixture:fixtures/hosts/does-not-exist'], ['run', '--profile', 'sev-xyz'], ['nonsense']]) {
      const [fast, slow] = await Promise.all([sevcheck([...args, '--out', out()]), sevcheck([...args, '--out', out()], TSX)]);
      expect({ ...fast, stdout: '' }).toEqual({ ...slow, stdout: '' });
      expect(fast.code).toBe(2);
    }
  });

  it('is not used once a source is written, even with the same size and mtime', async () => {
    // the launcher takes a source's recorded SHA-256 without reading the file while its stat
    // (device, inode, size, mtime, ctime) is what the build recorded (dist/run.stamps.json); a
    // write sets ctime, which nothing can set back, so the file is hashed again and refused
    const src = 'support/version.ts';
    const stamps = JSON.parse(readFileSync(join(ROOT, 'dist/run.stamps.json'), 'utf8')) as Record<string, string>;
    expect(stamps[src]).toMatch(/^\d+:\d+:\d+:\d+:\d+ [0-9a-f]{64}$/);
    const file = join(ROOT, src);
    const original = readFileSync(file);
    const before = statSync(file, { bigint: true });
    // mtime set back to the ns (touch: utimensat(2))
    const keepMtime = (): void => {
      execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(before.mtimeNs % 1_000_000_000n).padStart(9, '0')}`, file]);
    };
    const args = ['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@check:host.cpu.sev-flag'];
    // one letter of its comment in the other case: same size, same code
    const edited = Buffer.from(original);
    const at = edited.indexOf("sevcheck's version");
    expect(at).toBeGreaterThanOrEqual(0);
    edited[at] = 'S'.charCodeAt(0);
    try {
      writeFileSync(file, edited);
      keepMtime();
      const now = statSync(file, { bigint: true });
      expect([now.dev, now.ino, now.size, now.mtimeNs]).toEqual([before.dev, before.ino, before.size, before.mtimeNs]);
      expect(now.ctimeNs).not.toBe(before.ctimeNs);
      const r = await sevcheck([...args, '--out', out()], { SEVCHECK_LAUNCHER_TRACE: '1' });
      expect(r.stderr).toBe('sevcheck: launcher: tsx\n');
    } finally {
      writeFileSync(file, original);
      keepMtime();
    }
    // the same content again (another ctime): hashed, and the bundle is current
    const r = await sevcheck([...args, '--out', out()], { SEVCHECK_LAUNCHER_TRACE: '1' });
    expect(r.stderr).toBe('sevcheck: launcher: prebuilt dist/run/sevcheck.cjs\n');
  });

  it('is not used once a source differs from its recorded hash', async () => {
    const file = join(ROOT, 'dist/run.inputs.json');
    const original = readFileSync(file, 'utf8');
    const inputs = JSON.parse(original) as Record<string, string>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['support/cli/run.ts', 'steps/host.steps.ts', 'support/world.ts', 'cucumber.json', 'dir:steps']));
    inputs['steps/host.steps.ts'] = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(inputs));
    try {
      const r = await sevcheck(['run', '--host', 'fixture:fixtures/hosts/reference-milan', '--tags', '@check:host.cpu.sev-flag', '--out', out()], { SEVCHECK_LAUNCHER_TRACE: '1' });
      expect(r.stderr).toBe('sevcheck: launcher: tsx\n');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('records the hash of every script the build bundles or copies, stand-ins included', () => {
    const inputs = JSON.parse(readFileSync(join(ROOT, 'dist/run.inputs.json'), 'utf8')) as Record<string, string>;
    const named = [...new Set(readFileSync(join(ROOT, 'scripts/build-run.mjs'), 'utf8').match(/scripts\/[\w-]+\.cjs/g) ?? [])];
    expect(named.length).toBeGreaterThan(8);
    expect(named.filter((s) => !(s in inputs))).toEqual([]);
  });
});
