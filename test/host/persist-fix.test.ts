/**
 * host.kvm-amd.* fixes from what is persisted (issue 20 item 2): a fix never tells the user to
 * write a file that already holds the right value, and never `>` over a sev.conf that exists.
 */
import { describe, expect, it } from 'vitest';
import * as rules from '../../support/rules/host.js';
import { decodeEncryptedMemory } from '../../support/sev/cpuid.js';
import { parseCmdline } from '../../support/parsers/cmdline.js';
import { parseModprobeConf } from '../../support/parsers/modprobe.js';
import { known } from '../../support/facts.js';

const MILAN = decodeEncryptedMemory({ eax: 0x0101fd3f, ebx: 0x00004173, ecx: 0x1fd, edx: 0x80 });
const off = known({ path: '/sys/module/kvm_amd/parameters/sev', raw: 'N', enabled: false as const });
const persisted = (files: Record<string, string>, cmdline = 'BOOT_IMAGE=/vmlinuz ro') =>
  known({ directives: Object.entries(files).flatMap(([f, t]) => parseModprobeConf(f, t)), cmdline: parseCmdline(cmdline) });

describe('host.kvm-amd.sev: the fix follows what is persisted', () => {
  it('modprobe-conflict: names the later file:line that turns it off, never "echo ... > sev.conf"', async () => {
    const v = await rules.kvmAmdParam(known(true), off, 'sev', known(MILAN), persisted({
      '/etc/modprobe.d/sev.conf': 'options kvm_amd sev=1\n',
      '/etc/modprobe.d/zz-kvm-tuning.conf': '# tuning\noptions kvm_amd sev=0 nested=1\n',
    }));
    expect(v.status).toBe('failed');
    expect(v.status === 'failed' && v.fix).toMatch(/^change \/etc\/modprobe\.d\/zz-kvm-tuning\.conf:2 to sev=1 \(see host\.modprobe\.sev\); then reload/);
    expect(v.message).not.toMatch(/echo|> \/etc\/modprobe\.d\/sev\.conf/);
  });

  it('already persisted right: says so and asks for a reload, not a rewrite', async () => {
    const v = await rules.kvmAmdParam(known(true), off, 'sev', known(MILAN), persisted({ '/etc/modprobe.d/sev.conf': 'options kvm_amd sev=1\n' }));
    expect(v.status === 'failed' && v.fix).toMatch(/^\/etc\/modprobe\.d\/sev\.conf:1 already sets sev=1: the module was loaded without it; then reload the module/);
  });

  it('sev.conf exists with other options: add a line to it, do not overwrite it', async () => {
    const v = await rules.kvmAmdParam(known(true), known({ path: '/sys/module/kvm_amd/parameters/sev_es', raw: 'N', enabled: false as const }), 'sev-es', known(MILAN), persisted({ '/etc/modprobe.d/sev.conf': 'options kvm_amd sev=1\n' }));
    expect(v.status === 'failed' && v.fix).toMatch(/^add the line "options kvm_amd sev_es=1" to \/etc\/modprobe\.d\/sev\.conf;/);
  });

  it('nothing persisted: the libvirt docs\' sev.conf or the kernel command line', async () => {
    const v = await rules.kvmAmdParam(known(true), off, 'sev', known(MILAN), persisted({}));
    expect(v.status === 'failed' && v.fix).toMatch(/^echo "options kvm_amd sev=1" > \/etc\/modprobe\.d\/sev\.conf \(or add "mem_encrypt=on kvm_amd\.sev=1" to GRUB_CMDLINE_LINUX/);
  });

  it('kvm_amd.sev=0 on the kernel command line: names /proc/cmdline', async () => {
    const v = await rules.kvmAmdParam(known(true), off, 'sev', known(MILAN), persisted({}, 'ro kvm_amd.sev=0'));
    expect(v.status === 'failed' && v.fix).toMatch(/^change \/proc\/cmdline to sev=1/);
  });
});
