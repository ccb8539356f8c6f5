@layer:device
Feature: QEMU can open the SEV firmware device and KVM
  QEMU opens /dev/sev and /dev/kvm for reading and writing. libvirt runs it as the user and
  group set in qemu.conf (or the distribution's default) with every capability cleared, so the
  device nodes' owner, group, mode and ACLs alone decide whether it may.

  @check:device.sev.exists @sev
  Scenario: The SEV firmware device exists
    Then the host has the SEV firmware device /dev/sev

  Scenario Outline: QEMU's user can open <device>
    Then the user and group QEMU runs as can open <device> for reading and writing

    @check:device.sev.qemu-access @sev
    Examples: the SEV firmware device
      | device   |
      | /dev/sev |

    @check:device.kvm.qemu-access @sev
    Examples: KVM
      | device   |
      | /dev/kvm |

  @check:device.sev.not-world-writable @sev
  Scenario: Other users cannot write to the SEV firmware device
    Then /dev/sev is not writable by other users

  @check:device.udev.sev-rule @sev
  Scenario: udev gives the SEV firmware device its permissions
    Then the udev rules give /dev/sev the permissions it has
