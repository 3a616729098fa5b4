#!/bin/bash
# selftest.sh BUILD_DIR: the harness's own test. Runs vfio-e2e.sh on the
# scenarios of selftest.scenarios (some of which fail on purpose) and on
# broken set-ups, and checks that each run gives the verdict it must: a PASS
# only for a scenario that exited 0, a FAIL for an exit status, a guest
# timeout, a kernel panic, a QEMU failure or an overall timeout, a clear
# error before booting for a missing program or a bad scenario, 77 without
# QEMU. Exit status 0 if all hold, 1 if not, 77 if the harness skips.
#
# SPDX-License-Identifier: MIT

# bash is needed (associative arrays, EPOCHREALTIME); under sh, start again in bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

set -u
export LC_ALL=C

[ $# = 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$1
here=$(cd "$(dirname "$0")" && pwd -P)
harness=$here/vfio-e2e.sh
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
export PCICAP_E2E_CONSOLE=$build/e2e-selftest-console.log
unset PCICAP_E2E_REQUIRED PCICAP_E2E_VERBOSE PCICAP_E2E_TIMEOUT PCICAP_E2E_QEMU PCICAP_E2E_SCENARIOS \
	PCICAP_E2E_DRY_RUN PCICAP_E2E_SCENARIO_TIMEOUT
fails=0

fail() {
	echo "selftest: FAIL $*"
	fails=$((fails + 1))
}

# run NAME EXPECTED-STATUS [VAR=value...] -- [harness args...]: run the
# harness, keep its output in $tmp/NAME.out, check its exit status
run() {
	local name=$1 want=$2 envs=() rc
	shift 2
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	env "${envs[@]}" bash "$harness" "$build" "$@" >"$tmp/$name.out" 2>&1
	rc=$?
	if [ "$rc" = 77 ] && [ "$want" != 77 ]; then
		cat "$tmp/$name.out"
		echo "selftest: SKIP (the harness skips on this host)"
		exit 77
	fi
	if [ "$rc" = "$want" ]; then
		echo "selftest: ok   $name: exit status $rc"
	else
		sed 's/^/    | /' "$tmp/$name.out"
		fail "$name: exit status $rc, expected $want"
	fi
}

# expect NAME TEXT: the output of run NAME has a line starting with TEXT
expect() {
	if awk -v t="$2" 'index($0, t) == 1 { f = 1 } END { exit !f }' "$tmp/$1.out"; then
		echo "selftest: ok   $1: $2"
	else
		fail "$1: no line starting with '$2'"
	fi
}

# absent NAME TEXT: the output of run NAME has no line containing TEXT
absent() {
	if grep -qF -- "$2" "$tmp/$1.out"; then
		fail "$1: unexpected '$2'"
	else
		echo "selftest: ok   $1: no '$2'"
	fi
}

# Failures before any boot (fast): no QEMU, a missing program, a bad line, an
# unknown name.
run no-qemu 77 PCICAP_E2E_QEMU=/nonexistent/qemu -- probe
expect no-qemu "vfio-e2e: SKIP: /nonexistent/qemu not found"
run no-qemu-required 1 PCICAP_E2E_QEMU=/nonexistent/qemu PCICAP_E2E_REQUIRED=1 -- probe
expect no-qemu-required "vfio-e2e: error: /nonexistent/qemu not found"

printf 'ghost tests/e2e/no-such-program --rounds 1\n' >"$tmp/ghost.scen"
run missing-program 1 PCICAP_E2E_SCENARIOS="$tmp/ghost.scen" --
absent missing-program "vfio-e2e: kernel:"
expect missing-program "vfio-e2e: error: scenario 'ghost' ($tmp/ghost.scen:1): $(cd "$build" && pwd -P)/tests/e2e/no-such-program does not exist"

printf 'bad tests/e2e/selftest-guest.sh pass;reboot\n' >"$tmp/bad.scen"
run bad-line 1 PCICAP_E2E_SCENARIOS="$tmp/bad.scen" --
expect bad-line "vfio-e2e: error: $tmp/bad.scen:1: 'pass;reboot': only"

printf 'opt @fast tests/e2e/selftest-guest.sh pass\n' >"$tmp/opt.scen"
run bad-option 1 PCICAP_E2E_SCENARIOS="$tmp/opt.scen" --
expect bad-option "vfio-e2e: error: $tmp/opt.scen:1: unknown option @fast"

run unknown-name 1 -- probe no-such-scenario
expect unknown-name "vfio-e2e: error: unknown scenario 'no-such-scenario'"

# The plan: scenarios share a boot when their options match (in any order,
# @timeout aside), @own-boot gets one of its own, boots come in the order of
# their first scenario.
cat >"$tmp/plan.scen" <<'EOF'
p1 tests/e2e/selftest-guest.sh pass
p2 @timeout=5 @unsafe-interrupts @intremap=off tests/e2e/selftest-guest.sh pass
p3 @intremap=off @unsafe-interrupts tests/e2e/selftest-guest.sh pass
p4 @own-boot tests/e2e/selftest-guest.sh pass
p5 @intremap=on tests/e2e/selftest-guest.sh pass
p6 @own-boot tests/e2e/selftest-guest.sh pass
EOF
run plan 0 PCICAP_E2E_DRY_RUN=1 PCICAP_E2E_SCENARIOS="$tmp/plan.scen" --
expect plan "vfio-e2e: boot 0 (intremap=on): p1,p5"
expect plan "vfio-e2e: boot 1 (intremap=off,unsafe-interrupts): p2,p3"
expect plan "vfio-e2e: boot 2 (intremap=on,own-boot=p4): p4"
expect plan "vfio-e2e: boot 3 (intremap=on,own-boot=p6): p6"
run plan-selected 0 PCICAP_E2E_DRY_RUN=1 PCICAP_E2E_SCENARIOS="$tmp/plan.scen" -- p5 p3 p1
expect plan-selected "vfio-e2e: boot 0 (intremap=on): p5,p1"
expect plan-selected "vfio-e2e: boot 1 (intremap=off,unsafe-interrupts): p3"
absent plan-selected "boot 2"
run selected-twice 1 PCICAP_E2E_DRY_RUN=1 PCICAP_E2E_SCENARIOS="$tmp/plan.scen" -- p1 p1
expect selected-twice "vfio-e2e: error: scenario 'p1' selected twice"
printf 'p1 tests/e2e/selftest-guest.sh pass\np1 tests/e2e/selftest-guest.sh pass\n' >"$tmp/twice.scen"
run defined-twice 1 PCICAP_E2E_SCENARIOS="$tmp/twice.scen" --
expect defined-twice "vfio-e2e: error: $tmp/twice.scen:2: scenario 'p1' defined twice"

# QEMU that fails at once.
run qemu-fails 1 PCICAP_E2E_QEMU=false -- probe
expect qemu-fails "vfio-e2e: QEMU failed with exit status 1"
expect qemu-fails "E2E RESULT probe FAIL (no result line on the console)"

# The guest: two boots (default, and without interrupt remapping with
# allow_unsafe_interrupts: the options of two scenarios, in either order,
# make one boot), scenarios selected by name, in any order; st-skip is not
# selected and must not run.
printf '%s\n' "st-skip tests/e2e/selftest-guest.sh exit 9" >"$tmp/all.scen"
grep -v '^#' "$here/selftest.scenarios" >>"$tmp/all.scen"
run guest 1 PCICAP_E2E_SCENARIOS="$tmp/all.scen" -- \
	st-env st-pass st-files st-fail st-timeout st-nointremap st-iommu st-panic st-after-panic \
	st-unsafe-ir
for r in "st-pass PASS (" "st-env PASS (" "st-files PASS (" "st-fail FAIL (exit 3)" \
	"st-timeout FAIL (timeout after 1 s)" "st-iommu PASS (" "st-nointremap PASS (" \
	"st-unsafe-ir PASS (" \
	"st-panic FAIL (no result line on the console)" \
	"st-after-panic FAIL (no result line on the console)"; do
	expect guest "E2E RESULT $r"
done
absent guest "st-skip"
expect guest "vfio-e2e: the guest kernel panicked: not syncing: sysrq triggered crash"
expect guest "vfio-e2e: boot [st-env,st-pass,st-files,st-fail,st-timeout,st-iommu,st-panic,st-after-panic]: QEMU start to /init"
expect guest "vfio-e2e: boot [st-nointremap,st-unsafe-ir]: QEMU start to /init"
expect guest "---- guest console"
expect guest "vfio-e2e: FAILED"
grep -q "^E2E RUN st-after-panic" "$PCICAP_E2E_CONSOLE" && fail "guest: st-after-panic ran after the panic"
if grep -q "^E2E DMESG st-fail: .*selftest: kernel log marker 3" "$PCICAP_E2E_CONSOLE"; then
	echo "selftest: ok   guest: the kernel log of st-fail is on the console"
else
	fail "guest: no E2E DMESG line with the kernel log of st-fail"
fi
grep -q "^E2E DMESG st-pass" "$PCICAP_E2E_CONSOLE" && fail "guest: E2E DMESG lines for st-pass, which passed"

# The overall limit: QEMU is killed (or never started) when it is reached.
run overall-timeout 1 PCICAP_E2E_TIMEOUT=3 PCICAP_E2E_SCENARIOS="$tmp/all.scen" -- st-pass
expect overall-timeout "vfio-e2e: TIMEOUT"
expect overall-timeout "E2E RESULT st-pass FAIL (no result line on the console)"

if [ $fails != 0 ]; then
	echo "selftest: $fails check(s) failed"
	exit 1
fi
echo "selftest: all checks passed"
