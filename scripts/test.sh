#!/usr/bin/env bash
# The test suite: unit tests, and integration tests against local AWS emulators and Slack sinks.
# Installs the emulator (moto[server] into .venv) and the notifier toolchain (zig, cargo-zigbuild
# into .tools) first if needed. Runs the tests with cargo-nextest when it is installed (test
# binaries side by side: .config/nextest.toml), else with cargo test. Extra args go to either.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/emulator.sh setup
scripts/toolchain.sh
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets "$@"
else
  cargo test --workspace --all-targets "$@"
fi
