/**
 * The hosts of a fleet run (docs/fleet.md): the inventory YAML, an Ansible inventory as
 * `ansible-inventory --list` prints it, or the host directories of --from-results. Every problem is
 * an InputError naming the file and the entry (`inv.yaml: hosts[3].target: …`): the fleet stops
 * before anything runs (exit 2).
 *
 * YAML is parsed with eemeli/yaml (the `yaml` package, YAML 1.2 core schema: `2026-12-31` stays a
 * string, no implicit timestamps); its `uniqueKeys` (on by default) refuses duplicate keys.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { parseYamlStrict } from '../input/yaml.js';
import { hostNameProblem } from '../input/names.js';
import { schemaCheck } from '../input/schema.js';

/** One host to check. */
export interface FleetEntry {
  readonly name: string;
  /** the --host value: local, ssh://[user@]host[:port], fixture:/abs/dir, rootfs:/abs/dir, image:/abs/file */
  readonly target: string;
  /** absent: as `sevcheck run` (a fixture's host.json profile, else sev) */
  readonly profile?: string | undefined;
  readonly tags: readonly string[];
  /** the host's site file (docs/site-policy.md), absolute; absent: the fleet's */
  readonly config?: string | undefined;
}

/** A tag: letters, digits, '.', '_', '-'. */
export const NAME = /^[A-Za-z0-9._-]+$/;
export const PROFILES = ['sev', 'sev-es', 'sev-snp'] as const;
const HOST_KEYS = ['name', 'target', 'profile', 'tags', 'config'] as const;
const TOP_KEYS = ['defaults', 'hosts'] as const;

/** Parse YAML text strictly: a syntax error or a duplicate key is an InputError naming file, line and column. */
export function parseYaml(text: string, file: string): unknown {
  return parseYamlStrict(text, file).value;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], file: string, where: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new InputError(file, `${where}${where ? '.' : ''}${k}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function str(v: unknown, file: string, where: string): string {
  if (typeof v !== 'string' || v === '') throw new InputError(file, `${where}: must be a non-empty string${v === undefined ? ' (missing)' : ''}`);
  return v;
}

/**
 * A target's syntax, as support/host/target.ts openHost accepts it, checked without opening
 * anything (no ssh, no temporary directory): `local`, `ssh://[user@]host[:port]` (a URL with a
 * host name, no path, not starting with "-"), `fixture:DIR` and `rootfs:DIR` (relative to the
 * inventory's directory; the directory must exist; `rootfs:` is the backend of issue 11), and
 * `image:FILE` (a disk image, issue 22: relative to the inventory's directory, the file must exist
 * and be a regular file or a block device; what it holds is checked when it is opened, as for
 * `--host image:FILE`). Returns the target with DIR or FILE made absolute.
 */
export function checkTarget(spec: string, base: string): string {
  if (spec === 'local') return spec;
  const dirScheme = /^(fixture|rootfs):(.*)$/s.exec(spec);
  if (dirScheme) {
    const [, scheme, dir] = dirScheme as unknown as [string, string, string];
    if (!dir) throw new Error(`${scheme}: needs a directory`);
    const abs = isAbsolute(dir) ? dir : resolve(base, dir);
    if (!existsSync(abs)) throw new Error(`${spec}: directory ${abs} does not exist`);
    if (!statSync(abs).isDirectory()) throw new Error(`${spec}: ${abs} is not a directory`);
    if (scheme === 'fixture' && !existsSync(resolve(abs, 'host.json'))) throw new Error(`${spec}: ${abs} has no host.json (not a fixture host)`);
    return `${scheme}:${abs}`;
  }
  const image = /^image:(.*)$/s.exec(spec);
  if (image) {
    const file = image[1] as string;
    if (!file) throw new Error('image: needs a disk image file (raw or qcow2)');
    const abs = isAbsolute(file) ? file : resolve(base, file);
    if (!existsSync(abs)) throw new Error(`${spec}: file ${abs} does not exist`);
    const st = statSync(abs);
    if (st.isDirectory()) throw new Error(`${spec}: ${abs} is a directory (a root file system is rootfs:DIR)`);
    if (!st.isFile() && !st.isBlockDevice()) throw new Error(`${spec}: ${abs} is not a regular file or block device`);
    return `image:${abs}`;
  }
  if (spec.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new Error(`${spec}: not a valid ssh://[user@]host[:port] address`);
    }
    if (!url.hostname || (url.pathname && url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      throw new Error(`${spec}: not a valid ssh://[user@]host[:port] address`);
    }
    if (url.hostname.startsWith('-')) throw new Error(`${spec}: host name may not start with "-"`);
    return spec;
  }
  throw new Error(`${spec}: not a target; use local, ssh://[user@]host[:port], fixture:DIR, rootfs:DIR or image:FILE`);
}

function tagList(v: unknown, file: string, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InputError(file, `${where}: must be a list of tags, e.g. [rack-a, milan]`);
  return v.map((t, i) => {
    if ((typeof t !== 'string' && typeof t !== 'number') || !NAME.test(String(t))) throw new InputError(file, `${where}[${i}]: a tag is [A-Za-z0-9._-]+`);
    return String(t);
  });
}

function profileOf(v: unknown, file: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(PROFILES as readonly string[]).includes(v)) throw new InputError(file, `${where}: must be one of ${PROFILES.join(', ')}`);
  return v;
}

/** A host's site file (`config:`, relative to the inventory; docs/site-policy.md): it must exist. */
function configOf(v: unknown, base: string, file: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new InputError(file, `${where}: must be the path of a site file (sevcheck.yaml)`);
  const abs = isAbsolute(v) ? v : resolve(base, v);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new InputError(file, `${where}: ${abs} is not a file`);
  return abs;
}

/** The inventory YAML (docs/fleet.md "Inventory"). */
export function parseInventory(text: string, file: string): FleetEntry[] {
  const doc = parseYaml(text, file);
  if (!isMap(doc)) throw new InputError(file, 'must be a mapping with "hosts:" (a list of {name, target, profile, tags})');
  const problem = schemaCheck('inventory', doc);
  if (problem !== undefined) throw new InputError(file, problem);
  onlyKeys(doc, TOP_KEYS, file, '');
  const defaults = doc['defaults'] ?? {};
  if (!isMap(defaults)) throw new InputError(file, 'defaults: must be a mapping of host keys');
  onlyKeys(defaults, HOST_KEYS.filter((k) => k !== 'name'), file, 'defaults');
  const hosts = doc['hosts'];
  if (!Array.isArray(hosts) || hosts.length === 0) throw new InputError(file, 'hosts: must be a non-empty list of {name, target, profile, tags}');
  const seen = new Map<string, number>();
  const base = dirname(resolve(file));
  return hosts.map((h, i) => {
    const where = `hosts[${i}]`;
    if (!isMap(h)) throw new InputError(file, `${where}: must be a mapping {name, target, profile, tags}`);
    onlyKeys(h, HOST_KEYS, file, where);
    const v = { ...defaults, ...h };
    const name = str(typeof v['name'] === 'number' ? String(v['name']) : v['name'], file, `${where}.name`);
    const bad = hostNameProblem(name);
    if (bad) throw new InputError(file, `${where}.name: ${bad}`);
    const prev = seen.get(name);
    if (prev !== undefined) throw new InputError(file, `${where}.name: duplicate host name "${name}" (also hosts[${prev}])`);
    seen.set(name, i);
    const spec = str(v['target'], file, `${where}.target`);
    let target: string;
    try {
      target = checkTarget(spec, base);
    } catch (e) {
      throw new InputError(file, `${where}.target: ${(e as Error).message}`);
    }
    const config = configOf(v['config'], base, file, `${where}.config`);
    return { name, target, profile: profileOf(v['profile'], file, `${where}.profile`), tags: tagList(v['tags'], file, `${where}.tags`), ...(config ? { config } : {}) };
  });
}

/**
 * `ansible-inventory -i FILE --list` output (ansible/ansible lib/ansible/cli/inventory.py
 * `json_inventory`, commit 7da9d4ede6ec1eb5ec36385c5cb90b55e6585e2f: a JSON object with
 * `_meta.hostvars` and one entry per group with `hosts` (not for `all`) and `children`). Each host
 * becomes `ssh://[ansible_user@]ansible_host|name[:ansible_port]`, its `sevcheck_profile` host var
 * the profile, and the groups it is in (directly or through a child group) its tags; `all` and
 * `ungrouped` are not tags.
 */
export function ansibleEntries(listJson: string, file: string): FleetEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(listJson);
  } catch (e) {
    throw new InputError(file, `ansible-inventory --list printed no JSON: ${(e as Error).message}`);
  }
  if (!isMap(doc)) throw new InputError(file, 'ansible-inventory --list printed no inventory object');
  const meta = isMap(doc['_meta']) ? doc['_meta'] : {};
  const hostvars = isMap(meta['hostvars']) ? meta['hostvars'] : {};
  const groups = new Map<string, { hosts: string[]; children: string[] }>();
  for (const [g, v] of Object.entries(doc)) {
    if (g === '_meta' || !isMap(v)) continue;
    const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
    groups.set(g, { hosts: list(v['hosts']), children: list(v['children']) });
  }
  const tags = new Map<string, Set<string>>();
  const walk = (group: string, tag: string, seen: Set<string>): void => {
    if (seen.has(group)) return;
    seen.add(group);
    const g = groups.get(group);
    if (!g) return;
    for (const h of g.hosts) {
      if (!tags.has(h)) tags.set(h, new Set());
      if (tag !== 'all' && tag !== 'ungrouped') tags.get(h)?.add(tag);
    }
    for (const c of g.children) walk(c, tag, seen);
  };
  for (const g of groups.keys()) walk(g, g, new Set());
  const names = [...new Set([...Object.keys(hostvars), ...tags.keys()])].sort();
  if (names.length === 0) throw new InputError(file, 'the Ansible inventory has no hosts');
  return names.map((name) => {
    const where = `host ${name}`;
    const bad = hostNameProblem(name);
    if (bad) throw new InputError(file, `an Ansible host name ${bad}`);
    const vars = isMap(hostvars[name]) ? hostvars[name] : {};
    const host = vars['ansible_host'] ?? name;
    const user = vars['ansible_user'];
    const port = vars['ansible_port'];
    if (typeof host !== 'string' || !host) throw new InputError(file, `${where}: ansible_host must be a string`);
    if (user !== undefined && (typeof user !== 'string' || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user))) throw new InputError(file, `${where}: ansible_user "${String(user)}" is not a user name`);
    if (port !== undefined && !/^[0-9]{1,5}$/.test(String(port))) throw new InputError(file, `${where}: ansible_port "${String(port)}" is not a port`);
    const spec = `ssh://${user ? `${user}@` : ''}${host.includes(':') ? `[${host}]` : host}${port !== undefined ? `:${String(port)}` : ''}`;
    let target: string;
    try {
      target = checkTarget(spec, '.');
    } catch (e) {
      throw new InputError(file, `${where}: ${(e as Error).message}`);
    }
    const config = configOf(vars['sevcheck_config'], dirname(resolve(file)), file, `${where}: sevcheck_config`);
    return { name, target, profile: profileOf(vars['sevcheck_profile'], file, `${where}: sevcheck_profile`), tags: [...(tags.get(name) ?? [])].sort(), ...(config ? { config } : {}) };
  });
}
