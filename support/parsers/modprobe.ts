/**
 * modprobe.d configuration, read as kmod reads it (kmod-project/kmod 84fa569b2eb3, cited per rule):
 *
 * - Directories, highest precedence first: /etc/modprobe.d, /run/modprobe.d,
 *   /usr/local/lib/modprobe.d, /usr/lib/modprobe.d (DISTCONFDIR), /lib/modprobe.d
 *   (libkmod/libkmod.c default_config_paths[]). Only names ending in ".conf" that do not start
 *   with "." are read (libkmod-config.c conf_files_filter_out()). All files are sorted together
 *   by name with strcmp(); a name already taken by a higher-precedence directory is skipped
 *   ("Ignoring duplicate config file", conf_files_insert_sorted()).
 * - Lines (shared/util.c freadline_wrapped()): a backslash before the newline joins the next
 *   line with nothing in between (no space); a backslash before any other character is dropped
 *   and the character kept; a backslash at end of file is dropped.
 * - A line is a comment only when its very first character is "#" (kmod_config_parse(): `if
 *   (line[0] == '\0' || line[0] == '#')`). A "#" anywhere else is ordinary text: in
 *   `options kvm_amd sev=1 # was sev=0` the kernel receives `sev=1 # was sev=0` and ends with sev=0.
 * - Words of a command are split on spaces and tabs (strtok_r "\t "). `options MODULE REST`:
 *   REST — everything after the module name's separator — goes to the module verbatim, tabs
 *   turned into spaces (kmod_config_add_options()). A line with no REST is a syntax error and
 *   ignored. `install MODULE CMD...` makes modprobe run CMD through the shell instead of loading
 *   the module (the configured options reach it only as $CMDLINE_OPTS, libkmod-module.c
 *   module_do_install_commands()). `blacklist MODULE` only hides the module's aliases.
 * - Module names: "-" and "_" are the same, except inside [...]; a "]" without "[" makes the
 *   line invalid (shared/util.c underscores(); testsuite/test-util.c test_underscores).
 * - The options of a module are all its `options` lines in file order, joined with a space, then
 *   the `MODULE.param` arguments of /proc/cmdline (kmod_config_new() parses the command line last;
 *   kmod_module_get_options() concatenates). The kernel parses that string with next_arg()
 *   (cmdline.ts): the last occurrence of a parameter wins; a bare bool parameter is true.
 */
import { normParamName, splitKernelArgs, type KernelCmdline } from './cmdline.js';

export const MODPROBE_DIRS = [
  '/etc/modprobe.d',
  '/run/modprobe.d',
  '/usr/local/lib/modprobe.d',
  '/usr/lib/modprobe.d',
  '/lib/modprobe.d',
] as const;

interface Located {
  readonly file: string;
  /** 1-based line the directive starts on */
  readonly line: number;
  /** module name with "-" turned into "_" as kmod does */
  readonly module: string;
}

/** `options MODULE REST`: REST is what reaches the kernel for this line. */
export interface ModprobeOptionsLine extends Located {
  readonly kind: 'options';
  readonly options: string;
}

/** `install MODULE CMD` / `remove MODULE CMD` */
export interface ModprobeCommand extends Located {
  readonly kind: 'install' | 'remove';
  readonly command: string;
}

export interface ModprobeBlacklist extends Located {
  readonly kind: 'blacklist';
}

export type ModprobeDirective = ModprobeOptionsLine | ModprobeCommand | ModprobeBlacklist;

/** shared/util.c underscores(): "-" → "_" outside [...]; undefined when kmod rejects the name. */
export function kmodUnderscores(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '-') out += '_';
    else if (c === ']') return undefined;
    else if (c === '[') {
      const close = name.indexOf(']', i);
      if (close < 0) return undefined;
      out += name.slice(i, close + 1);
      i = close;
    } else out += c;
  }
  return out;
}

/** freadline_wrapped(): logical lines with the 1-based physical line each starts on. */
export function kmodLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let buf = '';
  let physical = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n') {
      out.push({ line: start, text: buf });
      buf = '';
      start = ++physical;
    } else if (c === '\\') {
      const next = text[i + 1];
      i++;
      if (next === '\n') physical++;
      else if (next !== undefined) buf += next;
    } else buf += c;
  }
  if (buf !== '') out.push({ line: start, text: buf });
  return out;
}

/** One modprobe.d file's directives (options, install, remove, blacklist), as kmod_config_parse() reads them. */
export function parseModprobeConf(file: string, text: string): ModprobeDirective[] {
  const out: ModprobeDirective[] = [];
  for (const { line, text: l } of kmodLines(text)) {
    if (l === '' || l.startsWith('#')) continue;
    // strtok_r(line, "\t ") for the command and the module name; the rest verbatim
    const m = /^[\t ]*([^\t ]+)(?:[\t ]+([^\t ]+))?(?:[\t ]([\s\S]*))?$/.exec(l);
    if (!m) continue;
    const [, cmd = '', rawModule, rest] = m;
    const module = rawModule === undefined ? undefined : kmodUnderscores(rawModule);
    if (module === undefined) continue; // "ignoring bad line"
    const restOrNull = rest === undefined || rest === '' ? undefined : rest; // strtok returns NULL for ""
    if (cmd === 'options' && restOrNull !== undefined) out.push({ kind: 'options', file, line, module, options: restOrNull.replace(/\t/g, ' ') });
    else if ((cmd === 'install' || cmd === 'remove') && restOrNull !== undefined) out.push({ kind: cmd, file, line, module, command: restOrNull });
    else if (cmd === 'blacklist') out.push({ kind: 'blacklist', file, line, module });
  }
  return out;
}

/** A module parameter as the kernel receives it, with where it came from. */
export interface ModuleParamSetting {
  /** parameter name, "-" turned into "_" (parameq()) */
  readonly name: string;
  /** undefined when given bare (no "=") */
  readonly value: string | undefined;
  /** "file:line" or "/proc/cmdline" */
  readonly where: string;
}

/**
 * Every parameter assignment the kernel receives for MODULE when modprobe loads it, in order
 * (the last one for a name wins): its `options` lines joined with spaces, then its parameters
 * from the kernel command line (kmod re-quotes a value with spaces, as kmod_config_parse_kcmdline()
 * does).
 */
export function moduleParams(directives: readonly ModprobeDirective[], module: string, cmdline?: KernelCmdline): ModuleParamSetting[] {
  const mod = kmodUnderscores(module) ?? module;
  const segments: Array<{ text: string; where: string }> = [];
  for (const d of directives) if (d.kind === 'options' && d.module === mod) segments.push({ text: d.options, where: `${d.file}:${d.line}` });
  for (const [k, v] of cmdline?.params ?? []) {
    const dot = k.indexOf('.');
    if (dot < 0 || kmodUnderscores(k.slice(0, dot)) !== mod) continue;
    const param = k.slice(dot + 1);
    segments.push({ text: v === undefined ? param : /\s/.test(v) ? `${param}="${v}"` : `${param}=${v}`, where: '/proc/cmdline' });
  }
  let joined = '';
  const starts: number[] = [];
  for (const s of segments) {
    if (joined !== '') joined += ' ';
    starts.push(joined.length);
    joined += s.text;
  }
  return splitKernelArgs(joined).map((a) => {
    let seg = 0;
    while (seg + 1 < starts.length && (starts[seg + 1] as number) <= a.offset) seg++;
    return { name: normParamName(a.name), value: a.value, where: segments[seg]?.where ?? '' };
  });
}

/** Order config files as kmod does: ".conf" names not starting with ".", earlier dirs win a name, strcmp order. */
export function effectiveConfFiles(listing: ReadonlyArray<{ dir: string; names: readonly string[] }>): string[] {
  const chosen = new Map<string, string>();
  for (const { dir, names } of listing) {
    for (const n of names) {
      if (n.startsWith('.') || n.length < 6 || !n.endsWith('.conf')) continue;
      if (!chosen.has(n)) chosen.set(n, `${dir}/${n}`);
    }
  }
  const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return [...chosen.keys()].sort(byteOrder).map((n) => chosen.get(n) as string);
}
