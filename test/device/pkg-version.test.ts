import { describe, expect, it } from 'vitest';
import {
  debVerrevcmp,
  debVersionCompare,
  parseDebVersion,
  parseDpkgQuery,
  parseRpmEvr,
  parseRpmQuery,
  policyVersionVerdict,
  rpmEvrCompare,
  rpmvercmp,
} from '../../support/parsers/pkg-version.js';

// Cases from rpm's own test suite semantics (tests/rpmvercmp.at) and the algorithm's rules.
const RPM: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0.1', '2.0.1', 0],
  ['2.0', '2.0.1', -1],
  ['2.0.1a', '2.0.1a', 0],
  ['2.0.1a', '2.0.1', 1],
  ['5.5p1', '5.5p2', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['xyz.4', '8', -1],
  ['xyz.4', '2', -1],
  ['5.5p2', '5.6p1', -1],
  ['5.6p1', '6.5p1', -1],
  ['6.0.rc1', '6.0', 1],
  ['10b2', '10a1', 1],
  ['1.0aa', '1.0a', 1],
  ['10.0001', '10.1', 0],
  ['10.0001', '10.0039', -1],
  ['4.999.9', '5.0', -1],
  ['20101121', '20101122', -1],
  ['2_0', '2_0', 0],
  ['2.0', '2_0', 0],
  ['a', 'a', 0],
  ['a+', 'a+', 0],
  ['a+', 'a_', 0],
  ['+a', 'a', 0],
  ['+_', '_+', 0],
  ['1.0~rc1', '1.0~rc1', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0^', 0],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['3.14.2', '3.14.2.40', -1],
  ['3.14.3', '3.14.2.40', 1],
  ['108.el8', '40', 1],
  ['40.fc29', '40', 1],
  ['39.fc29', '40', -1],
];

describe('rpmvercmp', () => {
  it.each(RPM)('%s vs %s -> %i', (a, b, want) => {
    expect(rpmvercmp(a, b)).toBe(want);
    expect(rpmvercmp(b, a)).toBe(-want === 0 ? 0 : -want);
  });
});

describe('rpm EVR', () => {
  it('parses epoch:version-release and (none)', () => {
    expect(parseRpmEvr('1:3.14.3-108.el8')).toEqual({ epoch: 1, version: '3.14.3', release: '108.el8' });
    expect(parseRpmEvr('(none):3.14.3-108.el8')).toEqual({ epoch: 0, version: '3.14.3', release: '108.el8' });
    expect(parseRpmEvr('3.14.2')).toEqual({ epoch: 0, version: '3.14.2' });
    expect(parseRpmEvr('x:1-2')).toBeUndefined();
    expect(parseRpmEvr('1.0-')).toBeUndefined();
    expect(parseRpmEvr('a b')).toBeUndefined();
  });
  it('epoch dominates, then version, then release (skipped when one side has none)', () => {
    const e = (t: string) => parseRpmEvr(t)!;
    expect(rpmEvrCompare(e('1:1.0-1'), e('0:9.9-9'))).toBe(1);
    expect(rpmEvrCompare(e('3.14.2-41.fc29'), e('3.14.2-40'))).toBe(1);
    expect(rpmEvrCompare(e('3.14.2-39.fc29'), e('3.14.2-40'))).toBe(-1);
    expect(rpmEvrCompare(e('3.14.2-1'), e('3.14.2'))).toBe(0);
  });
});

describe('selinux-policy minimum (3.14.2-40)', () => {
  it.each([
    ['selinux-policy-3.14.2-40.fc29.noarch', 'passed'],
    ['selinux-policy-3.14.2-57.fc29.noarch', 'passed'],
    ['selinux-policy-3.14.2-39.fc29.noarch', 'failed'],
    ['selinux-policy-3.14.1-60.fc28.noarch', 'failed'],
    ['selinux-policy-3.14.3-108.el8.noarch', 'passed'],
    ['selinux-policy-38.1.45-3.el10.noarch', 'passed'],
    ['(none):3.13.1-283.el7', 'failed'],
    ['package selinux-policy is not installed', 'skipped'],
  ])('%s -> %s', (out, status) => {
    const r = parseRpmQuery(`${out}\n`);
    expect(r.ok).toBe(true);
    if (r.ok) expect(policyVersionVerdict(r.value).status).toBe(status);
  });
  it('several installed instances: the newest counts', () => {
    const r = parseRpmQuery('selinux-policy-3.14.2-30.fc29.noarch\nselinux-policy-3.14.2-45.fc29.noarch\n');
    expect(r.ok && r.value.kind === 'rpm' && r.value.evr.release).toBe('45.fc29');
  });
  it('garbage rpm output is a parse error', () => {
    expect(parseRpmQuery('error: rpmdb open failed').ok).toBe(false);
    expect(parseRpmQuery('').ok).toBe(false);
  });
  it('Debian refpolicy numbering is skipped, not misjudged', () => {
    const r = parseDpkgQuery('2:2.20221101-9', 'selinux-policy-default');
    expect(r.ok && policyVersionVerdict(r.value).status).toBe('skipped');
    expect(parseDpkgQuery('dpkg-query: no packages found matching selinux-policy-default', 'x')).toMatchObject({ ok: true, value: { kind: 'absent' } });
    expect(parseDpkgQuery('not:a version', 'x').ok).toBe(false);
  });
});

// Debian Policy 5.6.12 examples and dpkg's t/dpkg_version.c-style cases.
const DEB: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.0-0', 0],
  ['0:1.0', '1.0', 0],
  ['1:1.0', '2.0', 1],
  ['1.0~rc1', '1.0', -1],
  ['1.0~~', '1.0~~a', -1],
  ['1.0~~a', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0a', -1],
  ['1.0a', '1.0+', -1],
  ['1.0+', '1.0.1', -1],
  ['1.0', '1.0.0', -1],
  ['1.2-3', '1.2-10', -1],
  ['1.2-3ubuntu1', '1.2-3', 1],
  ['1.2-3~bpo1', '1.2-3', -1],
  ['2:2.20221101-9', '2:2.20221101-10', -1],
  ['2:2.20221101-9', '2:2.20190201-1', 1],
  ['1.001', '1.1', 0],
  ['9.0.0-4+deb12u2', '9.0.0-4', 1],
  ['1.0-1-2', '1.0-1-10', -1],
];

describe('dpkg version compare', () => {
  it.each(DEB)('%s vs %s -> %i', (a, b, want) => {
    const va = parseDebVersion(a)!;
    const vb = parseDebVersion(b)!;
    expect(va).toBeDefined();
    expect(debVersionCompare(va, vb)).toBe(want);
    expect(debVersionCompare(vb, va)).toBe(-want === 0 ? 0 : -want);
  });
  it('revision is after the last hyphen; epoch numeric', () => {
    expect(parseDebVersion('1:1.0-1-2')).toEqual({ epoch: 1, upstream: '1.0-1', revision: '2' });
    expect(debVerrevcmp('', '0')).toBe(0);
  });
  it.each(['', 'a1.0', 'x:1.0', '1.0-', '1.0 2', '1.0-a_b'])('rejects %j', (t) => expect(parseDebVersion(t)).toBeUndefined());
});
