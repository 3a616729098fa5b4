#!/bin/sh
# README command 1: install dependencies, build, run the demo.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
./build/examples/pcicap-demo examples/demo.topo
