/**
 * The kept xmllint (support/domain/xmllint-server.ts) gives the verdict one xmllint per definition
 * gives (validateDomainText, stdin), field for field: every guest definition of the fixture hosts
 * and of fixtures/domains, and documents that are invalid, not well-formed, empty or not a domain,
 * mixed in one process so that each definition's lines must be told from its neighbours'.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateDomainText } from '../../support/domain/schema.js';
import { closeXmllintServer, DIR_PREFIX, sweepStaleXmllintDirs, validateDomainTextKept, xmllintServerStats } from '../../support/domain/xmllint-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function xmlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    if (e.isFile() && e.name.endsWith('.xml') && statSync(p).size < 1 << 20) out.push(p);
  }
  return out.sort();
}

const hostGuests = readdirSync(join(root, 'fixtures/hosts')).flatMap((h) => {
  try {
    return xmlFiles(join(root, 'fixtures/hosts', h, 'files/etc/libvirt/qemu')).filter((f) => !f.includes('/networks/'));
  } catch {
    return [];
  }
});
const domains = xmlFiles(join(root, 'fixtures/domains'));
const made: Array<[string, string]> = [
  ['invalid element', '<domain type="kvm"><bogus/></domain>'],
  ['not well-formed', 'garbage <'],
  ['empty', ''],
  ['not a domain', '<network><name>x</name></network>'],
  ['unclosed', '<domain type="kvm"><name>x</name>'],
  ['names the sentinel', '<end/>'],
];

describe('kept xmllint: the same verdict as one xmllint per definition', () => {
  afterAll(() => closeXmllintServer());
  it('has definitions to compare', () => {
    expect(hostGuests.length).toBeGreaterThanOrEqual(20);
    expect(domains.length).toBeGreaterThanOrEqual(10);
  });
  const cases: Array<[string, string]> = [
    ...made,
    ...hostGuests.map((f): [string, string] => [f.slice(root.length), readFileSync(f, 'utf8')]),
    ...made.map(([n, t]): [string, string] => [`${n} (again, after others)`, t]),
    ...domains.map((f): [string, string] => [f.slice(root.length), readFileSync(f, 'utf8')]),
  ];
  it('on every definition, in one process, in order', async () => {
    for (const [label, text] of cases) {
      const kept = await validateDomainTextKept(text, `/etc/libvirt/qemu/${label}.xml`);
      const one = await validateDomainText(text, `/etc/libvirt/qemu/${label}.xml`);
      expect(kept, label).toEqual(one);
    }
    // every verdict from the one kept process, none from the fallback
    expect(xmllintServerStats).toMatchObject({ processes: 1, documents: cases.length, fallbacks: 0 });
  }, 120_000);
  it('answers concurrent requests each with its own verdict', async () => {
    const batch = [...made, ...hostGuests.slice(0, 10).map((f): [string, string] => [f, readFileSync(f, 'utf8')])];
    const kept = await Promise.all(batch.map(([l, t]) => validateDomainTextKept(t, l)));
    const one = await Promise.all(batch.map(([l, t]) => validateDomainText(t, l)));
    expect(kept).toEqual(one);
  }, 60_000);
  it('a kept xmllint killed between or during definitions: the verdicts stay the same, nothing hangs', async () => {
    const texts = [made[0], made[1], ...hostGuests.slice(0, 4).map((f): [string, string] => [f, readFileSync(f, 'utf8')])] as Array<[string, string]>;
    // the process may already be gone (the previous request noticed the kill and fell back)
    const kill = (): void => {
      try {
        process.kill(xmllintServerStats.pid as number, 'SIGKILL');
      } catch {
        // ESRCH
      }
    };
    const started = xmllintServerStats.processes;
    for (const [label, text] of texts) {
      await validateDomainTextKept(made[0]![1], 'warm');
      // killed while idle (blocked in open(2) of the next FIFO)
      kill();
      expect(await validateDomainTextKept(text, label), label).toEqual(await validateDomainText(text, label));
      // killed while a definition is being handed over
      const during = validateDomainTextKept(text, label);
      kill();
      expect(await during, label).toEqual(await validateDomainText(text, label));
    }
    // it was killed and started again, not given up
    expect(xmllintServerStats.processes).toBeGreaterThan(started + 2);
  }, 120_000);
  it('without mkfifo: one xmllint per definition, the same verdicts', async () => {
    // the FIFOs are made by the process that becomes xmllint (a fixed sh script); here PATH has xmllint but no mkfifo
    const bin = mkdtempSync(join(tmpdir(), 'sevcheck-no-mkfifo-'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v xmllint'], { encoding: 'utf8' }).trim(), join(bin, 'xmllint'));
    const path = process.env.PATH;
    closeXmllintServer();
    process.env.PATH = bin;
    try {
      const before = { ...xmllintServerStats };
      for (const [label, text] of made.slice(0, 3)) expect(await validateDomainTextKept(text, label), label).toEqual(await validateDomainText(text, label));
      expect(xmllintServerStats.fallbacks).toBe(before.fallbacks + 3);
      expect(xmllintServerStats.documents).toBe(before.documents);
    } finally {
      process.env.PATH = path;
      closeXmllintServer();
    }
  });
  it('starts again after it was closed', async () => {
    const [label, text] = made[0] as [string, string];
    closeXmllintServer();
    expect(await validateDomainTextKept(text, label)).toEqual(await validateDomainText(text, label));
  });

  it('a process killed with its xmllint kept leaves a FIFO directory; the next one removes it, and only such', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sevcheck-sweep-'));
    try {
      // a real process that kept an xmllint, killed: its directory stays behind
      const script = `import { validateDomainTextKept } from ${JSON.stringify(join(root, 'support/domain/xmllint-server.ts'))};
        await validateDomainTextKept(${JSON.stringify(made[0]![1])}, 'x'); process.stdout.write('ready'); setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res) => child.stdout.once('data', () => res()));
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      await exited;
      const left = readdirSync(tmp).filter((n) => n.startsWith(DIR_PREFIX));
      expect(left).toEqual([expect.stringMatching(new RegExp(`^${DIR_PREFIX}${child.pid}-`))]);
      // beside it: this process's own directory, one of a live process (pid 1), one with a file in it, a link
      const own = join(tmp, `${DIR_PREFIX}${process.pid}-aaaaaa`);
      const live = join(tmp, `${DIR_PREFIX}1-bbbbbb`);
      const other = join(tmp, `${DIR_PREFIX}${child.pid}-cccccc`);
      for (const d of [own, live, other]) mkdirSync(d);
      writeFileSync(join(other, 'doc'), 'not a FIFO');
      symlinkSync(own, join(tmp, `${DIR_PREFIX}${child.pid}-dddddd`));
      expect(sweepStaleXmllintDirs(tmp)).toEqual([join(tmp, left[0]!)]);
      expect(readdirSync(tmp).filter((n) => n.startsWith(DIR_PREFIX)).sort()).toEqual([own, live, other, join(tmp, `${DIR_PREFIX}${child.pid}-dddddd`)].map((p) => p.slice(tmp.length + 1)).sort());
      expect(readdirSync(other)).toEqual(['doc']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

