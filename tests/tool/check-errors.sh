#!/bin/sh
# pcicap-tool on bad input: each error is one line on stderr and a non-zero
# exit (never a signal); malformed but parsable dumps decode cleanly (exit 0).
# Run under ASan/UBSan in the sanitized build, where a memory error makes
# the tool abort with a report (more than one line, exit >= 128 or 1 plus
# the report), which fails the checks below.
# Usage: check-errors.sh <pcicap-tool>
set -u
tool=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# expect_error <what> <stderr pattern> <args...>
expect_error() {
	what=$1
	pat=$2
	shift 2
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [ $rc -eq 0 ] || [ $rc -ge 126 ]; then
		bad "$what: exit status $rc"; cat "$tmp/err"
	elif [ "$lines" -ne 1 ]; then
		bad "$what: $lines lines on stderr"; cat "$tmp/err"
	elif ! grep -Eq "^pcicap-tool: .*$pat" "$tmp/err"; then
		bad "$what: unexpected message: $(cat "$tmp/err")"
	else
		echo "ok: $what: $(cat "$tmp/err")"
	fi
}

# expect_clean <what> <args...>: exit 0, nothing on stderr
expect_clean() {
	what=$1
	shift
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
		bad "$what: exit status $rc, stderr: $(cat "$tmp/err")"
	else
		echo "ok: $what (clean decode)"
	fi
}

# a 256-byte function: header line, then 16 lines of bytes; $1 = sed edits
# applied to the generated lines, header at 0x00 = 8086:1234, class 0200,
# Status.CapList set, capability pointer 0x40.
mkdump() {
	{
		echo "00:03.0 Ethernet controller: test"
		off=0
		while [ $off -lt 256 ]; do
			printf '%02x: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n' $off
			off=$((off + 16))
		done
	} | sed -e 's/^00: .*/00: 86 80 34 12 00 00 10 00 01 00 00 02 00 00 00 00/' \
		-e 's/^30: .*/30: 00 00 00 00 40 00 00 00 00 00 00 00 00 00 00 00/' "$@"
}

expect_error "no such file" "no such file" -F "$tmp/nonexistent.txt"
expect_error "directory" "" -F "$tmp"
mkdump -e 's/^50: 00 00/50: zz 00/' >"$tmp/badhex.txt"
expect_error "bad hex" "badhex.txt:7: malformed config bytes" -F "$tmp/badhex.txt"
mkdump -e 's/^50: 00 00 00/50: 00 0 00/' >"$tmp/shorthex.txt"
expect_error "one-digit byte" "malformed" -F "$tmp/shorthex.txt"
mkdump -e 's/^60: .*/60: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00/' >"$tmp/long.txt"
expect_error "17 bytes on a line" "malformed" -F "$tmp/long.txt"
mkdump -e 's/^70: .*/70:/' >"$tmp/nobytes.txt"
expect_error "offset without bytes" "offset without bytes" -F "$tmp/nobytes.txt"
mkdump -e 's/^80: .*/ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00/' >"$tmp/beyond.txt"
expect_error "bytes beyond 4096" "" -F "$tmp/beyond.txt"
{ echo "00: 86 80"; mkdump; } >"$tmp/nohdr.txt"
expect_error "bytes before any header" "before any device header" -F "$tmp/nohdr.txt"
{ mkdump; echo "garbage line"; } >"$tmp/garbage.txt"
expect_error "garbage line" "neither a device header nor config bytes" -F "$tmp/garbage.txt"
{ mkdump; echo "00:04.0 header without bytes"; } >"$tmp/emptyfn.txt"
expect_error "header without bytes" "no config bytes" -F "$tmp/emptyfn.txt"
{ mkdump; mkdump; } >"$tmp/twice.txt"
expect_error "function given twice" "" -F "$tmp/twice.txt"
printf '00:03.0 x\n00: 86 80 \000 12\n' >"$tmp/nul.txt"
expect_error "NUL byte" "" -F "$tmp/nul.txt"
head -c 3000 /dev/urandom >"$tmp/random.bin" 2>/dev/null || dd if=/dev/urandom of="$tmp/random.bin" bs=1 count=3000 2>/dev/null
"$tool" -F "$tmp/random.bin" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -ge 1 ] && [ $rc -lt 126 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && echo "ok: random bytes" ||
	{ bad "random bytes: exit $rc"; cat "$tmp/err"; }

mkdump >"$tmp/good.txt"
expect_error "no such device (-s)" "no such device" -F "$tmp/good.txt" -s 09:1f.7
expect_error "no such device (-d)" "no such device" -F "$tmp/good.txt" -d 1234:5678
expect_error "bad -s" "invalid slot" -F "$tmp/good.txt" -s 00:40.0
expect_error "bad -s function" "invalid function" -F "$tmp/good.txt" -s 00:03.9
expect_error "bad -s bus" "invalid bus" -F "$tmp/good.txt" -s 100:03.0
expect_error "bad -d" "invalid vendor" -F "$tmp/good.txt" -d xyz:1
expect_error "-d without colon" "expected" -F "$tmp/good.txt" -d 8086
expect_error "extra argument" "unexpected argument" -F "$tmp/good.txt" extra

# Malformed but parsable: decoded cleanly.
expect_clean "well-formed" -v -xxxx -F "$tmp/good.txt"
mkdump -e 's/^50: .*/50: 00 00 00 00/' >"$tmp/trunc.txt"
expect_clean "truncated line (missing bytes are 0)" -v -xxx -F "$tmp/trunc.txt"
{ mkdump; echo "40: 05 00 81 00 00 10 e0 fe 00 00 00 00 21 43 00 00"; } >"$tmp/dup.txt"
expect_clean "duplicate offset (the last one wins)" -v -xxx -F "$tmp/dup.txt"
grep -q 'MSI: Enable+ Count=1/1 Maskable- 64bit+' "$tmp/out" && echo "ok: duplicate offset: the last line is used" ||
	bad "duplicate offset: MSI from the last line not decoded: $(cat "$tmp/out")"
mkdump -e 's/^40: .*/40: 05 50 80 01 00 00 00 00 00 00 00 00 00 00 00 00/' \
	-e 's/^50: .*/50: 11 40 03 80 03 00 00 00 03 20 00 00 00 00 00 00/' >"$tmp/loop.txt"
expect_clean "looping capability list" -v -F "$tmp/loop.txt"
[ "$(grep -c 'MSI' "$tmp/out")" -le 4 ] && echo "ok: loop walked once" || bad "loop: $(cat "$tmp/out")"
mkdump -e 's/^40: .*/40: 05 40 80 01 00 00 00 00 00 00 00 00 00 00 00 00/' >"$tmp/self.txt"
expect_clean "capability pointing to itself" -v -F "$tmp/self.txt"
mkdump -e 's/^30: .*/30: 00 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00/' >"$tmp/inhdr.txt"
expect_clean "capability pointer into the header" -v -F "$tmp/inhdr.txt"
mkdump -e 's/^30: .*/30: 00 00 00 00 f8 00 00 00 00 00 00 00 00 00 00 00/' \
	-e 's/^f0: .*/f0: 00 00 00 00 00 00 00 00 05 00 80 01 00 00 00 00/' >"$tmp/atend.txt"
expect_clean "64-bit maskable MSI at 0xf8 (runs past the end)" -v -F "$tmp/atend.txt"
mkdump -e 's/^30: .*/30: 00 00 00 00 fc 00 00 00 00 00 00 00 00 00 00 00/' \
	-e 's/^f0: .*/f0: 00 00 00 00 00 00 00 00 00 00 00 00 11 00 ff 87/' >"$tmp/msixend.txt"
expect_clean "MSI-X at 0xfc (runs past the end)" -v -F "$tmp/msixend.txt"
{ mkdump; echo "100: 01 00 01 10"; } >"$tmp/xloop.txt"
expect_clean "extended list pointing to itself" -v -xxxx -F "$tmp/xloop.txt"
{ mkdump; echo "100: 01 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00"; } >"$tmp/x4k.txt"
expect_clean "4096-byte function from a short dump" -xxxx -F "$tmp/x4k.txt"
[ "$(grep -c '^[0-9a-f]*: ' "$tmp/out")" -eq 256 ] && echo "ok: 4096 bytes shown" || bad "x4k: $(wc -l <"$tmp/out") lines"
printf '# only a comment\n\n' >"$tmp/empty.txt"
expect_clean "dump without functions" -v -F "$tmp/empty.txt"
printf '00:03.0 x\r\n00: 86 80 34 12 00 00 00 00 01 00 00 02 00 00 00 00\r\n' >"$tmp/crlf.txt"
expect_clean "CRLF -x dump" -v -x -F "$tmp/crlf.txt"

[ $fail = 0 ] && echo "all error checks passed"
exit $fail
