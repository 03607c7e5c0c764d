#!/usr/bin/env bash
# The toolchain build.rs needs to build the notifier Lambda for Lambda's Linux x86-64 with no
# glibc symbol newer than 2.34, on any host: zig and cargo-zigbuild, both from PyPI, installed
# into .tools/ (idempotent; build.rs looks there first). ELB_WATCH_PYTHON picks the interpreter.
#
#   scripts/toolchain.sh          install if needed; prints nothing when already installed
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
requirements="$root/scripts/requirements-toolchain.txt"

if [[ -x "$tools/bin/cargo-zigbuild" ]] && cmp -s "$requirements" "$tools/.requirements" 2>/dev/null; then
  exit 0
fi
"${ELB_WATCH_PYTHON:-python3}" -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
cp "$requirements" "$tools/.requirements"
echo "toolchain: zig $("$tools/bin/python" -m ziglang version) and $("$tools/bin/cargo-zigbuild" --version) installed in $tools" >&2
