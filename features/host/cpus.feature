@layer:host
Feature: Every processor of the host is configured alike
  A guest's vCPUs may run on any logical CPU, so every CPU must report the same
  memory-encryption capabilities and have the same SYSCFG bits set. Tools that read
  only CPU 0 miss a second socket whose BIOS settings differ.

  @check:host.cpuid.same-on-all-cpus @sev
  Scenario: Every CPU reports the same encryption capabilities and settings
    Then every CPU reports the same CPUID leaf 0x8000001F and SYSCFG
