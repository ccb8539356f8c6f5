@layer:caps
Feature: Every layer tells the same story about SEV
  SEV is supported only when the CPU, KVM, QEMU and libvirt agree: the same C-bit position,
  the same guest counts, the same SEV-ES and SEV-SNP support. A layer that says otherwise is
  stale or describes another host.

  @check:caps.layers.agree @sev
  Scenario: CPU, kernel, QEMU and libvirt agree
    Then CPU, kernel, QEMU and libvirt agree on SEV
