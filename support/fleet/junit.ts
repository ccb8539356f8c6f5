/**
 * The fleet's junit.xml: one <testsuite> per host (name = host name), one <testcase> per scenario
 * (classname = check id, name = scenario), the same mapping as a single run's junit.xml
 * (support/report/junit.ts), so a CI dashboard reads both alike:
 *   failed          → <failure message="found …; expected …; fix: …"> with found / expected / fix on lines of their own
 *   failed + waived → <skipped message="waived until YYYY-MM-DD: <reason>; failed: <message>">:
 *                     a waived failure does not count for the exit code (issue 10), so it must not
 *                     turn CI red either; <skipped> keeps it visible, with the waiver and the failure
 *   undecided       → <skipped message="undecided: <reason>">
 *   skipped         → <skipped message="skipped: <reason>">
 *   a host that could not be checked (FleetHost.error) → its suite has one testcase,
 *                     classname "sevcheck.host", name "host could be checked", with <error message="<why>">
 *                     (JUnit's <error> = the test could not run, as opposed to <failure>), errors="1"
 * Every text comes from the check's fields, never from splitting its message.
 *
 * Schema followed: the de-facto JUnit XML of Ant's XMLJUnitResultFormatter as Jenkins' junit
 * plugin reads it (testsuites > testsuite[name,tests,failures,errors,skipped,timestamp,time] >
 * properties, testcase[classname,name] > failure | error | skipped, system-out).
 *
 * Pure: FleetResults in, text out.
 */
import type { FleetCheck, FleetHost, FleetResults } from './types.js';
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

function suite(h: FleetHost, startedAt: string): string[] {
  const props = `    <properties><property name="target" value="${esc(h.target)}"/><property name="profile" value="${esc(h.profile)}"/><property name="tags" value="${esc(h.tags.join(','))}"/><property name="exitCode" value="${esc(String(h.exitCode))}"/></properties>`;
  const secs = xmlSeconds(h.durationMs);
  const time = secs !== undefined ? ` time="${secs}"` : '';
  if (h.error !== undefined) {
    return [
      `  <testsuite name="${esc(h.name)}" tests="1" failures="0" errors="1" skipped="0" timestamp="${esc(startedAt)}"${time}>`,
      props,
      `    <testcase classname="${HOST_ERROR_CLASSNAME}" name="host could be checked">`,
      `      <error message="${esc(h.error)}">${esc(h.error)}</error>`,
      '    </testcase>',
      '  </testsuite>',
    ];
  }
  const failures = h.checks.filter((c) => c.status === 'failed' && !c.waived).length;
  const skippedN = h.checks.length - failures - h.checks.filter((c) => c.status === 'passed').length;
  const out = [`  <testsuite name="${esc(h.name)}" tests="${h.checks.length}" failures="${failures}" errors="0" skipped="${skippedN}" timestamp="${esc(startedAt)}"${time}>`, props];
  for (const c of h.checks) {
    out.push(`    <testcase classname="${esc(c.id)}" name="${esc(c.scenario)}">`);
    if (c.status === 'failed' && !c.waived) out.push(`      <failure type="${esc(c.id)}" message="${esc(c.message)}">${esc(failureText(c))}</failure>`);
    else if (c.status !== 'passed') out.push(`      <skipped message="${esc(statusLine(c))}"/>`);
    out.push(`      <system-out>${esc(statusLine(c))}</system-out>`, '    </testcase>');
  }
  out.push('  </testsuite>');
  return out;
}

export function fleetJunitXml(fleet: FleetResults): string {
  const errors = fleet.hosts.filter((h) => h.error !== undefined).length;
  const checked = fleet.hosts.filter((h) => h.error === undefined).flatMap((h) => h.checks);
  const failures = checked.filter((c) => c.status === 'failed' && !c.waived).length;
  const passed = checked.filter((c) => c.status === 'passed').length;
  const tests = checked.length + errors;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sevcheck fleet" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${tests - errors - failures - passed}" time="${xmlSeconds(fleet.durationMs) ?? '0.000'}" timestamp="${esc(fleet.startedAt)}">`,
    ...fleet.hosts.flatMap((h) => suite(h, fleet.startedAt)),
    '</testsuites>',
    '',
  ].join('\n');
}
