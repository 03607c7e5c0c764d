#!/usr/bin/env bash
# Usage: scripts/baseline-notifier.sh [REV]   (default: main)
#
# Builds the notifier `bootstrap` as revision REV shipped it (its own sources, Cargo.lock and
# `notifier` profile; plain `cargo build`, as that revision's build.rs did) into
# target/baseline/REV/bootstrap, for `cargo run --example notifier_bench -- --baseline PATH`,
# which measures it and this build side by side in one run. Takes a full notifier build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rev="${1:-main}"
out="target/baseline/$rev"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
git archive "$rev" | tar -x -C "$src"
# The old build.rs would build the notifier a second time for the outer crate: build only it.
CARGO_TARGET_DIR="$PWD/target/baseline/target" \
  cargo build --locked --manifest-path "$src/Cargo.toml" --profile notifier \
  -p elb-watch-notifier --bin bootstrap
mkdir -p "$out"
cp target/baseline/target/notifier/bootstrap "$out/bootstrap"
echo "$out/bootstrap"
