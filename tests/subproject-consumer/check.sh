#!/bin/sh
# Build the consumer project of this directory with pcicap as a Meson
# subproject (subprojects/pcicap: a link to this source tree, forced as the
# fallback) and run its test.
# Usage: check.sh <pcicap source dir>
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/tests/subproject-consumer/meson.build" "$src/tests/subproject-consumer/consumer.c" "$tmp/"
mkdir "$tmp/subprojects"
ln -s "$src" "$tmp/subprojects/pcicap"
meson setup "$tmp/build" "$tmp" --force-fallback-for=pcicap >"$tmp/setup.log" 2>&1 ||
	{ cat "$tmp/setup.log"; exit 1; }
grep -q "Subproject pcicap finished" "$tmp/setup.log" || { cat "$tmp/setup.log"; exit 1; }
meson compile -C "$tmp/build" >"$tmp/compile.log" 2>&1 || { cat "$tmp/compile.log"; exit 1; }
meson test -C "$tmp/build" --print-errorlogs
cat "$tmp/build/meson-logs/testlog.txt" | grep '^consumer:'
