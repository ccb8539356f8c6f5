/**
 * Site feature files (issue 21, docs/site-policy.md): found in the --features directories and
 * checked against the step definitions before any host is opened. A mistake is the author's to
 * fix quickly: one line `FILE:LINE: <problem>` (an InputError, exit 2):
 *  - Gherkin that does not parse (the parser's own message and line);
 *  - an unknown step, with the nearest known one; a step two definitions match (ambiguous);
 *  - a parameter value its type or its step refuses (a firmware version 1.256, an SPL of 300, a
 *    missing allow-list file);
 *  - a scenario without one `@check:site.<name>` id, or with an id outside `site.` (the bundled
 *    checks' ids are sevcheck's own);
 *  - a scenario with no deciding `Then` step, or with several (one scenario decides one check).
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { AstBuilder, GherkinClassicTokenMatcher, Parser, compile } from '@cucumber/gherkin';
import { IdGenerator, type GherkinDocument, type Pickle } from '@cucumber/messages';
import { InputError } from '../errors.js';
import { readSiteFile } from './files.js';
import { stepDocOf } from './step-doc.js';
import { definitionsOf, displayText, entryOf, type Definition, type DefinitionLike } from './vocabulary.js';

/** A site check id: `site.` and a name as waivers and reports take ids (fleet/waivers.ts CHECK_ID). */
export const SITE_CHECK = /^site\.[a-z0-9][a-z0-9._-]*$/;
/** Characters cucumber would read as a glob in a feature path (it globs every path it is given). */
const GLOB_CHARS = /[{}*?[\]!()@+\\]/;
const MAX_FEATURE_FILES = 10_000;

/** Every .feature file under the --features directories (recursive, sorted, symlinked directories not followed). */
export function siteFeatureFiles(dirs: readonly string[], option = '--features'): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    let st;
    try {
      st = statSync(dir);
    } catch (e) {
      throw new InputError(`${option} ${dir}`, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : `cannot read: ${(e as NodeJS.ErrnoException).code}`);
    }
    if (!st.isDirectory()) throw new InputError(`${option} ${dir}`, 'not a directory (give the directory that holds the site .feature files)');
    const found: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.feature') && (e.isFile() || e.isSymbolicLink())) found.push(resolve(p));
        if (found.length > MAX_FEATURE_FILES) throw new InputError(`${option} ${dir}`, `more than ${MAX_FEATURE_FILES} feature files`);
      }
    };
    walk(dir);
    if (found.length === 0) throw new InputError(`${option} ${dir}`, 'has no .feature file');
    for (const f of found) if (!files.includes(f)) files.push(f);
  }
  return files;
}

/** How a file is named in messages: relative to the working directory when inside it. */
const shown = (file: string): string => {
  const r = relative(process.cwd(), file);
  return r && !r.startsWith('..') ? r : file;
};

/** Levenshtein distance (two rows), for the nearest known step. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The known step nearest to `text`: by its example (without keyword) and by its text. */
export function nearestStep(text: string, defs: readonly DefinitionLike[]): { text: string; example: string } | undefined {
  let best: { text: string; example: string; d: number } | undefined;
  const t = text.toLowerCase();
  for (const def of defs) {
    const e = entryOf(def);
    const bare = e.example.replace(/^\S+\s+/, '');
    const d = Math.min(distance(t, bare.toLowerCase()), distance(t, e.text.toLowerCase()));
    if (!best || d < best.d) best = { text: e.text, example: e.example, d };
  }
  return best;
}

export interface SiteCheck {
  readonly id: string;
  readonly file: string;
  readonly line: number;
}

/**
 * Check every site feature file against the loaded step definitions; returns the site check ids
 * with where each is declared. Throws InputError (`FILE:LINE`, problem) for the first mistake.
 */
export function checkSiteFeatures(files: readonly string[], support: unknown): SiteCheck[] {
  const defs = definitionsOf(support);
  const checks: SiteCheck[] = [];
  for (const file of files) {
    const label = shown(file);
    if (GLOB_CHARS.test(file)) throw new InputError(label, 'a site feature file\'s path may not contain any of { } * ? [ ] ! ( ) @ + \\ (cucumber reads them as a pattern): rename it');
    const text = readSiteFile(file, label);
    const newId = IdGenerator.incrementing();
    let doc: GherkinDocument;
    try {
      doc = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(text);
    } catch (e) {
      // the parser's messages are "(line:column): …", one per line (after "Parser errors:" when several)
      const m = /^\((\d+):\d+\): (.*)$/m.exec((e as Error).message);
      throw new InputError(m ? `${label}:${m[1]}` : label, m ? (m[2] as string) : (e as Error).message.split('\n')[0] ?? 'not Gherkin');
    }
    if (!doc.feature) throw new InputError(label, 'no "Feature:" in the file');
    const lines = new Map<string, number>();
    const note = (id: string, line: number): void => void lines.set(id, line);
    const walk = (children: ReadonlyArray<{ scenario?: { id: string; location: { line: number }; steps: ReadonlyArray<{ id: string; location: { line: number } }>; examples: ReadonlyArray<{ tableBody: ReadonlyArray<{ id: string; location: { line: number } }> }> }; background?: { steps: ReadonlyArray<{ id: string; location: { line: number } }> }; rule?: { children: never } }>): void => {
      for (const c of children) {
        if (c.background) for (const s of c.background.steps) note(s.id, s.location.line);
        if (c.scenario) {
          note(c.scenario.id, c.scenario.location.line);
          for (const s of c.scenario.steps) note(s.id, s.location.line);
          for (const ex of c.scenario.examples) for (const row of ex.tableBody) note(row.id, row.location.line);
        }
        if (c.rule) walk((c.rule as { children: Parameters<typeof walk>[0] }).children);
      }
    };
    walk(doc.feature.children as Parameters<typeof walk>[0]);
    const pickles: readonly Pickle[] = compile(doc, file, newId);
    if (pickles.length === 0) throw new InputError(`${label}:${doc.feature.location.line}`, 'the feature has no scenario');
    const dir = dirname(file);
    for (const p of pickles) {
      // an example row's line where the pickle comes from one, else the scenario's
      const where = lines.get(p.astNodeIds[1] ?? '') ?? lines.get(p.astNodeIds[0] ?? '') ?? doc.feature.location.line;
      const ids = p.tags.map((t) => /^@check:(.*)$/.exec(t.name)?.[1]).filter((x): x is string => x !== undefined);
      if (ids.length === 0) throw new InputError(`${label}:${where}`, `scenario "${p.name}" has no @check:site.<name> tag (every site scenario decides one check, e.g. @check:site.firmware-min)`);
      if (new Set(ids).size > 1) throw new InputError(`${label}:${where}`, `scenario "${p.name}" has several check ids (${ids.map((i) => `@check:${i}`).join(', ')}): give it one`);
      const id = ids[0] as string;
      if (!SITE_CHECK.test(id)) {
        throw new InputError(
          `${label}:${where}`,
          id.startsWith('site.') ? `@check:${id}: a site check id is site.<name> with a name of a-z, 0-9, ".", "_", "-" (starting with a letter or digit)` : `@check:${id}: a site file's check ids start with "site." (the others are sevcheck's own): e.g. @check:site.${id.replace(/[^a-z0-9._-]/gi, '-').toLowerCase()}`,
        );
      }
      let deciding = 0;
      for (const s of p.steps) {
        const line = lines.get(s.astNodeIds[0] ?? '') ?? where;
        const at = `${label}:${line}`;
        const hits = defs.filter((d) => d.expression.match(s.text) !== null);
        if (hits.length === 0) {
          const near = nearestStep(s.text, defs);
          throw new InputError(at, `unknown step "${s.text}"${near ? ` (nearest: "${near.text}", e.g. "${near.example}")` : ''}; sevcheck steps lists every step`);
        }
        if (hits.length > 1) {
          throw new InputError(at, `ambiguous step "${s.text}": ${hits.length} steps match (${hits.map((h) => `"${displayText(h.pattern)}"`).join(', ')}); reword it to match one`);
        }
        const def = hits[0] as Definition;
        let args: unknown[];
        try {
          args = (def.expression.match(s.text) ?? []).map((a) => a.getValue(null));
        } catch (e) {
          throw new InputError(at, `bad value in "${s.text}": ${(e as Error).message}`);
        }
        const problem = stepDocOf(def.options)?.check?.(args, { dir });
        if (problem) throw new InputError(at, `bad value in "${s.text}": ${problem}`);
        if (def.keyword === 'Then') deciding++;
      }
      if (deciding !== 1) {
        throw new InputError(
          `${label}:${where}`,
          deciding === 0
            ? `scenario "${p.name}" has no Then step: a site scenario decides its check with one Then step (sevcheck steps lists them)`
            : `scenario "${p.name}" has ${deciding} Then steps: a scenario decides one check; give each requirement its own scenario and @check:site.<name>`,
        );
      }
      checks.push({ id, file: label, line: where });
    }
  }
  return checks;
}
