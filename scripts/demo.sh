#!/bin/sh
# README command 1: install dependencies, build, run the demo.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
./build/examples/pcicap-demo examples/demo.topo
echo
echo "== a driver with MSI: interrupt threads on the IRQ fds =="
PCI_CAP_MODULE_DIR=build/cap_modules ./build/examples/pcicap-msi-driver examples/msi-dev.topo
echo
echo "== a multi-queue NIC with MSI-X: dispositions, folding, per-queue masking =="
PCI_CAP_MODULE_DIR=build/cap_modules ./build/examples/pcicap-msix-driver examples/msix-nic.topo
