import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseDomainXml } from '../../support/domain/model.js';
import { parseXmllintOutput, schemaPath, schemaVerdict, validateDomainFiles } from '../../support/domain/schema.js';

const dir = fileURLToPath(new URL('../../fixtures/domains/', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, Record<string, string>>;

describe('oracle: the same verdict as libvirt virt-xml-validate on every fixture', () => {
  it('has fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(10));
  it.each(fixtures)('%s', async (f) => {
    const file = join(dir, f);
    const oracle = await execa('virt-xml-validate', [file, 'domain'], { reject: false, timeout: 30_000 });
    let parsed = true;
    try {
      parseDomainXml(readFileSync(file), f);
    } catch {
      parsed = false;
    }
    if (!parsed) {
      // We refuse DTD/entity documents before any validator sees them; libvirt never needs them.
      expect(expected[f]?.['$input-error']).toBeDefined();
      return;
    }
    const ours = (await validateDomainFiles([file])).get(file)!;
    expect(ours.status === 'valid', `virt-xml-validate exit ${oracle.exitCode}: ${oracle.stderr}`).toBe(oracle.exitCode === 0);
    const want = expected[f]?.['domain.schema-valid'];
    if (want) expect(ours.status === 'valid' ? 'passed' : 'failed').toBe(want);
  });
});

describe('batched xmllint', () => {
  it('attributes results to the right files when valid, invalid and broken files are mixed', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sevcheck-schema-'));
    const good = readFileSync(join(dir, 'good-sev-q35.xml'), 'utf8');
    const files: string[] = [];
    for (let i = 0; i < 9; i++) {
      const f = join(tmp, `d${i}.xml`);
      writeFileSync(f, i % 3 === 1 ? good.replace('0x000b', '0x000B') : i % 3 === 2 ? '<domain><bogus/>' : good);
      files.push(f);
    }
    const res = await validateDomainFiles(files);
    expect(files.map((f) => res.get(f)!.status)).toEqual(['valid', 'invalid', 'unreadable', 'valid', 'invalid', 'unreadable', 'valid', 'invalid', 'unreadable']);
    const bad = res.get(files[1]!)!;
    expect(bad.status === 'invalid' && bad.errors[0]).toMatchObject({ file: files[1], line: 76, message: '<policy>: Error validating datatype string' });
  });

  it('parses xmllint output including lines without a file prefix', () => {
    const out = [
      'a.xml:5: element policy: Relax-NG validity error : Error validating datatype string',
      'Relax-NG validity error : Extra element launchSecurity in interleave',
      'a.xml fails to validate',
      'b.xml validates',
      'c.xml:1: parser error : Start tag expected, \'<\' not found',
      'garbage',
      '^',
      'd.xml validates',
    ].join('\n');
    const r = parseXmllintOutput(out, ['a.xml', 'b.xml', 'c.xml', 'd.xml']);
    expect(r.get('a.xml')).toEqual({
      status: 'invalid',
      errors: [
        { file: 'a.xml', line: 5, message: '<policy>: Error validating datatype string' },
        { file: 'a.xml', line: undefined, message: 'Extra element launchSecurity in interleave' },
      ],
    });
    expect(r.get('b.xml')).toEqual({ status: 'valid' });
    expect(r.get('c.xml')).toMatchObject({ status: 'unreadable', errors: [{ line: 1, message: "parser error : Start tag expected, '<' not found" }] });
    expect(r.get('d.xml')).toEqual({ status: 'valid' });
  });

  it('is undecided, not failed, when the schema is missing', async () => {
    const res = await validateDomainFiles([join(dir, 'good-sev-q35.xml')], { schemaDir: '/nonexistent' });
    const o = res.get(join(dir, 'good-sev-q35.xml'))!;
    expect(o.status).toBe('unavailable');
    expect(schemaVerdict('x.xml', o, schemaPath({ schemaDir: '/nonexistent' })).status).toBe('undecided');
  });

  it('is undecided when xmllint cannot run', async () => {
    const res = await validateDomainFiles([join(dir, 'good-sev-q35.xml')], { xmllint: '/nonexistent/xmllint' });
    expect(res.get(join(dir, 'good-sev-q35.xml'))!.status).toBe('unavailable');
  });

  it('explains the sev-snp schema gap and the lowercase-hex rule', async () => {
    const snp = join(dir, 'good-snp.xml');
    const o = (await validateDomainFiles([snp])).get(snp)!;
    if (o.status === 'invalid') {
      expect(schemaVerdict(snp, o, schemaPath(), { launchSecurityType: 'sev-snp' }).message).toContain('libvirt 10.5.0');
    }
    const upper = join(dir, 'bad-schema.xml');
    const u = (await validateDomainFiles([upper])).get(upper)!;
    expect(schemaVerdict(upper, u, schemaPath(), { policyText: '0x000B' }).message).toContain('write <policy>0x000b</policy>');
  });
});
