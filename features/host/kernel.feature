@layer:host
Feature: The kernel and KVM have SEV switched on
  Memory encryption must be active in the host kernel and the kvm_amd module must
  have SEV enabled, now and after the next reboot.

  @check:host.kernel.mem-encrypt @sev
  Scenario: The host kernel runs with memory encryption active
    Then the kernel runs with memory encryption active

  @check:host.kvm-amd.sev @sev
  Scenario: KVM's AMD module has SEV enabled
    Then the kvm_amd module has SEV enabled

  @check:host.kvm-amd.sev-es @sev-es
  Scenario: KVM's AMD module has SEV-ES enabled
    Then the kvm_amd module has SEV-ES enabled

  @check:host.kvm-amd.sev-snp @sev-snp
  Scenario: KVM's AMD module has SEV-SNP enabled
    Then the kvm_amd module has SEV-SNP enabled

  @check:host.modprobe.sev @sev
  Scenario: No persisted module option turns SEV off
    Then no persisted kvm_amd option turns SEV off
