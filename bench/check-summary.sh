#!/bin/sh
# CI check: run `pcicap-bench --summary --quick` once, print its figures, and
# fail when an access count misses its target. The counts are deterministic
# (the simulator counts every access); timing and instruction figures are
# printed but never judged here.
# Usage: check-summary.sh <pcicap-bench>
set -eu
bench=$1
out=$("$bench" --summary --quick) || { echo "pcicap-bench failed" >&2; exit 1; }
echo "$out"
echo "$out" | awk -F= '
	BEGIN {
		# name, comparison, target: the access counts of docs/performance.md
		t["msi_mask_cfg_writes"] = "== 1";    t["msi_mask_cfg_reads"] = "== 0"
		t["msi_unmask_cfg_writes"] = "== 1";  t["msi_unmask_cfg_reads"] = "== 0"
		t["msix_mask_bar_writes"] = "== 1";   t["msix_mask_bar_reads"] = "== 1"
		t["msix_unmask_bar_writes"] = "== 1"; t["msix_unmask_bar_reads"] = "== 0"
		t["msix_mask_cfg_accesses"] = "== 0"; t["cap_lookup_cfg_accesses"] = "== 0"
		t["msix_enable_2048_accesses"] = "<= 8200"
		t["msix_enable_accesses_per_vector"] = "<= 4"
	}
	$1 in t {
		seen[$1] = 1
		split(t[$1], c, " ")
		ok = c[1] == "==" ? ($2 == c[2] + 0) : ($2 != "n/a" && $2 + 0 <= c[2] + 0)
		if ($2 == "n/a" || !ok) { printf "MISSED: %s=%s (target %s)\n", $1, $2, t[$1]; bad = 1 }
	}
	END {
		for (n in t) if (!(n in seen)) { printf "MISSING: %s\n", n; bad = 1 }
		if (bad) exit 1
		print "every access count at its target"
	}'
