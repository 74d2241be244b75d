#!/usr/bin/env bash
# Load test of the search API (issue #8): N synthetic documents ingested and indexed,
# `diembao serve` on loopback, wrk with 64 connections for 30 s against /api/search.
# Prints wrk's requests/s and latency percentiles. A measurement, not a pass/fail test.
#
# Usage: tests/tools/load-search.sh [DOCS] [SECONDS]   (needs wrk: apt-get install wrk)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
docs=${1:-100000}
seconds=${2:-30}
bin=${DIEMBAO_BIN:-$root/target/release/diembao}
work=${LOAD_DIR:-$(mktemp -d)}
port=${PORT:-18093}
db="$work/data"
mkdir -p "$db"
if [ ! -s "$work/docs-$docs.jsonl" ]; then
  python3 "$here/gen-docs.py" "$docs" > "$work/docs-$docs.jsonl"
fi
if [ ! -s "$db/diembao.sqlite" ]; then
  echo "ingesting $docs documents…" >&2
  /usr/bin/time -f "ingest+index: %e s, peak RSS %M KB" "$bin" --data-dir "$db" ingest "$work/docs-$docs.jsonl" >/dev/null
  printf 'load-test-password\n' | "$bin" --data-dir "$db" users add load --role viewer --password-stdin
fi
RUST_LOG=warn "$bin" --data-dir "$db" serve --addr "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cookie=$(curl -si -H 'content-type: application/json' \
  -d '{"user":"load","password":"load-test-password"}' "http://127.0.0.1:$port/api/login" \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || { echo "login failed" >&2; exit 1; }
curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$port/api/search?q=chuyen%20doi%20so&limit=1" \
  | python3 -c 'import json,sys; print("warm-up: total", json.load(sys.stdin)["total"])'
DIEMBAO_COOKIE="$cookie" wrk -t2 -c64 -d"${seconds}s" --latency -s "$here/wrk-search.lua" "http://127.0.0.1:$port"
