@site @layer:caps
Feature: Our virtualization stack
  QEMU and libvirt new enough for our guests (SEV-SNP in libvirt needs 10.5).

  @check:site.qemu.min
  Scenario: QEMU is at least 9.1
    Then QEMU is at least 9.1

  @check:site.libvirt.min
  Scenario: libvirt is at least 10.5
    Then libvirt is at least 10.5
