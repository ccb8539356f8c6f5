@layer:caps
Feature: QEMU can start SEV guests
  libvirt and Proxmox ask a short-lived QEMU, running as the user guests run as, what the SEV
  firmware offers. QEMU must answer with the platform's Diffie-Hellman key (PDH), its
  certificate chain and the C-bit position, and that chain must lead to AMD's root key, or a
  guest owner cannot trust the platform they launch on.

  @check:caps.qmp.sev-capabilities @sev
  Scenario: QEMU reports the SEV platform capabilities
    Then QEMU answers query-sev-capabilities with the platform data

  @check:caps.qmp.cbitpos-matches-cpuid @sev
  Scenario: QEMU uses the C-bit position of this CPU
    Then QEMU's C-bit position equals the CPU's

  @check:caps.pdh.chain-valid @sev
  Scenario: The platform certificate chain leads to AMD's root key
    Then the platform's PDH and certificate chain verify up to AMD's root
