#!/usr/bin/env bash
# Build (or reuse) disk image files of a root file system for the image:FILE tests (issue 22) and
# print their paths, one a line: the plain qcow2, the partitioned raw image, the xfs qcow2.
#
#   scripts/ci-disk-image.sh DIR          DIR: a root file system (scripts/ci-rootfs.sh's output)
#
# - DIR.qcow2-ish plain: an ext4 file system made from DIR (mke2fs(8) -d: populate from a
#   directory, no mount, no root needed) with no partition table, converted to qcow2 (qemu-img).
# - partitioned: a raw disk with a GPT (sfdisk(8)) holding one Linux partition at 1 MiB whose ext4
#   is written in place (mke2fs -E offset=1048576 -d DIR).
# - xfs: an xfs file system made from DIR without mounting it (mkfs.xfs(8) -p: a prototype file
#   scripts/xfs-protofile.ts writes from DIR; xfsprogs), no partition table, converted to qcow2.
# None of them needs a mount, a loop device, root or libguestfs's appliance: 10-30 s each.
# Cached under $SEVCHECK_IMAGE_CACHE (default /var/cache/sevcheck/images) by DIR's base name
# (scripts/ci-rootfs.sh names a tree by a hash of its package list, so a new tree gets new images);
# a build goes to .tmp files renamed when complete. Logs on stderr; stdout is only the two paths.
set -euo pipefail

dir=${1:?usage: scripts/ci-disk-image.sh DIR}
[ -d "$dir/etc" ] && [ -d "$dir/usr" ] || { echo "ci-disk-image: $dir is not a root file system" >&2; exit 2; }
cache=${SEVCHECK_IMAGE_CACHE:-/var/cache/sevcheck/images}
name=$(basename "$dir")
case "$name" in *[!A-Za-z0-9._-]*) echo "ci-disk-image: bad directory name: $name" >&2; exit 2 ;; esac
plain="$cache/$name.qcow2"
parted="$cache/$name-gpt.raw"
xfs="$cache/$name-xfs.qcow2"
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$cache"
exec 9>"$cache/.$name.lock"
flock 9

# the tree's size plus a quarter and 256 MiB for ext4's metadata, in MiB
size=$(( $(du -sxm "$dir" | cut -f1) * 5 / 4 + 256 ))

if [ ! -f "$plain" ]; then
  start=$(date +%s)
  rm -f "$plain.tmp" "$plain.raw.tmp"
  truncate -s "${size}M" "$plain.raw.tmp"
  mke2fs -q -t ext4 -L sevcheck-root -d "$dir" "$plain.raw.tmp"
  qemu-img convert -O qcow2 "$plain.raw.tmp" "$plain.tmp"
  rm -f "$plain.raw.tmp"
  mv -T -- "$plain.tmp" "$plain"
  echo "ci-disk-image: $name: qcow2 built in $(( $(date +%s) - start )) s" >&2
fi
if [ ! -f "$parted" ]; then
  start=$(date +%s)
  rm -f "$parted.tmp"
  truncate -s "$(( size + 2 ))M" "$parted.tmp"
  printf 'label: gpt\nstart=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' | sfdisk --quiet "$parted.tmp"
  mke2fs -q -t ext4 -L sevcheck-root -E offset=1048576 -d "$dir" "$parted.tmp" "${size}M"
  mv -T -- "$parted.tmp" "$parted"
  echo "ci-disk-image: $name: partitioned raw image built in $(( $(date +%s) - start )) s" >&2
fi
if [ ! -f "$xfs" ]; then
  start=$(date +%s)
  rm -f "$xfs.tmp" "$xfs.raw.tmp" "$xfs.proto.tmp"
  node --import tsx "$here/scripts/xfs-protofile.ts" "$dir" >"$xfs.proto.tmp"
  truncate -s "${size}M" "$xfs.raw.tmp"
  # the label is at most 12 characters on xfs
  mkfs.xfs -q -L sevcheck -p "$xfs.proto.tmp" "$xfs.raw.tmp"
  qemu-img convert -O qcow2 "$xfs.raw.tmp" "$xfs.tmp"
  rm -f "$xfs.raw.tmp" "$xfs.proto.tmp"
  mv -T -- "$xfs.tmp" "$xfs"
  echo "ci-disk-image: $name: xfs qcow2 built in $(( $(date +%s) - start )) s" >&2
fi
printf '%s\n%s\n%s\n' "$plain" "$parted" "$xfs"
