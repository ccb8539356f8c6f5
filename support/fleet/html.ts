/**
 * index.html: the fleet on one self-contained page, for triage (issue 20, point 4). It opens on
 * what changed ("+N new failures, −N fixed, N newly waived, N expiring within 14 days since <last
 * run>"), then, side by side:
 *   - by cause: each failed check that no other failure on that host explains (the cause graph,
 *     report/findings.ts over rules/causes.ts), with how many hosts and which (each a link to that
 *     host's own page at that check), what it explains there, most hosts first, with the date it
 *     was first seen failing; then by check: every failing check id with its host counts;
 *   - the host × check matrix, hosts in triage order (new failures first, then hosts that could
 *     not be checked, then failing, waived, undecided, clean: matrix.ts triageOrder), each layer
 *     collapsed to one column of per-layer counts until opened (a click on the layer's name:
 *     a checkbox and CSS, no script), header row and host column sticky; each host's totals by
 *     check id and its trend over the kept runs (`--history`).
 * Then the changes in full, the waivers (expiring, applied, expired, stale), the hosts that could
 * not be checked.
 *
 * Details live on the host pages (hosts/<name>/report.html), not here: a check cell is its status
 * only (a class; the glyph comes from the stylesheet; a failed cell's title says since when), so
 * the page stays small at 1,000 hosts (≤ 2 MB; bench/fleet-page.bench.ts measures it).
 *
 * Readable without JavaScript: the matrix, the layers' opening, the sections are plain HTML and
 * CSS; the filter form (status, tag, check) is `hidden` until the page's one inline script shows
 * it. The script is allowed by its hash in the Content-Security-Policy (W3C CSP Level 3, 2.3.1
 * "hash-source"), so no other script can run: every string from a host or input file goes through
 * report/html.ts `text()`; the generated CSS uses column positions only, never a name from input.
 * The page loads nothing (default-src 'none').
 *
 * Pure: FleetResults in, a string out.
 */
import { createHash } from 'node:crypto';
import { text, when } from '../report/html.js';
import { STYLESHEET } from '../report/style.js';
import { headline, headlineWords } from './compare.js';
import { byCheck, causesOver, CELL_STATUSES, fleetMatrix, fleetVerdict, layerTally, rowTally, triageOrder, worstOf, type Causes, type CellStatus, type Matrix } from './matrix.js';
import { EXPIRING_DAYS } from './waivers.js';
import type { FleetHost, FleetResults, HistoryPoint, PerHost, Waiver } from './types.js';

export interface FleetHtmlOptions {
  /** where a host's own report page is, relative to index.html (default: none, no links) */
  readonly hostPage?: ((host: string) => string) | undefined;
  /** the files beside the page, for the footer */
  readonly files?: readonly string[];
}

/** The filters: shown and run only with JavaScript; without it, the form stays hidden. */
export const FLEET_SCRIPT = `(function () {
  var f = document.getElementById('filters');
  var t = document.querySelector('table.matrix');
  if (!f || !t) return;
  f.hidden = false;
  function apply() {
    var status = f.elements.status.value, tag = f.elements.tag.value, check = f.elements.check.value;
    var rows = t.tBodies[0].rows, shown = 0;
    for (var j = 0; j < rows.length; j++) {
      var r = rows[j];
      var tags = JSON.parse(r.getAttribute('data-tags') || '[]');
      var fails = (r.getAttribute('data-f') || '').split(' ');
      var hide = (status !== '' && !r.classList.contains('r-' + status)) || (tag !== '' && tags.indexOf(tag) < 0) || (check !== '' && fails.indexOf(check) < 0);
      r.hidden = hide;
      if (!hide) shown++;
    }
    document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' hosts shown';
  }
  f.addEventListener('change', apply);
  apply();
})();`;

const SCRIPT_HASH = createHash('sha256').update(FLEET_SCRIPT, 'utf8').digest('base64');

/** default-src 'none' (nothing loaded), inline styles, and only the script whose hash is this (CSP Level 3, 2.3.1). */
export const FLEET_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

const WORD: Record<CellStatus, string> = { error: 'error', failed: 'failed', waived: 'waived', undecided: 'undecided', passed: 'passed', skipped: 'skipped' };
/** a check cell's class: one letter per status (passed has none: most cells, fewest bytes) */
const CLS: Record<CellStatus, string> = { error: 'e', failed: 'f', waived: 'w', undecided: 'u', passed: '', skipped: 's' };

/** The fleet page's own rules, on top of report/style.ts STYLESHEET. */
export const FLEET_CSS = `
body.fleet { max-width: none; }
.label.waived, .banner.waived { --lc: var(--waived); --lbg: var(--waived-bg); --c: var(--waived); --bg: var(--waived-bg); }
.label.error { --lc: var(--error); --lbg: var(--error-bg); }
.banner .headline { margin: 0.4rem 0 0; font-size: 1.15rem; font-weight: 600; }
.banner .headline a { color: inherit; }
.banner .headline .new { color: var(--failed); }
.banner .headline .fixed { color: var(--passed); }
.banner .headline .waived { color: var(--waived); }
.banner .headline .expiring { color: var(--undecided); }
.legend { display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; font-size: 0.85rem; margin: 0.5rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: center; margin: 0.5rem 0; font-size: 0.9rem; }
form.filters label { display: flex; gap: 0.35rem; align-items: center; font-weight: 600; }
.triage { display: grid; grid-template-columns: minmax(16rem, 22rem) minmax(0, 1fr); gap: 1rem; align-items: start; }
aside.by-check { font-size: 0.85rem; max-height: calc(100vh - 1rem); overflow: auto; position: sticky; top: 0.5rem; }
aside.by-check h2 { font-size: 1.05rem; margin: 0 0 0.4rem; }
aside.by-check ol { list-style: none; margin: 0; padding: 0; }
aside.by-check li { border-left: 4px solid var(--failed); background: var(--failed-bg); border-radius: 3px; margin: 0 0 0.3rem; padding: 0.2rem 0.45rem; }
aside.by-check li.only-waived { border-left-color: var(--waived); background: var(--waived-bg); }
aside.by-check summary { cursor: pointer; }
aside.by-check code { font-weight: 600; }
aside.by-check .n { float: right; font-weight: 700; color: var(--failed); }
aside.by-check .only-waived .n { color: var(--waived); }
aside.by-check .meta { display: block; color: var(--muted); font-size: 0.78rem; }
aside.by-check p.hosts, aside.by-check p.explains { margin: 0.2rem 0 0.1rem; overflow-wrap: anywhere; }
aside.by-check p.hint { margin: 0 0 0.4rem; color: var(--muted); font-size: 0.78rem; }
aside.by-check details.by-check-all { margin-top: 0.6rem; }
aside.by-check details.by-check-all > summary { font-weight: 600; }
aside.by-check td.num { text-align: right; }
.mw { overflow: auto; max-height: calc(100vh - 1rem); border: 1px solid var(--line); border-radius: 4px; }
table.matrix { border-collapse: separate; border-spacing: 0; font-size: 0.78rem; }
table.matrix th, table.matrix td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 0; background: var(--paper); }
table.matrix thead th { position: sticky; top: 0; z-index: 2; background: var(--tint); vertical-align: bottom; }
table.matrix th.host { position: sticky; left: 0; z-index: 1; text-align: left; padding: 0.1rem 0.45rem; min-width: 10rem; max-width: 14rem; font-weight: 600; overflow-wrap: anywhere; background: var(--paper); }
table.matrix thead th.host { z-index: 3; background: var(--tint); }
table.matrix th.host small { display: block; font-weight: 400; color: var(--muted); font-size: 0.7rem; }
table.matrix td.t { padding: 0.1rem 0.4rem; font-size: 0.72rem; min-width: 7rem; white-space: nowrap; }
table.matrix td.t span { display: block; }
table.matrix .trend { font-family: var(--mono); color: var(--muted); letter-spacing: -0.05em; }
table.matrix th.L { padding: 0.2rem 0.3rem; min-width: 5.2rem; text-transform: uppercase; letter-spacing: 0.05em; font-size: 0.7rem; color: var(--ink); border-left: 2px solid var(--muted); }
table.matrix th.L label { cursor: pointer; display: block; }
table.matrix th.L label::before { content: "▸ "; }
table.matrix th.L small { display: block; text-transform: none; letter-spacing: 0; color: var(--muted); font-weight: 400; }
table.matrix td.L { border-left: 2px solid var(--muted); text-align: center; font-size: 0.72rem; font-weight: 700; padding: 0.1rem 0.2rem; background: var(--bg); color: var(--c); white-space: nowrap; }
table.matrix td.L small { display: block; font-weight: 400; }
table.matrix thead th.c { min-width: 1.5rem; width: 1.5rem; padding: 0.3rem 0 0.2rem; }
table.matrix th.c span { writing-mode: vertical-rl; transform: rotate(180deg); display: inline-block; max-height: 11rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--mono); font-weight: 500; font-size: 0.7rem; }
table.matrix tbody td:where(:not(.L):not(.t)) { text-align: center; background: var(--passed-bg); color: var(--passed); min-width: 1.5rem; height: 1.45rem; }
table.matrix tbody td:where(:not(.L):not(.t))::after { content: "✓"; }
table.matrix tbody td.f { background: var(--failed); color: #fff; font-weight: 700; }
table.matrix tbody td.f::after { content: "✗"; }
table.matrix tbody td.w { background: var(--waived-bg); color: var(--waived); }
table.matrix tbody td.w::after { content: "W"; }
table.matrix tbody td.u { background: var(--undecided-bg); color: var(--undecided); }
table.matrix tbody td.u::after { content: "?"; }
table.matrix tbody td.s { background: var(--skipped-bg); color: var(--skipped); }
table.matrix tbody td.s::after { content: "–"; }
table.matrix tbody td.e { background: var(--error-bg); color: var(--error); }
table.matrix tbody td.e::after { content: "!"; }
table.matrix tbody td.a { background: var(--paper); color: var(--muted); }
table.matrix tbody td.a::after { content: ""; }
table.matrix tbody td.f.b { background: repeating-linear-gradient(135deg, var(--failed) 0 4px, #d9645c 4px 8px); }
table.matrix tbody td.n { outline: 3px solid #000; outline-offset: -3px; }
td.L.failed { --bg: var(--failed); --c: #fff; }
td.L.waived { --bg: var(--waived-bg); --c: var(--waived); }
td.L.undecided { --bg: var(--undecided-bg); --c: var(--undecided); }
td.L.passed { --bg: var(--passed-bg); --c: var(--passed); }
td.L.skipped { --bg: var(--skipped-bg); --c: var(--skipped); }
td.L.error { --bg: var(--error-bg); --c: var(--error); }
table.matrix tr.r-new th.host { box-shadow: inset 4px 0 0 var(--failed); }
table.matrix tr.r-new th.host .newmark { color: var(--failed); font-weight: 700; }
table.matrix tfoot td, table.matrix tfoot th { font-size: 0.68rem; text-align: center; background: var(--tint); padding: 0.1rem; }
.n-failed, .n-error, .n-new { color: var(--failed); font-weight: 700; }
.n-waived { color: var(--waived); }
.n-undecided { color: var(--undecided); }
.n-ok { color: var(--passed); }
input.x { display: none; }
section.fleet { margin-top: 1.5rem; }
section.fleet h3 { font-size: 1rem; margin: 0.9rem 0 0.3rem; }
section.fleet > h2 { font-size: 1.2rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-bottom: 0.4rem; }
table.list { border-collapse: collapse; font-size: 0.88rem; }
table.list th, table.list td { border: 1px solid var(--line); padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
table.list th { background: var(--tint); }
@media (max-width: 900px) { .triage { grid-template-columns: 1fr; } aside.by-check { position: static; max-height: none; } }
@media print { .mw, aside.by-check { overflow: visible; max-height: none; position: static; } form.filters { display: none; } }
`;

/** Per-layer rules: a layer's check columns hidden until its checkbox is ticked. Column positions only (1-based, as nth-child counts). */
function layerCss(spans: ReadonlyArray<{ first: number; last: number }>): string {
  return spans
    .map((s, i) => {
      const cols = `tr>:nth-child(n+${s.first}):nth-child(-n+${s.last})`;
      return `table.matrix ${cols}{display:none}#x${i}:checked~.mw table.matrix ${cols}{display:table-cell}#x${i}:checked~.mw th.L${i} label::before{content:"▾ "}`;
    })
    .join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';
/** How many earlier runs a row's trend shows (the page's size grows with it; fleet.json keeps them all). */
const TREND_RUNS = 20;

/** A host's trend: unwaived failed checks per run, oldest first, then this run, as bars. */
function trend(past: readonly HistoryPoint[] | undefined, now: number): string {
  if (!past || past.length === 0) return '';
  const pts = [...past.slice(-TREND_RUNS).map((p) => (p.error ? -1 : p.failed)), now];
  const max = Math.max(1, ...pts);
  const bars = pts.map((n) => (n < 0 ? '×' : BARS[n === 0 ? 0 : Math.max(1, Math.round((n / max) * (BARS.length - 1)))])).join('');
  return `<span class="trend" title="failed checks per run, the last ${pts.length - 1} runs and now: ${pts.map((n) => (n < 0 ? 'error' : n)).join(' ')}">${bars}</span>`;
}

function totalsCell(h: FleetHost, n: Record<CellStatus, number>, past: readonly HistoryPoint[] | undefined, fresh: number): string {
  if (h.error !== undefined) return `<td class="t"><span class="n-error">could not be checked</span>${trend(past, 0)}</td>`;
  const bad = (['failed', 'waived', 'undecided'] as const).filter((s) => n[s] > 0).map((s) => `${n[s]} ${s}`);
  const words = bad.length ? bad.join(' · ') : `${n.passed} passed`;
  const cls = n.failed > 0 ? 'n-failed' : n.waived > 0 ? 'n-waived' : n.undecided > 0 ? 'n-undecided' : 'n-ok';
  return `<td class="t"><span class="${cls}">${fresh > 0 ? `<span class="n-new">${fresh} new</span>` : ''}${words}</span>${trend(past, n.failed)}</td>`;
}

function layerCell(n: Record<CellStatus, number>, isError: boolean): string {
  if (isError) return '<td class="L error">error</td>';
  const w = worstOf(n);
  const count = (s: CellStatus): string => `${n[s]} ${WORD[s]}`;
  const main = w === 'passed' || w === 'skipped' ? (n.passed ? `${n.passed} passed` : `${n.skipped} skipped`) : count(w);
  const more = w === 'failed' && n.waived ? count('waived') : (w === 'failed' || w === 'waived') && n.undecided ? count('undecided') : '';
  return `<td class="L ${w}">${main}${more ? `<small>${more}</small>` : ''}</td>`;
}

function matrix(m: Matrix, fleet: FleetResults, order: readonly FleetHost[], causes: Causes, opts: FleetHtmlOptions): string {
  const newOn = new Map(Object.entries(fleet.changes?.new ?? {}).map(([h, ids]) => [h, new Set(ids)]));
  const spans: Array<{ first: number; last: number }> = [];
  let col = 3; // 1: host, 2: totals
  const layers = m.layers.map((layer) => {
    const ids = m.columns.filter((c) => c.layer === layer).map((c) => c.id);
    spans.push({ first: col + 1, last: col + ids.length });
    col += ids.length + 1;
    return { layer, ids };
  });
  const head =
    '<thead><tr><th class="host" scope="col">host</th><th class="t" scope="col">checks (by id)</th>' +
    layers
      .map(
        (l, i) =>
          `<th class="L L${i}" scope="col" data-layer="${text(l.layer)}"><label for="x${i}" title="show or hide the ${l.ids.length} checks of ${text(l.layer)}">${text(l.layer)}</label><small>${l.ids.length} checks</small></th>` +
          l.ids.map((id) => `<th class="c" scope="col" id="check-${text(id)}" title="${text(id)}"><span>${text(id.slice(l.layer.length + 1) || id)}</span></th>`).join(''),
      )
      .join('') +
    '</tr></thead>';
  const rows = order.map((h) => {
    const n = rowTally(m, h.name);
    const fresh = newOn.get(h.name);
    const seen = fleet.firstSeen?.[h.name] ?? {};
    const why = causes.because.get(h.name);
    const link = h.error === undefined && opts.hostPage ? `<a href="${text(opts.hostPage(h.name))}">${text(h.name)}</a>` : text(h.name);
    const sub = `<small>${fresh?.size ? '<span class="newmark">new failure · </span>' : ''}${text(h.profile)}${h.tags.length ? ` · ${h.tags.map(text).join(', ')}` : ''}</small>`;
    const cls = ['r-' + (h.error !== undefined ? 'error' : worstOf(n) === 'skipped' ? 'passed' : worstOf(n)), ...(fresh?.size ? ['r-new'] : [])];
    // a host failing several checks matches each of them in the filter
    const failingIds = m.columns.filter((c) => { const s = m.cell(h.name, c.id)?.status; return s === 'failed' || s === 'waived'; }).map((c) => c.id);
    const cells = layers
      .map((l) => {
        const lt = layerTally(m, h.name, l.layer);
        return (
          layerCell(lt, h.error !== undefined) +
          l.ids
            .map((id) => {
              const c = m.cell(h.name, id);
              if (!c) return '<td class="a">';
              const isNew = fresh?.has(id) ?? false;
              const k = CLS[c.status] + (isNew ? ' n' : '');
              const since = seen[id];
              const by = why?.get(id);
              const title = c.status === 'failed' || c.status === 'waived' ? ` title="${text(id)}: ${WORD[c.status]}${isNew ? ', new' : since && since !== fleet.startedAt ? ` since ${text(since.slice(0, 10))}` : ''}${by ? ` because ${text(by.join(', '))}` : ''}"` : '';
              // a failure another failure explains is shown lighter: fix the cause first
              return k ? `<td class="${k}${by && c.status === 'failed' ? ' b' : ''}"${title}>` : '<td>';
            })
            .join('')
        );
      })
      .join('');
    return (
      `<tr id="host-${text(h.name)}" class="${cls.join(' ')}" data-tags="${text(JSON.stringify(h.tags))}"${failingIds.length ? ` data-f="${text(failingIds.join(' '))}"` : ''}>` +
      `<th class="host" scope="row">${link}${sub}</th>${totalsCell(h, n, fleet.history?.[h.name], fresh?.size ?? 0)}${cells}</tr>`
    );
  });
  const foot =
    '<tfoot><tr><th class="host" scope="row">hosts failing</th><td class="t"></td>' +
    layers
      .map((l) => {
        const hostsFailing = m.hosts.filter((h) => l.ids.some((id) => m.cell(h.name, id)?.status === 'failed')).length;
        return `<td class="L">${hostsFailing}</td>` + l.ids.map((id) => `<td>${m.hosts.filter((h) => m.cell(h.name, id)?.status === 'failed').length || ''}</td>`).join('');
      })
      .join('') +
    '</tr></tfoot>';
  const boxes = layers.map((_, i) => `<input type="checkbox" class="x" id="x${i}">`).join('');
  return `<style>${layerCss(spans)}</style>${boxes}<div class="mw"><table class="matrix">${head}<tbody>${rows.join('\n')}</tbody>${foot}</table></div>`;
}

/** How many host links a check's entry lists before "and N more" (the filter finds the rest). */
const HOSTS_LISTED = 40;

function byCauseView(m: Matrix, fleet: FleetResults, causes: Causes, opts: FleetHtmlOptions): string {
  const checks = byCheck(m);
  const newOn = new Map(Object.entries(fleet.changes?.new ?? {}).map(([h, ids]) => [h, new Set(ids)]));
  if (checks.length === 0) return '<aside class="by-check" id="by-check"><h2>By cause</h2><p>No check fails on any host.</p></aside>';
  const link = (h: string, id: string): string => (opts.hostPage ? `<a href="${text(opts.hostPage(h))}#${text(id)}">${text(h)}</a>` : `<a href="#host-${text(h)}">${text(h)}</a>`);
  const list = (hosts: readonly string[], id: string): string => hosts.slice(0, HOSTS_LISTED).map((h) => link(h, id)).join(', ') + (hosts.length > HOSTS_LISTED ? ` and ${hosts.length - HOSTS_LISTED} more` : '');
  const firstSeenOf = (id: string, hosts: readonly string[]): string => {
    const dates = hosts.map((h) => fleet.firstSeen?.[h]?.[id]).filter((d): d is string => d !== undefined).sort();
    return dates[0] !== undefined && dates[0] !== fleet.startedAt ? `first seen ${text(dates[0].slice(0, 10))}` : '';
  };
  const fresh = (id: string, hosts: readonly string[]): number => hosts.filter((h) => newOn.get(h)?.has(id)).length;
  const meta = (id: string, failed: readonly string[], waived: readonly string[]): string =>
    [
      `${failed.length} failing${fresh(id, failed) ? `, <span class="n-new">${fresh(id, failed)} new</span>` : ''}`,
      ...(waived.length ? [`${waived.length} waived`] : []),
      ...(firstSeenOf(id, [...failed, ...waived]) ? [firstSeenOf(id, [...failed, ...waived])] : []),
    ].join(' · ');
  const causeItems = causes.causes.map((c) => {
    const explains = c.symptoms.length
      ? `<p class="explains">explains ${c.symptoms.slice(0, 12).map((s) => `<code>${text(s.id)}</code> (${s.hosts.length})`).join(', ')}${c.symptoms.length > 12 ? ` and ${c.symptoms.length - 12} more` : ''}</p>`
      : '';
    return (
      `<li class="${c.failed.length ? 'failing' : 'only-waived'}"><details><summary><span class="n">${c.failed.length || c.waived.length}</span><code>${text(c.id)}</code><span class="meta">${meta(c.id, c.failed, c.waived)}${c.symptoms.length ? ` · explains ${c.symptoms.length}` : ''}</span></summary>` +
      (c.failed.length ? `<p class="hosts">failing on ${list(c.failed, c.id)}</p>` : '') +
      (c.waived.length ? `<p class="hosts">waived on ${list(c.waived, c.id)}</p>` : '') +
      explains +
      '</details></li>'
    );
  });
  const checkRows = checks.map((c) => `<tr><td><code>${text(c.id)}</code></td><td class="num">${c.failed.length}</td><td class="num">${c.waived.length || ''}</td></tr>`);
  return (
    `<aside class="by-check" id="by-check"><h2>By cause <small>(${causes.causes.length}; hosts)</small></h2>` +
    '<p class="hint">Failures no other failure on the host explains, with what they explain there (fix these first).</p>' +
    `<ol>${causeItems.join('')}</ol>` +
    `<details class="by-check-all"><summary>By check: ${checks.length} checks fail somewhere</summary><table class="list"><thead><tr><th>check</th><th>failing</th><th>waived</th></tr></thead><tbody>${checkRows.join('')}</tbody></table></details>` +
    '</aside>'
  );
}

function filters(m: Matrix): string {
  const tags = [...new Set(m.hosts.flatMap((h) => h.tags))].sort();
  const failing = byCheck(m).map((c) => c.id);
  const options = (values: ReadonlyArray<readonly [string, string]>): string => ['<option value="">all</option>', ...values.map(([v, label]) => `<option value="${text(v)}">${text(label)}</option>`)].join('');
  return (
    '<form class="filters" id="filters" hidden>' +
    `<label>hosts <select name="status">${options([['new', 'with a new failure'], ['failed', 'failing'], ['error', 'could not be checked'], ['waived', 'only waived'], ['undecided', 'undecided'], ['passed', 'passing']])}</select></label>` +
    `<label>tag <select name="tag">${options(tags.map((t) => [t, t] as const))}</select></label>` +
    `<label>failing check <select name="check">${options(failing.map((c) => [c, c] as const))}</select></label>` +
    '<span id="shown"></span></form>'
  );
}

function perHostList(p: PerHost): string {
  const rows = Object.entries(p).filter(([, ids]) => ids.length > 0);
  if (rows.length === 0) return '<p>none</p>';
  return `<table class="list"><tbody>${rows.map(([h, ids]) => `<tr><th><a href="#host-${text(h)}">${text(h)}</a></th><td>${ids.map((id) => `<code>${text(id)}</code>`).join(', ')}</td></tr>`).join('')}</tbody></table>`;
}

function changes(fleet: FleetResults): string {
  const c = fleet.changes;
  if (!c) return '';
  const names = (l: readonly string[]): string => (l.length ? l.map(text).join(', ') : 'none');
  return (
    `<section class="fleet changes" id="changes"><h2>Changes since ${text(when(c.against.startedAt))} <small>(${text(c.against.dir)})</small></h2>` +
    `<h3 id="new">New failures</h3>${perHostList(c.new)}<h3 id="fixed">Fixed: no longer failing</h3>${perHostList(c.fixed)}` +
    `<h3 id="newly-waived">Newly waived: still failing, accepted since</h3>${perHostList(c.waived ?? {})}<h3>Still failing</h3>${perHostList(c.stillFailing)}` +
    `<p><strong>New hosts:</strong> ${names(c.newHosts)}</p><p><strong>Missing hosts:</strong> ${names(c.missingHosts)}</p></section>`
  );
}

function waiverTable(ws: readonly Waiver[]): string {
  return `<table class="list"><thead><tr><th>check</th><th>hosts</th><th>expires</th><th>reason</th></tr></thead><tbody>${ws
    .map((w) => `<tr><td><code>${text(w.check)}</code></td><td><code>${text(w.hosts ?? '*')}</code></td><td>${text(w.expires)}</td><td>${text(w.reason)}</td></tr>`)
    .join('')}</tbody></table>`;
}

function waivers(fleet: FleetResults): string {
  const w = fleet.waivers;
  if (!w) return '';
  const expiring = w.expiring ?? [];
  const active = w.active ?? [];
  if (expiring.length + active.length + w.expired.length + w.stale.length === 0) return '';
  return (
    '<section class="fleet waivers" id="waivers"><h2>Waivers</h2>' +
    (expiring.length ? `<h3 id="expiring">Expiring within ${EXPIRING_DAYS} days (${expiring.length}): renew or fix</h3>${waiverTable(expiring)}` : '') +
    (w.expired.length ? `<h3>Expired (${w.expired.length}): no longer applied; renew or fix</h3>${waiverTable(w.expired)}` : '') +
    (w.stale.length ? `<h3>Stale (${w.stale.length}): matched no failure; remove</h3>${waiverTable(w.stale)}` : '') +
    (active.length ? `<h3>Applied (${active.length})</h3>${waiverTable(active)}` : '') +
    '</section>'
  );
}

function errors(fleet: FleetResults): string {
  const bad = fleet.hosts.filter((h) => h.error !== undefined);
  if (bad.length === 0) return '';
  return `<section class="fleet errors" id="errors"><h2>Could not be checked (${bad.length})</h2><table class="list"><tbody>${bad
    .map((h) => `<tr><th><a href="#host-${text(h.name)}">${text(h.name)}</a></th><td><code>${text(h.target)}</code></td><td>${text(h.error ?? '')}</td></tr>`)
    .join('')}</tbody></table></section>`;
}

/** The headline, each number a link to its list. */
function headlineHtml(fleet: FleetResults): string {
  const h = headline(fleet);
  const words = headlineWords(h, when, EXPIRING_DAYS);
  if (h.since === undefined) {
    return `<p class="headline"><a class="expiring" href="#waivers">${text(words.split(';')[0]!)}</a>;${text(words.slice(words.indexOf(';') + 1))}</p>`;
  }
  // the same words as headlineWords, with links
  const parts = [
    `<a class="new" href="#new">+${h.new} new ${h.new === 1 ? 'failure' : 'failures'}</a>`,
    `<a class="fixed" href="#fixed">−${h.fixed} fixed</a>`,
    `<a class="waived" href="#newly-waived">${h.waived} newly waived</a>`,
    `<a class="expiring" href="#waivers">${h.expiring} expiring within ${EXPIRING_DAYS} days</a>`,
  ];
  return `<p class="headline">${parts.join(', ')} since ${text(when(h.since))}</p>`;
}

export function fleetHtml(fleet: FleetResults, opts: FleetHtmlOptions = {}): string {
  const m = fleetMatrix(fleet);
  const v = fleetVerdict(m);
  const order = triageOrder(m, fleet.changes?.new);
  const causes = causesOver(m);
  const failing = m.hosts.filter((h) => h.error === undefined && rowTally(m, h.name).failed > 0).length;
  const errored = m.hosts.filter((h) => h.error !== undefined).length;
  const all = m.hosts.filter((h) => h.error === undefined).map((h) => rowTally(m, h.name));
  const sum = (s: CellStatus): number => all.reduce((a, n) => a + n[s], 0);
  const toc = [
    '<a href="#by-check">By cause</a>',
    '<a href="#matrix">Matrix</a>',
    ...(fleet.changes ? ['<a href="#changes">Changes</a>'] : []),
    ...(fleet.waivers ? ['<a href="#waivers">Waivers</a>'] : []),
    ...(errored ? ['<a href="#errors">Could not be checked</a>'] : []),
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${FLEET_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>sevcheck fleet: ${m.hosts.length} hosts — ${text(v.words)}</title>`,
    `<style>${STYLESHEET}${FLEET_CSS}</style>`,
    '</head>',
    '<body class="fleet">',
    `<header class="banner ${v.status}">`,
    `<div class="verdict"><h1>${text(v.words)}</h1><span class="for">fleet of <strong>${m.hosts.length}</strong> hosts × <strong>${m.columns.length}</strong> checks</span></div>`,
    headlineHtml(fleet),
    `<p class="counts">${m.hosts.length - failing - errored} hosts without failures · ${failing} failing · ${errored} could not be checked — ${sum('failed')} failed · ${sum('waived')} waived · ${sum('undecided')} undecided · ${sum('passed')} passed · ${sum('skipped')} skipped <span class="unit">(checks by id, over all hosts)</span></p>`,
    `<dl class="identity"><div><dt>started</dt><dd>${text(when(fleet.startedAt))}</dd></div><div><dt>took</dt><dd>${(fleet.durationMs / 1000).toFixed(1)} s</dd></div>${fleet.version ? `<div><dt>sevcheck</dt><dd>${text(fleet.version)}</dd></div>` : ''}${fleet.complete ? '' : '<div><dt>interrupted</dt><dd>only the hosts that finished are shown</dd></div>'}</dl>`,
    '</header>',
    `<nav class="toc">${toc.join('')}</nav>`,
    `<p class="legend"><span>A cell is the worst verdict of the check's scenarios on that host:</span>${CELL_STATUSES.map((s) => `<span class="label ${s}">${WORD[s]}</span>`).join('')}<span>a black ring marks a new failure. A layer's name opens its checks. Hosts with new failures come first; a host's name opens its full report, with every finding and its fix.</span></p>`,
    filters(m),
    '<div class="triage">',
    byCauseView(m, fleet, causes, opts),
    `<main id="matrix">${matrix(m, fleet, order, causes, opts)}</main>`,
    '</div>',
    changes(fleet),
    waivers(fleet),
    errors(fleet),
    `<footer>Written by sevcheck fleet${opts.files?.length ? ` beside ${opts.files.map(text).join(', ')}` : ''}. Counts are of checks by id: a check with several scenarios has the verdict of its worst (error, failed, waived, undecided, passed, skipped).</footer>`,
    `<script>${FLEET_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
