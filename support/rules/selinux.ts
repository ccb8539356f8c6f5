/**
 * SELinux rules for /dev/sev: typed facts in, Verdict out. No I/O.
 *
 * Sources:
 * - libvirt docs/kbase/launch_security_sev.rst: with SELinux, selinux-policy < 3.14.2.40 keeps
 *   QEMU (svirt_t) from using /dev/sev; newer policy labels it sev_device_t and allows svirt_t
 *   on it (checks.md selinux.*).
 * - selinuxfs: /sys/fs/selinux/enforce exists only when SELinux is enabled (libselinux
 *   security_getenforce, is_selinux_enabled); hosts with AppArmor (Debian, Ubuntu) have none.
 * - The per-check logic lives with the parsers: sevLabelVerdict (selinux.ts),
 *   policyVersionVerdict (pkg-version.ts), svirtAccessVerdict (sesearch.ts), avcVerdict
 *   (audit-log.ts). This file gates them on the SELinux mode and turns unreadable or
 *   unparseable input into undecided.
 */
import type { StatInfo } from '../host/types.js';
import { skipped, undecided, type Verdict } from '../verdict.js';
import { formatParseError, parseErrorVerdict, type ParseResult } from '../parsers/parse-result.js';
import { parseContext, sevLabelVerdict } from '../parsers/selinux.js';
import { policyVersionVerdict, type InstalledPolicy } from '../parsers/pkg-version.js';
import { svirtAccessVerdict, type SesearchResult } from '../parsers/sesearch.js';
import { avcVerdict, type AvcDenial } from '../parsers/audit-log.js';

import type { SelinuxState, ToolResult } from '../probes/selinux.js';
// moved to the probe (rules import probe types, never the reverse); re-exported for the rules' users
export type { SelinuxState, ToolResult };

/** Skip every selinux.* check on a host without SELinux: a Verdict, or the state to go on with. */
export function gate(state: ParseResult<SelinuxState>, apparmor: boolean | undefined): Verdict | SelinuxState {
  if (!state.ok) return parseErrorVerdict(state.error);
  if (state.value.mode !== 'disabled') return state.value;
  const aa = apparmor ? '; QEMU is confined by AppArmor on this host instead (see selinux.apparmor-sev)' : '';
  return skipped(`SELinux is not enabled (${state.value.source})${aa}`);
}

/** selinux.sev-label */
export function sevLabel(state: SelinuxState, node: StatInfo | undefined): Verdict {
  if (!node) return skipped('no /dev/sev on this host: device.sev.exists fails and says why');
  if (node.selinux === undefined) return undecided(`no SELinux context was read for /dev/sev (SELinux ${state.mode})`);
  const ctx = parseContext(node.selinux);
  if (!ctx) return undecided(`/dev/sev context "${node.selinux.slice(0, 80)}" is not user:role:type[:level]`);
  return sevLabelVerdict(state.mode, ctx);
}

/** selinux.policy-version */
export function policyVersion(installed: ToolResult<InstalledPolicy>): Verdict {
  if (installed.kind === 'unusable') return undecided(installed.reason);
  if (!installed.result.ok) return parseErrorVerdict(installed.result.error);
  return policyVersionVerdict(installed.result.value);
}

/** selinux.svirt-access */
export function svirtAccess(search: ToolResult<SesearchResult>, booleans?: ReadonlyMap<string, boolean>): Verdict {
  if (search.kind === 'unusable') return undecided(search.reason);
  if (!search.result.ok) return parseErrorVerdict(search.result.error);
  return svirtAccessVerdict(search.result.value, booleans);
}

/** selinux.no-avc-denials */
export function noAvcDenials(log: ParseResult<AvcDenial[]> | undefined, source: string): Verdict {
  if (!log)
    return undecided(`${source} does not exist (auditd not installed or not logging there): denials then go to the kernel log (journalctl -k | grep avc), which sevcheck does not read`);
  if (!log.ok) return undecided(`cannot parse ${formatParseError(log.error)}`);
  return avcVerdict(log.value, source);
}
