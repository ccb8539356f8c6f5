@layer:host
Feature: The processor offers AMD memory encryption to KVM
  SEV guests need an AMD EPYC processor whose BIOS has enabled memory encryption.
  The kernel reports what it found as CPU flags, and CPUID leaf 0x8000001F says
  which features exist, where the C-bit sits and how many guests can be encrypted.

  @check:host.cpu.sev-flag
  Scenario Outline: The kernel lists the <feature> CPU flag
    Then the kernel lists the CPU flag for <feature>

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

  @check:host.cpuid.sev
  Scenario Outline: CPUID reports <feature>
    Then CPUID leaf 0x8000001F reports <feature>

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

  @check:host.cpuid.cbitpos @sev
  Scenario: CPUID gives a plausible C-bit position
    Then CPUID gives a plausible C-bit position

  @check:host.cpuid.asids @sev
  Scenario: The BIOS leaves ASIDs for SEV guests
    Then CPUID leaves at least one ASID for SEV guests

  @check:host.cpuid.es-asids @sev-es
  Scenario: The BIOS leaves ASIDs for SEV-ES and SNP guests
    Then CPUID leaves at least one ASID for SEV-ES and SNP guests
