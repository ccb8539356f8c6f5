@layer:domain
Feature: The SEV guests defined on the host ask for memory encryption correctly
  Every guest libvirt has defined on the host with <launchSecurity type='sev'> or 'sev-snp'
  must be a definition libvirt accepts, must state its launch parameters, and those must fit
  this host: a policy the firmware accepts and the C-bit position the host's CPU uses.
  A host without SEV guests has nothing to check here; the checks are skipped.

  @check:domain.schema-valid @sev
  Scenario: Every SEV guest definition is valid libvirt domain XML
    Then every SEV guest definition validates against libvirt's domain schema

  @check:domain.launch-security @sev
  Scenario: Every SEV guest states its launch security parameters
    Then every SEV guest states its C-bit position, reduced physical address bits and policy

  @check:domain.policy.valid @sev
  Scenario: Every SEV guest's policy is one the host's firmware accepts
    Then every SEV guest's policy decodes cleanly for this host

  @check:domain.cbitpos.matches-host @sev
  Scenario: Every SEV guest uses the host's C-bit position
    Then every SEV guest's C-bit position and reduced physical address bits match the host's

  @check:domain.no-migration @sev
  Scenario: No SEV guest's policy lets it leave the platform
    Then no SEV guest's policy allows it to be sent to another platform
