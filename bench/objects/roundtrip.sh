#!/usr/bin/env bash
# Put and get one large object through a real embedded silo over loopback; report throughput, the silo's CPU time per
# phase and its peak memory (VmHWM) next to the object size.
# Usage: bench/objects/roundtrip.sh [SIZE_MIB=1024]
# Environment: WARM_MIB (default 256) is put and got twice first, so tiered JIT compilation has settled and the
# figures are the steady state of a running silo (0 measures a cold silo); SILO_DLL runs another build (side-by-side
# comparisons); extra silo arguments go in SILO_ARGS (e.g. "--Xmbl:Storage:StripesInFlight 3").
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
warm_mib=${WARM_MIB:-256}
port=${PORT:-5093}
work=$(mktemp -d)
trap 'kill "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -z "${SILO_DLL:-}" ]; then
  dotnet build src/Silo -c Release -v q -nologo >/dev/null
  SILO_DLL=src/Silo/bin/Release/net10.0/Xmbl.Cluster.Silo.dll
fi
# shellcheck disable=SC2086
# --trust-loopback: curl sends unsigned requests, and the figures are the storage path's, not signing's.
dotnet "$SILO_DLL" --urls "http://127.0.0.1:$port" --data "$work/data" --trust-loopback --Logging:LogLevel:Default Warning ${SILO_ARGS:-} \
  >"$work/silo.log" 2>&1 &
silo=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
url="http://127.0.0.1:$port/api/objects/bench"
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$silo/stat"; }

if [ "$warm_mib" -gt 0 ]; then
  head -c $((warm_mib * 1024 * 1024)) /dev/urandom >"$work/warm.bin"
  for i in 1 2; do
    curl -sf -T "$work/warm.bin" "$url/warm-$i.bin" -o /dev/null
    curl -sf "$url/warm-$i.bin" -o /dev/null
  done
  rm "$work/warm.bin"
fi

head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/object.bin"
expected=$(sha256sum "$work/object.bin" | cut -d' ' -f1)
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$silo/status")
sync

# -T streams the file (PUT); --data-binary @file reads it all into curl's memory first and fails at 1 GiB.
cpu0=$(cpu)
put_s=$( { /usr/bin/time -f %e curl -sf -H 'Content-Type: application/octet-stream' \
  -T "$work/object.bin" "$url/object.bin" -o /dev/null; } 2>&1 )
cpu1=$(cpu)
# Timed to /dev/null, so the figure is the silo's and not the client's disk; then fetched again into a file to check
# the bytes, untimed.
get_s=$( { /usr/bin/time -f %e curl -sf "$url/object.bin" -o /dev/null; } 2>&1 )
cpu2=$(cpu)
curl -sf "$url/object.bin" -o "$work/back.bin"
actual=$(sha256sum "$work/back.bin" | cut -d' ' -f1)
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$silo/status")

[ "$expected" = "$actual" ] || { echo "round trip changed the bytes" >&2; exit 1; }
awk -v mib="$size_mib" -v put="$put_s" -v get="$get_s" -v before="$rss_before" -v peak="$peak_kib" \
    -v c0="$cpu0" -v c1="$cpu1" -v c2="$cpu2" -v warm="$warm_mib" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "object           %d MiB (sha256 verified), warm-up %d MiB x 2, load average %s\n", mib, warm, load
  printf "put              %.2f s  %.0f MB/s  silo CPU %.2f s\n", put, mib * 1.048576 / put, c1 - c0
  printf "get              %.2f s  %.0f MB/s  silo CPU %.2f s\n", get, mib * 1.048576 / get, c2 - c1
  printf "silo RSS before  %.0f MiB\n", before / 1024
  printf "silo peak RSS    %.0f MiB (%.1f%% of the object)\n", peak / 1024, 100 * peak / 1024 / mib
}'
