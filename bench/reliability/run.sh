#!/usr/bin/env bash
# Measures the figures of docs/reliability.md: runs the fault tests (real silo processes on a throwaway PostgreSQL)
# and prints the machine, the date and each test's "figure:" lines.
# Usage: bench/reliability/run.sh [stored MiB for the two-of-five kill, default 256]
# Needs what the tests need (PostgreSQL server binaries; see .ci/run). Takes several minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export XMBL_RELIABILITY_STORED_MB="${1:-256}"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
dotnet build "$root/tests/Xmbl.Cluster.IntegrationTests/Xmbl.Cluster.IntegrationTests.csproj" -c Release -v quiet -nologo >/dev/null
filter="FullyQualifiedName~ClusterSiloTests.KilledSilo|FullyQualifiedName~SiloCrashTests|FullyQualifiedName~StorageSiloFailureTests|FullyQualifiedName~DatabaseRestartTests|FullyQualifiedName~GatewayKilledAndRestarted|FullyQualifiedName~GracefulLeaveTests|FullyQualifiedName~NatRelayTests"
dotnet test "$root/tests/Xmbl.Cluster.IntegrationTests/Xmbl.Cluster.IntegrationTests.csproj" -c Release --no-build \
    --filter "$filter" --logger "console;verbosity=detailed" 2>&1 | tee /tmp/xmbl-reliability.log | grep -E "figure:|^\s+(Passed|Failed) " || true
grep -q "Failed " /tmp/xmbl-reliability.log && { echo "some tests failed; see /tmp/xmbl-reliability.log" >&2; exit 1; }
exit 0
