#!/bin/sh
# pcicap-tool on every dump of tests/fixtures/dumps:
#  - the listing equals `lspci -n -F <dump>`;
#  - the MSI/MSI-X lines of `-v` equal those of `lspci -vvv -F <dump>`
#    (EXPECTED.md's when lspci is missing);
#  - round trip: `-xxxx -F <dump>` prints exactly the dump's config bytes
#    (every `xx: ...` line of the dump, in order), equals `lspci -n -xxxx -F`
#    byte for byte, and reading that output back gives the identical file;
#  - -x and -xxx equal lspci's;
#  - -s and -d select what lspci selects, on a dump of several domains.
# Usage: check-dumps.sh <pcicap-tool> <dumps dir> <dir of the awk helpers>
set -u
tool=$1
dumps=$2
awkdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
have_lspci=0
if [ "${PCICAP_TEST_NO_LSPCI:-0}" != 1 ] && command -v lspci >/dev/null 2>&1; then have_lspci=1; else echo "# lspci missing: MSI lines checked against EXPECTED.md"; fi
lspci_() { lspci "$@" 2>/dev/null; }
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

ndumps=0
for d in "$dumps"/*.txt; do
	f=$(basename "$d")
	ndumps=$((ndumps + 1))
	"$tool" -F "$d" >"$tmp/list" 2>"$tmp/err" || bad "$f: listing exits $?: $(cat "$tmp/err")"
	[ -s "$tmp/err" ] && bad "$f: listing writes to stderr: $(cat "$tmp/err")"

	"$tool" -v -F "$d" >"$tmp/v" || bad "$f: -v exits $?"
	awk -f "$awkdir/msi-lines.awk" "$tmp/v" >"$tmp/msi.tool"
	awk -v FILE="$f" -f "$awkdir/expected-msi.awk" "$dumps/EXPECTED.md" >"$tmp/msi.exp"
	if [ $have_lspci = 1 ]; then
		lspci_ -n -F "$d" >"$tmp/list.lspci"
		cmp -s "$tmp/list" "$tmp/list.lspci" && ok "$f: listing = lspci -n" ||
			{ bad "$f: listing differs from lspci -n"; diff "$tmp/list.lspci" "$tmp/list"; }
		lspci_ -vvv -F "$d" | awk -f "$awkdir/msi-lines.awk" >"$tmp/msi.lspci"
		cmp -s "$tmp/msi.tool" "$tmp/msi.lspci" && ok "$f: MSI/MSI-X lines = lspci -vvv ($(wc -l <"$tmp/msi.tool") lines)" ||
			{ bad "$f: MSI/MSI-X lines differ from lspci -vvv"; diff "$tmp/msi.lspci" "$tmp/msi.tool"; }
	fi
	# EXPECTED.md too (it records lspci's lines), whether or not lspci is here
	cmp -s "$tmp/msi.tool" "$tmp/msi.exp" && ok "$f: MSI/MSI-X lines = EXPECTED.md" ||
		{ bad "$f: MSI/MSI-X lines differ from EXPECTED.md"; diff "$tmp/msi.exp" "$tmp/msi.tool"; }

	# round trip
	"$tool" -xxxx -F "$d" >"$tmp/x4" || bad "$f: -xxxx exits $?"
	grep -E '^[0-9a-f]+: ' "$d" | tr -d '\r' >"$tmp/hex.dump"
	grep -E '^[0-9a-f]+: ' "$tmp/x4" >"$tmp/hex.tool"
	cmp -s "$tmp/hex.dump" "$tmp/hex.tool" && ok "$f: -xxxx prints the dump's config bytes" ||
		{ bad "$f: -xxxx bytes differ from the dump"; diff "$tmp/hex.dump" "$tmp/hex.tool" | head; }
	"$tool" -xxxx -F "$tmp/x4" >"$tmp/x4b" || bad "$f: -xxxx of the -xxxx output exits $?"
	cmp -s "$tmp/x4" "$tmp/x4b" && ok "$f: dump -> -xxxx -> -F -> -xxxx is identical" ||
		bad "$f: second round trip differs"
	# a 64-byte (-x) dump round-trips through -x
	"$tool" -x -F "$d" >"$tmp/x1"
	"$tool" -x -F "$tmp/x1" >"$tmp/x1b"
	cmp -s "$tmp/x1" "$tmp/x1b" && ok "$f: -x -> -F -> -x is identical" || bad "$f: -x round trip differs"
	if [ $have_lspci = 1 ]; then
		for x in -x -xxx -xxxx; do
			"$tool" $x -F "$d" >"$tmp/h"
			lspci_ -n $x -F "$d" >"$tmp/h.lspci"
			cmp -s "$tmp/h" "$tmp/h.lspci" && ok "$f: $x = lspci -n $x" ||
				{ bad "$f: $x differs from lspci -n $x"; diff "$tmp/h.lspci" "$tmp/h" | head; }
		done
	fi
done
[ $ndumps -gt 0 ] || bad "no dumps in $dumps"

# Selection, on one dump with functions in two domains.
mix=$tmp/mix.txt
for f in atheros-ar93xx-wifi.txt intel-82576-nic.txt intel-ich10-ahci.txt plx-pex9716-switch-port.txt; do
	cat "$dumps/$f" >>"$mix"
	echo >>"$mix"
done
check_sel() { # expected listing from lspci, or a fixed expectation when it is missing
	exp=$1
	shift
	"$tool" -F "$mix" "$@" >"$tmp/sel" 2>/dev/null
	if [ $have_lspci = 1 ]; then lspci_ -n -F "$mix" "$@" >"$tmp/sel.exp"; else printf '%s' "$exp" >"$tmp/sel.exp"; fi
	cmp -s "$tmp/sel" "$tmp/sel.exp" && ok "selection $*" ||
		{ bad "selection $* differs"; diff "$tmp/sel.exp" "$tmp/sel"; }
}
A='0001:03:00.0 0280: 168c:0030 (rev 01)
'
N='0000:01:00.0 0200: 8086:10c9 (rev 01)
'
S='0000:00:1f.2 0106: 8086:3a22
'
P='0000:05:01.0 0604: 10b5:9716 (rev aa)
'
check_sel "$S$N$P$A"
check_sel "$N" -s 01:00.0
check_sel "$N" -s 0:01:00.0
check_sel "$A" -s 0001:03:00.0
check_sel "$A" -s 1::
check_sel "$S" -s 1f.2
check_sel "$S" -s 1f
check_sel "$N$P$A" -s .0
check_sel "$P" -s 5:
check_sel "$S$N$P$A" -s '*:*.*'
check_sel "$S$N" -d 8086:
check_sel "$P" -d :9716
check_sel "$N" -d 8086:10c9
check_sel "$P" -s 5: -d 10b5:
"$tool" -v -F "$mix" -s 1f.2 | awk -f "$awkdir/msi-lines.awk" >"$tmp/one"
grep -q '^00:1f.2 Capabilities: \[80\] MSI: Enable+ Count=1/16 Maskable- 64bit-$' "$tmp/one" &&
	ok "-v with -s" || bad "-v with -s"

[ $fail = 0 ] && echo "all dump checks passed"
exit $fail
