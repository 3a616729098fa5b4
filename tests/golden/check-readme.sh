#!/bin/sh
# The README's driver example is examples/driver.c (from its first #include
# on), so the README cannot drift from code that CI builds and runs.
# Usage: check-readme.sh <README.md> <examples/driver.c>
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n '/^```c$/,/^```$/p' "$1" | sed '1d;$d' >"$tmp/readme.c"
sed -n '/^#include <stdio.h>/,$p' "$2" >"$tmp/driver.c"
diff -u "$tmp/driver.c" "$tmp/readme.c"
