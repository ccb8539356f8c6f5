/**
 * Kernel boolean module parameters, read the way the kernel reads them.
 *
 * Setting (modprobe.d `options`, the kernel command line): kernel/params.c param_set_bool()
 * treats a parameter given without `=` as set ("No equals means 'set'...": `if (!val) val = "1";`,
 * torvalds/linux 012e060c95e5 kernel/params.c) and otherwise hands the value to kstrtobool()
 * (lib/kstrtox.c). kstrtobool looks at the first character only: y/Y/1 → true, n/N/0 → false,
 * o/O followed by n/N → true ("on"), by f/F → false ("off"); anything else — including an empty
 * value, a leading space or "2" — is -EINVAL, and a module whose parameter is invalid does not
 * load (torvalds/linux 05909cd9a0c8 lib/kstrtox.c kstrtobool()). Newer kernels also take t/T → true
 * and f/F → false as first character (the kstrtobool comment "one of 'YyTt1NnFf0'"); older ones
 * reject them, so the module would not load there: a value that is never "false".
 *
 * Reading (/sys/module/MODULE/parameters/NAME): param_get_bool() prints "Y" or "N"; kvm_amd's `sev`
 * was an int before Linux 5.x and prints "1"/"0" there.
 */
export function kstrtobool(s: string): boolean | undefined {
  switch (s[0]) {
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
      return true;
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
      return false;
    case 'o':
    case 'O':
      if (s[1] === 'n' || s[1] === 'N') return true;
      if (s[1] === 'f' || s[1] === 'F') return false;
      return undefined;
    default:
      return undefined;
  }
}

/**
 * What the kernel stores for a bool parameter set to `value` (undefined = given bare, without
 * `=`); undefined when the kernel rejects the value (the module then fails to load).
 */
export function paramSetBool(value: string | undefined): boolean | undefined {
  return kstrtobool(value ?? '1');
}

/** A bool (or old int) parameter as sysfs prints it ("Y"/"N", "1"/"0", newline-terminated). */
export function parseBoolParam(text: string): boolean | undefined {
  return kstrtobool(text.trim());
}
