#!/usr/bin/env bash
# A newcomer's first run, measured: a fresh clone of this repository at REV (default HEAD), with
# an empty cargo home (every crate downloaded) and an empty target directory, runs
# `bash scripts/demo.sh` as the README says; each line of its output is stamped with the seconds
# since the start. Then the tests' build (`cargo nextest run --workspace --all-targets --no-run`)
# is timed and the units it compiles listed. Takes about as long as a newcomer waits (minutes);
# the machine should be otherwise idle.
#
#   scripts/measure-newcomer.sh [REV] [WORKDIR]    figures in WORKDIR/report.txt
#                                                  (default WORKDIR: a new directory under /tmp)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev="${1:-HEAD}"
work="${2:-$(mktemp -d /tmp/elb-watch-newcomer.XXXXXX)}"
rev="$(git -C "$root" rev-parse "$rev")"
rm -rf "$work/clone" "$work/cargo-home"
mkdir -p "$work/cargo-home"
git clone -q "$root" "$work/clone"
git -C "$work/clone" checkout -q "$rev"
cd "$work/clone"
export CARGO_HOME="$work/cargo-home"
export PATH="$HOME/.cargo/bin:$PATH"  # rustup's cargo and rustc, whatever CARGO_HOME says
report="$work/report.txt"
echo "fresh clone of $rev, empty CARGO_HOME, $(nproc) cores" > "$report"
since() { echo "$(date +%s.%N) - $1" | bc; }
start=$(date +%s.%N)
bash scripts/demo.sh 2>"$work/demo.err" | while IFS= read -r line; do
  printf '%7.1f s| %s\n' "$(since "$start")" "$line"
done > "$work/demo.out"
printf 'first line of the demo: %s\n' "$(head -1 "$work/demo.out")" >> "$report"
printf 'demo done: %.1f s\n' "$(since "$start")" >> "$report"
t0=$(date +%s.%N)
cargo nextest run --workspace --all-targets --no-run 2>&1 | grep -E '^\s+Compiling' > "$work/test-build.txt" || true
printf "tests' build after the demo: %.1f s, %d units compiled (%s)\n" "$(since "$t0")" \
  "$(wc -l < "$work/test-build.txt")" "$work/test-build.txt" >> "$report"
cat "$report"
