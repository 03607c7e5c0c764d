#!/usr/bin/env bash
# Regenerates the tiny binaries the bundle check is tested on (src/bundle/check.rs tests,
# tests/bundle.rs), from hello.c, with the zig that scripts/toolchain.sh installs:
#   x86_64-glibc2.34   what Lambda x86_64 runs (the control)
#   x86_64-glibc2.38   needs strlcpy@GLIBC_2.38: refused (provided.al2023 has glibc 2.34)
#   aarch64-glibc2.34  an arm64 binary: refused for an x86_64 function, accepted for arm64
#   x86_64-macos       a Mach-O, what `cargo install` on a Mac used to embed: refused
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
zig=("../../.tools/bin/python" -m ziglang)
"${zig[@]}" cc -Os -s -target x86_64-linux-gnu.2.34 hello.c -o x86_64-glibc2.34
"${zig[@]}" cc -Os -s -target x86_64-linux-gnu.2.38 -DUSE_STRLCPY hello.c -o x86_64-glibc2.38
"${zig[@]}" cc -Os -s -target aarch64-linux-gnu.2.34 hello.c -o aarch64-glibc2.34
"${zig[@]}" cc -Os -target x86_64-macos hello.c -o x86_64-macos
