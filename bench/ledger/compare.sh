#!/usr/bin/env bash
# Ledger transfers per second on PostgreSQL: this tree's build against another tree's (e.g. the commit before a
# change, unpacked with `git archive <commit> | tar -x -C DIR` and bench/Xmbl.Cluster.Benchmarks/Ledger copied in),
# alternating, so both see the same machine load.
# Usage: bench/ledger/compare.sh BEFORE_DIR [ROUNDS_PER_RUN] [RUNS] [more bench options, e.g. --per-account 40]
set -euo pipefail
before=${1:?usage: compare.sh BEFORE_DIR [ROUNDS_PER_RUN] [RUNS]}
rounds=${2:-3}
runs=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
after=$(cd "$(dirname "$0")/../.." && pwd)
project=bench/Xmbl.Cluster.Benchmarks/Xmbl.Cluster.Benchmarks.csproj
for tree in "$before" "$after"; do
  (cd "$tree" && dotnet build "$project" -c Release -v q -nologo >/dev/null)
done
for run in $(seq 1 "$runs"); do
  for tree in "$before" "$after"; do
    label=after; [ "$tree" = "$after" ] || label=before
    echo "== run $run, $label ($tree), $(date -u +%H:%M:%S)"
    (cd "$tree" && dotnet run -c Release --no-build --project "$project" -- transfers --rounds "$rounds" "$@")
  done
done
