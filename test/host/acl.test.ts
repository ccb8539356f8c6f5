/**
 * Extended ACLs: every backend says "has none" without getfacl (live: `ls -ld`'s "+"; fixtures:
 * stat.json's optional "acl"), and `record` writes "acl" when it finds one.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FixtureHost } from '../../support/host/fixture-host.js';
import { RecordingHost } from '../../support/host/recording-host.js';
import { LocalHost } from '../../support/host/local-host.js';
import { getfaclEntries, readExtendedAcl } from '../../support/host/acl.js';
import { HarnessError, HostError, type RunResult } from '../../support/host/types.js';
import { fixtureDir } from '../helpers.js';

const fixture = (files: Record<string, string>): string => fixtureDir('sevcheck-acl', files);

const ACL = ['user::rw-', 'user:107:rw-', 'group::---', 'mask::rw-', 'other::---'];

describe('fixture host: stat.json "acl"', () => {
  const h = new FixtureHost(
    fixture({
      'stat.json': JSON.stringify({ '/dev/sev': { type: 'char', mode: '0600', uid: 0, gid: 0 }, '/dev/kvm': { type: 'char', mode: '0660', uid: 0, gid: 36, acl: ACL } }),
      'files/etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
    }),
  );
  it('no "acl" key: no extended ACL; an "acl" list: its entries; a missing path: ENOENT', async () => {
    expect(await h.acl('/dev/sev')).toBeUndefined();
    expect(await h.acl('/dev/kvm')).toEqual(ACL);
    expect(await h.acl('/etc/passwd')).toBeUndefined();
    await expect(h.acl('/dev/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    // stat stays what it was
    expect(await h.stat('/dev/kvm')).toEqual({ path: '/dev/kvm', type: 'char', mode: 0o660, uid: 0, gid: 36, selinux: undefined });
  });
  it('a malformed "acl" stops the run naming the file and key', () => {
    for (const acl of ['user::rw-', [1], ['user::rw-', 'group::rw', 'other::---']]) {
      const dir = fixture({ 'stat.json': JSON.stringify({ '/dev/sev': { type: 'char', mode: '0600', acl } }) });
      let err: unknown;
      try {
        new FixtureHost(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as Error).message).toMatch(/stat\.json: key "\/dev\/sev\.acl"/);
    }
  });
});

describe('record writes "acl" only for a node that has one', () => {
  it('round-trips through stat.json', async () => {
    const src = new FixtureHost(fixture({ 'stat.json': JSON.stringify({ '/dev/sev': { type: 'char', mode: '0600' }, '/dev/kvm': { type: 'char', mode: '0660', gid: 36, acl: ACL } }) }));
    const rec = new RecordingHost(src);
    for (const p of ['/dev/sev', '/dev/kvm']) {
      await rec.stat(p);
      await rec.acl(p);
    }
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-acl-rec-')), 'r');
    await rec.writeFixture(out, { name: 'r' });
    const stat = JSON.parse(readFileSync(join(out, 'stat.json'), 'utf8'));
    expect(stat['/dev/sev']).not.toHaveProperty('acl');
    expect(stat['/dev/kvm'].acl).toEqual(ACL);
    const replay = new FixtureHost(out);
    expect(await replay.acl('/dev/kvm')).toEqual(ACL);
    expect(await replay.acl('/dev/sev')).toBeUndefined();
  });
});

describe('record keeps an ACL that could not be read as that error', () => {
  it('replays "getfacl is not installed" instead of "no ACL"', async () => {
    const src = new FixtureHost(fixture({ 'stat.json': JSON.stringify({ '/dev/sev': { type: 'char', mode: '0660', gid: 36 } }) }));
    const why = new HostError('UNSUPPORTED', '/dev/sev', '/dev/sev has an extended POSIX ACL ("+" in ls -ld) but getfacl is not installed to read it (apt-get/dnf install acl)');
    const rec = new RecordingHost(Object.assign(Object.create(src) as FixtureHost, { acl: async () => Promise.reject(why) }));
    await rec.stat('/dev/sev');
    await expect(rec.acl('/dev/sev')).rejects.toBe(why);
    const out = join(mkdtempSync(join(tmpdir(), 'sevcheck-acl-rec-')), 'r');
    await rec.writeFixture(out, { name: 'r' });
    await expect(new FixtureHost(out).acl('/dev/sev')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: why.message });
  });
});

describe('live backends: ls -ld, then getfacl only on "+"', () => {
  const runner = (table: Record<string, Partial<RunResult>>) => {
    const ran: string[] = [];
    const run = async (argv: readonly string[]): Promise<RunResult> => {
      ran.push(argv[0] as string);
      const r = table[argv[0] as string];
      return r ? { argv, exitCode: 0, stdout: '', stderr: '', ...r } : { argv, exitCode: 127, stdout: '', stderr: `${argv[0]}: command not found` };
    };
    return { run, ran };
  };
  it('no "+": undefined without running getfacl', async () => {
    const r = runner({ ls: { stdout: 'crw------- 1 root root 10, 124 Dec  2 01:26 /dev/sev\n' } });
    expect(await readExtendedAcl(r.run, '/dev/sev')).toBeUndefined();
    expect(r.ran).toEqual(['ls']);
  });
  it('"+": getfacl\'s access entries; without getfacl: UNSUPPORTED with the package to install', async () => {
    const ls = { stdout: 'crw-rw----+ 1 root kvm 10, 124 Dec  2 01:26 /dev/sev\n' };
    const r = runner({ ls, getfacl: { stdout: '# file: /dev/sev\n# owner: 0\n# group: 36\nuser::rw-\nuser:107:rw-\ngroup::rw-\t\t#effective:rw-\nmask::rw-\nother::---\n\n' } });
    expect(await readExtendedAcl(r.run, '/dev/sev')).toEqual(['user::rw-', 'user:107:rw-', 'group::rw-', 'mask::rw-', 'other::---']);
    const e = await readExtendedAcl(runner({ ls }).run, '/dev/sev').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostError);
    expect(e).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/getfacl is not installed.*install acl/) });
  });
  it('ls failing is the file\'s error', async () => {
    const r = runner({ ls: { exitCode: 2, stderr: "ls: cannot access '/dev/sev': No such file or directory\n" } });
    await expect(readExtendedAcl(r.run, '/dev/sev')).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('getfaclEntries drops comments and default entries', () => {
    expect(getfaclEntries('# file: d\nuser::rwx\ndefault:user::rwx\nd:group::r-x\ngroup::r-x #effective:r--\nother::---\n')).toEqual(['user::rwx', 'group::r-x', 'other::---']);
  });
  it('LocalHost on this machine: a plain file has no extended ACL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevcheck-acl-local-'));
    writeFileSync(join(dir, 'f'), 'x');
    expect(await new LocalHost().acl(join(dir, 'f'))).toBeUndefined();
    await expect(new LocalHost().acl(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
