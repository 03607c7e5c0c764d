#!/usr/bin/env bash
# The local end-to-end demo on a fresh machine: installs the notifier toolchain (zig,
# cargo-zigbuild into .tools) and the AWS emulator (moto[server] into .venv) if needed, then runs
# `cargo run --example demo`.
#
# The steps overlap where they can, since a newcomer waits for all of them: the toolchain
# installs while cargo downloads the crates; the build (minutes, its embedded notifier needs
# the toolchain) runs while the emulator installs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Waits for a background step; its failure fails the demo.
join() { wait "$1" || { echo "demo: $2 failed (its output is above)" >&2; exit 1; }; }

cargo fetch --locked --quiet &
fetch=$!
scripts/toolchain.sh
join "$fetch" "downloading the crates (cargo fetch --locked)"

cargo build --quiet --example demo &
build=$!
trap 'kill "$build" 2>/dev/null || true' EXIT
scripts/emulator.sh setup
join "$build" "building the demo (cargo build --example demo)"
trap - EXIT

exec cargo run --quiet --example demo
