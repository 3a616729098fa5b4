#!/bin/sh
# Install what pcicap needs to build and test on Debian 12 (idempotent).
set -eu
# qemu-system-x86, qemu-system-data (qboot), busybox-static, cpio: the VFIO
# end-to-end test's guest (tests/e2e); nothing is installed into /boot.
# doxygen: the API reference and the section-3 man pages (docs/api.md); man-db:
# the install test reads the installed pages with man(1). clang,
# libclang-rt-14-dev: the libFuzzer harnesses (tests/fuzz).
pkgs="build-essential meson ninja-build pkg-config libcmocka-dev libpciaccess-dev libpci-dev pciutils valgrind binutils qemu-system-x86 qemu-system-data busybox-static cpio doxygen man-db clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
