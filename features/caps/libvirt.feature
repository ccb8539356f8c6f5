@layer:caps
Feature: libvirt offers SEV to guests
  libvirt decides what a guest may ask for from the capabilities it probed from QEMU and
  caches. A host is ready for SEV guests only when libvirt reports SEV with the C-bit position
  of this CPU, and its cached capabilities describe the host as it is now, not as it was
  before SEV was enabled.

  @check:caps.domcaps.sev-supported
  Scenario Outline: libvirt reports SEV for <machine>
    Then libvirt reports SEV as supported for <machine>

    @sev
    Examples:
      | machine             |
      | the default machine |
      | the q35 machine     |

  @check:caps.domcaps.cbitpos-matches-cpuid @sev
  Scenario: libvirt tells guests the C-bit position of this CPU
    Then libvirt's C-bit position equals the CPU's

  @check:caps.domcaps.sev-snp-supported @sev-snp
  Scenario: libvirt offers SEV-SNP guests
    Then libvirt offers SEV-SNP launch security

  @check:caps.cache.fresh @sev
  Scenario: libvirt's capability cache is current
    Then libvirt's cached QEMU capabilities describe the host as it is now
