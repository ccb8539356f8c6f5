/**
 * report.html: one self-contained page a person reads, written from sevcheck's own verdicts
 * (results.json), not from cucumber's step view. It leads with what failed (found / expected /
 * fix), then what could not be decided (and why), then what passed, then what did not apply;
 * each grouped by layer (the first segment of the check id). Every check is one element whose
 * id is the check id, so `report.html#host.kvm-amd.sev` links to it.
 *
 * Everything on the page but the markup written here comes from a probed host or an input file
 * (host names, config lines, command output, file names) and is untrusted: every such string goes
 * through `text()` (control bytes escaped by `printable`, then & < > " ' as character references).
 * Nothing is stripped: `<memoryBacking><locked/>` shows as those characters. The page has no
 * script at all, and its Content-Security-Policy forbids one, so a line that escaped escaping
 * still could not run.
 *
 * Pure: Results in, a string out (support/cli/run.ts writes it).
 */
import { printable } from './printable.js';
import { STYLESHEET } from './style.js';
import { pointsToOwnersFix, type Status } from '../verdict.js';
import type { CheckResult, HostInfo, Results } from './results.js';
import { checksLine, findings, STATUSES, undecidedHeadline, verdictOf, type Cause, type CheckFinding, type Findings, type UndecidedGroup } from './findings.js';

/**
 * What the page reads of a check. `found` / `expected` / `fix` / `reason` / `source` are the
 * structured fields of a verdict (issue 14, item 4); while a results object lacks them, the page
 * shows `message`, which says the same in one string (docs/results.md). The page never splits
 * `message` into fields itself.
 */
export type ReportCheck = CheckResult & {
  /** the evidence read: file:line, command, register */
  readonly source?: string | undefined;
  /** in a fleet: the waiver that accepts this failure (support/fleet/waivers.ts) */
  readonly waived?: { readonly reason: string; readonly expires: string } | undefined;
};

export type ReportHostInfo = HostInfo;

/** results.json as the page reads it (support/report/results.ts Results; lint-domain writes the same shape) */
export type ReportResults = Omit<Results, 'checks'> & { readonly checks: readonly ReportCheck[] };

export interface ReportHtmlOptions {
  /** the files beside the page to link to (names from report/writers.ts): the step-level Gherkin view, the machine results */
  readonly links?: { readonly steps?: string | undefined; readonly results?: string | undefined };
  /** the command that wrote the page, for the footer (default "sevcheck run") */
  readonly command?: string;
  /** what the several entries of one check id are: "scenarios" (run), "files" (lint-domain) */
  readonly parts?: string;
  /** a host's page in a fleet (support/fleet/host-writers.ts): the link back and the waivers that apply to the host */
  readonly fleet?: {
    /** the fleet page, relative to this one */
    readonly page: string;
    readonly startedAt: string;
    readonly waivers: ReadonlyArray<{ readonly check: string; readonly hosts?: string | undefined; readonly reason: string; readonly expires: string }>;
  } | undefined;
}

const ORDER: readonly Status[] = STATUSES;
const HEADING: Record<Status, string> = { failed: 'Failed', undecided: 'Undecided', passed: 'Passed', skipped: 'Skipped' };

/**
 * Untrusted text as HTML text or attribute value: control bytes as visible escapes (printable),
 * then the five characters that can end text or an attribute (& < > " ') as character references
 * (HTML Living Standard, 13.1.4 "Character references"; the same set OWASP's XSS prevention
 * cheat sheet, rule 1, names).
 */
export function text(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One check id: its scenarios (several for outlines / machine types), their worst status, its causes (report/findings.ts). */
type Group = CheckFinding<ReportCheck>;

/** In a fleet: a failed check every failed scenario of which a waiver accepts (support/fleet/waivers.ts). */
const isWaived = (g: Group): boolean => g.status === 'failed' && g.scenarios.every((c) => c.status !== 'failed' || c.waived !== undefined);

function verdictLine(f: Findings<ReportCheck>): { status: Status | 'waived'; words: string } {
  const waived = f.checks.filter(isWaived).length;
  if (waived > 0 && f.totals.failed === waived) {
    const u = f.totals.undecided;
    return { status: 'waived', words: `COMPLIANT WITH WAIVERS — ${waived} failed ${waived === 1 ? 'check' : 'checks'} waived${u ? `, ${u} undecided` : ''}` };
  }
  const v = verdictOf(f.totals);
  return { status: v.status, words: v.words === 'COMPLIANT SO FAR' ? `COMPLIANT SO FAR — ${f.totals.undecided} undecided` : v.words };
}

/** An ISO timestamp as the pages show it ("2026-12-03 01:00:00 UTC"); the text itself when it is not one. */
export function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function identity(r: ReportResults): string {
  const rows: Array<[string, string | undefined]> = [
    ['target', r.target],
    ['distro', r.hostInfo?.distro],
    ['kernel', r.hostInfo?.kernel],
    ['CPU', r.hostInfo?.cpuModel],
    ['SEV generation', r.hostInfo?.sevGeneration],
    ['profile', r.profile],
    ['site file', r.config],
    ['started', when(r.startedAt)],
    ['took', duration(r.durationMs)],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '')
    .map(([k, v]) => `<div><dt>${k}</dt><dd>${k === 'target' || k === 'site file' ? `<code>${text(v)}</code>` : text(v)}</dd></div>`)
    .join('');
}

/** The body of one scenario's verdict: fields where the verdict has them, else its message. */
function details(c: ReportCheck, sharedReason?: string): string {
  const rows: string[] = [];
  // in an undecided group, a reason the group states once is not repeated under each check
  if (sharedReason !== undefined && c.status === 'undecided' && c.reason === sharedReason) {
    return c.source !== undefined ? `<dl class="fields"><dt>source</dt><dd class="source"><code>${text(c.source)}</code></dd></dl>` : '';
  }
  if (c.status === 'failed') {
    if (c.found !== undefined) rows.push(`<dt>found</dt><dd class="found">${text(c.found)}</dd>`);
    if (c.expected !== undefined) rows.push(`<dt>expected</dt><dd class="expected">${text(c.expected)}</dd>`);
    // a follower (verdict.ts failedBecause) has no fix of its own: its owner's is shown above it
    if (c.fix !== undefined && !pointsToOwnersFix(c)) rows.push(`<dt>fix</dt><dd class="fix"><code>${text(c.fix)}</code></dd>`);
  } else if (c.status !== 'passed' && c.reason !== undefined) {
    rows.push(`<dt>${c.status === 'undecided' ? 'why' : 'why not'}</dt><dd class="reason">${text(c.reason)}</dd>`);
  }
  if (rows.length === 0) return `<p class="message">${text(c.message)}</p>${c.source !== undefined ? `<dl class="fields"><dt>source</dt><dd class="source"><code>${text(c.source)}</code></dd></dl>` : ''}`;
  if (c.source !== undefined) rows.push(`<dt>source</dt><dd class="source"><code>${text(c.source)}</code></dd>`);
  return `<dl class="fields">${rows.join('')}</dl>`;
}

/** "because host.modprobe.sev", linking to it (a symptom's line) */
function becauseLine(g: Group): string {
  if (g.sameFixAs !== undefined) return `<p class="because">same fix as <a href="#${text(g.sameFixAs)}">${text(g.sameFixAs)}</a></p>`;
  if (!g.because.length) return '';
  return `<p class="because">because ${g.because.map((b) => `<a href="#${text(b)}">${text(b)}</a>`).join(', ')}</p>`;
}

function check(g: Group, parts: string, symptom = false, sharedReason?: string): string {
  const brief = g.status === 'passed' || g.status === 'skipped';
  const single = g.scenarios.length === 1 ? g.scenarios[0] : undefined;
  // the feature file, when every entry has the same one (lint-domain's entries are different files)
  const features = new Set(g.scenarios.map((c) => c.feature));
  const feature = features.size === 1 ? [...features][0]! : '';
  const head =
    `<h4><a class="id" href="#${text(g.id)}">${text(g.id)}</a>` +
    (single ? `<span class="title">${text(single.scenario)}</span>` : `<span class="title">${g.scenarios.length} ${text(parts)}</span>`) +
    (feature ? `<span class="feature">${text(feature)}</span>` : '') + '</h4>';
  const body = single
    ? details(single, sharedReason)
    : g.scenarios
        .map((c) => `<div class="scenario ${c.status}"><span class="label ${c.status}">${c.status}</span><span class="name">${text(c.scenario)}</span>${details(c, sharedReason)}</div>`)
        .join('');
  const w = isWaived(g) ? g.scenarios.find((c) => c.waived)?.waived : undefined;
  const waiver = w ? `<p class="waiver"><span class="label waived">waived</span>until ${text(w.expires)}: ${text(w.reason)}</p>` : '';
  return `<article class="check ${g.status}${w ? ' waived' : ''}${brief ? ' brief' : ''}${symptom ? ' symptom' : ''}" id="${text(g.id)}">${head}${waiver}${becauseLine(g)}${body}</article>`;
}

/** Failed: each cause with its fix, the checks failing (or undecided) because of it under it. */
function causesSection(f: Findings<ReportCheck>, parts: string): string {
  if (f.causes.length === 0) return '';
  const under = (c: Cause<ReportCheck>): string => {
    if (!c.symptoms.length) return '';
    const failed = c.symptoms.filter((s) => s.status === 'failed');
    const undecided = c.symptoms.filter((s) => s.status === 'undecided');
    const list = (gs: readonly Group[]): string => gs.map((g) => `<a href="#${text(g.id)}">${text(g.id)}</a>`).join(', ');
    return (
      `<div class="symptoms">` +
      (failed.length ? `<p><span class="label failed">failed</span>because of it (${failed.length}): ${list(failed)}</p>` : '') +
      (undecided.length ? `<p><span class="label undecided">undecided</span>because of it (${undecided.length}): ${list(undecided)}</p>` : '') +
      failed.map((g) => check(g, parts, true)).join('') +
      `</div>`
    );
  };
  const body = f.causes.map((c) => `<div class="cause">${check(c.check, parts)}${under(c)}</div>`).join('');
  const symptoms = f.causes.reduce((n, c) => n + c.symptoms.filter((s) => s.status === 'failed').length, 0);
  const head = `Failed (${f.totals.failed})${f.causes.length < f.totals.failed ? ` — ${f.causes.length} cause${f.causes.length === 1 ? '' : 's'}, ${symptoms} failing because of ${f.causes.length === 1 ? 'it' : 'them'}` : ''}`;
  return `<section class="status failed" id="failed"><h2>${head}</h2>${body}</section>`;
}

/** The reason every undecided scenario of a group gives, when they all give the same one. */
function sharedReasonOf(g: UndecidedGroup<ReportCheck>): string | undefined {
  const reasons = new Set(g.checks.flatMap((c) => c.scenarios.filter((x) => x.status === 'undecided').map((x) => x.reason ?? x.message)));
  const [only] = reasons;
  return reasons.size === 1 && only !== undefined && g.checks.every((c) => c.scenarios.every((x) => x.status !== 'undecided' || x.reason !== undefined)) ? only : undefined;
}

/** Undecided: grouped by reason with one remedy; those a failure explains, under it in Failed, are listed last with their cause. */
function undecidedSection(f: Findings<ReportCheck>, parts: string): string {
  if (f.totals.undecided === 0) return '';
  // the group's reason once (its headline, or one "why" line when every check gives the same
  // reason); a check shows its own reason only where it says more than that (as the console does)
  const group = (g: UndecidedGroup<ReportCheck>): string => {
    const shared = sharedReasonOf(g);
    return (
      `<div class="reason-group"><h3 class="reason">${text(undecidedHeadline(g))}</h3>` +
      (g.remedy !== undefined && shared !== undefined ? `<p class="why"><span class="what">why:</span> ${text(shared)}</p>` : '') +
      (g.remedy !== undefined ? `<p class="remedy"><span class="what">to decide them:</span> ${text(g.remedy)}</p>` : '') +
      g.checks.map((c) => check(c, parts, false, shared)).join('') +
      '</div>'
    );
  };
  const explained = f.checks.filter((c) => c.status === 'undecided' && c.root !== undefined);
  const tail = explained.length
    ? `<div class="reason-group"><h3 class="reason">${explained.length} because of a failure above</h3>${explained.map((c) => check(c, parts, true)).join('')}</div>`
    : '';
  return `<section class="status undecided" id="undecided"><h2>Undecided (${f.totals.undecided})</h2>${f.undecided.map(group).join('')}${tail}</section>`;
}

function section(status: Status, gs: readonly Group[], parts: string): string {
  if (status === 'failed' || status === 'undecided') return '';
  const mine = gs.filter((g) => g.status === status);
  if (mine.length === 0) return '';
  const layers = [...new Set(mine.map((g) => g.layer))];
  const body = layers
    .map((layer) => `<h3 class="layer">${text(layer)}</h3>${mine.filter((g) => g.layer === layer).map((g) => check(g, parts)).join('')}`)
    .join('');
  return `<section class="status ${status}" id="${status}"><h2>${HEADING[status]} (${mine.length})</h2>${body}</section>`;
}

/** In a fleet: the link back to the fleet page, and the waivers that apply to this host. */
function inFleet(f: NonNullable<ReportHtmlOptions['fleet']>): string {
  const ws = f.waivers.map((w) => `<li><code>${text(w.check)}</code> until ${text(w.expires)}: ${text(w.reason)}${w.hosts !== undefined ? ` <span class="muted">(hosts ${text(w.hosts)})</span>` : ''}</li>`);
  return (
    `<div class="in-fleet"><p>Part of the fleet run of ${text(when(f.startedAt))}: <a href="${text(f.page)}">back to the fleet page</a>.` +
    (ws.length ? ` Waivers that apply to this host (${ws.length}):</p><ul>${ws.join('')}</ul>` : ' No waiver applies to this host.</p>') +
    '</div>'
  );
}

/**
 * The page loads nothing and runs nothing: inline styles only (W3C CSP Level 3, 6.1.1
 * default-src / 6.1.12 style-src 'unsafe-inline'; there is no script-src, so default-src 'none'
 * forbids every script, inline ones included).
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** `f`: the run's findings of these very checks (report/findings.ts), when the caller has them */
export function reportHtml(results: ReportResults, opts: ReportHtmlOptions = {}, f: Findings<ReportCheck> = findings(results.checks)): string {
  const gs = f.checks;
  const v = verdictLine(f);
  const n = (s: Status): number => f.totals[s];
  // in a fleet, waived failures are counted apart (the fleet page's numbers)
  const waivedN = f.checks.filter(isWaived).length;
  const counts = waivedN ? checksLine(f.totals).replace(`${f.totals.failed} failed`, `${f.totals.failed - waivedN} failed, ${waivedN} waived`) : checksLine(f.totals);
  const toc = ORDER.filter((s) => n(s) > 0).map((s) => `<a href="#${s}">${HEADING[s]} (${n(s)})</a>`);
  const links = [
    ...(opts.links?.steps ? [`<a href="${text(opts.links.steps)}">${text(opts.links.steps)}: every scenario step by step</a>`] : []),
    ...(opts.links?.results ? [`<a href="${text(opts.links.results)}">${text(opts.links.results)}</a>`] : []),
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>sevcheck: ${text(results.host)} — ${text(v.words)}</title>`,
    `<style>${STYLESHEET}</style>`,
    '</head>',
    '<body>',
    `<header class="banner ${v.status}">`,
    `<div class="verdict"><h1>${text(v.words)}</h1><span class="for">${results.profile ? `for profile <strong>${text(results.profile)}</strong> — ` : ''}host <strong class="host">${text(results.host)}</strong></span></div>`,
    `<p class="counts">${counts}</p>`,
    `<dl class="identity">${identity(results)}</dl>`,
    ...(opts.fleet ? [inFleet(opts.fleet)] : []),
    '</header>',
    `<nav class="toc">${[...toc, ...links].join('')}</nav>`,
    '<main>',
    causesSection(f, opts.parts ?? 'scenarios'),
    undecidedSection(f, opts.parts ?? 'scenarios'),
    ...ORDER.map((s) => section(s, gs, opts.parts ?? 'scenarios')),
    '</main>',
    `<footer>Written by ${text(opts.command ?? 'sevcheck run')} from its verdicts (${links.join(', ')}). A check with several ${text(opts.parts ?? 'scenarios')} has the verdict of its worst: failed, then undecided, passed, skipped.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
