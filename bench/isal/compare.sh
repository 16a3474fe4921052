#!/usr/bin/env bash
# Side-by-side erasure-coding throughput: our codec (bench/Xmbl.Cluster.Benchmarks --codec-compare) against ISA-L
# (isal_bench.c), interleaved per configuration, printed as a Markdown table with the ratio ours/ISA-L.
#
# Needs: gcc and Debian libisal-dev (apt-get install -y gcc libisal-dev), the .NET SDK.
# Usage: bench/isal/compare.sh [extra --codec-compare options, e.g. --kernels all --rounds 3 --round-ms 200]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${TMPDIR:-/tmp}/xmbl-isal-bench"
mkdir -p "$out"

if [ ! -f /usr/include/isa-l/erasure_code.h ]; then
  echo "ISA-L headers not found: apt-get install -y libisal-dev" >&2
  exit 1
fi

cc -O2 -Wall -Wextra -o "$out/isal_bench" "$here/isal_bench.c" -lisal

dotnet build -c Release "$repo/bench/Xmbl.Cluster.Benchmarks" -v quiet -nologo >&2
exec dotnet "$repo/bench/Xmbl.Cluster.Benchmarks/bin/Release/net10.0/Xmbl.Cluster.Benchmarks.dll" \
  --codec-compare --isal-bench "$out/isal_bench" "$@"
