/**
 * The synopsis of every command, in one place: `sevcheck --help` prints it and README.md shows it
 * under "Command line" (test/cli/usage.test.ts keeps the two equal, and checks that every option
 * run, record and fleet accept is in it). Details: docs/usage.md and each command's --help.
 */
export const USAGE = `sevcheck run    [--host local|ssh://[user@]host[:port]|fixture:DIR|rootfs:DIR|image:FILE] [--profile sev|sev-es|sev-snp]
                [--tags EXPR] [--format text|pretty|json|summary|junit|html] [--verbose] [--out DIR]
                [--fail-on-undecided] [run options]
sevcheck record --host TARGET --out DIR [--force] [--name NAME] [--reports DIR] [--format text|pretty]
                [--verbose] [--profile ...] [--tags EXPR] [run options]
sevcheck fleet  --inventory FILE | --ansible-inventory FILE | --from-results DIR [--jobs N] [--out DIR]
                [--waivers FILE] [--compare DIR] [--fail-on any|new] [--fail-on-undecided]
                [--host-timeout SECONDS] [--format pretty|json] [--tags EXPR] [--checks EXPR]
                [--history DIR [--keep N]]             keep runs, trends, first-seen dates
                [run options]                          many hosts, one report (docs/fleet.md)
  run options:  [--ssh-option Key=Value ...] [--ssh-identity FILE]
                [--launch DIR] [--vectors DIR]         the guest owner's launch bundle (docs/launch.md)
                [--amd-certs DIR] [--kds|--no-kds] [--kds-cache DIR] [--kds-url URL]
                                                       AMD's root certificates (docs/caps.md)
                [--min-firmware X.Y]                   lowest SEV firmware version (host.firmware.version)
                [--features DIR ...] [--config FILE|--no-config]
                                                       site features and site file (docs/site-policy.md)
sevcheck measure --mode MODE --ovmf PATH ...   launch digests, sev-snp-measure's options and output
sevcheck lint-domain FILE... [--out DIR]       libvirt domain XML: schema + SEV rules (docs/domain.md)
sevcheck lint-pve FILE...                      Proxmox VE VM configs with amd-sev
sevcheck lint-qemu FILE... | --host T --pid N  a QEMU command line
sevcheck steps [--format text|json|markdown]   the steps site features may use (docs/steps.md)
sevcheck --help, sevcheck <command> --help, sevcheck help <command>`;
