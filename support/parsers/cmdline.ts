/**
 * Kernel command line (/proc/cmdline), split the way the kernel does (parse_args() in
 * kernel/params.c): whitespace-separated, double quotes group, the last occurrence of a parameter
 * wins, and `--` ends kernel parameters (the rest goes to init). Module parameters appear as
 * `module.param=value`; dashes and underscores in names are equivalent (params.c parameq()).
 */
export interface KernelCmdline {
  readonly raw: string;
  /** every key=value (or bare key → '') before `--`, in order */
  readonly params: ReadonlyArray<readonly [string, string]>;
}

export function parseCmdline(text: string): KernelCmdline {
  const raw = text.replace(/\0/g, ' ').trim();
  const params: Array<[string, string]> = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of raw.matchAll(re)) {
    const tok = m[0].replace(/"/g, '');
    if (tok === '--') break;
    const eq = tok.indexOf('=');
    if (eq < 0) params.push([tok, '']);
    else params.push([tok.slice(0, eq), tok.slice(eq + 1)]);
  }
  return { raw, params };
}

const norm = (name: string): string => name.replace(/-/g, '_');

/** The effective value of a parameter (last one wins), or undefined when absent. */
export function cmdlineValue(cmd: KernelCmdline, name: string): string | undefined {
  let v: string | undefined;
  for (const [k, val] of cmd.params) if (norm(k) === norm(name)) v = val;
  return v;
}
