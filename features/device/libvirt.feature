@layer:device
Feature: libvirt lets QEMU use the SEV firmware device and pin guest memory
  libvirt puts each QEMU in a devices cgroup and sets its locked-memory limit. A custom device
  list in qemu.conf must not leave /dev/sev out, and SEV guests need all their memory pinned.

  @check:device.libvirt.cgroup-acl @sev
  Scenario: A custom cgroup device list keeps /dev/sev
    Then a custom cgroup device list in qemu.conf includes /dev/sev

  @check:device.memlock @sev
  Scenario: QEMU may lock the memory of an SEV guest
    Then QEMU's locked-memory limit leaves room for pinned SEV guest memory
