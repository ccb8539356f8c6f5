/**
 * Module parameter values as sysfs prints them: bool params print `Y`/`N`, int params print
 * numbers (kvm_amd's `sev` was an int before Linux 5.x and is a bool since; both appear in the
 * field). Kernel kernel/params.c param_get_bool() / param_set_bool() (kstrtobool accepts
 * 1/0, y/n, on/off).
 */
export function parseBoolParam(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (v === 'y' || v === '1' || v === 'on' || v === 'yes') return true;
  if (v === 'n' || v === '0' || v === 'off' || v === 'no') return false;
  return undefined;
}
