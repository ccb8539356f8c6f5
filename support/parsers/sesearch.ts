/**
 * `sesearch -A -s svirt_t -t sev_device_t -c chr_file [policy]` output (setools 4), and the
 * decision whether QEMU's domain may open, read, write and ioctl /dev/sev.
 *
 * Output format (setools 4.4, sample recorded in fixtures/device-samples/):
 *   allow virt_domain kvm_device_t:chr_file { append getattr ioctl lock open read write };
 *   allow svirt_t event_device_t:chr_file ioctl; [ virt_use_evdev ]:True
 * - source/target may be attributes (virt_domain, domain): sesearch already matched them against
 *   the types asked for, so every printed rule applies to svirt_t / sev_device_t.
 * - a single permission is printed without braces.
 * - a rule inside a conditional block ends with "[ <boolean expression> ]:True" or ":False": the
 *   rule is active when the expression has that value. sesearch does not print the booleans'
 *   current state; `getsebool -a` does.
 * - a type the policy does not know: "sev_device_t is not a valid type attribute" on stdout,
 *   exit status 1 (recorded on Debian 12 refpolicy, which has no sev_device_t).
 * - no matching rule: empty output, exit status 0.
 * - allowxperm rules (ioctl command whitelists) are reported in notes: if present they restrict
 *   which ioctl commands the "ioctl" permission covers.
 * Needed permissions for QEMU on /dev/sev: open read write ioctl (checks.md selinux.svirt-access;
 * QEMU opens /dev/sev O_RDWR and issues SEV_ISSUE_CMD ioctls, qemu target/i386/sev.c).
 */
import { failed, passed, undecided, type Verdict } from '../verdict.js';
import { numberedLines, ok, parseError, type ParseResult } from './parse-result.js';

export interface AllowRule {
  readonly kind: 'allow' | 'allowxperm';
  readonly source: string;
  readonly target: string;
  readonly tclass: string;
  readonly perms: readonly string[];
  /** conditional rules: the boolean expression and the branch the rule is in */
  readonly condition?: { readonly expr: string; readonly branch: boolean } | undefined;
  readonly line: number;
  readonly text: string;
}

export type SesearchResult =
  | { readonly kind: 'rules'; readonly rules: readonly AllowRule[] }
  | { readonly kind: 'unknown-type'; readonly name: string; readonly text: string };

const RULE = /^(allow|allowxperm|auditallow|dontaudit)\s+(\S+)\s+(\S+):(\S+)\s+(.*?);\s*(?:\[\s*(.+?)\s*\]:(True|False))?\s*$/;

export function parseSesearch(text: string, source = 'sesearch'): ParseResult<SesearchResult> {
  const rules: AllowRule[] = [];
  const notes: string[] = [];
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    const unknown = /^(\S+) is not a valid (?:type attribute|type|attribute)$/.exec(t);
    if (unknown) return ok({ kind: 'unknown-type', name: unknown[1] ?? '', text: t });
    const m = RULE.exec(t);
    if (!m) return parseError(source, line, `not a sesearch rule: '${t.slice(0, 100)}'`);
    const kind = m[1];
    if (kind === 'auditallow' || kind === 'dontaudit') {
      notes.push(`${source}:${line}: ${kind} rule ignored (does not grant access)`);
      continue;
    }
    let permText = m[5] ?? '';
    if (kind === 'allowxperm') {
      notes.push(`${source}:${line}: allowxperm restricts which ioctl commands are allowed: ${t}`);
      permText = permText.replace(/^ioctl\s+/, '');
    }
    const perms = permText.startsWith('{')
      ? permText.endsWith('}')
        ? permText.slice(1, -1).trim().split(/\s+/).filter((p) => p !== '')
        : undefined
      : permText.split(/\s+/).length === 1
        ? [permText]
        : undefined;
    if (!perms || perms.length === 0) return parseError(source, line, `bad permission set '${permText}'`);
    rules.push({
      kind: kind === 'allowxperm' ? 'allowxperm' : 'allow',
      source: m[2] ?? '',
      target: m[3] ?? '',
      tclass: m[4] ?? '',
      perms,
      ...(m[6] !== undefined ? { condition: { expr: m[6], branch: m[7] === 'True' } } : {}),
      line,
      text: t,
    });
  }
  return ok({ kind: 'rules', rules }, notes);
}

/**
 * Evaluate a conditional expression as sesearch prints it (infix: names, !, &&, ||, ^, ==, !=,
 * parentheses) against known boolean states. undefined when a boolean's state is unknown.
 */
export function evalCondition(expr: string, booleans: ReadonlyMap<string, boolean>): boolean | undefined {
  const tokens = expr.match(/\(|\)|!=|==|&&|\|\||\^|!|[A-Za-z0-9_]+/g) ?? [];
  let pos = 0;
  let unknown = false;
  const peek = (): string | undefined => tokens[pos];
  const primary = (): boolean => {
    const t = tokens[pos++];
    if (t === '!') return !primary();
    if (t === '(') {
      const v = binary(0);
      pos++; // ')'
      return v;
    }
    if (t === undefined) throw new Error('truncated expression');
    const v = booleans.get(t);
    if (v === undefined) unknown = true;
    return v ?? false;
  };
  const PREC: Record<string, number> = { '||': 1, '^': 2, '&&': 3, '==': 4, '!=': 4 };
  const binary = (min: number): boolean => {
    let left = primary();
    for (;;) {
      const op = peek();
      const p = op !== undefined ? PREC[op] : undefined;
      if (op === undefined || p === undefined || p < min) return left;
      pos++;
      const right = binary(p + 1);
      left = op === '||' ? left || right : op === '&&' ? left && right : op === '^' ? left !== right : op === '==' ? left === right : left !== right;
    }
  };
  try {
    const v = binary(0);
    return unknown || pos !== tokens.length ? undefined : v;
  } catch {
    return undefined;
  }
}

export const SEV_NEEDED_PERMS: readonly string[] = ['open', 'read', 'write', 'ioctl'];

export interface AccessFromPolicy {
  readonly granted: readonly string[];
  readonly missing: readonly string[];
  /** permissions only granted by conditional rules whose state is unknown, with the expressions */
  readonly conditional: readonly { readonly perm: string; readonly expr: string; readonly branch: boolean }[];
  readonly rules: readonly AllowRule[];
}

export function policyAccess(
  result: Extract<SesearchResult, { kind: 'rules' }>,
  needed: readonly string[] = SEV_NEEDED_PERMS,
  booleans: ReadonlyMap<string, boolean> = new Map(),
  tclass = 'chr_file',
): AccessFromPolicy {
  const granted = new Set<string>();
  const conditional: { perm: string; expr: string; branch: boolean }[] = [];
  const used: AllowRule[] = [];
  for (const r of result.rules) {
    if (r.kind !== 'allow' || r.tclass !== tclass) continue;
    let active: boolean | undefined = true;
    if (r.condition) {
      const v = evalCondition(r.condition.expr, booleans);
      active = v === undefined ? undefined : v === r.condition.branch;
    }
    if (active === false) continue;
    for (const p of r.perms) {
      if (active === undefined) conditional.push({ perm: p, expr: r.condition?.expr ?? '', branch: r.condition?.branch ?? true });
      else granted.add(p);
    }
    used.push(r);
  }
  const missing = needed.filter((p) => !granted.has(p));
  return {
    granted: needed.filter((p) => granted.has(p)),
    missing,
    conditional: conditional.filter((c) => missing.includes(c.perm)),
    rules: used,
  };
}

/** selinux.svirt-access from parsed sesearch output. */
export function svirtAccessVerdict(
  result: SesearchResult,
  booleans: ReadonlyMap<string, boolean> = new Map(),
  domain = 'svirt_t',
  type = 'sev_device_t',
): Verdict {
  const query = `sesearch -A -s ${domain} -t ${type} -c chr_file`;
  if (result.kind === 'unknown-type')
    return failed(
      `the loaded policy has no type ${result.name} (${query}: "${result.text}")`,
      `a policy defining ${type} and allowing ${domain} ${SEV_NEEDED_PERMS.join(' ')} on it`,
      'upgrade selinux-policy (Fedora/RHEL >= 3.14.2-40), or add a local module: audit2allow -M sev_local < /var/log/audit/audit.log && semodule -i sev_local.pp',
    );
  const a = policyAccess(result, SEV_NEEDED_PERMS, booleans);
  if (a.missing.length === 0)
    return passed(`${domain} may ${SEV_NEEDED_PERMS.join(' ')} ${type}:chr_file (${a.rules.map((r) => `${r.source} ${r.target}`).join('; ')})`);
  const stillMissing = a.missing.filter((p) => !a.conditional.some((c) => c.perm === p));
  if (stillMissing.length === 0) {
    const exprs = [...new Set(a.conditional.map((c) => `[ ${c.expr} ]:${c.branch ? 'True' : 'False'}`))];
    return undecided(
      `${a.missing.join(' ')} on ${type} come only from conditional rules ${exprs.join(', ')}; record \`getsebool -a\` to decide`,
    );
  }
  return failed(
    `${query} grants ${a.granted.length ? a.granted.join(' ') : 'nothing'}${a.rules.length ? '' : ' (no rule)'}`,
    `${domain} allowed ${SEV_NEEDED_PERMS.join(' ')} on ${type}:chr_file (missing: ${stillMissing.join(' ')})`,
    'upgrade selinux-policy, or build a local module from the denials: ausearch -m avc -c qemu-kvm | audit2allow -M sev_local && semodule -i sev_local.pp',
  );
}

/** `getsebool -a` lines: "virt_use_nfs --> on". */
export function parseGetsebool(text: string, source = 'getsebool -a'): ParseResult<Map<string, boolean>> {
  const map = new Map<string, boolean>();
  for (const { line, text: raw } of numberedLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    const m = /^(\S+)\s+-->\s+(on|off)(?:\s+pending:\s+(on|off))?$/.exec(t);
    if (!m) return parseError(source, line, `not a getsebool line: '${t.slice(0, 80)}'`);
    map.set(m[1] ?? '', m[2] === 'on');
  }
  return ok(map);
}
