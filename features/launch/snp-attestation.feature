@layer:launch
Feature: The guest owner verifies an SEV-SNP guest's launch digest and attestation report
  An SEV-SNP guest proves what it is with an attestation report (SNP ABI spec #56860, §7.3
  MSG_REPORT_REQ): the firmware signs the launch measurement, the guest policy, the TCB and the
  chip ID with the chip's VCEK, an ECDSA P-384 key that AMD certifies through its ASK and its
  root key, the ARK (VCEK spec #57230). The guest owner computes the launch digest of the
  firmware, vCPUs and kernel it expects (what sev-snp-measure computes), and checks the report's
  measurement, signature and certificate chain. AMD's certificates are not bundled with
  sevcheck: the guest owner names them in its launch bundle or with --amd-certs DIR, and the
  ARK must be AMD's real one (pinned by its public key).

  Background:
    Given the guest owner's launch bundle describes an SEV-SNP launch

  @check:launch.snp.digest @sev-snp
  Scenario: The platform measured the firmware, vCPUs and kernel the guest owner expects
    Given the guest owner knows the launch digest of the guest it expects
    When the platform launches the guest and reports its launch measurement
    Then the measurement equals the launch digest the guest owner expects

  @check:launch.snp.report-signature @sev-snp
  Scenario: The attestation report is signed by the chip's VCEK
    When the guest asks the platform's firmware for an attestation report
    And the guest owner fetches the VCEK for the report's chip and TCB
    Then the report's signature verifies with the VCEK

  @check:launch.snp.cert-chain @sev-snp
  Scenario: The VCEK chains to AMD's root key and belongs to the reporting chip
    When the guest asks the platform's firmware for an attestation report
    And the guest owner fetches the VCEK for the report's chip and TCB
    And the guest owner has AMD's ARK and ASK for the report's processor generation
    Then the ARK signs the ASK, the ASK signs the VCEK, and the VCEK carries the report's TCB and chip ID
