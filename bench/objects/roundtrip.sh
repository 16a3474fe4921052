#!/usr/bin/env bash
# Put and get one large object through a real embedded silo over loopback, and report throughput and the
# silo's peak memory (VmHWM) next to the object size.
# Usage: bench/objects/roundtrip.sh [SIZE_MIB=1024]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
port=${PORT:-5093}
work=$(mktemp -d)
trap 'kill "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build src/Silo -c Release -v q -nologo >/dev/null
dotnet src/Silo/bin/Release/net10.0/Xmbl.Cluster.Silo.dll --urls "http://127.0.0.1:$port" --data "$work/data" \
  --Logging:LogLevel:Default Warning >"$work/silo.log" 2>&1 &
silo=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/object.bin"
expected=$(sha256sum "$work/object.bin" | cut -d' ' -f1)
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$silo/status)

# -T streams the file (PUT); --data-binary @file reads it all into curl's memory first and fails at 1 GiB.
put_s=$( { /usr/bin/time -f %e curl -sf -H 'Content-Type: application/octet-stream' \
  -T "$work/object.bin" "http://127.0.0.1:$port/api/objects/bench/object.bin" -o /dev/null; } 2>&1 )
get_s=$( { /usr/bin/time -f %e curl -sf "http://127.0.0.1:$port/api/objects/bench/object.bin" -o "$work/back.bin"; } 2>&1 )
actual=$(sha256sum "$work/back.bin" | cut -d' ' -f1)
peak_kib=$(awk '/VmHWM/ {print $2}' /proc/$silo/status)

[ "$expected" = "$actual" ] || { echo "round trip changed the bytes" >&2; exit 1; }
awk -v mib="$size_mib" -v put="$put_s" -v get="$get_s" -v before="$rss_before" -v peak="$peak_kib" 'BEGIN {
  printf "object           %d MiB (sha256 verified)\n", mib
  printf "put              %.2f s  %.0f MB/s\n", put, mib * 1.048576 / put
  printf "get              %.2f s  %.0f MB/s\n", get, mib * 1.048576 / get
  printf "silo RSS before  %.0f MiB\n", before / 1024
  printf "silo peak RSS    %.0f MiB (%.1f%% of the object)\n", peak / 1024, 100 * peak / 1024 / mib
}'
