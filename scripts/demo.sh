#!/usr/bin/env bash
# The local end-to-end demo on a fresh machine: installs the AWS emulator (moto[server] into
# .venv) and the notifier toolchain (zig, cargo-zigbuild into .tools) if needed, then runs
# `cargo run --example demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/emulator.sh setup
scripts/toolchain.sh
exec cargo run --quiet --example demo
