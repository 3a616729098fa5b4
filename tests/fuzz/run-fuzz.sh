#!/bin/sh
# Run one libFuzzer harness for a fixed time (the Meson suite `fuzz`):
#   run-fuzz.sh <harness> <seconds> <workdir> [libFuzzer options...]
# The harness first writes its seeds into <workdir>/seeds (with the inputs
# of tests/fuzz/regressions/<name>/ that once found a bug); the corpus it
# grows is kept in <workdir>/corpus (reused by later runs) and crash inputs
# land in <workdir>. PCICAP_FUZZ_SECONDS overrides <seconds>.
set -eu
exe=$(readlink -f "$1")
secs=${PCICAP_FUZZ_SECONDS:-$2}
mkdir -p "$3"
work=$(readlink -f "$3")
shift 3
mkdir -p "$work/corpus" "$work/seeds"
rm -rf "$work/run"
mkdir -p "$work/run"
export PCICAP_RUNTIME_DIR="$work/run"
PCICAP_FUZZ_WRITE_SEEDS="$work/seeds" "$exe"
# inputs that once found a bug stay in the seeds (tests/fuzz/regressions/<name>/)
regress="$(dirname "$0")/regressions/$(basename "$exe" | sed 's/^fuzz_//')"
if [ -d "$regress" ]; then
	cp "$regress"/* "$work/seeds/"
fi
cd "$work"
exec "$exe" -max_total_time="$secs" -timeout=10 -print_final_stats=1 "$@" \
	"$work/corpus" "$work/seeds"
