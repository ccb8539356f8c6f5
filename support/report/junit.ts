/**
 * junit.xml from sevcheck's own results rather than cucumber's JUnit formatter: cucumber reports
 * a pending step (our "undecided") as a <failure/> with no message, which turns CI red for a check
 * that could not be asked and hides why. The unit is the check, as in every other output
 * (report/findings.ts): one <testcase> per check id with the worst status of its scenarios, one
 * <testsuite> per layer, classname = check id, name = its title. Here:
 *   failed    → <failure message="found …; expected …; fix: …"> with found / expected / fix on
 *               lines of their own, per failed scenario; a check failing because of another says
 *               so first ("because host.modprobe.sev")
 *   undecided → <skipped message="undecided: <reason>"> (CI stays green, the reason is shown)
 *   skipped   → <skipped message="skipped: <reason>">
 * <system-out> lists every scenario with its status. Every text comes from the check's fields
 * (docs/results.md), never from splitting its message.
 */
import type { CheckResult, Results } from './results.js';
import { findings, type CheckFinding, type Findings } from './findings.js';
import { xmlEscape, xmlSeconds } from './xml.js';
import { pointsToOwnersFix } from '../verdict.js';

const esc = xmlEscape;

/** "<status>: <reason>" for undecided and skipped scenarios, "<status>: <message>" otherwise. */
function statusLine(c: CheckResult): string {
  return `${c.status}: ${(c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined ? c.reason : c.message}`;
}

/** A failure's body: found, expected and fix on lines of their own (a harness-error entry has only its message). */
function failureText(c: CheckResult): string {
  if (c.found === undefined || c.expected === undefined || c.fix === undefined) return c.message;
  // a follower (verdict.ts failedBecause) has no fix of its own: its testcase message names the owner
  return `found: ${c.found}\nexpected: ${c.expected}${pointsToOwnersFix(c) ? '' : `\nfix: ${c.fix}`}`;
}

/** `why` before `text`, unless the verdict's own words already begin with it (verdict.ts failedBecause: "because X: ...") */
function said(why: string, text: string): string {
  return why !== '' && (text.startsWith(why) || text.startsWith(`failed: ${why}`) || text.startsWith(`undecided: ${why}`)) ? text : why + text;
}

function because(g: CheckFinding<CheckResult>): string {
  if (g.sameFixAs !== undefined) return `same fix as ${g.sameFixAs}: `;
  return g.because.length ? `because ${g.because.join(', ')}: ` : '';
}

function testcase(g: CheckFinding<CheckResult>): string[] {
  const lead = g.lead;
  const several = g.scenarios.length > 1;
  const out = [`    <testcase classname="${esc(g.id)}" name="${esc(lead.scenario)}${several ? ` (worst of ${g.scenarios.length} scenarios)` : ''}">`];
  if (g.status === 'failed') {
    const failing = g.scenarios.filter((c) => c.status === 'failed');
    const body = failing.map((c) => (several ? `${c.scenario}:\n${failureText(c)}` : failureText(c))).join('\n\n');
    out.push(`      <failure type="${esc(g.id)}" message="${esc(said(because(g), lead.message))}">${esc(because(g) + body)}</failure>`);
  } else if (g.status !== 'passed') out.push(`      <skipped message="${esc(said(because(g), statusLine(lead)))}"/>`);
  const all = g.scenarios.map((c) => (several ? `${c.scenario}: ${statusLine(c)}` : statusLine(c)));
  out.push(`      <system-out>${esc(all.join('\n'))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

/** `f`: the run's findings of these very checks (report/findings.ts), when the caller has them */
export function junitXml(r: Results, f: Findings<CheckResult> = findings(r.checks)): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const t = f.totals;
  const all = t.failed + t.undecided + t.passed + t.skipped;
  out.push(
    `<testsuites name="sevcheck ${esc(r.host)}" tests="${all}" failures="${t.failed}" skipped="${t.undecided + t.skipped}" time="${xmlSeconds(r.durationMs) ?? '0.000'}">`,
  );
  for (const layer of f.layers) {
    const checks = f.checks.filter((c) => c.layer === layer.layer);
    const lt = layer.totals;
    out.push(
      `  <testsuite name="${esc(layer.layer)}" tests="${checks.length}" failures="${lt.failed}" errors="0" skipped="${lt.undecided + lt.skipped}" timestamp="${esc(r.startedAt)}">`,
    );
    out.push(`    <properties><property name="host" value="${esc(r.host)}"/><property name="target" value="${esc(r.target)}"/><property name="profile" value="${esc(r.profile)}"/></properties>`);
    for (const g of checks) out.push(...testcase(g));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
