/**
 * The LSM an image boots with (rules/distro.ts kernelLsm / bootLsm / selinuxGate), the GRUB
 * defaults it is read from (parsers/grub-default.ts), and distro.apparmor.sev-access on the
 * virt-aa-helper output of a real libvirt (vectors/virt-aa-helper-9.0.0-4+deb12u2.stderr: Debian
 * 12's /usr/lib/libvirt/virt-aa-helper from libvirt-daemon 9.0.0-4+deb12u2, run with
 * `-d -c -u libvirt-5e7c4ec0-5e7c-4ec0-8000-5e7c4ec0c4ec` and probes/selinux.ts aaTemplateDomain on stdin).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKernelConfig } from '../../support/parsers/kernel-config.js';
import { parseGrubDefaults, parseKernelCmdlineFile } from '../../support/parsers/grub-default.js';
import { parseVirtAaHelperDryRun } from '../../support/parsers/virt-aa-helper.js';
import { apparmorSevVerdict, apparmorSevWithGuestRules, type GuestRules } from '../../support/device/apparmor.js';
import * as rules from '../../support/rules/distro.js';

/** Debian's kernel configuration for this (bookworm 6.1 and trixie 6.12 /boot/config-* both have it) */
const DEBIAN_LSM = 'landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor,selinux,smack,tomoyo,bpf';
const kernel = (extra: string, lsm: string | null = DEBIAN_LSM): rules.InstalledKernel => ({
  release: '6.12.57+deb13-amd64',
  source: '/boot/config-6.12.57+deb13-amd64',
  config: parseKernelConfig(
    `# Linux/x86 6.12.57 Kernel Configuration\nCONFIG_SECURITY=y\nCONFIG_SECURITY_SELINUX=y\nCONFIG_SECURITY_SELINUX_BOOTPARAM=y\nCONFIG_SECURITY_SMACK=y\nCONFIG_SECURITY_APPARMOR=y\n${lsm === null ? '' : `CONFIG_LSM="${lsm}"\n`}${extra}`,
    '/boot/config-6.12.57+deb13-amd64',
  ),
});
const params = (cmdline: string, sources = ['/etc/default/grub:9 GRUB_CMDLINE_LINUX']): rules.BootParams => {
  const m = new Map<string, string | undefined>();
  for (const a of cmdline.split(/\s+/).filter(Boolean)) {
    const [k, ...v] = a.split('=');
    m.set(k as string, v.length ? v.join('=') : undefined);
  }
  return { params: m, sources: cmdline ? sources : [], uncertain: [] };
};
const lsmOf = (b: rules.BootLsm): string => (b.kind === 'decided' ? b.lsm : 'unknown');

describe('the LSM a kernel boots (security/security.c ordered_lsm_init)', () => {
  it("Debian's CONFIG_LSM: AppArmor comes before SELinux, so AppArmor", () => {
    const b = rules.kernelLsm(kernel(''), params(''));
    expect(lsmOf(b)).toBe('apparmor');
    expect(b.why).toContain(`CONFIG_LSM="${DEBIAN_LSM}"`);
    expect(b.why).toContain('no boot parameter');
  });
  it('security=selinux (selinux-activate) makes it SELinux; apparmor=0 and selinux=0 turn one off', () => {
    expect(lsmOf(rules.kernelLsm(kernel(''), params('quiet security=selinux')))).toBe('selinux');
    expect(lsmOf(rules.kernelLsm(kernel(''), params('apparmor=0')))).toBe('selinux');
    expect(lsmOf(rules.kernelLsm(kernel(''), params('security=selinux selinux=0')))).toBe('none');
  });
  it('lsm= overrides CONFIG_LSM and makes security= ignored', () => {
    expect(lsmOf(rules.kernelLsm(kernel(''), params('lsm=selinux,bpf')))).toBe('selinux');
    expect(lsmOf(rules.kernelLsm(kernel(''), params('lsm=landlock,apparmor security=selinux')))).toBe('apparmor');
  });
  it('an LSM that is not built in is passed over; selinux=0 needs CONFIG_SECURITY_SELINUX_BOOTPARAM', () => {
    expect(lsmOf(rules.kernelLsm(kernel('# CONFIG_SECURITY_APPARMOR is not set\n'), params('')))).toBe('selinux');
    const noBootparam = kernel('# CONFIG_SECURITY_SELINUX_BOOTPARAM is not set\n', 'selinux,apparmor');
    expect(lsmOf(rules.kernelLsm(noBootparam, params('selinux=0')))).toBe('selinux');
  });
  it('a kernel before CONFIG_LSM: CONFIG_DEFAULT_SECURITY_*; neither: unknown', () => {
    expect(lsmOf(rules.kernelLsm(kernel('CONFIG_DEFAULT_SECURITY_SELINUX=y\n', null), params('')))).toBe('selinux');
    expect(lsmOf(rules.kernelLsm(kernel('', null), params('')))).toBe('unknown');
  });
  it('bootLsm: no kernel, kernels that disagree and unevaluable boot settings are unknown', () => {
    expect(lsmOf(rules.bootLsm([], params('')))).toBe('unknown');
    const fedora = { ...kernel('', 'lockdown,yama,integrity,selinux,bpf,landlock'), release: '6.12.5-200.fc41.x86_64' };
    expect(lsmOf(rules.bootLsm([kernel(''), fedora], params('')))).toBe('unknown');
    expect(lsmOf(rules.bootLsm([kernel('')], { ...params(''), uncertain: ['/etc/default/grub:3: GRUB_CMDLINE_LINUX is set with a command substitution'] }))).toBe('unknown');
    expect(lsmOf(rules.bootLsm([kernel(''), kernel('')], params('')))).toBe('apparmor');
  });
  it('selinuxGate: skipped on AppArmor and with SELINUX=disabled, judged on SELinux and when unknown', () => {
    const aa = rules.bootLsm([kernel('')], params(''));
    expect(rules.selinuxGate(aa, 'enforcing')?.status).toBe('skipped');
    expect(rules.selinuxGate(aa, 'enforcing')?.message).toMatch(/distro\.apparmor\.sev-access judges AppArmor/);
    const se = rules.bootLsm([kernel('')], params('security=selinux'));
    expect(rules.selinuxGate(se, 'enforcing')).toBeUndefined();
    expect(rules.selinuxGate(se, 'disabled')?.status).toBe('skipped');
    expect(rules.selinuxGate({ kind: 'unknown', why: 'x' }, 'enforcing')).toBeUndefined();
  });
});

describe('GRUB defaults (grub-mkconfig sources /etc/default/grub, then grub.d/*.cfg)', () => {
  it("Debian's default file and selinux-activate's edit", () => {
    const g = parseGrubDefaults([
      { path: '/etc/default/grub', content: '# comment\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' },
      { path: '/etc/default/grub.d/selinux.cfg', content: 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX security=selinux"\n' },
    ]);
    expect(g.vars.get('GRUB_CMDLINE_LINUX')).toBe(' security=selinux');
    expect(g.vars.get('GRUB_CMDLINE_LINUX_DEFAULT')).toBe('quiet');
    expect(g.setAt.get('GRUB_CMDLINE_LINUX')).toBe('/etc/default/grub.d/selinux.cfg:1');
    expect(g.uncertain).toEqual([]);
  });
  it('quotes, ${VAR}, export, escapes and continuation lines', () => {
    const g = parseGrubDefaults([{ path: 'g', content: "export GRUB_CMDLINE_LINUX='a b'\"\\\"c\\$d\"\nGRUB_CMDLINE_LINUX_DEFAULT=${GRUB_CMDLINE_LINUX}x\\\n; X=1\n" }]);
    expect(g.vars.get('GRUB_CMDLINE_LINUX')).toBe('a b"c$d');
    expect(g.vars.get('GRUB_CMDLINE_LINUX_DEFAULT')).toBe('a b"c$dx');
  });
  it('a command substitution or a conditional makes the variable uncertain, never guessed', () => {
    expect(parseGrubDefaults([{ path: 'g', content: 'GRUB_CMDLINE_LINUX="$(cat /x)"\n' }]).uncertain[0]).toMatch(/^g:1: .*command substitution/);
    expect(parseGrubDefaults([{ path: 'g', content: 'if [ -e /x ]; then\n  GRUB_CMDLINE_LINUX=security=selinux\nfi\n' }]).uncertain[0]).toMatch(/^g:2: .*conditional/);
    expect(parseGrubDefaults([{ path: 'g', content: 'GRUB_CMDLINE_LINUX="unterminated\n' }]).uncertain[0]).toMatch(/unterminated/);
  });
  it('/etc/kernel/cmdline: comment lines dropped, lines joined', () => {
    expect(parseKernelCmdlineFile('# x\nroot=/dev/sda1 ro\nsecurity=selinux\n')).toBe('root=/dev/sda1 ro security=selinux');
  });
  it('never throws on arbitrary input (seeded random files)', () => {
    let seed = 22;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = ['GRUB_CMDLINE_LINUX=', '"', "'", '$', '${', '}', '\\', '\n', ' ', 'if ', 'fi', '#', ';', '`', '$(', 'a', '='];
    for (let n = 0; n < 500; n++) {
      const content = Array.from({ length: Math.floor(rnd() * 40) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      const g = parseGrubDefaults([{ path: 'g', content }]);
      for (const k of g.vars.keys()) expect(['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT']).toContain(k);
    }
  });
});

const VECTOR = readFileSync(join(import.meta.dirname, 'vectors/virt-aa-helper-9.0.0-4+deb12u2.stderr'), 'utf8');

describe('virt-aa-helper --dryrun output (virt-aa-helper.c vah_info)', () => {
  it("libvirt 9.0's real output: the include file and its rules (no /dev/sev)", () => {
    const r = parseVirtAaHelperDryRun(VECTOR, 'v');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.includeFile).toBe('/etc/apparmor.d/libvirt/libvirt-5e7c4ec0-5e7c-4ec0-8000-5e7c4ec0c4ec.files');
    expect(r.value.rules).toContain('"/run/libvirt/**/sevcheck-template.pid" rwk,');
    expect(r.value.rules).not.toContain('/dev/sev');
  });
  it('an error line fails the parse, even before a complete-looking output', () => {
    const r = parseVirtAaHelperDryRun(`virt-aa-helper: error: could not get VM definition\n${VECTOR}`, 'v');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.problem).toContain('could not get VM definition');
  });
  it('warnings are kept apart from the rules', () => {
    const r = parseVirtAaHelperDryRun(`virt-aa-helper: warning: path does not exist, skipping file type checks\n${VECTOR}`, 'v');
    expect(r.ok && r.value.warnings).toEqual(['path does not exist, skipping file type checks']);
  });
  it('malformed: empty, binary, stray text, cut off after the include file', () => {
    for (const bad of ['', 'a\0b', 'hello\n', 'virt-aa-helper:\n/etc/apparmor.d/libvirt/libvirt-5e7c4ec0-5e7c-4ec0-8000-5e7c4ec0c4ec.files\n']) {
      expect(parseVirtAaHelperDryRun(bad, 'v').ok).toBe(false);
    }
  });
  it('never throws on cut or spliced output (every prefix, seeded random splices)', () => {
    for (let i = 0; i <= VECTOR.length; i++) expect(() => parseVirtAaHelperDryRun(VECTOR.slice(0, i), 'v')).not.toThrow();
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 300; n++) {
      const a = Math.floor(rnd() * VECTOR.length);
      const b = Math.floor(rnd() * VECTOR.length);
      const r = parseVirtAaHelperDryRun(VECTOR.slice(0, a) + VECTOR.slice(b), 'v');
      if (r.ok) expect(r.value.includeFile).toMatch(/libvirt-[0-9a-f-]{36}\.files$/);
    }
  });
});

const ABSTRACTION = { path: '/etc/apparmor.d/abstractions/libvirt-qemu', content: '  /dev/kvm rw,\n  /dev/net/tun rw,\n' };
const generated = (rulesText: string): GuestRules => ({ ok: true, helper: '/usr/lib/libvirt/virt-aa-helper', file: { path: '/etc/apparmor.d/libvirt/libvirt-x.files (printed by virt-aa-helper --dryrun, not written)', content: rulesText } });
const parsed9 = parseVirtAaHelperDryRun(VECTOR, 'v');
const rules9 = parsed9.ok ? parsed9.value.rules : '';
/** libvirt 12's addition for a SEV guest, as the issue states it: `"/dev/sev" rw,` */
const rules12 = `${rules9}  "/dev/sev" rw,\n`;

describe('distro.apparmor.sev-access', () => {
  const aa = rules.bootLsm([kernel('')], params(''));
  it('libvirt 9.0: neither the abstraction nor the generated rules allow /dev/sev: failed, naming both', () => {
    const v = rules.apparmorSevAccess(aa, { kind: 'profiles', files: [ABSTRACTION], generated: generated(rules9) });
    expect(v.status).toBe('failed');
    expect(v.message).toMatch(/neither libvirt's QEMU abstraction nor the per-guest rules .* have a rule for \/dev\/sev/);
    expect(v.status === 'failed' && v.fix).toMatch(/libvirt 12\.8/);
  });
  it('libvirt 12: the generated rules allow /dev/sev: passed, citing the rule', () => {
    const v = rules.apparmorSevAccess(aa, { kind: 'profiles', files: [ABSTRACTION], generated: generated(rules12) });
    expect(v.status).toBe('passed');
    expect(v.message).toMatch(/the AppArmor rules libvirt generates for a SEV guest allow \/dev\/sev rw \(.*libvirt-x\.files.*:5 "\/dev\/sev rw,"\)/);
  });
  it('a deny rule in the abstraction wins over the generated allow', () => {
    const deny = { ...ABSTRACTION, content: `${ABSTRACTION.content}  deny /dev/sev rw,\n` };
    expect(rules.apparmorSevAccess(aa, { kind: 'profiles', files: [deny], generated: generated(rules12) }).status).toBe('failed');
  });
  it('the helper failed: undecided unless the abstraction grants; no helper: the abstraction alone', () => {
    const broken: GuestRules = { ok: false, absent: false, reason: 'exit 1' };
    expect(rules.apparmorSevAccess(aa, { kind: 'profiles', files: [ABSTRACTION], generated: broken }).status).toBe('undecided');
    const granted = { ...ABSTRACTION, content: `${ABSTRACTION.content}  /dev/sev rw,\n` };
    expect(rules.apparmorSevAccess(aa, { kind: 'profiles', files: [granted], generated: broken }).status).toBe('passed');
    expect(rules.apparmorSevAccess(aa, { kind: 'profiles', files: [ABSTRACTION], generated: { ok: false, absent: true, reason: 'none' } }).status).toBe('failed');
  });
  it('skipped on an SELinux image and without libvirt profiles; security_driver = "none" skips', () => {
    const se = rules.bootLsm([kernel('')], params('security=selinux'));
    expect(rules.apparmorSevAccess(se, { kind: 'profiles', files: [ABSTRACTION], generated: generated(rules12) }).status).toBe('skipped');
    expect(rules.apparmorSevAccess(aa, { kind: 'no-profiles', searched: ABSTRACTION.path }).status).toBe('skipped');
    expect(rules.apparmorSevAccess(aa, { kind: 'profiles', files: [ABSTRACTION], generated: generated(rules9), securityDriver: ['none'] }).status).toBe('skipped');
  });
});

describe('selinux.apparmor-sev on a running host learns the per-guest rules', () => {
  const facts = { enabled: true, files: [ABSTRACTION] };
  const first = apparmorSevVerdict(facts);
  it('the abstraction alone fails; with libvirt 12 the generated rules make it pass', () => {
    expect(first.status).toBe('failed');
    expect(apparmorSevWithGuestRules(facts, first, generated(rules12)).status).toBe('passed');
    expect(apparmorSevWithGuestRules(facts, first, generated(rules9)).status).toBe('failed');
  });
  it('helper present but not usable (ssh, exit ≠ 0): undecided, never a false failure; absent: the abstraction decides', () => {
    expect(apparmorSevWithGuestRules(facts, first, { ok: false, absent: false, reason: 'ssh' }).status).toBe('undecided');
    expect(apparmorSevWithGuestRules(facts, first, { ok: false, absent: true, reason: 'none' })).toBe(first);
  });
});
