#!/bin/sh
# Source coverage of the library and the modules reached by the fuzz
# corpora (docs/reliability.md):
#   sh tests/fuzz/coverage.sh <corpus-root>
# <corpus-root> holds work-config, work-parse, work-api as run-fuzz.sh left
# them (e.g. build-fuzz/tests/fuzz). Builds build-fuzzcov with clang's
# source-based coverage (and ASan: the fuzzer-instrumented library needs a
# sanitizer runtime), replays every corpus and seed input once (-runs=0) and
# prints llvm-cov's report for lib/ and cap_modules/.
# Needs clang, libclang-rt-14-dev and llvm-14 (llvm-profdata, llvm-cov).
set -eu
cd "$(dirname "$0")/../.."
root=$(readlink -f "$1")
b=build-fuzzcov
prof="-fprofile-instr-generate -fcoverage-mapping"
[ -d $b ] || CC=clang meson setup $b -Dtests=disabled -Dfuzz=enabled -Db_sanitize=address -Db_lundef=false \
	-Dc_args="$prof" -Dc_link_args="$prof" >/dev/null
meson compile -C $b >/dev/null
rm -rf $b/profiles
mkdir -p $b/profiles
export PCI_CAP_MODULE_DIR="$PWD/$b/cap_modules"
for h in config parse api; do
	mkdir -p "$b/run-$h"
	PCICAP_RUNTIME_DIR="$PWD/$b/run-$h" LLVM_PROFILE_FILE="$PWD/$b/profiles/$h-%p.profraw" \
		"$b/tests/fuzz/fuzz_$h" -runs=0 "$root/work-$h/corpus" "$root/work-$h/seeds" \
		>"$b/replay-$h.log" 2>&1
done
llvm-profdata-14 merge -sparse "$b"/profiles/*.profraw -o "$b/fuzz.profdata"
objs=""
for o in "$b"/cap_modules/*.so; do
	objs="$objs -object $o"
done
# shellcheck disable=SC2086
llvm-cov-14 report "$b"/lib/libpcicap.so $objs -instr-profile="$b/fuzz.profdata" \
	"$PWD/lib" "$PWD/cap_modules"
