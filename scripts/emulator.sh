#!/usr/bin/env bash
# The local AWS emulator (moto in server mode) for elb-watch's tests, demo and benchmarks.
#
#   scripts/emulator.sh setup          create .venv and install moto[server] from PyPI (idempotent)
#   scripts/emulator.sh start [PORT]   set up, start moto on 127.0.0.1 (a free port unless given),
#                                      wait until it answers, print its URL; pid in .venv/moto-PORT.pid
#   scripts/emulator.sh stop PORT      stop the emulator started on PORT
#
# Tests start their own emulators through testkit (one per test, on free ports); they only need
# `setup` to have run. ELB_WATCH_PYTHON picks the interpreter used to create the venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements-emulator.txt"

setup() {
  if [[ -x "$venv/bin/moto_server" ]] && cmp -s "$requirements" "$venv/.requirements" 2>/dev/null; then
    return 0
  fi
  "${ELB_WATCH_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$venv/.requirements"
  echo "emulator: moto installed in $venv" >&2
}

free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  setup
  local port="${1:-$(free_port)}"
  local log="$venv/moto-$port.log"
  # moto with the harness's corrections (scripts/moto_server.py), same arguments as moto_server.
  "$venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  echo $! >"$venv/moto-$port.pid"
  for _ in $(seq 1 100); do
    if "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1)
PY
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "emulator: moto did not answer on port $port within 10 s; see $log" >&2
  stop "$port"
  return 1
}

stop() {
  local pidfile="$venv/moto-$1.pid"
  if [[ -f "$pidfile" ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  setup) setup ;;
  start) start "${2:-}" ;;
  stop) stop "${2:?usage: emulator.sh stop PORT}" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
