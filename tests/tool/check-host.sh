#!/bin/sh
# pcicap-tool on this machine's PCI devices (pciaccess backend, read-only:
# the tool never attaches or writes): every device `lspci -n` lists is
# listed identically, and the MSI/MSI-X lines of `-v` equal those of
# `lspci -vvv`, both run as the same user (without root lspci shows no
# capabilities and neither does the tool, which then says on stderr that
# the rest needs root). Skips (77) without a PCI bus, without lspci, or
# when the tool was built without libpciaccess.
# Usage: check-host.sh <pcicap-tool>
set -u
tool=$1
ls /sys/bus/pci/devices/* >/dev/null 2>&1 || { echo "no PCI bus: skipped"; exit 77; }
command -v lspci >/dev/null 2>&1 || { echo "lspci missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$tool" >"$tmp/list" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot use the pciaccess backend" "$tmp/err"; then
	echo "pciaccess backend unavailable ($(cat "$tmp/err")): skipped"
	exit 77
fi
[ $rc -eq 0 ] || bad "listing exits $rc: $(cat "$tmp/err")"
lspci -n >"$tmp/list.lspci" 2>/dev/null
if cmp -s "$tmp/list" "$tmp/list.lspci"; then
	echo "ok: $(wc -l <"$tmp/list") devices listed as lspci -n lists them"
else
	bad "listing differs from lspci -n"
	diff "$tmp/list.lspci" "$tmp/list"
fi

"$tool" -v >"$tmp/v" 2>"$tmp/err.v" || bad "-v exits $?"
awk -f "$(dirname "$0")/msi-lines.awk" "$tmp/v" >"$tmp/msi"
lspci -vvv 2>/dev/null | awk -f "$(dirname "$0")/msi-lines.awk" >"$tmp/msi.lspci"
if cmp -s "$tmp/msi" "$tmp/msi.lspci"; then
	echo "ok: MSI/MSI-X lines = lspci -vvv ($(wc -l <"$tmp/msi") lines)"
else
	bad "MSI/MSI-X lines differ from lspci -vvv"
	diff "$tmp/msi.lspci" "$tmp/msi"
fi
# kernel drivers (pcicap_device_driver) as lspci -v shows them
drv() { awk '/^[^ \t]/ { slot = $1 } /^\tKernel driver in use:/ { print slot $0 }' "$@"; }
drv "$tmp/v" >"$tmp/drv"
lspci -v 2>/dev/null | drv >"$tmp/drv.lspci"
cmp -s "$tmp/drv" "$tmp/drv.lspci" && echo "ok: kernel drivers = lspci -v ($(wc -l <"$tmp/drv") bound)" ||
	{ bad "kernel drivers differ from lspci -v"; diff "$tmp/drv.lspci" "$tmp/drv"; }
if [ "$(id -u)" -ne 0 ]; then
	grep -q "needs root" "$tmp/err.v" && echo "ok: not root: the tool says the rest needs root" ||
		bad "not root and no 'needs root' note: $(cat "$tmp/err.v")"
else
	[ -s "$tmp/err.v" ] && bad "root, yet stderr: $(cat "$tmp/err.v")"
fi

# -s and -d select what lspci selects; -x as lspci prints it
first=$(head -n 1 "$tmp/list.lspci" | cut -d' ' -f1)
ids=$(head -n 1 "$tmp/list.lspci" | cut -d' ' -f3)
for sel in "-s $first" "-d $ids" "-s $first -v"; do
	"$tool" -v $sel | awk -f "$(dirname "$0")/msi-lines.awk" >"$tmp/a"
	lspci -vvv $sel 2>/dev/null | awk -f "$(dirname "$0")/msi-lines.awk" >"$tmp/b"
	cmp -s "$tmp/a" "$tmp/b" || bad "$sel: MSI lines differ"
done
"$tool" -s "$first" >"$tmp/a"
lspci -n -s "$first" >"$tmp/b" 2>/dev/null
cmp -s "$tmp/a" "$tmp/b" && echo "ok: -s $first" || bad "-s $first differs"
for x in -x -xxx -xxxx; do
	"$tool" $x >"$tmp/a" 2>/dev/null
	lspci -n $x >"$tmp/b" 2>/dev/null
	cmp -s "$tmp/a" "$tmp/b" && echo "ok: $x = lspci -n $x" || { bad "$x differs from lspci -n $x"; diff "$tmp/b" "$tmp/a" | head; }
done

[ $fail = 0 ] && echo "all host checks passed"
exit $fail
