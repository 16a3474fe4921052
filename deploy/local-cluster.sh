#!/usr/bin/env bash
# A throwaway cluster on this machine: a PostgreSQL server in a temp directory, 3 silos and a standalone gateway,
# each with its own ports and data directory. Prints the URLs (the gateway's on the line "gateway: http://…"),
# runs until Ctrl+C or SIGTERM, then stops every process and deletes the temp directory (database included).
#
#   deploy/local-cluster.sh [--port-base N] [--configuration Release|Debug] [--no-build]
#
# Ports, from --port-base N (default 5090): gateway HTTP N, silo HTTP N+1..N+3, Orleans silo-to-silo N+11..N+13,
# Orleans client (gateway) ports N+21..N+23, PostgreSQL N+30, gRPC N+40 (gateway) and N+41..N+43 (silos). Needs the .NET 10 SDK, PostgreSQL's server binaries
# (initdb, pg_ctl; apt-get install postgresql) and curl. As root, PostgreSQL runs as the postgres user (runuser).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port_base=5090
configuration=Release
build=1
silos=3

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port-base) port_base="${2:?--port-base needs a port}"; shift 2 ;;
    --configuration|-c) configuration="${2:?--configuration needs Release or Debug}"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "local-cluster: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "$port_base" =~ ^[0-9]+$ ]] || (( port_base < 1024 || port_base > 65535 - 43 )); then
  echo "local-cluster: --port-base must be a number from 1024 to $((65535 - 43)), not '$port_base'" >&2
  exit 2
fi
if [[ "$configuration" != Release && "$configuration" != Debug ]]; then
  echo "local-cluster: --configuration must be Release or Debug, not '$configuration'" >&2
  exit 2
fi

gateway_http=$port_base
pg_port=$((port_base + 30))
silo_http() { echo $((port_base + $1)); }
silo_port() { echo $((port_base + 10 + $1)); }
client_port() { echo $((port_base + 20 + $1)); }
# gRPC (h2c) gets a port of its own; left to its default (the HTTP port plus one) it would take the next silo's.
grpc_port() { echo $((port_base + 40 + $1)); }

# Something already listening on a port would make a process fail later with a less clear message.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$gateway_http" "$pg_port" "$(grpc_port 0)" $(for i in $(seq 1 $silos); do silo_http "$i"; silo_port "$i"; client_port "$i"; grpc_port "$i"; done); do
  if listening "$port"; then
    echo "local-cluster: port $port is in use; choose other ports with --port-base N" >&2
    exit 2
  fi
done

pg_bin=""
if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  pg_bin="$(dirname "$(readlink -f "$(command -v initdb)")")"
else
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1 || true)"
fi
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" || ! -x "$pg_bin/pg_ctl" ]]; then
  echo "local-cluster: PostgreSQL's server binaries (initdb, pg_ctl) are not on PATH nor under /usr/lib/postgresql/*/bin; apt-get install postgresql" >&2
  exit 2
fi
command -v curl >/dev/null || { echo "local-cluster: curl is needed to wait for the processes to become healthy" >&2; exit 2; }

silo_dll="$repo/src/Silo/bin/$configuration/net10.0/Xmbl.Cluster.Silo.dll"
gateway_dll="$repo/src/Gateway.Host/bin/$configuration/net10.0/Xmbl.Cluster.Gateway.Host.dll"
if (( build )); then
  echo "local-cluster: building ($configuration)…"
  dotnet build "$repo/src/Silo/Silo.csproj" -c "$configuration" --nologo -v quiet
  dotnet build "$repo/src/Gateway.Host/Gateway.Host.csproj" -c "$configuration" --nologo -v quiet
fi
for dll in "$silo_dll" "$gateway_dll"; do
  [[ -f "$dll" ]] || { echo "local-cluster: $dll is missing; run without --no-build" >&2; exit 2; }
done

root="$(mktemp -d "${TMPDIR:-/tmp}/xmbl-local-XXXXXXXX")"
pg_data="$root/postgres"
as_postgres=()
if [[ "$(id -u)" == 0 ]]; then
  # initdb and postgres refuse to run as root.
  as_postgres=(runuser -u postgres --)
fi

pids=()
pg_started=0
stopping=0
cleanup() {
  local code=$?
  (( stopping )) && return
  stopping=1
  trap '' INT TERM
  echo "local-cluster: stopping…"
  # The gateway first (it is a client of the silos), then the silos; each stops cleanly on SIGTERM.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if (( pg_started )); then
    "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$root"
  echo "local-cluster: stopped"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$pg_data" "$root/sock"
[[ ${#as_postgres[@]} -eq 0 ]] || chown -R postgres: "$root"
"${as_postgres[@]}" "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$root/initdb.log" 2>&1 \
  || { cat "$root/initdb.log" >&2; exit 3; }
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$root/postgres.log" -w -t 60 \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $root/sock -c max_connections=200" start >/dev/null \
  || { cat "$root/postgres.log" >&2; exit 3; }
pg_started=1
# The server is the cluster's alone, so its default database serves.
export XMBL_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
export XMBL_CLUSTER_SECRET="local-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ASPNETCORE_ENVIRONMENT=Production
echo "postgres: $XMBL_POSTGRES (pid $(head -n 1 "$pg_data/postmaster.pid"))"
echo "data: $root"

wait_healthy() {
  local name=$1 pid=$2 url=$3
  for _ in $(seq 1 1200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "local-cluster: $name exited before it was healthy; its log ($root/$name/log):" >&2
      tail -n 40 "$root/$name/log" >&2
      exit 3
    fi
    curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "local-cluster: $name was not healthy within 120 s; see $root/$name/log" >&2
  exit 3
}

# The silos start together (the first applies the schema, the others wait on its lock), each as one node.
silo_pids=()
for i in $(seq 1 $silos); do
  mkdir -p "$root/silo$i"
  dotnet "$silo_dll" --silo-id "silo$i" --data "$root/silo$i" --urls "http://127.0.0.1:$(silo_http "$i")" \
    --silo-port "$(silo_port "$i")" --gateway-port "$(client_port "$i")" --grpc-urls "http://127.0.0.1:$(grpc_port "$i")" >"$root/silo$i/log" 2>&1 &
  pids+=($!)
  silo_pids+=($!)
done
for i in $(seq 1 $silos); do
  wait_healthy "silo$i" "${silo_pids[$((i - 1))]}" "http://127.0.0.1:$(silo_http "$i")"
  echo "silo$i: http://127.0.0.1:$(silo_http "$i") (pid ${silo_pids[$((i - 1))]}, log $root/silo$i/log, operator key $root/silo$i/operator.key)"
done

mkdir -p "$root/gateway"
dotnet "$gateway_dll" --data "$root/gateway" --urls "http://127.0.0.1:$gateway_http" --grpc-urls "http://127.0.0.1:$(grpc_port 0)" >"$root/gateway/log" 2>&1 &
gateway_pid=$!
pids+=($gateway_pid)
wait_healthy gateway "$gateway_pid" "http://127.0.0.1:$gateway_http"
echo "gateway: http://127.0.0.1:$gateway_http (pid $gateway_pid, log $root/gateway/log, operator key $root/gateway/operator.key)"
echo "local-cluster: running; try: curl http://127.0.0.1:$gateway_http/api/cluster  or  XMBL_GATEWAY=http://127.0.0.1:$gateway_http xmbl job submit tests/fixtures/wasm/hello.wasm --wait"
echo "local-cluster: Ctrl+C stops everything and deletes $root"

# Until a signal, or until a process dies on its own (then everything stops, with its log's tail).
while true; do
  wait -n "${pids[@]}" || true
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "local-cluster: process $pid exited on its own; stopping the cluster" >&2
      exit 1
    fi
  done
done
