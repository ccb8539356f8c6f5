@layer:launch
Feature: The guest owner verifies an SEV launch before it trusts the guest with a secret
  SEV lets the owner of a guest check what the platform launched (AMD SEV API spec #55766,
  chapter 6 "Guest Launch"). The guest owner asks the platform for its PDH, makes a launch
  session with two transport keys, the TIK and the TEK, and sends the session together with the
  guest policy. The platform launches the guest paused and returns the launch measurement: an
  HMAC with the TIK over the launch digest, the policy, the firmware API version and a nonce
  (LAUNCH_MEASURE, §6.5). The guest owner recomputes it for the firmware it expects and only
  when it matches wraps its secret for this launch (LAUNCH_SECRET, §6.6), which the platform
  injects before the launch finishes. The guest owner's side comes from its launch bundle
  (sevcheck run --launch DIR, docs/launch.md); the platform's side from QEMU.

  Background:
    Given the guest owner's launch bundle describes an SEV launch
    And the guest owner holds the TIK and TEK of its launch session for the platform's PDH
    And the guest owner sent its guest policy with the launch session

  @check:launch.sev.measurement @sev
  Scenario: The launch measurement proves the firmware and policy the guest owner expects
    When the platform launches the guest paused and returns its launch measurement
    Then the measurement verifies against the firmware the guest owner expects

  @check:launch.sev.secret-packet @sev
  Scenario: A secret wrapped for the measured launch opens only inside that launch
    Given the platform launched the guest paused and returned a launch measurement that verifies
    When the guest owner wraps its secret for this launch
    Then the firmware can open the secret packet to the same secret table, and only in this launch
