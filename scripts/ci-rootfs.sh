#!/usr/bin/env bash
# Build (or reuse) a Debian root file system for the rootfs:DIR tests (issue 11) and print its path.
#
#   scripts/ci-rootfs.sh SUITE          bookworm (Debian 12), trixie (Debian 13), forky (testing), sid (unstable)
#
# The image is Debian's own `mmdebstrap --variant=apt` with the packages the distro layer judges
# (mmdebstrap(1): --variant=apt installs Essential:yes packages plus apt, --include adds packages).
# It is cached under $SEVCHECK_ROOTFS_CACHE (default /var/cache/sevcheck/rootfs) as
# SUITE-KEY, KEY being a hash of suite, variant, mirror and the sorted package list: the same list
# reuses the image, another list builds a new one (and drops the old images of that suite). A build
# goes to SUITE-KEY.tmp and is renamed when mmdebstrap succeeded, so a cache entry is always
# complete. A complete SUITE.tmp left by a hand-run mmdebstrap is adopted when its dpkg database
# has every package of the list installed and its os-release names the suite.
#
# Logs go to stderr; stdout is only the image's path. Needs root (mmdebstrap's root mode) and
# network access to the mirror when it builds.
set -euo pipefail

suite=${1:?usage: scripts/ci-rootfs.sh SUITE}
case "$suite" in
  *[!a-z0-9-]*) echo "ci-rootfs: bad suite name: $suite" >&2; exit 2 ;;
esac
cache=${SEVCHECK_ROOTFS_CACHE:-/var/cache/sevcheck/rootfs}
mirror=${SEVCHECK_ROOTFS_MIRROR:-http://deb.debian.org/debian}
variant=apt
# what issue 11's distro layer reads: kernel config, QEMU, OVMF + firmware descriptors, libvirt
# (schemas, virt-xml-validate, qemu.conf), the SELinux policy and the tools to query it, udev rules
packages=(qemu-system-x86 ovmf libvirt-daemon-system libvirt-clients linux-image-amd64 selinux-policy-default setools udev)
aptopts=()
case "$suite" in
  forky|sid|testing|unstable)
    # pre-release suites: ovmf-amdsev (new in forky) ships the SEV-ES/SNP firmware descriptor the
    # distro layer judges; and their Release files carry a Valid-Until a week after their Date
    # (unlike stable's), which a mirror snapshot has passed: apt(8) then refuses them unless told
    # not to check it (apt.conf(5) Acquire::Check-Valid-Until), as with any archive snapshot
    packages+=(ovmf-amdsev)
    aptopts=(--aptopt='Acquire::Check-Valid-Until "false"')
    ;;
esac
case "$suite" in
  sid|unstable)
    # selinux-policy-default 2:2.20261022-1 (sid, December 2026) fails its postinst in a chroot
    # ("semodule: Failed on likewise!"), so mmdebstrap fails: sid is built without the SELinux
    # policy. Debian boots AppArmor, so distro.selinux.sev-policy is skipped on it either way.
    packages=("${packages[@]/selinux-policy-default}")
    packages=("${packages[@]/setools}")
    ;;
esac
# os-release: unstable carries the testing codename (base-files in sid: VERSION_CODENAME=forky)
codename=$suite
case "$suite" in sid|unstable) codename=forky ;; testing) codename=forky ;; stable) codename=trixie ;; esac

sorted=$(printf '%s\n' "${packages[@]}" | grep -v '^$' | LC_ALL=C sort | paste -sd, -)
key=$(printf 'suite=%s\nvariant=%s\nmirror=%s\ninclude=%s\n' "$suite" "$variant" "$mirror" "$sorted" | sha256sum | cut -c1-12)
final="$cache/$suite-$key"

mkdir -p "$cache"
exec 9>"$cache/.$suite.lock"
flock 9

# every package of the list installed in the image's dpkg database
complete() {
  local dir=$1 p
  grep -qx -e "VERSION_CODENAME=$codename" -e "VERSION_CODENAME=$suite" "$dir/etc/os-release" 2>/dev/null || return 1
  for p in "${packages[@]}"; do
    [ -n "$p" ] || continue
    [ "$(dpkg-query --admindir="$dir/var/lib/dpkg" -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || return 1
  done
}

prune() {
  local d
  for d in "$cache/$suite"-*; do
    [ -e "$d" ] || continue
    [ "$d" = "$final" ] && continue
    case "$d" in "$cache/$suite-"????????????|"$cache/$suite-"????????????.tmp) echo "ci-rootfs: dropping old image $d" >&2; rm -rf --one-file-system -- "$d" ;; esac
  done
}

if [ -d "$final" ]; then
  echo "ci-rootfs: $suite: cached $final" >&2
elif [ -d "$cache/$suite.tmp" ] && complete "$cache/$suite.tmp"; then
  echo "ci-rootfs: $suite: adopting $cache/$suite.tmp as $final" >&2
  mv -T -- "$cache/$suite.tmp" "$final"
else
  tmp="$final.tmp"
  rm -rf --one-file-system -- "$tmp"
  echo "ci-rootfs: $suite: building with mmdebstrap (${sorted})" >&2
  start=$(date +%s)
  mmdebstrap --quiet --variant="$variant" "${aptopts[@]}" --include="$sorted" "$suite" "$tmp" "$mirror" >&2
  complete "$tmp" || { echo "ci-rootfs: $suite: mmdebstrap finished but the packages are not all installed" >&2; exit 1; }
  mv -T -- "$tmp" "$final"
  echo "ci-rootfs: $suite: built in $(( $(date +%s) - start )) s" >&2
fi
prune
printf '%s\n' "$final"
