/**
 * index.html: the fleet on one self-contained page. A host × check matrix grouped by layer (the
 * check id's first segment), each cell the worst status of the id's scenarios on that host
 * (support/fleet/matrix.ts), in colour and as a word (passed / failed / waived / undecided /
 * skipped / error); a cell opens (<details>) to the scenario, message, found / expected / fix or
 * reason, and the waiver. Totals per host (a column) and per check (the footer row); the changes
 * since the compared run; expired and stale waivers; hosts that could not be checked; each host
 * name links to its own report.html under hosts/<name>/.
 *
 * Readable without JavaScript: the matrix, the cells' <details>, the sections are plain HTML, and
 * the filter form is `hidden` until the page's one inline script shows it. The script (filters by
 * layer, status and tag) is allowed by its hash in the Content-Security-Policy (W3C CSP Level 3,
 * 2.3.1 "hash-source"), so no other script can run: every string from a host or input file goes
 * through report/html.ts `text()` as on report.html, and a crafted `<script>` is text twice over.
 * The page loads nothing (default-src 'none').
 *
 * Pure: FleetResults in, a string out.
 */
import { createHash } from 'node:crypto';
import { text, when } from '../report/html.js';
import { FLEET_RULES, STYLESHEET } from '../report/style.js';
import { CELL_STATUSES, columnTally, fleetMatrix, fleetVerdict, rowTally, type Cell, type CellStatus, type Matrix } from './matrix.js';
import type { FleetCheck, FleetHost, FleetResults, PerHost, Waiver } from './types.js';

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
    var layer = f.elements.layer.value, status = f.elements.status.value, tag = f.elements.tag.value;
    t.setAttribute('data-status', status);
    var cols = t.querySelectorAll('[data-layer]');
    for (var i = 0; i < cols.length; i++) cols[i].hidden = layer !== '' && cols[i].getAttribute('data-layer') !== layer;
    var rows = t.tBodies[0].rows;
    for (var j = 0; j < rows.length; j++) {
      var tags = JSON.parse(rows[j].getAttribute('data-tags') || '[]');
      var cells = rows[j].querySelectorAll('td.cell');
      var hit = status === '';
      for (var k = 0; !hit && k < cells.length; k++) hit = !cells[k].hidden && cells[k].classList.contains(status);
      rows[j].hidden = !hit || (tag !== '' && tags.indexOf(tag) < 0);
    }
    var shown = t.querySelectorAll('tbody tr:not([hidden])').length;
    document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' hosts shown';
  }
  f.addEventListener('change', apply);
  apply();
})();`;

const SCRIPT_HASH = createHash('sha256').update(FLEET_SCRIPT, 'utf8').digest('base64');

/** default-src 'none' (nothing loaded), inline styles, and only the script whose hash is this (CSP Level 3, 2.3.1). */
export const FLEET_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

const WORD: Record<CellStatus, string> = { error: 'error', failed: 'failed', waived: 'waived', undecided: 'undecided', passed: 'passed', skipped: 'skipped' };

/** One scenario inside a cell's pop-out: what a reader needs to act (fields, else the message). */
function scenario(c: FleetCheck): string {
  const rows: string[] = [];
  if (c.status === 'failed' && c.found !== undefined && c.expected !== undefined && c.fix !== undefined) {
    rows.push(`<dt>found</dt><dd class="found">${text(c.found)}</dd>`, `<dt>expected</dt><dd class="expected">${text(c.expected)}</dd>`, `<dt>fix</dt><dd class="fix"><code>${text(c.fix)}</code></dd>`);
  } else if ((c.status === 'undecided' || c.status === 'skipped') && c.reason !== undefined) {
    rows.push(`<dt>${c.status === 'undecided' ? 'why' : 'why not'}</dt><dd class="reason">${text(c.reason)}</dd>`);
  } else rows.push(`<dt>${c.status === 'passed' ? 'found' : 'message'}</dt><dd class="message">${text(c.message)}</dd>`);
  if (c.status === 'failed' && c.waived) rows.push(`<dt>waived</dt><dd class="waiver">until ${text(c.waived.expires)}: ${text(c.waived.reason)}</dd>`);
  return `<div class="scenario"><span class="label ${c.status === 'failed' && c.waived ? 'waived' : c.status}">${c.status === 'failed' && c.waived ? 'waived' : c.status}</span>${text(c.scenario)}<dl class="fields">${rows.join('')}</dl></div>`;
}

function cell(m: Matrix, h: FleetHost, id: string, layer: string, first: boolean, isNew: boolean): string {
  const c: Cell | undefined = m.cell(h.name, id);
  const cls = `${first ? ' first-of-layer' : ''}`;
  const attrs = ` data-layer="${text(layer)}"`;
  if (!c) return `<td class="cell absent${cls}"${attrs}><span class="word">—</span></td>`;
  const word = `<span class="word">${WORD[c.status]}</span>${isNew ? '<span class="new">new</span>' : ''}`;
  // passed and skipped cells only say so (the host's own page has what was found): at 300 hosts ×
  // 60 checks their messages would be a quarter of the page; a skipped cell's reason is a hover away
  if (c.status === 'passed') return `<td class="cell passed${cls}"${attrs}>${word}</td>`;
  if (c.status === 'skipped') {
    const one = c.scenarios[0];
    return `<td class="cell skipped${cls}"${attrs} title="${text(one?.reason ?? one?.message ?? '')}">${word}</td>`;
  }
  const body =
    c.status === 'error'
      ? `<p>${text(h.name)} could not be checked: ${text(h.error ?? '')}</p>`
      : c.scenarios.map(scenario).join('');
  return `<td class="cell ${c.status}${cls}"${attrs}><details><summary>${word}</summary><div class="pop"><h4>${text(id)} on ${text(h.name)}</h4>${body}</div></details></td>`;
}

function totals(n: Record<CellStatus, number>): string {
  const bad = (['error', 'failed', 'waived', 'undecided'] as const).filter((s) => n[s] > 0).map((s) => `<span class="n-${s}">${n[s]} ${s}</span>`);
  return bad.length ? bad.join('') : `<span class="n-ok">${n.passed} passed</span>`;
}

function matrix(m: Matrix, fleet: FleetResults, opts: FleetHtmlOptions): string {
  const layerSpans = m.layers.map((l) => ({ layer: l, n: m.columns.filter((c) => c.layer === l).length }));
  const firstOf = new Set(m.layers.map((l) => m.columns.find((c) => c.layer === l)?.id));
  const newOn = new Map(Object.entries(fleet.changes?.new ?? {}).map(([h, ids]) => [h, new Set(ids)]));
  const head = [
    '<thead>',
    `<tr class="layers"><th class="corner" rowspan="2">host</th><th class="totals" rowspan="2">per host</th>${layerSpans.map((s) => `<th colspan="${s.n}" data-layer="${text(s.layer)}">${text(s.layer)}</th>`).join('')}</tr>`,
    `<tr class="checks">${m.columns.map((c) => `<th class="col${firstOf.has(c.id) ? ' first-of-layer' : ''}" data-layer="${text(c.layer)}" id="check-${text(c.id)}" title="${text(c.id)}" scope="col"><span>${text(c.id.slice(c.layer.length + 1) || c.id)}</span></th>`).join('')}</tr>`,
    '</thead>',
  ];
  const rows = m.hosts.map((h) => {
    const link = h.error === undefined && opts.hostPage ? `<a href="${text(opts.hostPage(h.name))}">${text(h.name)}</a>` : text(h.name);
    const sub = `<span class="profile">${text(h.profile)}${h.tags.length ? ` · ${h.tags.map(text).join(', ')}` : ''}</span>`;
    const cells = m.columns.map((c) => cell(m, h, c.id, c.layer, firstOf.has(c.id), newOn.get(h.name)?.has(c.id) ?? false)).join('');
    const sums = h.error !== undefined ? '<span class="n-error">could not be checked</span>' : totals(rowTally(m, h.name));
    return `<tr id="host-${text(h.name)}" data-tags="${text(JSON.stringify(h.tags))}"><th class="host" scope="row">${link}${sub}</th><td class="totals">${sums}</td>${cells}</tr>`;
  });
  const foot = `<tfoot><tr><th class="host" scope="row">per check</th><td class="totals"></td>${m.columns
    .map((c) => `<td data-layer="${text(c.layer)}"${firstOf.has(c.id) ? ' class="first-of-layer"' : ''}>${totals(columnTally(m, c.id))}</td>`)
    .join('')}</tr></tfoot>`;
  return `<div class="matrix-wrap"><table class="matrix" data-status="">${head.join('')}<tbody>${rows.join('\n')}</tbody>${foot}</table></div>`;
}

function filters(m: Matrix): string {
  const tags = [...new Set(m.hosts.flatMap((h) => h.tags))].sort();
  const options = (values: readonly string[]): string => ['<option value="">all</option>', ...values.map((v) => `<option value="${text(v)}">${text(v)}</option>`)].join('');
  return (
    '<form class="filters" id="filters" hidden>' +
    `<label>layer <select name="layer">${options(m.layers)}</select></label>` +
    `<label>status <select name="status">${options(CELL_STATUSES)}</select></label>` +
    `<label>tag <select name="tag">${options(tags)}</select></label>` +
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
    `<section class="fleet changes" id="changes"><h2>Changes since ${text(c.against.startedAt)} <small>(${text(c.against.dir)})</small></h2>` +
    `<h3>New failures</h3>${perHostList(c.new)}<h3>Fixed</h3>${perHostList(c.fixed)}<h3>Still failing</h3>${perHostList(c.stillFailing)}` +
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
  if (!w || w.expired.length + w.stale.length === 0) return '';
  return (
    '<section class="fleet waivers" id="waivers"><h2>Waivers to look at</h2>' +
    (w.expired.length ? `<h3>Expired (${w.expired.length}): no longer applied; renew or fix</h3>${waiverTable(w.expired)}` : '') +
    (w.stale.length ? `<h3>Stale (${w.stale.length}): matched no failure; remove</h3>${waiverTable(w.stale)}` : '') +
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

export function fleetHtml(fleet: FleetResults, opts: FleetHtmlOptions = {}): string {
  const m = fleetMatrix(fleet);
  const v = fleetVerdict(m);
  const failing = m.hosts.filter((h) => h.error === undefined && rowTally(m, h.name).failed > 0).length;
  const errored = m.hosts.filter((h) => h.error !== undefined).length;
  const toc = [
    '<a href="#matrix">Matrix</a>',
    ...(fleet.changes ? ['<a href="#changes">Changes</a>'] : []),
    ...(fleet.waivers && fleet.waivers.expired.length + fleet.waivers.stale.length > 0 ? ['<a href="#waivers">Waivers</a>'] : []),
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
    `<style>${STYLESHEET}${FLEET_RULES}</style>`,
    '</head>',
    '<body class="fleet">',
    `<header class="banner ${v.status}">`,
    `<div class="verdict"><h1>${text(v.words)}</h1><span class="for">fleet of <strong>${m.hosts.length}</strong> hosts × <strong>${m.columns.length}</strong> checks</span></div>`,
    `<p class="counts">${m.hosts.length - failing - errored} without failures · ${failing} failing · ${errored} could not be checked</p>`,
    `<dl class="identity"><div><dt>started</dt><dd>${text(when(fleet.startedAt))}</dd></div><div><dt>took</dt><dd>${(fleet.durationMs / 1000).toFixed(1)} s</dd></div>${fleet.complete ? '' : '<div><dt>interrupted</dt><dd>only the hosts that finished are shown</dd></div>'}</dl>`,
    '</header>',
    `<nav class="toc">${toc.join('')}</nav>`,
    `<p class="legend">Each cell: the worst verdict of the check's scenarios on that host — ${CELL_STATUSES.map((s) => `<span class="label ${s}">${WORD[s]}</span>`).join('')} (waived: a failure accepted until its waiver expires). Click a failed, waived, undecided or error cell for what was found and the fix; a host's name opens its full report.</p>`,
    filters(m),
    `<main id="matrix">${matrix(m, fleet, opts)}`,
    changes(fleet),
    waivers(fleet),
    errors(fleet),
    '</main>',
    `<footer>Written by sevcheck fleet${opts.files?.length ? ` beside ${opts.files.map(text).join(', ')}` : ''}. A cell with several scenarios has the verdict of its worst: error, failed, then waived, undecided, passed, skipped.</footer>`,
    `<script>${FLEET_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
