/**
 * JSON Schemas of every document sevcheck ingests (issue 19), checked with ajv (ajv-validator/ajv,
 * JSON Schema draft-07): results.json (docs/results.md), a previous fleet.json (--compare,
 * docs/fleet.md), the inventory and the waivers (after YAML parsing; docs/fleet.md). A document
 * that fails is refused with one line naming the field (`checks[3].scenario: missing`), never
 * quoting its value.
 *
 * Readers keep only the fields they know after validation: whatever else a document carries
 * (a results.json's self-granted `waived`, for one) is never taken from it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HOST_NAME_PATTERN, HOST_NAME_RULE } from './names.js';

const str = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
export const PROFILE_VALUES = ['sev', 'sev-es', 'sev-snp'] as const;
export const STATUS_VALUES = ['passed', 'failed', 'undecided', 'skipped'] as const;
/** A check id (docs/checks.md): lower-case segments separated by dots. */
export const CHECK_ID_PATTERN = '^[a-z0-9][a-z0-9._-]*$';
const checkId = { type: 'string', pattern: CHECK_ID_PATTERN, maxLength: 200, description: 'is not a check id (lower-case letters, digits, ".", "_", "-"; e.g. host.kvm-amd.sev)' } as const;
/** ISO 8601 UTC as Date.prototype.toISOString writes it (what sevcheck writes; '' when a run recorded no start). */
const isoTime = { type: 'string', pattern: '^(|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z)$', description: 'is not a UTC time YYYY-MM-DDTHH:MM:SS.sssZ' } as const;
/** a duration in ms: a finite number (JSON's 1e400 parses as Infinity) up to about 31 years */
const duration = { type: 'number', minimum: 0, maximum: 1e12 } as const;
const hostName = { type: 'string', pattern: HOST_NAME_PATTERN, maxLength: 253, description: `is not a host name (${HOST_NAME_RULE})` } as const;

const check = {
  type: 'object',
  required: ['id', 'status', 'scenario', 'feature', 'message'],
  properties: {
    id: checkId,
    status: { enum: STATUS_VALUES },
    scenario: str,
    feature: str,
    message: str,
    found: str,
    expected: str,
    fix: str,
    reason: str,
  },
} as const;

/** results.json, as `sevcheck run` writes it (docs/results.md); extra fields are allowed and dropped. */
export const RESULTS_SCHEMA = {
  type: 'object',
  required: ['host', 'target', 'profile', 'startedAt', 'durationMs', 'checks'],
  properties: {
    host: str,
    target: str,
    profile: { enum: PROFILE_VALUES },
    hostInfo: {
      type: 'object',
      properties: { distro: str, kernel: str, cpuModel: str, sevGeneration: str },
    },
    config: str,
    startedAt: isoTime,
    durationMs: duration,
    checks: { type: 'array', minItems: 1, maxItems: 100_000, items: check },
  },
} as const;

/** A previous fleet.json (--compare): the fields the comparison reads. */
export const FLEET_SCHEMA = {
  type: 'object',
  required: ['startedAt', 'hosts'],
  properties: {
    startedAt: isoTime,
    hosts: {
      type: 'array',
      maxItems: 1_000_000,
      items: {
        type: 'object',
        required: ['name', 'checks'],
        properties: {
          name: hostName,
          error: str,
          checks: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'status'],
              properties: {
                id: checkId,
                status: { enum: STATUS_VALUES },
                waived: { type: 'object', required: ['reason', 'expires'], properties: { reason: str, expires: str } },
              },
            },
          },
        },
      },
    },
  },
} as const;

const tag = { type: ['string', 'number'], description: 'a tag is a string, e.g. rack-a' } as const;
const hostKeys = {
  target: nonEmpty,
  profile: { enum: [...PROFILE_VALUES, null] },
  tags: { type: ['array', 'null'], items: tag },
  /** a site file for this host (docs/site-policy.md) */
  config: nonEmpty,
} as const;

/** The inventory YAML (docs/fleet.md "Inventory"), as parsed. */
export const INVENTORY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    defaults: { type: ['object', 'null'], additionalProperties: false, properties: hostKeys },
    hosts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: ['string', 'number'] }, ...hostKeys },
      },
    },
  },
} as const;

/** The waivers YAML (docs/fleet.md "Waivers"), as parsed (an empty file is no waivers). */
export const WAIVERS_SCHEMA = {
  type: ['array', 'null'],
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['check', 'reason', 'expires'],
    properties: { check: nonEmpty, hosts: nonEmpty, reason: nonEmpty, expires: nonEmpty },
  },
} as const;

export const SCHEMAS = { results: RESULTS_SCHEMA, fleet: FLEET_SCHEMA, inventory: INVENTORY_SCHEMA, waivers: WAIVERS_SCHEMA } as const;
export type SchemaName = keyof typeof SCHEMAS;

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    // verbose: the failing sub-schema (its description) comes with each error; the data is never used
    ajv ??= new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
    v = ajv.compile(SCHEMAS[name]);
    compiled.set(name, v);
  }
  return v;
}

/** ajv's instancePath (/hosts/3/name) as a field path (hosts[3].name). */
export function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

const TYPE_WORDS: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', null: 'empty' };

/** One ajv error as "field: what is wrong", never quoting the value. */
export function schemaProblem(e: ErrorObject): string {
  const at = fieldPath(e.instancePath);
  const join = (key: string): string => (at ? `${at}.${key}` : key);
  const here = at || 'the document';
  const p = e.params as Record<string, unknown>;
  const described = (e.parentSchema as { description?: string } | undefined)?.description;
  switch (e.keyword) {
    case 'required': {
      const req = ((e.parentSchema as { required?: string[] } | undefined)?.required ?? []);
      return `${join(String(p['missingProperty']))}: missing${req.length > 1 ? ` (${req.slice(0, -1).join(', ')} and ${req[req.length - 1]} are required)` : ''}`;
    }
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const key = String(p['additionalProperty']);
      return `${join(/^[A-Za-z0-9_.-]{1,64}$/.test(key) ? key : '(a key)')}: unknown key (allowed: ${allowed.join(', ')})`;
    }
    case 'type': {
      const types = ([] as string[]).concat(p['type'] as string | string[]);
      return `${here}: must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'enum':
      return `${here}: must be one of ${(p['allowedValues'] as unknown[]).filter((v) => v !== null).join(', ')}`;
    case 'pattern':
      return `${here}: ${described ?? 'has the wrong form'}`;
    case 'minLength':
      return `${here}: must not be empty`;
    case 'maxLength':
      return `${here}: ${described ?? `is longer than ${String(p['limit'])} characters`}`;
    case 'minItems':
      return `${here}: must have at least ${String(p['limit'])} entr${p['limit'] === 1 ? 'y' : 'ies'}`;
    case 'maxItems':
      return `${here}: has more than ${String(p['limit'])} entries`;
    case 'minimum':
    case 'maximum':
      return `${here}: must be a number ${e.keyword === 'minimum' ? '>=' : '<='} ${String(p['limit'])}`;
    default:
      return `${here}: ${e.message ?? 'does not match the schema'}`;
  }
}

/** Why `doc` does not fit the schema (one line, no value quoted), or undefined when it does. */
export function schemaCheck(name: SchemaName, doc: unknown): string | undefined {
  const v = validator(name);
  if (v(doc)) return undefined;
  const e = v.errors?.[0];
  return e ? schemaProblem(e) : 'does not match the schema';
}
