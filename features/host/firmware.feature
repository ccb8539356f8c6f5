@layer:host
Feature: The SEV firmware is recent enough and the SEV and SNP platform is initialized
  The AMD secure processor's firmware must be new enough for the profile, and the kernel must have
  initialized SEV (and SNP with its RMP table) at boot. The kernel log of the current boot decides
  where a line can; virtee's snphost and sevctl, where installed, answer what only their
  /dev/sev ioctls can.

  @check:host.firmware.version @sev
  Scenario: The SEV firmware meets the profile's minimum version
    Then the SEV firmware is at least the version the profile needs

  @check:host.firmware.sev-init @sev
  Scenario: The SEV platform is initialized
    Then the SEV platform is initialized

  @check:host.firmware.sev-es-init @sev-es
  Scenario: The SEV firmware is initialized for SEV-ES guests
    Then the SEV firmware is initialized for SEV-ES

  @check:host.snp.init @sev-snp
  Scenario: The SEV-SNP platform is initialized
    Then the SEV-SNP platform is initialized

  @check:host.snp.rmp-init @sev-snp
  Scenario: The RMP table is initialized
    Then the SNP firmware has initialized the RMP table

  @check:host.snp.alias-check @sev-snp
  Scenario: The SNP firmware has checked memory for aliases
    Then the SNP firmware completed its memory alias check

  @check:host.snp.tcb @sev-snp
  Scenario: Guests attest with the TCB the platform runs
    Then the reported SNP TCB is the installed TCB

  @check:host.kvm.vmsa-features @sev-snp
  Scenario: KVM offers the SNP guest features in the VMSA
    Then KVM offers the SNP VMSA features
