#!/usr/bin/env bash
# Usage: scripts/check-glibc.sh PATH [MAX_VERSION]
#
# Fails (exit 1) if the ELF binary at PATH needs a GLIBC_x.y[.z] symbol version newer than
# MAX_VERSION (default 2.34: the glibc of Lambda's provided.al2023 runtime). Prints the highest
# version it needs. Exit 2 on usage errors or a file that is not a dynamic ELF binary.
set -euo pipefail

max_allowed="${2:-2.34}"
if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PATH [MAX_GLIBC_VERSION (default 2.34)]" >&2
    exit 2
fi
bin="$1"
if [[ ! -f "$bin" ]]; then
    echo "check-glibc: $bin: no such file" >&2
    exit 2
fi
if [[ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" != '177ELF' ]]; then
    echo "check-glibc: $bin is not an ELF file" >&2
    exit 2
fi

# Version references (.gnu.version_r) list every GLIBC_x.y the binary needs, including for
# symbols it only references weakly; objdump -T lists the dynamic symbols. Use both.
if command -v readelf >/dev/null 2>&1; then
    versions="$(readelf --version-info --wide "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' || true)"
else
    versions=""
fi
if command -v objdump >/dev/null 2>&1; then
    versions+=$'\n'"$(objdump -T "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' || true)"
fi
versions="$(printf '%s\n' "$versions" | sed -n 's/^GLIBC_//p' | sort -u -V)"

if [[ -z "$versions" ]]; then
    if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
        echo "check-glibc: $bin: dynamic, but needs no GLIBC symbol versions (not glibc-linked?)"
    else
        echo "check-glibc: $bin: statically linked, no glibc requirement"
    fi
    exit 0
fi

highest="$(printf '%s\n' "$versions" | tail -n 1)"
echo "check-glibc: $bin needs GLIBC_$highest at most (allowed: GLIBC_$max_allowed)"

too_new="$(printf '%s\n' "$versions" | while read -r v; do
    if [[ "$(printf '%s\n%s\n' "$v" "$max_allowed" | sort -V | tail -n 1)" != "$max_allowed" ]]; then
        echo "GLIBC_$v"
    fi
done)"
if [[ -n "$too_new" ]]; then
    echo "check-glibc: FAIL: $bin needs glibc newer than $max_allowed:" >&2
    printf '  %s\n' $too_new >&2
    if command -v objdump >/dev/null 2>&1; then
        echo "  symbols:" >&2
        for v in $too_new; do
            objdump -T "$bin" | grep -F "($v)" | awk '{print "    " $NF " (" v ")"}' v="$v" >&2 || true
        done
    fi
    echo "  Build against an older glibc (e.g. cargo zigbuild --target x86_64-unknown-linux-gnu.2.34)" >&2
    exit 1
fi
echo "check-glibc: OK"
