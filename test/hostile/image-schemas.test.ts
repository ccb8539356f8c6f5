/**
 * Issue 19: an image's libvirt schemas are compiled by xmllint in a sandbox (bubblewrap: no
 * network, nothing but the schema directory and xmllint's own program files), so a domain.rng
 * that names a URL or a file of the controller reaches neither. The hostile schemas are written
 * here at run time into temporary directories.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDomainFiles } from '../../support/domain/schema.js';
import { which } from '../helpers.js';

const RNG_NS = 'http://relaxng.org/ns/structure/1.0';
const base = mkdtempSync(join(tmpdir(), 'sevcheck-hostile-rng-'));
const outside = join(base, 'controller-only');
const schemas = join(base, 'schemas');

let hits = 0;
const server = createServer((_req, res) => {
  hits++;
  res.end(`<grammar xmlns="${RNG_NS}"><start><element name="domain"><empty/></element></start></grammar>`);
});
let port = 0;

function sandboxProblem(): string | undefined {
  if (!which('xmllint')) return 'xmllint not installed';
  try {
    execFileSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { timeout: 10_000, stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `bwrap cannot run here (${(e as Error).message.split('\n')[0]})`;
  }
}
let noSandbox: string | undefined;

beforeAll(async () => {
  noSandbox = sandboxProblem();
  if (noSandbox && process.env.SEVCHECK_REQUIRE_ROOTFS === '1') throw new Error(`SEVCHECK_REQUIRE_ROOTFS=1: ${noSandbox}`);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  mkdirSync(outside, { recursive: true });
  mkdirSync(schemas, { recursive: true });
  // a grammar only the controller has: including it makes <domain/> valid
  writeFileSync(join(outside, 'canary.rng'), `<grammar xmlns="${RNG_NS}"><start><element name="domain"><empty/></element></start></grammar>`);
  writeFileSync(join(schemas, 'doc.xml'), '<domain/>\n');
});
afterAll(() => server.close());

async function outcome(rng: string, sandbox: boolean): Promise<{ status: string; text: string }> {
  const dir = mkdtempSync(join(schemas, 'case-'));
  writeFileSync(join(dir, 'domain.rng'), rng);
  writeFileSync(join(dir, 'doc.xml'), '<domain/>\n');
  const o = (await validateDomainFiles([join(dir, 'doc.xml')], { schemaDir: dir, ...(sandbox ? { sandbox: 'bwrap' } : {}) })).get(join(dir, 'doc.xml'));
  return { status: o?.status ?? 'none', text: JSON.stringify(o) };
}

describe('image schemas are compiled in a sandbox', () => {
  it('an <include> of a controller file: read without the sandbox (the attack works), not found inside it', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const rng = `<grammar xmlns="${RNG_NS}"><include href="${join(outside, 'canary.rng')}"/></grammar>`;
    expect((await outcome(rng, false)).status).toBe('valid');
    const inside = await outcome(rng, true);
    expect(inside.status).not.toBe('valid');
    expect(inside.text).not.toContain('<empty');
  });

  it('an <externalRef> to http://127.0.0.1: no request leaves the sandbox', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    hits = 0;
    const rng = `<grammar xmlns="${RNG_NS}"><start><externalRef href="http://127.0.0.1:${port}/x.rng"/></start></grammar>`;
    expect((await outcome(rng, true)).status).not.toBe('valid');
    // and an XInclude-free external DTD / entity in the schema is not fetched either
    const dtd = `<?xml version="1.0"?><!DOCTYPE grammar SYSTEM "http://127.0.0.1:${port}/x.dtd"><grammar xmlns="${RNG_NS}"><start><element name="domain"><empty/></element></start></grammar>`;
    await outcome(dtd, true);
    expect(hits).toBe(0);
  });

  it('the same schemas without hostile references still judge the document (the sandbox sees its directory)', async (ctx) => {
    if (noSandbox) return ctx.skip(noSandbox);
    const ok = await outcome(`<grammar xmlns="${RNG_NS}"><start><element name="domain"><empty/></element></start></grammar>`, true);
    expect(ok.status).toBe('valid');
    const bad = await outcome(`<grammar xmlns="${RNG_NS}"><start><element name="guest"><empty/></element></start></grammar>`, true);
    expect(bad.status).toBe('invalid');
  });

  it('no bwrap: the image schemas are not compiled at all (unavailable, with the reason), never outside a sandbox', async () => {
    const dir = mkdtempSync(join(schemas, 'nobwrap-'));
    writeFileSync(join(dir, 'domain.rng'), `<grammar xmlns="${RNG_NS}"><include href="${join(outside, 'canary.rng')}"/></grammar>`);
    writeFileSync(join(dir, 'doc.xml'), '<domain/>\n');
    const o = (await validateDomainFiles([join(dir, 'doc.xml')], { schemaDir: dir, sandbox: '/nonexistent/bwrap' })).get(join(dir, 'doc.xml'));
    expect(o).toMatchObject({ status: 'unavailable' });
    expect(JSON.stringify(o)).toMatch(/sandbox/);
  });
});
