/**
 * Host names in a fleet (inventory `name`, Ansible host names, --from-results directory names).
 * A host's name becomes a directory of the report (hosts/<name>/), a JUnit suite name and a
 * metrics label, so it must be a name and nothing else: DNS-label-like (RFC 1123 §2.1 host name
 * syntax, RFC 1035 §2.3.4 sizes: labels of 1 to 63 characters separated by dots, 253 in all),
 * with `_` also allowed inside a label (inventories use `ref_milan`). So `.`, `..`, an empty
 * label, a leading `-` (an option to a program), `/` and anything longer than a file name may be
 * are all refused.
 */

/** One label: letters, digits, `_`, and `-` not first or last; 1..63 characters. */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
export const HOST_NAME_PATTERN = `^${LABEL}(?:\\.${LABEL})*$`;
export const HOST_NAME = new RegExp(HOST_NAME_PATTERN);
/** RFC 1035 §2.3.4 / RFC 1123: 253 characters for a name written without the final dot. */
export const HOST_NAME_MAX = 253;
export const HOST_NAME_RULE = 'a host name is labels of letters, digits, "_" and "-" (not first or last) separated by dots, at most 63 characters a label and 253 in all';

/** Why `name` is not a host name, or undefined when it is one. Never quotes the name. */
export function hostNameProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return 'is "." or "..": not a host name';
  if (Buffer.byteLength(name, 'utf8') > HOST_NAME_MAX) return `is longer than ${HOST_NAME_MAX} bytes: not a host name`;
  if (!HOST_NAME.test(name)) return `is not a host name (${HOST_NAME_RULE})`;
  return undefined;
}
