@layer:host
Feature: The processor is an AMD EPYC of a generation that offers the profile's features
  SEV arrived with EPYC 7001 (Naples), SEV-ES with EPYC 7002 (Rome) and SEV-SNP with
  EPYC 7003 (Milan). The generation follows from the CPU family and model the kernel
  reports, and it decides which features the host can be expected to have.

  @check:host.cpu.amd @sev
  Scenario: The processor is made by AMD
    Then the processor is made by AMD

  @check:host.cpu.epyc
  Scenario Outline: The processor is an EPYC generation with <feature>
    Then the processor is an EPYC generation that offers <feature>

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

  @check:host.cpuid.sme @sev
  Scenario: CPUID reports Secure Memory Encryption, which SEV builds on
    Then CPUID leaf 0x8000001F reports Secure Memory Encryption

  @check:host.cpuid.vmpl @sev-snp
  Scenario: CPUID reports VM permission levels for SEV-SNP guests
    Then CPUID leaf 0x8000001F reports VM permission levels

  @check:host.cpuid.secure-tsc @sev-snp
  Scenario: CPUID reports Secure TSC on generations that have it
    Then CPUID leaf 0x8000001F reports Secure TSC where the generation has it

  @check:host.cpuid.page-flush-msr @sev
  Scenario: CPUID says whether the VM page flush MSR exists (informational)
    Then CPUID leaf 0x8000001F says whether the VM page flush MSR exists

  @check:host.cpuid.phys-addr-reduction @sev
  Scenario: CPUID says how many physical address bits memory encryption costs (informational)
    Then CPUID leaf 0x8000001F says how many physical address bits encryption costs

  @check:host.kvm.api @sev
  Scenario: KVM is present and QEMU can use it
    Then KVM is available to QEMU
