/**
 * The stylesheet of sevcheck's HTML pages: report.html (support/report/html.ts) and the fleet
 * page (support/fleet/html.ts: STYLESHEET + FLEET_RULES) that links each host's row to it. One string, inlined into each page's <style>: the
 * pages load nothing (no fonts, no scripts, no images), so they read the same offline, from a CI
 * artifact or from a file:// URL, and print without the web.
 *
 * Colours carry no meaning alone: every status is also written as a word (failed, undecided,
 * passed, skipped), so the page reads the same in greyscale and on paper.
 */
export const STYLESHEET = `
:root {
  --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --paper: #ffffff; --tint: #f6f8fa;
  --failed: #b3261e; --failed-bg: #fdecea; --undecided: #8a5a00; --undecided-bg: #fff4d6;
  --passed: #1a7f37; --passed-bg: #e8f5ec; --skipped: #57606a; --skipped-bg: #eef1f4;
  --waived: #6639ba; --waived-bg: #f1ebfb; --error: #ffffff; --error-bg: #6e1a14;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { color: var(--ink); background: var(--paper); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
body { margin: 0 auto; max-width: 78rem; padding: 0 1.25rem 3rem; }
code, .mono { font-family: var(--mono); font-size: 0.92em; overflow-wrap: anywhere; }
a { color: #0a58ca; }
h1, h2, h3, h4 { margin: 0; line-height: 1.25; }

.banner { margin: 1rem 0 0.5rem; padding: 0.75rem 1rem; border-left: 0.5rem solid var(--c); background: var(--bg); border-radius: 4px; }
.banner.failed { --c: var(--failed); --bg: var(--failed-bg); }
.banner.undecided { --c: var(--undecided); --bg: var(--undecided-bg); }
.banner.passed { --c: var(--passed); --bg: var(--passed-bg); }
.banner .verdict { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem; }
.banner h1 { font-size: 1.6rem; color: var(--c); letter-spacing: 0.02em; }
.banner .for { font-size: 1.05rem; }
.banner .counts { margin: 0.35rem 0 0; font-weight: 600; }
.identity { display: flex; flex-wrap: wrap; gap: 0.1rem 1.5rem; margin: 0.4rem 0 0; font-size: 0.9rem; color: var(--muted); }
.identity div { display: flex; gap: 0.35rem; min-width: 0; }
.identity dt { font-weight: 600; }
.identity dd { margin: 0; color: var(--ink); overflow-wrap: anywhere; }

nav.toc { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; margin: 0.25rem 0 0.75rem; font-size: 0.9rem; }

section.status { margin-top: 1rem; }
section.status > h2 { font-size: 1.2rem; padding-bottom: 0.2rem; border-bottom: 2px solid var(--c); color: var(--c); }
section.failed { --c: var(--failed); --bg: var(--failed-bg); }
section.undecided { --c: var(--undecided); --bg: var(--undecided-bg); }
section.passed { --c: var(--passed); --bg: var(--passed-bg); }
section.skipped { --c: var(--skipped); --bg: var(--skipped-bg); }
h3.layer { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.08em; color: var(--muted); margin: 0.6rem 0 0.25rem; }

.check { border: 1px solid var(--line); border-left: 4px solid var(--c); border-radius: 4px; padding: 0.45rem 0.75rem; margin: 0 0 0.4rem; background: var(--paper); }
.check:target { outline: 3px solid #0a58ca; outline-offset: 2px; }
.check h4 { font-size: 1rem; font-weight: 600; display: flex; flex-wrap: wrap; gap: 0 0.75rem; align-items: baseline; }
.check h4 a.id { font-family: var(--mono); font-size: 0.92rem; color: var(--c); text-decoration: none; }
.check h4 a.id:hover { text-decoration: underline; }
.check .title { font-weight: 500; }
.check .feature { margin-left: auto; font-size: 0.8rem; font-weight: 400; color: var(--muted); font-family: var(--mono); }
.check p, .check dl { margin: 0.3rem 0 0; }
.scenario { margin-top: 0.35rem; padding-top: 0.3rem; border-top: 1px dashed var(--line); }
.scenario:first-of-type { border-top: 0; padding-top: 0; }
.scenario .name { font-weight: 500; }
/* inside a failed or undecided check, its passed and skipped scenarios step back */
.check:not(.brief) .scenario.passed, .check:not(.brief) .scenario.skipped { font-size: 0.88rem; color: var(--muted); }
.label { display: inline-block; font-size: 0.75rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; padding: 0 0.4rem; border-radius: 3px; color: var(--lc); background: var(--lbg); margin-right: 0.4rem; }
.label.failed { --lc: var(--failed); --lbg: var(--failed-bg); }
.label.undecided { --lc: var(--undecided); --lbg: var(--undecided-bg); }
.label.passed { --lc: var(--passed); --lbg: var(--passed-bg); }
.label.skipped { --lc: var(--skipped); --lbg: var(--skipped-bg); }

dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.75rem; }
dl.fields dt { font-weight: 700; color: var(--muted); font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.04em; padding-top: 0.1rem; }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
dl.fields dd.fix code { display: block; background: var(--tint); border: 1px solid var(--line); border-radius: 3px; padding: 0.25rem 0.5rem; white-space: pre-wrap; }
.message { overflow-wrap: anywhere; }

/* passed and skipped: one compact line each */
.check.brief { padding: 0.2rem 0.75rem; margin-bottom: 0.2rem; border-left-width: 3px; }
.check.brief h4 { font-size: 0.92rem; }
.check.brief p, .check.brief .scenario { font-size: 0.85rem; color: var(--muted); margin-top: 0.1rem; }

/* causes lead: a cause, then what fails because of it, indented under it */
.cause { margin-bottom: 0.6rem; }
.symptoms { margin: -0.2rem 0 0 1.5rem; padding-left: 0.6rem; border-left: 2px dotted var(--line); font-size: 0.92rem; }
.symptoms p { margin: 0.15rem 0; }
.because { font-size: 0.88rem; color: var(--muted); }
.check.symptom { border-left-style: dotted; }
h3.reason { font-size: 0.95rem; margin: 0.7rem 0 0.2rem; }
p.remedy { margin: 0 0 0.35rem; font-size: 0.92rem; }
p.remedy .what { font-weight: 700; color: var(--muted); text-transform: uppercase; font-size: 0.78rem; letter-spacing: 0.04em; }

footer { margin-top: 2rem; font-size: 0.85rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 0.5rem; }

@media (max-width: 700px) {
  .check .feature { margin-left: 0; }
  dl.fields { grid-template-columns: 1fr; }
}

@media print {
  html { font-size: 10.5pt; }
  body { max-width: none; padding: 0; }
  nav.toc { display: none; }
  .banner, .check, .label, dl.fields dd.fix code { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .check { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  section.status > h2 { break-before: auto; }
  a { color: inherit; text-decoration: none; }
  footer a[href]::after { content: " (" attr(href) ")"; }
}
`;

/**
 * The fleet page's own rules, on top of STYLESHEET: the host × check matrix (sticky header rows and
 * host column inside a scrolling box, so 300 hosts × 60 checks stay readable), its cells (colour
 * and the status word), the pop-out of a cell's <details>, and the two fleet-only statuses
 * (waived, error).
 */
export const FLEET_RULES = `
body.fleet { max-width: none; }
.label.waived, .banner.waived { --lc: var(--waived); --lbg: var(--waived-bg); --c: var(--waived); --bg: var(--waived-bg); }
.label.error { --lc: var(--error); --lbg: var(--error-bg); }
.legend .label.failed { --lc: #ffffff; --lbg: var(--failed); }
.legend { display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; font-size: 0.85rem; margin: 0.5rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: center; margin: 0.5rem 0; font-size: 0.9rem; }
form.filters label { display: flex; gap: 0.35rem; align-items: center; font-weight: 600; }
.matrix-wrap { overflow: auto; max-height: calc(100vh - 1rem); border: 1px solid var(--line); border-radius: 4px; }
table.matrix { border-collapse: separate; border-spacing: 0; font-size: 0.8rem; }
table.matrix th, table.matrix td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 0; background: var(--paper); }
table.matrix thead th { position: sticky; z-index: 2; background: var(--tint); }
table.matrix thead tr.layers th { top: 0; height: 1.7rem; padding: 0 0.4rem; text-transform: uppercase; letter-spacing: 0.06em; font-size: 0.72rem; color: var(--muted); text-align: left; border-left: 2px solid var(--muted); }
table.matrix thead tr.checks th { top: 1.7rem; vertical-align: bottom; padding: 0.3rem 0; }
table.matrix thead tr.checks th.col { width: 4.6rem; min-width: 4.6rem; }
table.matrix th.col span { writing-mode: vertical-rl; transform: rotate(180deg); display: inline-block; max-height: 12rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--mono); font-weight: 500; font-size: 0.72rem; margin: 0 auto; }
table.matrix th.col { text-align: center; }
table.matrix .first-of-layer { border-left: 2px solid var(--muted); }
table.matrix th.host, table.matrix th.corner { position: sticky; left: 0; z-index: 1; text-align: left; padding: 0.15rem 0.5rem; min-width: 11rem; max-width: 16rem; font-weight: 600; overflow-wrap: anywhere; }
table.matrix thead th.corner { z-index: 3; top: 0; vertical-align: bottom; }
table.matrix th.host .profile { display: block; font-weight: 400; color: var(--muted); font-size: 0.72rem; }
table.matrix td.totals, table.matrix th.totals { padding: 0.15rem 0.4rem; font-size: 0.72rem; min-width: 7.5rem; white-space: nowrap; }
table.matrix td.totals span { display: block; }
table.matrix td.cell { width: 4.6rem; min-width: 4.6rem; height: 1.6rem; text-align: center; background: var(--bg); position: relative; }
td.cell.passed { --bg: var(--passed-bg); --c: var(--passed); }
/* a failure is the one cell a reader must not miss among many: solid, not a tint */
td.cell.failed { --bg: var(--failed); --c: #ffffff; }
td.cell.waived { --bg: var(--waived-bg); --c: var(--waived); }
td.cell.undecided { --bg: var(--undecided-bg); --c: var(--undecided); }
td.cell.skipped { --bg: var(--skipped-bg); --c: var(--skipped); }
td.cell.error { --bg: var(--error-bg); --c: var(--error); }
td.cell.absent { --bg: var(--paper); --c: var(--muted); }
td.cell .word { color: var(--c); font-weight: 700; font-size: 0.7rem; letter-spacing: 0.02em; }
td.cell.failed .word, td.cell.error .word { text-transform: uppercase; }
td.cell .new { display: block; font-size: 0.6rem; font-weight: 700; color: var(--c); text-transform: uppercase; }
td.cell details > summary { list-style: none; cursor: pointer; padding: 0.2rem 0.1rem; }
td.cell details > summary::-webkit-details-marker { display: none; }
td.cell details[open] > summary { outline: 2px solid #0a58ca; outline-offset: -2px; }
td.cell .pop { position: absolute; z-index: 4; top: 100%; left: 0; width: 30rem; max-width: 80vw; text-align: left; background: var(--paper); color: var(--ink); border: 1px solid var(--line); border-left: 4px solid var(--c); border-radius: 4px; padding: 0.4rem 0.6rem; box-shadow: 0 4px 14px rgba(0,0,0,0.18); font-size: 0.85rem; }
td.cell .pop h4 { font-size: 0.85rem; font-family: var(--mono); }
td.cell .pop .scenario { border-top: 1px dashed var(--line); margin-top: 0.3rem; padding-top: 0.3rem; }
table.matrix tfoot th, table.matrix tfoot td { font-size: 0.68rem; padding: 0.15rem 0.2rem; vertical-align: top; text-align: center; background: var(--tint); }
table.matrix tfoot td span { display: block; }
.n-failed, .n-error { color: var(--failed); font-weight: 700; }
.n-waived { color: var(--waived); }
.n-undecided { color: var(--undecided); }
.n-ok { color: var(--passed); }
table.matrix[data-status="passed"] td.cell:not(.passed), table.matrix[data-status="failed"] td.cell:not(.failed),
table.matrix[data-status="waived"] td.cell:not(.waived), table.matrix[data-status="undecided"] td.cell:not(.undecided),
table.matrix[data-status="skipped"] td.cell:not(.skipped), table.matrix[data-status="error"] td.cell:not(.error) { opacity: 0.2; }
section.fleet { margin-top: 1.5rem; }
section.fleet h3 { font-size: 1rem; margin: 0.9rem 0 0.3rem; }
section.fleet > h2 { font-size: 1.2rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-bottom: 0.4rem; }
table.list { border-collapse: collapse; font-size: 0.88rem; }
table.list th, table.list td { border: 1px solid var(--line); padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
table.list th { background: var(--tint); }
@media print { .matrix-wrap { overflow: visible; max-height: none; } form.filters { display: none; } }
`;
