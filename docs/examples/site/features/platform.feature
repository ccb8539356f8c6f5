@site @layer:host
Feature: Our platform baseline
  The SEV platform every host of the fleet must have: firmware, TCB, ASIDs and the kernel.

  @check:site.firmware.min
  Scenario: The SEV firmware is at least 1.55
    Then the SEV firmware is at least 1.55

  @check:site.tcb.snp @sev-snp
  Scenario: Guests report an SNP SPL of at least 22
    Then the reported TCB's SNP SPL is at least 22

  @check:site.asids.sev-es @sev-es
  Scenario: At least 100 SEV-ES and SEV-SNP guests can run at once
    Then the host offers at least 100 ASIDs to SEV-ES and SEV-SNP guests

  @check:site.kernel.min
  Scenario: The kernel is at least 6.11
    Then the kernel is at least 6.11

  @check:site.kvm-amd.sev-es @sev-es
  Scenario: kvm_amd runs with SEV-ES on
    Then the kvm_amd parameter sev_es is Y

  @check:site.cmdline.mem-encrypt
  Scenario: The kernel command line turns memory encryption on
    Then the kernel command line contains "mem_encrypt=on"

  @check:site.cmdline.no-nosmt
  Scenario: SMT is not turned off on the command line
    Then the kernel command line lacks "nosmt"
