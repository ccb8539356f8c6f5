@layer:distro
Feature: A distribution's software stack can run SEV guests
  Release engineers validate a distribution's root file system before it ships: its kernel,
  QEMU, firmware, libvirt, the policy of the LSM it boots with (SELinux or AppArmor) and udev
  rules must let an operator run SEV, SEV-ES and SEV-SNP guests on it. These checks judge the file system given with --host rootfs:DIR
  (the image's own binaries answer); on a running host they are skipped.

  @check:distro.kernel.sev-host
  Scenario Outline: An installed kernel can host <feature> guests
    Then an installed kernel is built to host <feature> guests

    @sev
    Examples: SEV
      | feature |
      | SEV     |

    @sev-es
    Examples: SEV-ES
      | feature |
      | SEV-ES  |

    @sev-snp
    Examples: SEV-SNP
      | feature |
      | SEV-SNP |

  @check:distro.qemu.sev-object
  Scenario Outline: The distribution's QEMU can create <feature> guests
    Then the image's QEMU offers the launch object for <feature> guests

    @sev
    Examples: SEV
      | feature |
      | SEV     |

    @sev-snp
    Examples: SEV-SNP
      | feature |
      | SEV-SNP |

  @check:distro.firmware.descriptor
  Scenario Outline: libvirt can pick a firmware for <feature> guests
    Then a firmware descriptor offers <feature> for an image that exists

    @sev
    Examples: SEV
      | feature |
      | SEV     |

    @sev-es
    Examples: SEV-ES
      | feature |
      | SEV-ES  |

    @sev-snp
    Examples: SEV-SNP
      | feature |
      | SEV-SNP |

  @check:distro.firmware.sev-metadata
  Scenario Outline: The distribution's OVMF carries what a <feature> launch needs
    Then an OVMF image carries the metadata a <feature> launch needs

    @sev-es
    Examples: SEV-ES
      | feature |
      | SEV-ES  |

    @sev-snp
    Examples: SEV-SNP
      | feature |
      | SEV-SNP |

  @check:distro.libvirt.launch-security
  Scenario Outline: The distribution's libvirt accepts <feature> launch security
    Then the image's libvirt accepts a guest with <feature> launch security

    @sev
    Examples: SEV
      | feature |
      | SEV     |

    @sev-snp
    Examples: SEV-SNP
      | feature |
      | SEV-SNP |

  @check:distro.selinux.sev-policy @sev
  Scenario: The distribution's SELinux policy lets QEMU use the SEV device
    Then the image's SELinux policy lets svirt_t open, read, write and ioctl sev_device_t

  @check:distro.apparmor.sev-access @sev
  Scenario: The distribution's AppArmor profiles let a confined SEV guest's QEMU open /dev/sev
    Then the image's libvirt lets a confined SEV guest's QEMU open /dev/sev

  @check:distro.udev.sev-rule @sev
  Scenario: The distribution's udev rules let QEMU open /dev/sev
    Then the image's udev rules give /dev/sev a group and mode QEMU's user can open

  @check:distro.qemu-user @sev
  Scenario: The distribution's QEMU user exists and owns the devices it needs
    Then the image's QEMU user exists and is in the groups that own /dev/kvm and /dev/sev
