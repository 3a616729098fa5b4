#!/bin/sh
# README command 2: every test, five ways:
#   1. a warnings-as-errors build with the API reference and man pages (a
#      Doxygen warning fails it), the whole suite (the hw suite skips where
#      the host has no PCI bus; suite bench checks pcicap-bench's access
#      counts, docs/performance.md), then the vfio suite: real MSI/MSI-X
#      through VFIO in a QEMU guest (tests/e2e; a plain `meson test` leaves it out);
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the unit and stress suites under ThreadSanitizer;
#   4. the unit and stress suites and the host tests under valgrind;
#   5. the fuzz suite: a clang build with libFuzzer, ASan and UBSan, each
#      harness for a fixed time (docs/reliability.md).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh

# a build directory made earlier gets the options too
run() {
	dir=$1; shift
	if [ -d "$dir" ]; then meson configure "$dir" "$@"; else meson setup "$dir" "$@"; fi
	meson compile -C "$dir"
}

run build-werror -Dwerror=true -Dtests=enabled -Ddocs=enabled
meson test -C build-werror --print-errorlogs
PCICAP_E2E_REQUIRED=1 meson test -C build-werror --suite vfio --print-errorlogs

run build-asan -Dwerror=true -Dtests=enabled -Ddocs=disabled -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

run build-tsan -Dtests=enabled -Ddocs=disabled -Db_sanitize=thread -Db_lundef=false
TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --suite unit --suite stress --print-errorlogs

meson test -C build-werror --setup valgrind --suite unit --suite stress --print-errorlogs
meson test -C build-werror --setup valgrind --print-errorlogs hw hw-guard

(
	export CC=clang
	run build-fuzz -Dwerror=true -Dtests=disabled -Ddocs=disabled -Dfuzz=enabled \
		-Db_sanitize=address,undefined -Db_lundef=false
)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-fuzz --suite fuzz --print-errorlogs
echo "all test runs passed"
