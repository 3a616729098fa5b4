#!/bin/sh
# The long fuzz run of docs/reliability.md: the three harnesses of
# tests/fuzz, 10.2 million executions in total (api 4.5 M side by side with
# parse 2.2 M, then config 3.5 M), in a clang libFuzzer + ASan + UBSan build,
# then the source coverage of the corpora they leave. About 75 minutes on 2
# cores. (The recorded run was made in sessions: see the doc.)
#   sh scripts/fuzz-campaign.sh [build-dir]     (default: build-campaign)
# Logs: <build-dir>/campaign-<harness>.log (libFuzzer's final stats at the
# end); crash inputs, if any: <build-dir>/tests/fuzz/work-<harness>/crash-*.
set -eu
cd "$(dirname "$0")/.."
b=${1:-build-campaign}
sh scripts/install-deps.sh
[ -d "$b" ] || CC=clang meson setup "$b" -Dwerror=true -Dtests=disabled -Dfuzz=enabled \
	-Db_sanitize=address,undefined -Db_lundef=false
meson compile -C "$b"
one() {
	PCICAP_FUZZ_SECONDS=7200 sh tests/fuzz/run-fuzz.sh "$b/tests/fuzz/fuzz_$1" 0 \
		"$b/tests/fuzz/work-$1" -max_len="$3" -runs="$2" >"$b/campaign-$1.log" 2>&1
}
one api 4500000 4096 &
api=$!
one parse 2200000 32768
one config 3500000 4097
wait $api
grep -H "stat::number_of_executed_units" "$b"/campaign-*.log
sh tests/fuzz/coverage.sh "$b/tests/fuzz"
