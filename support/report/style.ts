/**
 * The stylesheet of sevcheck's HTML pages: report.html (support/report/html.ts) and the fleet
 * page (support/fleet/html.ts: STYLESHEET + FLEET_CSS) that links each host's row to it. One string, inlined into each page's <style>: the
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
.banner.waived { --c: var(--waived); --bg: var(--waived-bg); }
.banner .in-fleet { margin: 0.4rem 0 0; font-size: 0.9rem; }
.banner .in-fleet p, .banner .in-fleet ul { margin: 0.1rem 0; }
.check.waived { --c: var(--waived); }
.check .waiver { margin: 0.2rem 0 0; color: var(--waived); }
.label.waived { --lc: var(--waived); --lbg: var(--waived-bg); }
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
p.remedy, p.why { margin: 0 0 0.35rem; font-size: 0.92rem; }
p.remedy .what, p.why .what { font-weight: 700; color: var(--muted); text-transform: uppercase; font-size: 0.78rem; letter-spacing: 0.04em; }

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
