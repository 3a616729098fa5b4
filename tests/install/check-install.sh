#!/bin/sh
# `meson install` into a staging directory, then use the result as a user
# would, with nothing but `pkg-config pcicap` (and pciutils' own <pci/pci.h>
# on the default include path when libpci-dev is installed):
#  1. every file is where decisions.md section 1 puts it: the library with
#     its soname, the pkg-config file, the QNX headers under
#     <includedir>/pcicap/pci/, the extensions under <includedir>/pcicap/pcicap/,
#     the capability modules under <libdir>/pcicap/, pcicap-tool, its man
#     page, and (with docs) a section-3 man page for every exported symbol;
#  2. every example of examples/ builds out of tree and runs on the
#     simulator with the installed modules;
#  3. the tutorial's driver and its tests build with the tutorial's Makefile
#     and pass, as docs/tutorial.md runs them.
# Usage: check-install.sh <build dir> <source dir> docs|nodocs
set -eu
build=$1
src=$2
docs=$3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null

# 1. the layout
pc=$(find "$stage" -name pcicap.pc)
[ -n "$pc" ] || fail "pcicap.pc not installed"
# the staging directory stands for the prefix: relocate the .pc file
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed -i "s|^prefix=.*|prefix=$stage$prefix|" "$pc"
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir pcicap)
includedir=$(pkg-config --variable=includedir pcicap)
moddir=$(pkg-config --variable=capmoduledir pcicap)
[ "$(dirname "$pc")" = "$libdir/pkgconfig" ] || fail "pcicap.pc is not in <libdir>/pkgconfig"
flags=$(pkg-config --cflags --libs pcicap)
echo "pkg-config: $flags"
case "$flags" in *"-I$includedir/pcicap"*) ;; *) fail "Cflags lack <includedir>/pcicap" ;; esac
soname=$(readelf -d "$libdir/libpcicap.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libpcicap.so.0 ] || fail "soname is '$soname', not libpcicap.so.0"
[ -e "$libdir/libpcicap.so.0" ] || fail "no $libdir/libpcicap.so.0"
for h in pci/pci.h pci/cap_msi.h pci/cap_msix.h pcicap/pcicap.h pcicap/sim.h pcicap/backend.h \
	pcicap/cap_module.h pcicap/irq.h; do
	[ -f "$includedir/pcicap/$h" ] || fail "missing header <includedir>/pcicap/$h"
done
[ "$moddir" = "$libdir/pcicap" ] || fail "capmoduledir $moddir is not <libdir>/pcicap"
for m in pci_cap-0x05.so pci_cap-0x11.so; do
	[ -f "$moddir/$m" ] || fail "missing module <libdir>/pcicap/$m"
done
tool=$stage$prefix/bin/pcicap-tool
[ -x "$tool" ] || fail "pcicap-tool is not in <bindir>"
if [ "$prefix" != /usr ]; then
	# outside /usr the tool finds the library by its rpath (the unstaged libdir)
	rpath=$(readelf -d "$tool" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
	[ "$rpath" = "${libdir#"$stage"}" ] || fail "pcicap-tool's RUNPATH is '$rpath', not the libdir"
fi
LD_LIBRARY_PATH="$libdir" "$tool" -F "$src/tests/fixtures/sim/short-x.txt" >/dev/null ||
	fail "the installed pcicap-tool does not run"
mandir=$stage$prefix/share/man
[ -f "$mandir/man1/pcicap-tool.1" ] || fail "pcicap-tool.1 is not in <mandir>/man1"
if [ "$docs" = docs ]; then
	n=0
	for sym in $(nm -D --defined-only "$libdir/libpcicap.so" |
		awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}'); do
		[ -f "$mandir/man3/$sym.3" ] || fail "no man page <mandir>/man3/$sym.3"
		n=$((n + 1))
	done
	[ -f "$mandir/man3/libpcicap.3" ] || fail "no libpcicap.3"
	[ -f "$stage$prefix/share/doc/pcicap/html/index.html" ] || fail "no HTML reference"
	if command -v man >/dev/null; then
		MANPATH=$mandir man -w 3 pci_device_attach | grep -q "$mandir/man3/pci_device_attach.3" ||
			fail "man 3 pci_device_attach does not find the installed page"
	fi
	echo "man pages: pcicap-tool(1), libpcicap(3) and one for each of the $n exported symbols"
else
	echo "man pages: pcicap-tool(1); section 3 not built (no Doxygen: -Ddocs)"
fi
if [ -e /usr/include/x86_64-linux-gnu/pci/pci.h ] || [ -e /usr/include/pci/pci.h ]; then
	echo "pciutils' <pci/pci.h> is installed too"
fi

# 2. the examples, out of tree
export PCI_CAP_MODULE_DIR="$moddir" PCI_HW_MODULE=sim
ex=$src/examples
cc -std=c99 -Wall -Wextra -Werror -o "$stage/driver" "$ex/driver.c" $flags
for e in pcicap-demo msi-driver msix-driver; do
	cc -Wall -Wextra -Werror -pthread -o "$stage/$e" "$ex/$e.c" $flags
done
run() { LD_LIBRARY_PATH="$libdir" "$@"; }
out=$(PCI_SIM_CONFIG="$ex/demo.topo" run "$stage/driver")
echo "$out"
echo "$out" | grep -q '^BAR0: 0xfeb80000, 131072 bytes$' || fail "driver: no BAR line"
echo "$out" | grep -q '^MSI enable: No error$' || fail "driver: MSI not enabled"
run "$stage/pcicap-demo" "$ex/demo.topo" | diff -u "$src/tests/golden/demo.out" - ||
	fail "pcicap-demo differs from tests/golden/demo.out"
run "$stage/msi-driver" "$ex/msi-dev.topo" >/dev/null || fail "msi-driver"
run "$stage/msix-driver" "$ex/msix-nic.topo" >/dev/null || fail "msix-driver"
echo "examples: driver, pcicap-demo, msi-driver, msix-driver built and run"

# 3. the tutorial, with its Makefile (no LD_LIBRARY_PATH: the Makefile's rpath)
cp -r "$ex/tutorial" "$stage/edudrv"
make -s -C "$stage/edudrv" >/dev/null
out=$(make -s -C "$stage/edudrv" run 2>&1) || { echo "$out"; fail "make run"; }
echo "$out"
echo "$out" | grep -q '^edudrv: 5 of 5 interrupts handled' || fail "make run: interrupts lost"
out=$(make -s -C "$stage/edudrv" check 2>&1) || { echo "$out"; fail "make check"; }
echo "$out" | tail -n 1
echo "installed library, modules, headers, pkg-config file, tool and man pages work"
