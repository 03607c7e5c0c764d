#!/usr/bin/env bash
# The test suite: unit tests, and integration tests against local AWS emulators and Slack sinks.
# Installs the emulator (moto[server] into .venv) and the notifier toolchain (zig, cargo-zigbuild
# into .tools) first if needed. Extra args go to cargo test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/emulator.sh setup
scripts/toolchain.sh
cargo test --workspace --all-targets "$@"
