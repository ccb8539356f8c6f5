/**
 * The first phase of a run over ssh (issue 23): ask every layer's main facts at once before the
 * first check, so that the ssh backend, which sends all the reads and commands asked for in one
 * turn of the event loop as ONE batch (all of a run in one session), answers them in a few round trips (one per
 * level of dependency: /proc/sys/kernel/osrelease before /boot/config-<release>, the modprobe.d
 * listings before their files, the online CPU list before every CPU) instead of one per read.
 *
 * Nothing is decided here and no error surfaces here: every fact lands in its probe's memo and
 * the run's read cache, and the check that needs it gets it from there, value or error, exactly
 * as if it had asked first. The facts are those a whole run of the suite reads on any live host
 * (the read log of `sevcheck run --host local`, SEVCHECK_READ_LOG); a fact only some checks
 * need (after a gate) is read when its check asks, as before.
 */
import type { Probes } from '../run-context.js';

/** (The QEMU identity's files are not asked here: the ssh connection's first batch reads them, host/ssh-host.ts QEMU_IDENTITY_READS.) */
export async function prefetchFacts(p: Probes): Promise<void> {
  await Promise.allSettled([
    p.host.cpuinfo(),
    p.host.encryptedMemory(),
    p.host.kvmAmdLoaded(),
    p.host.kvmAmdParam('sev'),
    p.host.kvmAmdParam('sev_es'),
    p.host.kvmAmdParam('sev_snp'),
    p.host.cmdline(),
    p.host.kernelConfig(),
    p.host.modprobeOptions(),
    p.hostCpu.identity(),
    p.hostCpu.everyCpu(),
    p.hostCpu.kvmDevice(),
    p.caps.layerFacts(p.host),
    p.caps.domcaps(),
    p.device.qemuIdentity(),
    p.device.node('/dev/sev'),
    p.domain.guests(),
    p.firmware.kernelLog(),
    p.firmware.snphost(),
    p.firmware.sevctl(),
    p.selinux.state(),
    p.selinux.apparmorEnabled(),
  ]);
}
