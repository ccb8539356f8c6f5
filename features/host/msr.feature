@layer:host
Feature: The BIOS and kernel have enabled memory encryption in the processor's registers
  The SYSCFG register says whether memory encryption (bit 23), SEV-SNP (bit 24) and
  VM permission levels (bit 25) are on, and RMP_BASE / RMP_END say where the BIOS
  reserved the reverse map table SEV-SNP needs. Reading them needs root and the msr
  module; sevcheck opens the register device read-only.

  @check:host.msr.syscfg-sme @sev
  Scenario: SYSCFG has memory encryption enabled
    Then SYSCFG bit 23 is set

  @check:host.msr.syscfg-snp @sev-snp
  Scenario: SYSCFG has SEV-SNP enabled
    Then SYSCFG bit 24 is set

  @check:host.msr.syscfg-vmpl @sev-snp
  Scenario: SYSCFG has VM permission levels enabled
    Then SYSCFG bit 25 is set

  @check:host.snp.rmp @sev-snp
  Scenario: The BIOS reserved memory for the RMP table
    Then the BIOS has reserved memory for the RMP table
