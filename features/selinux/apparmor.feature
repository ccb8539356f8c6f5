@layer:selinux
Feature: AppArmor lets QEMU use the SEV firmware device
  On Debian and Ubuntu, libvirt confines QEMU with AppArmor instead of SELinux. Its QEMU
  abstraction allows /dev/kvm but not /dev/sev, so SEV guests fail to start until a rule is added.

  @check:selinux.apparmor-sev @sev
  Scenario: libvirt's AppArmor abstraction allows /dev/sev
    Then with AppArmor confining QEMU, libvirt's QEMU abstraction allows /dev/sev read-write
