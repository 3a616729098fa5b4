#!/bin/sh
# selftest-guest.sh MODE [ARG...]: the guest side of the harness self-test
# (selftest.sh, selftest.scenarios), run by busybox sh in the guest. Each
# mode checks one thing the harness promises and exits 0 when it holds.
#
# SPDX-License-Identifier: MIT

fails=0
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then
		echo "selftest: ok   $d"
	else
		echo "selftest: FAIL $d"
		fails=$((fails + 1))
	fi
}

case $1 in
pass) printf 'selftest: pass, and no newline at the end' ;;
exit)
	echo "selftest: exiting with $2"
	echo "selftest: kernel log marker $2" >/dev/kmsg # shown with the failure
	exit "$2"
	;;
sleep) echo "selftest: sleeping $2 s"; sleep "$2" ;;
panic)
	echo "selftest: crashing the guest kernel"
	echo c >/proc/sysrq-trigger
	sleep 10
	;;
env)
	# what every scenario gets
	check "PCI_HW_MODULE=vfio" [ "$PCI_HW_MODULE" = vfio ]
	check "PCI_CAP_MODULE_DIR=/lib/pcicap holds both modules" \
		[ "$PCI_CAP_MODULE_DIR" = /lib/pcicap -a -f /lib/pcicap/pci_cap-0x05.so -a -f /lib/pcicap/pci_cap-0x11.so ]
	check "PCICAP_RUNTIME_DIR=/tmp/pcicap exists" [ "$PCICAP_RUNTIME_DIR" = /tmp/pcicap -a -d /tmp/pcicap ]
	for v in PCICAP_E2E_EDU:1234:11e8 PCICAP_E2E_E1000E:8086:10d3; do
		name=${v%%:*} id=${v#*:}
		eval bdf=\$$name
		d=/sys/bus/pci/devices/$bdf
		check "$name=$bdf is $id" \
			[ -n "$bdf" -a "$(cat $d/vendor 2>/dev/null):$(cat $d/device 2>/dev/null)" = "0x${id%:*}:0x${id#*:}" ]
	done
	check "runs in /pcicap" [ "$(pwd)" = /pcicap ]
	check "stdin is not the scenario list" [ -z "$(cat)" ]
	check "the library is there" [ -f /pcicap/lib/libpcicap.so.0 ]
	# the scenario's own VAR=value words
	check "ST_WORD=hello" [ "${ST_WORD:-}" = hello ]
	;;
files)
	# an argument and a VAR=value naming build-tree files came along, with
	# their libraries: both run
	check "argument $2 copied" [ -x "$2" ]
	check "ST_FILE=$ST_FILE copied" [ -x "$ST_FILE" ]
	check "$2 runs" sh -c "PCI_HW_MODULE=pciaccess $2 -d 1234:11e8 | grep -q 1234:11e8"
	check "$ST_FILE links" /lib64/ld-linux-x86-64.so.2 --list "$ST_FILE"
	;;
iommu)
	# iommu IR UNSAFE: interrupt remapping of the emulated VT-d (ecap bit 3)
	# and vfio_iommu_type1's allow_unsafe_interrupts are as the options asked
	ecap=$(cat /sys/class/iommu/dmar0/intel-iommu/ecap 2>/dev/null)
	ir=$(( (0x${ecap:-0} >> 3) & 1 ))
	check "interrupt remapping $2 (ecap $ecap)" [ "$ir" = "$2" ]
	check "allow_unsafe_interrupts $3" \
		[ "$(cat /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts)" = "$3" ]
	;;
*) echo "selftest: unknown mode '$1'"; exit 2 ;;
esac
[ $fails = 0 ]
