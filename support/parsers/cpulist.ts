/**
 * The kernel's CPU list format, as in /sys/devices/system/cpu/online: comma-separated CPU numbers
 * and inclusive ranges, e.g. "0-63,128-191\n". Linux drivers/base/cpu.c prints the online mask
 * with cpumap_print_to_pagebuf(true, …) (the "%*pbl" list form of lib/vsprintf.c bitmap_list_string),
 * and Documentation/ABI/testing/sysfs-devices-system-cpu documents the file ("online: cpus that
 * are online and being scheduled", format per Documentation/admin-guide/cputopology.rst).
 *
 * x86 has at most 8192 possible CPUs (arch/x86/Kconfig NR_CPUS, MAXSMP), so a list naming a CPU
 * beyond that is rejected rather than expanded.
 */
export const MAX_CPUS = 8192;

export type CpuListResult = { readonly ok: true; readonly cpus: readonly number[] } | { readonly ok: false; readonly problem: string };

export function parseCpuList(text: string): CpuListResult {
  const body = text.trim();
  if (body === '') return { ok: false, problem: 'empty CPU list' };
  const cpus = new Set<number>();
  for (const part of body.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) return { ok: false, problem: `"${part.slice(0, 40)}" is not a CPU number or range like "0-63"` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return { ok: false, problem: `range "${part}" ends before it starts` };
    if (hi >= MAX_CPUS) return { ok: false, problem: `CPU ${hi} is beyond the ${MAX_CPUS} CPUs x86 Linux supports` };
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return { ok: true, cpus: [...cpus].sort((a, b) => a - b) };
}
