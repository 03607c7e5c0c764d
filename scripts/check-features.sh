#!/usr/bin/env bash
# Cargo resolves dependency features per selection of packages. If `cargo build -p elb-watch`
# (scripts/demo.sh, the benchmarks) and `cargo build --workspace` (scripts/test.sh) ask a shared
# dependency for different features, each build compiles it — and everything above it — over the
# other's files: a newcomer's test run after the demo recompiled 106 units. This fails when the
# two selections resolve any of elb-watch's dependencies differently (fix: ask for the union in
# the root Cargo.toml, as for serde's `rc` and syn's `visit-mut`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The one exception is elb-watch-notifier itself: the CLI asks for none of its features (an empty
# library, for its build script's metadata), the workspace builds the function (`runtime`). The
# test build compiles the notifier anyway; only elb-watch's own crate follows it.
tree() {
  cargo tree --locked "$@" -e normal,build,dev -f '{p} [{f}]' --prefix none | grep -v ' (\*)$' \
    | grep -v '^elb-watch-notifier v' | sort -u
}
package=$(tree -p elb-watch)
workspace=$(tree --workspace)
# Packages of the elb-watch selection whose features differ in the workspace's.
differ=$(comm -23 <(echo "$package") <(echo "$workspace"))
if [[ -n "$differ" ]]; then
  echo "check-features: these resolve differently with -p elb-watch than with --workspace:" >&2
  echo "$differ" >&2
  exit 1
fi
