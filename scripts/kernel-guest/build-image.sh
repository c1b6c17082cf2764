#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the guest for scripts/test-kernel-6.1.sh into CACHE_DIR: a Debian
# bookworm root file system with Debian's own 6.1 kernel (linux-image-amd64)
# and what the test binaries built on the host need at run time, as a raw
# ext4 image, plus the kernel and initramfs copied out for qemu's -kernel.
# Skipped when the image exists and this script has not changed since.
#   scripts/kernel-guest/build-image.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
stamp="$cache/image.stamp"
want=$(sha256sum "$here/build-image.sh" "$here/guest-init" | sha256sum | cut -d' ' -f1)
if [ -f "$cache/root.img" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

packages=(
  linux-image-amd64 initramfs-tools kmod udev   # Debian 12's kernel (6.1) and its modules
  libbpf1 libelf1 libdw1 libfmt9 libstdc++6     # the library
  libprotobuf-lite32                            # the library's --pprof writer
  libbpf-tools                                  # offcputime, wakeuptime beside --offcpu, --wakeup
  libbenchmark1debian                           # the Google Benchmark example
  python3 python3-pytest meson ninja-build      # meson test, the pytest suites
  python3-pandas                                # Profile.to_dataframe() in the Python tests
  util-linux iproute2 procps                    # setpriv, lo, ps
  debuginfod binutils                           # the debuginfod test's server, objcopy
)
rootfs="$cache/rootfs"
rm -rf "$rootfs" "$cache/root.img" "$stamp"
mkdir -p "$rootfs"
debs="$cache/debs"
mkdir -p "$debs"
# Before the kernel is installed: an initramfs with only the modules this
# guest boots from. Debian's default (MODULES=most) copies hundreds of
# modules, which takes minutes, twice (the kernel's hook and a trigger).
initramfs_hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"
  echo MODULES=list > "$1/etc/initramfs-tools/conf.d/kernel-guest"
  printf "%s\n" virtio_pci virtio_blk ext4 > "$1/usr/share/initramfs-tools/modules.d/kernel-guest"'
# Debian's archive is all the network this needs (GUEST_MIRROR overrides it);
# downloaded packages are kept in $debs for the next build.
mirror=${GUEST_MIRROR:-http://deb.debian.org/debian}
mmdebstrap --variant=minbase --mode=root --format=directory \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in $debs /var/cache/apt/archives/" \
  --essential-hook="$initramfs_hook" \
  --customize-hook='echo kernel-guest > "$1/etc/hostname"' \
  --customize-hook="sync-out /var/cache/apt/archives $debs" \
  bookworm "$rootfs" "deb $mirror bookworm main" \
  "deb ${mirror%/debian}/debian-security bookworm-security main"

install -m 0755 "$here/guest-init" "$rootfs/sbin/guest-init"
cp "$(ls "$rootfs"/boot/vmlinuz-* | tail -1)" "$cache/vmlinuz"
cp "$(ls "$rootfs"/boot/initrd.img-* | tail -1)" "$cache/initrd.img"
# A file system image, not the directory over 9p: Debian's initramfs can
# mount an ext4 root on virtio but not a 9p one. 4 GiB leaves room for logs.
mkfs.ext4 -q -F -L guest-root -d "$rootfs" "$cache/root.img" 4G
rm -rf "$rootfs"
echo "$want" > "$stamp"
