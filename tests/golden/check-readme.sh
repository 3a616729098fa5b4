#!/bin/sh
# The README as a newcomer meets it:
#  1. its driver example is examples/driver.c (from its first #include on),
#     so the README cannot drift from code that CI builds and runs;
#  2. it holds exactly two commands, ./scripts/demo.sh and
#     ./scripts/run-tests.sh (every other code block is that C example),
#     and both are executable scripts of the tree.
# Usage: check-readme.sh <README.md> <examples/driver.c>
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n '/^```c$/,/^```$/p' "$1" | sed '1d;$d' >"$tmp/readme.c"
sed -n '/^#include <stdio.h>/,$p' "$2" >"$tmp/driver.c"
diff -u "$tmp/driver.c" "$tmp/readme.c"
# the lines of indented code blocks and of fenced blocks other than ```c
awk '
	/^```/ { if (fence) fence = 0; else { fence = 1; c = ($0 == "```c") }; prev = ""; next }
	fence { if (!c) print; next }
	/^    / && (prev == "" || code) { code = 1; sub(/^    /, ""); print; prev = $0; next }
	{ code = 0; prev = $0 }
' "$1" >"$tmp/commands"
printf '%s\n' ./scripts/demo.sh ./scripts/run-tests.sh >"$tmp/want"
diff -u "$tmp/want" "$tmp/commands" || { echo "the README must hold exactly these two commands"; exit 1; }
root=$(dirname "$1")
for s in demo.sh run-tests.sh; do
	[ -x "$root/scripts/$s" ] || { echo "scripts/$s is not executable"; exit 1; }
done
echo "README: the driver example is examples/driver.c; two commands, both scripts"
