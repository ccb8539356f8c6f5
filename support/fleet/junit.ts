/**
 * The fleet's junit.xml: one <testsuite> per host (name = host name), one <testcase> per check id
 * (classname = check id, name = its scenario, or the worst of them with how many there are: issue
 * 20's one unit, the check, so `tests` and `failures` are the host's numbers on every page):
 *   failed          → <failure message="found …; expected …; fix: …"> with found / expected / fix on lines of their own
 *   failed + waived → <skipped message="waived until YYYY-MM-DD: <reason>; failed: <message>">:
 *                     a waived failure does not count for the exit code (issue 10), so it must not
 *                     turn CI red either; <skipped> keeps it visible, with the waiver and the failure
 *   undecided       → <skipped message="undecided: <reason>">
 *   skipped         → <skipped message="skipped: <reason>">
 *   a host that could not be checked (FleetHost.error) → its suite has one testcase,
 *                     classname "sevcheck.host", name "host could be checked", with <error message="<why>">
 *                     (JUnit's <error> = the test could not run, as opposed to <failure>), errors="1"
 * A check's several scenarios are all in its <system-out>, one line each. Each suite's properties
 * carry the host's target, profile, tags and exit code, the fleet page (`fleet`) and every waiver
 * that applies to the host (`waiver`). A host's own junit.xml in a fleet (hosts/<name>/junit.xml) is
 * its suite of this file (hostJunitXml), with the fleet page relative to it.
 * Every text comes from the check's fields, never from splitting its message.
 *
 * Schema followed: the de-facto JUnit XML of Ant's XMLJUnitResultFormatter as Jenkins' junit
 * plugin reads it (testsuites > testsuite[name,tests,failures,errors,skipped,timestamp,time] >
 * properties, testcase[classname,name] > failure | error | skipped, system-out).
 *
 * Pure: FleetResults in, text out.
 */
import { fleetMatrix, type CellStatus } from './matrix.js';
import type { FleetCheck, FleetHost, FleetResults, Waiver } from './types.js';
import { xmlEscape, xmlSeconds } from '../report/xml.js';

const esc = xmlEscape;

/** The id a host-level error testcase carries (no check id has this first segment). */
export const HOST_ERROR_CLASSNAME = 'sevcheck.host';

function failureText(c: FleetCheck): string {
  if (c.found === undefined || c.expected === undefined || c.fix === undefined) return c.message;
  return `found: ${c.found}\nexpected: ${c.expected}\nfix: ${c.fix}`;
}

function statusLine(c: FleetCheck): string {
  if (c.status === 'failed' && c.waived) return `waived until ${c.waived.expires}: ${c.waived.reason}; failed: ${c.message}`;
  return `${c.status}: ${(c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined ? c.reason : c.message}`;
}

/** How a suite links back and which waivers it names. */
export interface SuiteContext {
  readonly startedAt: string;
  /** the fleet page, relative to the file */
  readonly page?: string | undefined;
  /** the waivers that apply to the host */
  readonly waivers?: readonly Waiver[] | undefined;
}

const waiverText = (w: Waiver): string => `${w.check} on ${w.hosts ?? '*'} until ${w.expires}: ${w.reason}`;

/** One host's suite, and its numbers (tests = its check ids). */
function suite(h: FleetHost, cells: ReadonlyMap<string, { status: CellStatus; scenarios: readonly FleetCheck[] }>, ctx: SuiteContext): { lines: string[]; tests: number; failures: number; skipped: number; errors: number } {
  const props = [
    `<property name="target" value="${esc(h.target)}"/>`,
    `<property name="profile" value="${esc(h.profile)}"/>`,
    `<property name="tags" value="${esc(h.tags.join(','))}"/>`,
    `<property name="exitCode" value="${esc(String(h.exitCode))}"/>`,
    ...(ctx.page !== undefined ? [`<property name="fleet" value="${esc(ctx.page)}"/>`] : []),
    ...(ctx.waivers ?? []).map((w) => `<property name="waiver" value="${esc(waiverText(w))}"/>`),
  ];
  const propLine = `    <properties>${props.join('')}</properties>`;
  const secs = xmlSeconds(h.durationMs);
  const time = secs !== undefined ? ` time="${secs}"` : '';
  if (h.error !== undefined) {
    return {
      lines: [
        `  <testsuite name="${esc(h.name)}" tests="1" failures="0" errors="1" skipped="0" timestamp="${esc(ctx.startedAt)}"${time}>`,
        propLine,
        `    <testcase classname="${HOST_ERROR_CLASSNAME}" name="host could be checked">`,
        `      <error message="${esc(h.error)}">${esc(h.error)}</error>`,
        '    </testcase>',
        '  </testsuite>',
      ],
      tests: 1,
      failures: 0,
      skipped: 0,
      errors: 1,
    };
  }
  const ids = [...cells.keys()];
  let failures = 0;
  let skipped = 0;
  const body: string[] = [];
  for (const id of ids) {
    const cell = cells.get(id)!;
    const worst = cell.scenarios[0]!;
    const name = cell.scenarios.length === 1 ? worst.scenario : `${worst.scenario} (and ${cell.scenarios.length - 1} more ${cell.scenarios.length === 2 ? 'scenario' : 'scenarios'})`;
    body.push(`    <testcase classname="${esc(id)}" name="${esc(name)}">`);
    if (cell.status === 'failed') {
      failures++;
      const f = cell.scenarios.find((c) => c.status === 'failed' && !c.waived)!;
      body.push(`      <failure type="${esc(id)}" message="${esc(f.message)}">${esc(failureText(f))}</failure>`);
    } else if (cell.status !== 'passed') {
      skipped++;
      body.push(`      <skipped message="${esc(statusLine(worst))}"/>`);
    }
    body.push(`      <system-out>${esc(cell.scenarios.map((c) => (cell.scenarios.length > 1 ? `${c.scenario}: ${statusLine(c)}` : statusLine(c))).join('\n'))}</system-out>`, '    </testcase>');
  }
  return {
    lines: [`  <testsuite name="${esc(h.name)}" tests="${ids.length}" failures="${failures}" errors="0" skipped="${skipped}" timestamp="${esc(ctx.startedAt)}"${time}>`, propLine, ...body, '  </testsuite>'],
    tests: ids.length,
    failures,
    skipped,
    errors: 0,
  };
}

function cellsOf(h: FleetHost): Map<string, { status: CellStatus; scenarios: readonly FleetCheck[] }> {
  const m = fleetMatrix({ hosts: [h] });
  return new Map(m.columns.map((c) => [c.id, m.cell(h.name, c.id)!]));
}

function document(name: string, suites: ReturnType<typeof suite>[], durationMs: number, startedAt: string): string {
  const n = (k: 'tests' | 'failures' | 'skipped' | 'errors'): number => suites.reduce((a, s) => a + s[k], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(name)}" tests="${n('tests')}" failures="${n('failures')}" errors="${n('errors')}" skipped="${n('skipped')}" time="${xmlSeconds(durationMs) ?? '0.000'}" timestamp="${esc(startedAt)}">`,
    ...suites.flatMap((s) => s.lines),
    '</testsuites>',
    '',
  ].join('\n');
}

export interface FleetJunitOptions {
  /** the fleet page (index.html) relative to junit.xml, named in each suite's `fleet` property */
  readonly page?: string | undefined;
  /** the waivers that apply to a host */
  readonly waiversFor?: ((host: string) => readonly Waiver[]) | undefined;
}

export function fleetJunitXml(fleet: FleetResults, opts: FleetJunitOptions = {}): string {
  const suites = fleet.hosts.map((h) =>
    suite(h, cellsOf(h), { startedAt: fleet.startedAt, page: opts.page !== undefined ? `${opts.page}#host-${h.name}` : undefined, waivers: opts.waiversFor?.(h.name) }),
  );
  return document('sevcheck fleet', suites, fleet.durationMs, fleet.startedAt);
}

/** A host's own junit.xml in a fleet: its suite of the fleet's file, linking back to the fleet page. */
export function hostJunitXml(h: FleetHost, ctx: SuiteContext): string {
  return document(`sevcheck ${h.name}`, [suite(h, cellsOf(h), ctx)], h.durationMs ?? 0, ctx.startedAt);
}
