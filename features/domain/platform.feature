@layer:domain
Feature: The SEV guests defined on the host have a platform SEV can run on
  An SEV guest needs the Q35 machine type, UEFI firmware (OVMF), virtio devices that
  use the IOMMU platform (bounce buffers in shared memory), and memory the kernel can pin.
  A host without SEV guests has nothing to check here; the checks are skipped.

  @check:domain.machine.q35 @sev
  Scenario: Every SEV guest uses the Q35 machine type
    Then every SEV guest uses the Q35 machine type

  @check:domain.loader.ovmf @sev
  Scenario: Every SEV guest boots OVMF
    Then every SEV guest boots the OVMF UEFI firmware

  @check:domain.virtio.iommu @sev
  Scenario: Every virtio device of every SEV guest uses the IOMMU platform
    Then every virtio device of every SEV guest has the IOMMU platform on

  @check:domain.memory.pinned @sev
  Scenario: Every SEV guest's memory can be pinned
    Then every SEV guest's memory is locked or limited with room for pinning
