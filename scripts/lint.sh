#!/usr/bin/env bash
# Formatting and lints, as run before every commit lands (CI checks formatting only: clippy
# would compile the whole dependency graph a second time, in check mode, on a 2-core machine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo fmt --all --check
scripts/check-features.sh
cargo clippy --workspace --all-targets -- -D warnings
