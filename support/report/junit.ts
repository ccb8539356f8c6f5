/**
 * junit.xml from sevcheck's own results rather than cucumber's JUnit formatter: cucumber reports
 * a pending step (our "undecided") as a <failure/> with no message, which turns CI red for a check
 * that could not be asked and hides why. Here:
 *   failed    → <failure message="found …; expected …; fix: …"> with found / expected / fix on lines of their own
 *   undecided → <skipped message="undecided: <reason>"> (CI stays green, the reason is shown)
 *   skipped   → <skipped message="skipped: <reason>">
 * One <testsuite> per feature file, one <testcase> per scenario, classname = check id. Every
 * text comes from the check's fields (docs/results.md), never from splitting its message.
 */
import type { CheckResult, Results } from './results.js';
import { xmlEscape, xmlSeconds } from './xml.js';

const esc = xmlEscape;

/** "<status>: <reason>" for undecided and skipped checks, "<status>: <message>" otherwise. */
function statusLine(c: CheckResult): string {
  return `${c.status}: ${(c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined ? c.reason : c.message}`;
}

/** A failure's body: found, expected and fix on lines of their own (a harness-error entry has only its message). */
function failureText(c: CheckResult): string {
  if (c.found === undefined || c.expected === undefined || c.fix === undefined) return c.message;
  return `found: ${c.found}\nexpected: ${c.expected}\nfix: ${c.fix}`;
}

export function junitXml(r: Results): string {
  const byFeature = new Map<string, Results['checks']>();
  for (const c of r.checks) byFeature.set(c.feature, [...(byFeature.get(c.feature) ?? []), c]);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const n = (s: string): number => r.checks.filter((c) => c.status === s).length;
  out.push(
    `<testsuites name="sevcheck ${esc(r.host)}" tests="${r.checks.length}" failures="${n('failed')}" skipped="${n('undecided') + n('skipped')}" time="${xmlSeconds(r.durationMs) ?? '0.000'}">`,
  );
  for (const [feature, checks] of byFeature) {
    const f = checks.filter((c) => c.status === 'failed').length;
    const s = checks.filter((c) => c.status === 'undecided' || c.status === 'skipped').length;
    out.push(`  <testsuite name="${esc(feature)}" tests="${checks.length}" failures="${f}" errors="0" skipped="${s}" timestamp="${esc(r.startedAt)}">`);
    out.push(`    <properties><property name="host" value="${esc(r.host)}"/><property name="target" value="${esc(r.target)}"/><property name="profile" value="${esc(r.profile)}"/></properties>`);
    for (const c of checks) {
      out.push(`    <testcase classname="${esc(c.id)}" name="${esc(c.scenario)}">`);
      if (c.status === 'failed') out.push(`      <failure type="${esc(c.id)}" message="${esc(c.message)}">${esc(failureText(c))}</failure>`);
      else if (c.status !== 'passed') out.push(`      <skipped message="${esc(statusLine(c))}"/>`);
      out.push(`      <system-out>${esc(statusLine(c))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
