/**
 * Domain layer facts: the SEV guests defined on the host, read through the run's cached Host.
 *
 * Where the definitions come from (docs/domain.md "Guests on a host"):
 * 1. /etc/libvirt/qemu/*.xml — the persistent domain configs of libvirt's QEMU driver
 *    (qemu:///system). libvirtd loads exactly the files ending in ".xml" in that directory at
 *    start (src/conf/virdomainobjlist.c virDomainObjListLoadAllConfigs); subdirectories
 *    (autostart/, networks/, snapshot/, checkpoint/) are not domains.
 * 2. Only when that directory or one of its files cannot be read (EACCES: a non-root user in the
 *    libvirt group): `virsh -c qemu:///system list --all --name` and
 *    `virsh -c qemu:///system dumpxml --inactive --domain NAME` (the same persistent config).
 *    If virsh cannot answer either, the original read error stands (the checks are undecided).
 * Transient domains (virsh create) have no persistent config and are not checked.
 *
 * Schema validation runs xmllint with the libvirt schemas of the machine sevcheck runs on (the
 * guest XML is piped to it; nothing is written anywhere).
 */
import { Memo } from '../memo.js';
import { posix } from 'node:path';
import { HarnessError, HostError, isHostError, type Host } from '../host/types.js';
import { InputError } from '../errors.js';
import { parseDomainXml } from '../domain/model.js';
import { isSevGuest, type GuestDefinition, type HostGuests, type UnreadableDefinition } from '../domain/guests.js';
import { schemaInfo, type SchemaInfo, type SchemaOutcome } from '../domain/schema.js';
import { validateDomainTextKept } from '../domain/xmllint-server.js';

/** This process's libvirt schema facts (the machine sevcheck runs on), asked once. */
let localSchemaInfo: Promise<SchemaInfo> | undefined;

export const LIBVIRT_QEMU_DIR = '/etc/libvirt/qemu';
export const VIRSH = ['virsh', '-c', 'qemu:///system'] as const;
export const VIRSH_TIMEOUT_MS = 15_000;

interface RawDefinition {
  readonly source: string;
  readonly fallbackName: string;
  readonly text?: Buffer | string;
  readonly error?: string;
}

export class DomainProbe {
  private readonly memo = new Memo();
  constructor(readonly host: Host) {}

  /** Every domain definition on the host, split into SEV guests, other guests and unreadable files. */
  guests(): Promise<HostGuests> {
    return this.memo.once('guests', async () => {
      const fromDir = await this.fromConfigDir();
      if ('none' in fromDir) return { origin: `${LIBVIRT_QEMU_DIR}/*.xml`, sev: [], others: [], unreadable: [], none: fromDir.none };
      let raws = fromDir.raws;
      let origin = `${LIBVIRT_QEMU_DIR}/*.xml`;
      const denied = fromDir.error ?? raws.find((r) => r.error?.startsWith('EACCES'));
      if (denied) {
        const viaVirsh = await this.fromVirsh();
        if (viaVirsh) {
          raws = viaVirsh;
          origin = `${VIRSH.join(' ')} list --all`;
        } else if (fromDir.error) {
          throw fromDir.error;
        }
      }
      return classify(origin, raws);
    });
  }

  /** The libvirt schema on the machine sevcheck runs on: path, version, sev-snp support. */
  schemaInfo(): Promise<SchemaInfo> {
    // a fact of this machine, not of the probed host: asked once per process (a fleet run asks
    // `virsh --version` once, not once per host)
    return this.memo.once('schemaInfo', () => (localSchemaInfo ??= schemaInfo()));
  }

  /** xmllint's verdict on one guest's definition (local schemas). */
  schema(g: GuestDefinition): Promise<SchemaOutcome> {
    // the process's kept xmllint (domain/xmllint-server.ts): the schema is compiled once per
    // process, not once per guest; every definition of every host is validated
    return this.memo.once(`schema\0${g.source}`, () => validateDomainTextKept(g.text, g.source));
  }

  private async fromConfigDir(): Promise<{ none: string } | { raws: RawDefinition[]; error?: HostError }> {
    let names: string[];
    try {
      names = await this.host.listDir(LIBVIRT_QEMU_DIR);
    } catch (e) {
      if (isHostError(e, 'ENOENT')) {
        return { none: `${LIBVIRT_QEMU_DIR} does not exist (no persistent libvirt QEMU domains on this host)` };
      }
      if (isHostError(e) && e.code !== 'NOT_RUNNING') return { raws: [], error: e };
      throw e;
    }
    const raws: RawDefinition[] = [];
    for (const name of names.filter((n) => n.endsWith('.xml'))) {
      const source = posix.join(LIBVIRT_QEMU_DIR, name);
      try {
        raws.push({ source, fallbackName: name.slice(0, -'.xml'.length), text: await this.host.readFile(source) });
      } catch (e) {
        if (isHostError(e, 'ENOENT') || isHostError(e, 'EISDIR')) continue; // removed meanwhile / a directory named *.xml
        if (!isHostError(e) || e.code === 'NOT_RUNNING') throw e;
        raws.push({ source, fallbackName: name, error: `${e.code}: ${e.message}` });
      }
    }
    return { raws };
  }

  /** undefined when virsh cannot list the domains (not installed, no libvirtd, not recorded). */
  private async fromVirsh(): Promise<RawDefinition[] | undefined> {
    const run = async (args: string[]) => {
      try {
        return await this.host.run([...VIRSH, ...args], { timeoutMs: VIRSH_TIMEOUT_MS });
      } catch (e) {
        if (isHostError(e) || e instanceof HarnessError) return undefined; // a fallback: keep the first reason
        throw e;
      }
    };
    const list = await run(['list', '--all', '--name']);
    if (!list || list.exitCode !== 0) return undefined;
    const names = list.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const raws: RawDefinition[] = [];
    for (const name of names) {
      const argv = ['dumpxml', '--inactive', '--domain', name];
      const source = `virsh dumpxml --inactive ${name}`;
      const r = await run(argv);
      if (!r) raws.push({ source, fallbackName: name, error: 'virsh dumpxml did not answer' });
      else if (r.exitCode !== 0) raws.push({ source, fallbackName: name, error: `exit ${r.exitCode}: ${r.stderr.trim().split('\n')[0] ?? ''}` });
      else raws.push({ source, fallbackName: name, text: r.stdout });
    }
    return raws;
  }
}

/** Parse every definition; sort into SEV guests, others, unreadable. */
export function classify(origin: string, raws: readonly RawDefinition[]): HostGuests {
  const sev: GuestDefinition[] = [];
  const others: string[] = [];
  const unreadable: UnreadableDefinition[] = [];
  for (const r of raws) {
    if (r.text === undefined) {
      unreadable.push({ source: r.source, reason: r.error ?? 'unreadable' });
      continue;
    }
    const text = typeof r.text === 'string' ? r.text : r.text.toString('utf8');
    try {
      const model = parseDomainXml(r.text, r.source);
      const name = model.name ?? r.fallbackName;
      if (isSevGuest(model)) sev.push({ name, source: r.source, text, model });
      else others.push(name);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      unreadable.push({ source: r.source, reason: `cannot be parsed: ${e.problem}` });
    }
  }
  return { origin, sev, others, unreadable };
}
