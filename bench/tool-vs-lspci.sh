#!/bin/sh
# Time `pcicap-tool -v -F big.dump` against `lspci -vv -n -F big.dump` on a
# generated dump of 4096 functions with MSI and MSI-X, in the same run, and
# print the ratio tool time / lspci time (best of RUNS runs each).
# Usage: bench/tool-vs-lspci.sh [build dir (default: build)] [functions (4096)]
# Environment: RUNS (default 5), KEEP_DUMP=1 keeps the generated dump.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
n=${2:-4096}
runs=${RUNS:-5}
tool=$build/tools/pcicap-tool
[ -x "$tool" ] || { echo "no $tool: build first (meson setup $build && ninja -C $build)" >&2; exit 1; }
command -v lspci >/dev/null 2>&1 || { echo "lspci not found (install pciutils)" >&2; exit 1; }
tmp=$(mktemp -d)
[ "${KEEP_DUMP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
dump=$tmp/big.dump
python3 "$here/gen-big-dump.py" "$dump" "$n"

now() { date +%s%N; }
best() { # best wall time in ns of "$@" over $runs runs, output discarded
	b=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null 2>&1
		t1=$(now)
		t=$((t1 - t0))
		if [ -z "$b" ] || [ $t -lt "$b" ]; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

# The two must agree on what they print for MSI and MSI-X before we time them.
"$tool" -v -F "$dump" | awk -f "$here/../tests/tool/msi-lines.awk" >"$tmp/tool.msi"
lspci -vv -n -F "$dump" 2>/dev/null | awk -f "$here/../tests/tool/msi-lines.awk" >"$tmp/lspci.msi"
cmp -s "$tmp/tool.msi" "$tmp/lspci.msi" || { echo "MSI/MSI-X lines differ from lspci's" >&2; exit 1; }

tt=$(best "$tool" -v -F "$dump")
tl=$(best lspci -vv -n -F "$dump")
echo "functions:            $n ($(wc -c <"$dump") bytes of dump)"
echo "pcicap-tool -v -F:    $((tt / 1000000)) ms (best of $runs)"
echo "lspci -vv -n -F:      $((tl / 1000000)) ms (best of $runs, $(lspci --version))"
awk -v a="$tt" -v b="$tl" 'BEGIN { printf "ratio (tool/lspci):   %.3f\n", a / b }'
[ "${KEEP_DUMP:-0}" = 1 ] && echo "dump kept: $dump"
exit 0
