/**
 * The site file (issue 21, docs/site-policy.md): `--config FILE`, by default
 * /etc/sevcheck/sevcheck.yaml when it exists (`--no-config`: none). It holds what a site runs
 * with every time: profile, site feature directories, waivers, min-firmware and the other run
 * options, and `exclude` (check ids with the reason they do not apply: shown as skipped with it).
 * An option on the command line wins over the file; --features directories add to the file's.
 *
 * Parsed with eemeli/yaml (fleet/inventory.ts parseYaml: YAML 1.2 core schema, duplicate keys
 * refused), then validated by the JSON Schema below with ajv (draft-07). Every problem is one line
 * naming the file, the line and the key (an InputError, exit 2), before any host is opened.
 * Paths in the file are relative to the file's directory.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isNode } from 'yaml';
import { parseYamlStrict } from '../input/yaml.js';
import { InputError } from '../errors.js';
import { readSiteFile } from './files.js';

export { DEFAULT_CONFIG, configPath } from './config-path.js';

/** A check id as waivers and reports take it (fleet/waivers.ts CHECK_ID). */
const CHECK_ID = '^[a-z0-9][a-z0-9._-]*$';

/** The keys and what each takes (the message for a bad value says this). */
const PATH = { type: 'string', minLength: 1 } as const;
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'sevcheck site file (docs/site-policy.md)',
  type: 'object',
  additionalProperties: false,
  properties: {
    profile: { enum: ['sev', 'sev-es', 'sev-snp'] },
    features: { type: 'array', items: PATH, minItems: 1 },
    waivers: PATH,
    'min-firmware': { type: 'string', pattern: '^[0-9]{1,3}\\.[0-9]{1,3}$' },
    tags: { type: 'string', minLength: 1 },
    'fail-on-undecided': { type: 'boolean' },
    launch: PATH,
    vectors: PATH,
    'amd-certs': PATH,
    kds: { type: 'boolean' },
    'kds-cache': PATH,
    'kds-url': { type: 'string', pattern: '^https?://' },
    'ssh-identity': PATH,
    'ssh-option': { type: 'array', items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]*=.+$' } },
    exclude: { type: 'object', propertyNames: { pattern: CHECK_ID }, additionalProperties: { type: 'string', minLength: 1 } },
  },
} as const;

/** What each key takes, for messages. */
const TAKES: Record<string, string> = {
  profile: 'sev, sev-es or sev-snp',
  features: 'a list of directories with site .feature files',
  waivers: 'a waivers file (docs/fleet.md)',
  'min-firmware': 'a quoted firmware version "X.Y" (YAML reads an unquoted 1.50 as the number 1.5)',
  tags: 'a cucumber tag expression',
  'fail-on-undecided': 'true or false',
  launch: 'a launch bundle directory',
  vectors: 'a directory',
  'amd-certs': 'a directory',
  kds: 'true or false',
  'kds-cache': 'a directory',
  'kds-url': 'an http:// or https:// URL',
  'ssh-identity': 'an ssh private key file',
  'ssh-option': 'a list of ssh -o Key=Value options',
  exclude: 'a mapping of check id to the reason it does not apply, e.g. host.cpu.secure-tsc: "no Genoa in this fleet"',
};

export interface SiteConfig {
  /** the file as given */
  readonly file: string;
  readonly profile?: string | undefined;
  /** absolute directories */
  readonly features: readonly string[];
  readonly waivers?: string | undefined;
  readonly minFirmware?: string | undefined;
  readonly tags?: string | undefined;
  readonly failOnUndecided?: boolean | undefined;
  readonly launch?: string | undefined;
  readonly vectors?: string | undefined;
  readonly amdCerts?: string | undefined;
  readonly kds?: boolean | undefined;
  readonly kdsCache?: string | undefined;
  readonly kdsUrl?: string | undefined;
  readonly sshIdentity?: string | undefined;
  readonly sshOptions: readonly string[];
  /** check id → reason */
  readonly exclude: ReadonlyMap<string, string>;
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: false, strict: true }).compile(CONFIG_SCHEMA);
  return validator(doc) ? [] : [...(validator.errors ?? [])];
}

/** One ajv error as `key: problem`. */
function problemOf(e: ErrorObject): { path: string[]; text: string } {
  const path = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const top = path[0];
  if (e.keyword === 'additionalProperties' && path.length === 0) {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    return { path: [key], text: `${key}: unknown key (allowed: ${Object.keys(CONFIG_SCHEMA.properties).join(', ')})` };
  }
  if (e.keyword === 'propertyNames' || (e.keyword === 'pattern' && e.propertyName !== undefined)) {
    const name = String((e.params as { propertyName?: string }).propertyName ?? e.propertyName ?? '');
    return { path: [...path, name], text: `${[...path, name].join('.')}: "${name}" is not a check id (e.g. host.kvm-amd.sev or site.firmware-min)` };
  }
  if (e.keyword === 'type' && path.length === 0) return { path: [], text: 'must be a mapping of keys (profile, features, exclude, …)' };
  const where = path.map((s, i) => (i === 0 ? s : /^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');
  if (top === 'exclude' && path.length === 2) return { path, text: `${where}: the reason must be a non-empty string` };
  return { path, text: `${where}: must be ${top !== undefined ? (TAKES[top] ?? e.message) : e.message}` };
}

/** Parse and validate a site file; paths resolved against its directory. */
export function parseConfig(text: string, file: string): SiteConfig {
  const parsed = parseYamlStrict(text, file);
  const { doc, lineCounter } = parsed;
  const value: unknown = parsed.value ?? {};
  const [e] = validate(value);
  if (e) {
    const p = problemOf(e);
    const node = p.path.length ? doc.getIn(p.path, true) : undefined;
    // the line of the value, else of the key (an unknown key: its own line)
    let line: number | undefined;
    if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    else if (p.path.length) {
      const parent = p.path.length > 1 ? doc.getIn(p.path.slice(0, -1), true) : doc.contents;
      const pair = (parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null)?.items?.find((it) => String(it.key?.value) === p.path[p.path.length - 1]);
      if (pair?.key?.range) line = lineCounter.linePos(pair.key.range[0]).line;
    }
    throw new InputError(file, `${line !== undefined ? `line ${line}: ` : ''}${p.text}`);
  }
  const v = value as Record<string, unknown>;
  const base = dirname(resolve(file));
  const path = (k: string): string | undefined => (typeof v[k] === 'string' ? (isAbsolute(v[k] as string) ? (v[k] as string) : resolve(base, v[k] as string)) : undefined);
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const bool = (k: string): boolean | undefined => (typeof v[k] === 'boolean' ? (v[k] as boolean) : undefined);
  return {
    file,
    profile: str('profile'),
    features: ((v['features'] as string[] | undefined) ?? []).map((d) => (isAbsolute(d) ? d : resolve(base, d))),
    waivers: path('waivers'),
    minFirmware: str('min-firmware'),
    tags: str('tags'),
    failOnUndecided: bool('fail-on-undecided'),
    launch: path('launch'),
    vectors: path('vectors'),
    amdCerts: path('amd-certs'),
    kds: bool('kds'),
    kdsCache: path('kds-cache'),
    kdsUrl: str('kds-url'),
    sshIdentity: path('ssh-identity'),
    sshOptions: (v['ssh-option'] as string[] | undefined) ?? [],
    exclude: new Map(Object.entries((v['exclude'] as Record<string, string> | undefined) ?? {})),
  };
}

export function loadConfig(file: string, label = '--config'): SiteConfig {
  return parseConfig(readSiteFile(file, `${label} ${file}`), file);
}

/** The reason an excluded check is skipped with, naming the site file. */
export function excludeReasons(cfg: SiteConfig | undefined): ReadonlyMap<string, string> | undefined {
  if (!cfg || cfg.exclude.size === 0) return undefined;
  return new Map([...cfg.exclude].map(([id, why]) => [id, `excluded by ${cfg.file}: ${why}`]));
}
