/**
 * The fleet's memory between runs (issue 20, point 4): `--history DIR` and what it adds.
 * - compare: a failure waived since the last run is `waived`, not `fixed`; fixed means it no longer fails;
 * - history: each host's totals by check id for the runs before, carried from the newest kept run,
 *   `keep - 1` of them; first-seen dates carried while a check keeps failing;
 * - triage order and the headline's words;
 * - through the command line: three runs with `--history DIR --keep 2` over two fixture hosts —
 *   the second compares with the first without --compare, fleet.json has `history` and
 *   `firstSeen`, DIR keeps the last 2 complete runs; an interrupted run is never kept.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fleetMain } from '../../support/cli/fleet.js';
import { compareFleets, headline, headlineWords } from '../../support/fleet/compare.js';
import { firstSeen, nextHistory, runName } from '../../support/fleet/history.js';
import { fleetMatrix, triageOrder } from '../../support/fleet/matrix.js';
import type { FleetCheck, FleetHost, FleetResults } from '../../support/fleet/types.js';
import { applyWaivers } from '../../support/fleet/waivers.js';
import { ROOT } from '../helpers.js';

const check = (id: string, status: FleetCheck['status'], extra: Partial<FleetCheck> = {}): FleetCheck => ({ id, status, scenario: id, feature: 'f', message: status, ...extra });
const host = (name: string, checks: FleetCheck[], error?: string): FleetHost => ({ name, target: 'local', profile: 'sev', tags: [], exitCode: error ? 2 : 0, checks, ...(error ? { error } : {}) });
const run = (startedAt: string, hosts: FleetHost[], extra: Partial<FleetResults> = {}): FleetResults => ({ startedAt, durationMs: 1, complete: true, hosts, ...extra });

describe('compare', () => {
  it('a failure waived since is waived, not fixed; a fixed one no longer fails', () => {
    const prev = run('2026-12-01T00:00:00.000Z', [host('a', [check('x.one', 'failed'), check('x.two', 'failed'), check('x.three', 'passed')])]);
    const now = applyWaivers([host('a', [check('x.one', 'failed'), check('x.two', 'passed'), check('x.three', 'failed')])], [{ check: 'x.one', reason: 'r', expires: '2999-01-01' }], '2026-12-02').hosts;
    const c = compareFleets(prev, 'prev', now);
    expect(c.waived).toEqual({ a: ['x.one'] });
    expect(c.fixed).toEqual({ a: ['x.two'] });
    expect(c.new).toEqual({ a: ['x.three'] });
    expect(c.stillFailing).toEqual({});
    expect(headlineWords(headline({ changes: c, waivers: { active: [], expiring: [{ check: 'x.one', reason: 'r', expires: '2026-12-10' }], expired: [], stale: [] } })))
      .toBe('+1 new failure, −1 fixed, 1 newly waived, 1 expiring within 14 days since 2026-12-01T00:00:00.000Z');
  });

  it('waivers expiring within 14 days of the run are `expiring`, applied or not', () => {
    const w = (expires: string) => ({ check: 'x.one', reason: expires, expires });
    const { report } = applyWaivers([host('a', [check('x.one', 'failed')])], [w('2026-12-16'), w('2026-12-17'), w('2026-12-01')], '2026-12-02');
    expect(report.expiring.map((x) => x.expires)).toEqual(['2026-12-16']);
    expect(report.active.map((x) => x.expires)).toEqual(['2026-12-16']); // the first live match applies
    expect(report.stale.map((x) => x.expires)).toEqual(['2026-12-17']);
    expect(report.expired.map((x) => x.expires)).toEqual(['2026-12-01']);
  });
});

describe('history and first seen', () => {
  it("each host's totals by check id, carried from the previous run, the last keep - 1", () => {
    const h1 = host('a', [check('x.one', 'failed'), check('x.one', 'passed'), check('x.two', 'undecided')]);
    const r1 = run('2026-12-01T00:00:00.000Z', [h1, host('down', [], 'timed out')]);
    const r2 = run('2026-12-02T00:00:00.000Z', [h1, host('down', [])], { history: nextHistory(r1, [h1, host('down', [])], 3) });
    expect(r2.history).toEqual({
      a: [{ startedAt: r1.startedAt, failed: 1, undecided: 1, waived: 0 }],
      down: [{ startedAt: r1.startedAt, failed: 0, undecided: 0, waived: 0, error: true }],
    });
    const r3 = run('2026-12-03T00:00:00.000Z', [h1], { history: nextHistory(r2, [h1], 3) });
    const h4 = nextHistory(r3, [h1], 3);
    // keep 3: this run and the 2 before it; a host gone from the fleet leaves the history
    expect(h4['a']?.map((p) => p.startedAt)).toEqual(['2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z']);
    expect(Object.keys(h4)).toEqual(['a']);
  });

  it('a failure keeps its first-seen date while it fails; a new one is seen tonight', () => {
    const r1 = run('2026-12-01T00:00:00.000Z', [host('a', [check('x.one', 'failed')])]);
    const now = [host('a', [check('x.one', 'failed'), check('x.two', 'failed')])];
    const f2 = firstSeen(r1, now, '2026-12-02T00:00:00.000Z');
    expect(f2).toEqual({ a: { 'x.one': '2026-12-01T00:00:00.000Z', 'x.two': '2026-12-02T00:00:00.000Z' } });
    const r2 = run('2026-12-02T00:00:00.000Z', now, { firstSeen: f2 });
    expect(firstSeen(r2, [host('a', [check('x.two', 'failed'), check('x.one', 'passed')])], '2026-12-03T00:00:00.000Z')).toEqual({ a: { 'x.two': '2026-12-02T00:00:00.000Z' } });
    expect(runName('2026-12-03T02:17:00.123Z')).toBe('2026-12-03T02-17-00Z');
  });

  it('triage order: new failures first, then could not be checked, failing (most first), waived, undecided, clean', () => {
    const hosts = [
      host('clean', [check('x.a', 'passed')]),
      host('undecided', [check('x.a', 'undecided')]),
      host('waived', [check('x.a', 'failed', { waived: { reason: 'r', expires: '2999-01-01' } })]),
      host('one', [check('x.a', 'failed')]),
      host('two', [check('x.a', 'failed'), check('x.b', 'failed')]),
      host('down', [], 'unreachable'),
      host('fresh', [check('x.a', 'failed')]),
    ];
    expect(triageOrder(fleetMatrix({ hosts }), { fresh: ['x.a'] }).map((h) => h.name)).toEqual(['fresh', 'down', 'two', 'one', 'waived', 'undecided', 'clean']);
  });
});

describe('--history DIR through the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sevcheck-history-'));
  const FIXTURES = join(ROOT, 'fixtures/hosts');
  const inv = join(dir, 'inv.yaml');
  writeFileSync(inv, `hosts:\n${['reference-milan', 'kvm-sev-off'].map((h) => `  - {name: ${h}, target: "fixture:${join(FIXTURES, h)}"}`).join('\n')}\n`);
  const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
  const history = join(dir, 'runs');
  const read = (d: string): FleetResults => JSON.parse(readFileSync(join(d, 'fleet.json'), 'utf8')) as FleetResults;
  const kept = (): string[] => readdirSync(history).filter((n) => existsSync(join(history, n, 'fleet.json'))).sort();

  it('keeps each complete run, compares with the newest, gives fleet.json history and first-seen dates, keeps the last --keep', async () => {
    const io = { stdout: sink(), stderr: sink() };
    expect(await fleetMain({ inventory: inv, history, keep: '2' }, io, { threads: 1 })).toBe(1);
    expect(kept()).toHaveLength(1);
    const first = read(join(history, kept()[0]!));
    expect(first.history).toEqual({ 'reference-milan': [], 'kvm-sev-off': [] });
    expect(first.changes).toBeUndefined();

    // a second run with its --out elsewhere: compared with the first, which it copies into DIR
    const out = join(dir, 'elsewhere');
    expect(await fleetMain({ inventory: inv, history, keep: '2', out }, io, { threads: 1 })).toBe(1);
    const second = read(out);
    expect(second.changes?.against.startedAt).toBe(first.startedAt);
    expect(second.changes?.new).toEqual({});
    expect(second.history?.['kvm-sev-off']).toEqual([{ startedAt: first.startedAt, failed: expect.any(Number), undecided: expect.any(Number), waived: 0 }]);
    expect(second.history?.['kvm-sev-off']?.[0]?.failed).toBeGreaterThan(0);
    for (const d of Object.values(second.firstSeen?.['kvm-sev-off'] ?? {})) expect(d).toBe(first.startedAt);
    expect(Object.keys(second.firstSeen ?? {})).toEqual(['kvm-sev-off']);
    expect(kept()).toHaveLength(2);

    // an interrupted run is not kept, and the next run still compares with the last complete one
    const ctl = new AbortController();
    ctl.abort('interrupted');
    expect(await fleetMain({ inventory: inv, history, keep: '2', out: join(dir, 'interrupted') }, io, { threads: 1, signal: ctl.signal })).toBe(1);
    expect(kept()).toHaveLength(2);

    // a third: 2 kept (the first removed), its history holds the 1 run before it (keep 2)
    expect(await fleetMain({ inventory: inv, history, keep: '2' }, io, { threads: 1 })).toBe(1);
    const names = kept();
    expect(names).toHaveLength(2);
    expect(names).not.toContain(runName(first.startedAt));
    const third = read(join(history, names[1]!));
    expect(third.changes?.against.startedAt).toBe(second.startedAt);
    expect(third.history?.['kvm-sev-off']?.map((p) => p.startedAt)).toEqual([second.startedAt]);
    // the page shows the trend and the first-seen date
    const page = readFileSync(join(history, names[1]!, 'index.html'), 'utf8');
    expect(page).toMatch(/<span class="trend" title="failed checks per run, the last 1 runs and now: \d+ \d+">/);
  }, 600_000);

  it('--keep without --history, a bad --keep: one line, exit 2', async () => {
    let err = '';
    const stderr = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    expect(await fleetMain({ inventory: inv, keep: '3' }, { stdout: sink(), stderr })).toBe(2);
    expect(err).toBe('sevcheck: --keep: needs --history DIR (keep runs where?)\n');
    err = '';
    expect(await fleetMain({ inventory: inv, history, keep: '0' }, { stdout: sink(), stderr })).toBe(2);
    expect(err).toBe('sevcheck: --keep: "0" is not a number of runs (1..99999)\n');
  });
});
