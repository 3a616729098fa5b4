#!/bin/sh
# Run the demo on its topology and compare with the expected listing.
# Usage: check-demo.sh <pcicap-demo> <topology> <expected>
set -eu
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$1" "$2" >"$out"
diff -u "$3" "$out"
