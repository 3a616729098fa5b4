#!/bin/sh
# Install what pcicap needs to build and test on Debian 12 (idempotent).
set -eu
pkgs="build-essential meson ninja-build pkg-config libcmocka-dev libpciaccess-dev libpci-dev pciutils valgrind binutils clang libclang-rt-14-dev"
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
