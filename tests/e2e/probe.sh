#!/bin/sh
# probe.sh TOOL: the e2e smoke scenario, run inside the guest by busybox sh.
# TOOL is pcicap-tool. Read-only: lists the functions with the pciaccess
# backend and checks that pcicap sees edu's MSI and e1000e's MSI-X (5
# entries), that both are bound to vfio-pci and that their VFIO group
# devices exist. Prints "probe: FAIL ..." for each failed check; exits 1 if
# any failed.
#
# SPDX-License-Identifier: MIT

tool=${1:?usage: probe.sh PCICAP-TOOL}
fails=0

fail() {
	echo "probe: FAIL $*"
	fails=$((fails + 1))
}

ok() {
	echo "probe: ok   $*"
}

echo "probe: PCI_HW_MODULE=$PCI_HW_MODULE PCI_CAP_MODULE_DIR=$PCI_CAP_MODULE_DIR"
[ "$PCI_HW_MODULE" = pciaccess ] || fail "PCI_HW_MODULE is '$PCI_HW_MODULE', expected pciaccess"

# every function of the guest, as lspci -n would list them
if "$tool" >/tmp/probe-list 2>/tmp/probe-err; then
	cat /tmp/probe-list
	n=$(grep -c . /tmp/probe-list)
	s=$(ls /sys/bus/pci/devices | grep -c .)
	if [ "$n" = "$s" ]; then
		ok "pcicap-tool lists $n functions, as many as sysfs"
	else
		fail "pcicap-tool lists $n functions, sysfs has $s"
	fi
else
	cat /tmp/probe-list /tmp/probe-err
	fail "pcicap-tool (list) exited $?"
fi
[ -s /tmp/probe-err ] && { cat /tmp/probe-err; fail "pcicap-tool wrote to stderr"; }

[ -c /dev/vfio/vfio ] && ok "/dev/vfio/vfio exists" || fail "/dev/vfio/vfio is missing"

# check_dev NAME BDF ID PATTERN: the capability line PATTERN (a grep -E
# expression) is in the -v output, the function is bound to vfio-pci and its
# group device exists
check_dev() {
	name=$1 bdf=$2 id=$3 pattern=$4
	if [ -z "$bdf" ]; then
		fail "$name ($id): not found in the guest (PCICAP_E2E_* not set)"
		return
	fi
	if ! "$tool" -v -s "$bdf" >/tmp/probe-$name 2>&1; then
		cat /tmp/probe-$name
		fail "$name: pcicap-tool -v -s $bdf failed"
		return
	fi
	cat /tmp/probe-$name
	grep -Eq " $id( |\$)" /tmp/probe-$name && ok "$name: $bdf is $id" ||
		fail "$name: $bdf is not $id"
	if grep -Eq "$pattern" /tmp/probe-$name; then
		ok "$name: $(grep -E "$pattern" /tmp/probe-$name | sed 's/^[[:space:]]*//')"
	else
		fail "$name: no line matching '$pattern'"
	fi
	grep -q "Kernel driver in use: vfio-pci" /tmp/probe-$name &&
		ok "$name: pcicap-tool shows vfio-pci as its driver" ||
		fail "$name: pcicap-tool does not show vfio-pci as its driver"
	drv=$(readlink /sys/bus/pci/devices/$bdf/driver)
	[ "${drv##*/}" = vfio-pci ] && ok "$name: bound to vfio-pci" ||
		fail "$name: bound to '${drv##*/}', not vfio-pci"
	grp=$(readlink /sys/bus/pci/devices/$bdf/iommu_group)
	grp=${grp##*/}
	if [ -n "$grp" ] && [ -c /dev/vfio/$grp ]; then
		ok "$name: /dev/vfio/$grp exists"
	else
		fail "$name: no /dev/vfio/<group> (iommu_group '$grp')"
	fi
}

check_dev edu "$PCICAP_E2E_EDU" 1234:11e8 \
	'Capabilities: \[[0-9a-f]+\] MSI: Enable[-+] Count=1/1 '
check_dev e1000e "$PCICAP_E2E_E1000E" 8086:10d3 \
	'Capabilities: \[[0-9a-f]+\] MSI-X: Enable[-+] Count=5 '

if [ $fails != 0 ]; then
	echo "probe: $fails check(s) failed"
	exit 1
fi
echo "probe: all checks passed"
