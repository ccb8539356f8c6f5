@layer:selinux
Feature: SELinux lets QEMU use the SEV firmware device
  With SELinux, QEMU runs as svirt_t. The policy must label /dev/sev sev_device_t and allow
  svirt_t to open, read, write and ioctl it; older policies deny it. Hosts without SELinux skip
  these checks.

  @check:selinux.sev-label @sev
  Scenario: /dev/sev has the SEV device label
    Then with SELinux enabled, /dev/sev carries the type sev_device_t

  @check:selinux.policy-version @sev
  Scenario: The SELinux policy is new enough for SEV
    Then the installed selinux-policy is at least 3.14.2.40

  @check:selinux.svirt-access @sev
  Scenario: The policy allows QEMU's domain on /dev/sev
    Then the loaded policy lets svirt_t open, read, write and ioctl sev_device_t character devices

  @check:selinux.no-avc-denials @sev
  Scenario: SELinux has not denied QEMU /dev/sev
    Then the audit log has no AVC denial for /dev/sev
