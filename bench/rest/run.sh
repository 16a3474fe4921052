#!/usr/bin/env bash
# REST small-request throughput on loopback with wrk (docs/benchmarks.md, "REST"): GET /api/jobs/{id}, a 1 KiB job
# submission, and a bare Kestrel endpoint, in one run. Usage: bash bench/rest/run.sh [seconds] [connections]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-32}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v curl >/dev/null || apt-get install -y curl >/dev/null

dotnet build "$ROOT/src/Silo/Silo.csproj" -c Release -v q -nologo >/dev/null
DATA=$(mktemp -d)
SILO_PORT=5480
BARE_PORT=5481
cleanup() {
  [[ -n "${SILO_PID:-}" ]] && kill "$SILO_PID" 2>/dev/null && wait "$SILO_PID" 2>/dev/null || true
  [[ -n "${BARE_PID:-}" ]] && kill "$BARE_PID" 2>/dev/null && wait "$BARE_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

# The rate limiter is off: one wrk client makes tens of thousands of requests a second, far past the per-client default.
dotnet "$ROOT/src/Silo/bin/Release/net10.0/Xmbl.Cluster.Silo.dll" --data "$DATA" --urls "http://127.0.0.1:$SILO_PORT" \
  --silo-port 11480 --gateway-port 30480 --trust-loopback true \
  --Xmbl:Gateway:RateLimit:Enabled false --Logging:LogLevel:Default Warning >"$DATA/silo.log" 2>&1 &
SILO_PID=$!
(cd "$ROOT/bench/rest" && dotnet run kestrel.cs -c Release -- --urls "http://127.0.0.1:$BARE_PORT" >/dev/null 2>&1) &
BARE_PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$SILO_PORT/healthz" >/dev/null && curl -sf "http://127.0.0.1:$BARE_PORT/bare" >/dev/null && break
  sleep 1
done

API="http://127.0.0.1:$SILO_PORT"
HASH=$(curl -sf -X POST --data-binary @"$ROOT/tests/fixtures/wasm/hello.wasm" -H 'Content-Type: application/wasm' "$API/api/modules" | sed -E 's/.*"hash":"([0-9a-f]+)".*/\1/')
JOB=$(curl -sf -X POST -H 'Content-Type: application/json' -d "{\"module\":\"$HASH\"}" "$API/api/jobs" | sed -E 's/^\{"id":"([^"]+)".*/\1/')
sleep 2

# A 1 KiB body: the module's hash, one validator and stdin padding it to 1024 bytes.
PAD=$(head -c 2000 /dev/zero | tr '\0' 'x')
PREFIX="{\"module\":\"$HASH\",\"validators\":1,\"stdin\":\""
BODY="$PREFIX${PAD:0:$((1024 - ${#PREFIX} - 2))}\"}"
LUA="$DATA/submit.lua"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$BODY" >"$LUA"

run() { # name url [lua]
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency ${3:+-s "$3"} "$2")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" "$(awk '/Non-2xx/ {n=$5} END {print n+0}' <<<"$out")"
}
echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs); $(date -u +%F)"
echo "wrk -t2 -c$CONNECTIONS -d${SECONDS_EACH}s (the server and wrk share the machine)"
run "bare Kestrel GET /bare" "http://127.0.0.1:$BARE_PORT/bare"
run "GET /api/jobs/{id}" "$API/api/jobs/$JOB"
run "POST /api/jobs (1 KiB)" "$API/api/jobs" "$LUA"
