#!/bin/sh
# ABI checks on the built library:
#  1. every exported symbol is a QNX API name (pci_*, cap_msi_*, cap_msix_*) or pcicap_*;
#  2. every exported symbol is declared in the public headers;
#  3. every function declared in the public headers is exported;
#  4. no exported name is also exported by libpciaccess or by pciutils' libpci.
# Usage: check_exports.sh <libpcicap.so> <include dir>
set -eu
lib=$1
inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$tmp/ours"
n=$(wc -l <"$tmp/ours")
[ "$n" -gt 0 ] || { echo "no exported symbols in $lib"; exit 1; }

bad=$(grep -Ev '^(pci_|cap_msi_|cap_msix_|pcicap_)' "$tmp/ours" || true)
if [ -n "$bad" ]; then echo "exported names outside the API:"; echo "$bad"; fail=1; fi

# the headers without their comments
cat "$inc"/pci/*.h "$inc"/pcicap/*.h | perl -0pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' >"$tmp/headers"
# declared functions: an identifier followed by '(' at the start of a
# declaration line, and the one extern variable
grep -Eo '(^|[ *])(pci|pcicap|cap_msi|cap_msix)_[A-Za-z0-9_]+\(' "$tmp/headers" |
	sed -E 's/^[ *]//; s/\($//' | sort -u >"$tmp/declared_fns"
echo pci_verbosity >>"$tmp/declared_fns"
# static inline helpers are defined in the headers, not exported
perl -0ne 'while (/static\s+inline\s+[^(]*?\b((?:pci|pcicap|cap_msi|cap_msix)_\w+)\s*\(/g) { print "$1\n" }' \
	"$tmp/headers" | sort -u >"$tmp/inline_fns"
sort -u "$tmp/declared_fns" | comm -23 - "$tmp/inline_fns" >"$tmp/d" && mv "$tmp/d" "$tmp/declared_fns"
undeclared=$(comm -23 "$tmp/ours" "$tmp/declared_fns")
if [ -n "$undeclared" ]; then echo "exported but not declared in a public header:"; echo "$undeclared"; fail=1; fi
unexported=$(comm -13 "$tmp/ours" "$tmp/declared_fns")
if [ -n "$unexported" ]; then echo "declared but not exported:"; echo "$unexported"; fail=1; fi

find_lib() {
	for d in $(pkg-config --variable=libdir "$1" 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		for f in "$d/$2.so" "$d"/"$2".so.*; do
			[ -e "$f" ] && { echo "$f"; return 0; }
		done
	done
	return 1
}
for pair in "pciaccess libpciaccess" "libpci libpci"; do
	set -- $pair
	other=$(find_lib "$1" "$2") || { echo "$2 not found: install $([ "$2" = libpci ] && echo libpci-dev || echo libpciaccess-dev)"; fail=1; continue; }
	nm -D --defined-only "$other" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$tmp/other"
	common=$(comm -12 "$tmp/ours" "$tmp/other")
	m=$(wc -l <"$tmp/other")
	if [ -n "$common" ]; then echo "names also exported by $other:"; echo "$common"; fail=1;
	else echo "no name in common with $other ($m exports)"; fi
done
echo "$n exported symbols checked"
exit $fail
