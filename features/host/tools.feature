@layer:host
Feature: sevcheck and virtee's platform tools agree
  Where snphost or sevctl is installed, their read-only checks and sevcheck's own reading of the
  same fact (a CPUID bit, a kvm_amd parameter, the firmware version) must give the same answer.

  @check:host.tools.agree @sev
  Scenario: The platform tools agree with sevcheck
    Then the platform tools agree with sevcheck on every fact they share
