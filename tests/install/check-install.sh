#!/bin/sh
# Install into a staging directory and build the README's driver out of
# tree with nothing but `pkg-config --cflags --libs pcicap`, next to
# pciutils' own <pci/pci.h> (libpci-dev); then run it on the simulator.
# Usage: check-install.sh <build dir> <source dir>
set -eu
build=$1
src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pc=$(find "$stage" -name pcicap.pc | head -n 1)
[ -n "$pc" ] || { echo "pcicap.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
prefix=$(pkg-config --variable=prefix pcicap)
flags=$(pkg-config --define-variable=prefix="$stage$prefix" --cflags --libs pcicap)
echo "pkg-config: $flags"
case "$flags" in *-I*pcicap*) ;; *) echo "Cflags lack the pcicap include dir"; exit 1 ;; esac
# pciutils' header is on the default include path; ours must win
if [ -e /usr/include/x86_64-linux-gnu/pci/pci.h ] || [ -e /usr/include/pci/pci.h ]; then
	echo "pciutils' <pci/pci.h> is installed too"
fi
for h in pci/pci.h pci/cap_msi.h pci/cap_msix.h pcicap/pcicap.h pcicap/sim.h pcicap/backend.h pcicap/cap_module.h pcicap/irq.h; do
	[ -n "$(find "$stage" -path "*include/pcicap/$h")" ] || { echo "missing header $h"; exit 1; }
done
cc -std=c99 -Wall -Wextra -Werror -o "$stage/driver" "$src/examples/driver.c" $flags
libdir=$(dirname "$(find "$stage" -name 'libpcicap.so.0' | head -n 1)")
out=$(LD_LIBRARY_PATH="$libdir" PCI_HW_MODULE=sim PCI_SIM_CONFIG="$src/examples/demo.topo" \
	PCI_CAP_MODULE_DIR="$libdir/pcicap" "$stage/driver")
echo "$out"
echo "$out" | grep -q '^BAR0: 0xfeb80000, 131072 bytes$'
echo "$out" | grep -q '^MSI enable: No error$'
echo "installed library, headers and pkg-config file work"
