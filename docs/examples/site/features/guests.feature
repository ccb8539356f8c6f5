@site @layer:domain
Feature: Our SEV guests
  No SEV guest of ours may be debugged or migrated, and every one boots firmware we reviewed.

  @check:site.guests.no-debug
  Scenario: No SEV guest can be debugged
    Then every SEV guest's policy forbids debugging

  @check:site.guests.no-migration
  Scenario: No SEV guest can be migrated
    Then every SEV guest's policy forbids migration

  @check:site.guests.firmware-reviewed
  Scenario: Every SEV guest boots reviewed firmware
    Then every SEV guest's firmware is on the allow-list "../ovmf-allowed.sha256"
