#!/usr/bin/env bash
# Can elb-watch be published, and would `cargo install elb-watch` from the registry build it?
# `cargo publish --dry-run` packages elb-watch-notifier and elb-watch as crates.io would receive
# them, then builds each from its package alone: elb-watch's build script builds the notifier
# from the notifier's package (not from lambda/) and embeds it, as it would under
# `cargo install elb-watch`. Nothing is uploaded.
#
# A second full build in its own target directory (target/release-check), so CI leaves it out;
# run it before a release. Extra args go to cargo publish (e.g. --allow-dirty for a tree with
# uncommitted changes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/toolchain.sh
# The packaged crate has no .tools/: build.rs finds cargo-zigbuild on PATH, as a user's would.
export PATH="$PWD/.tools/bin:$PATH"
export CARGO_TARGET_DIR="$PWD/target/release-check"
# The dry run unpacks the packages it verifies into cargo's registry cache, and a later dry run of
# the same version reuses what it finds there: remove ours, so each check builds what it packaged.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/*/elb-watch-notifier-[0-9]* "$cargo_home"/registry/src/*/elb-watch-[0-9]* \
  "$cargo_home"/registry/cache/*/elb-watch-notifier-[0-9]*.crate "$cargo_home"/registry/cache/*/elb-watch-[0-9]*.crate

echo "== the packages' files"
for package in elb-watch-notifier elb-watch; do
  files=$(cargo package --list --locked -p "$package" "$@" 2>/dev/null)
  echo "$package: $(wc -l <<<"$files") files"
  grep -qx 'build.rs' <<<"$files" || { echo "release-check: $package has no build.rs" >&2; exit 1; }
done

echo "== cargo publish --dry-run (packages, then builds each from its package alone)"
cargo publish --dry-run --locked -p elb-watch-notifier -p elb-watch "$@"

packaged="$CARGO_TARGET_DIR/notifier/x86_64-unknown-linux-gnu/notifier/bootstrap"
scripts/check-glibc.sh "$packaged"
echo "release-check: ok; the notifier built from its package: $(stat -c %s "$packaged") bytes"
