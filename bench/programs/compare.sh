#!/usr/bin/env bash
# Runs every benchmark program natively, under Node (default tiers and --no-liftoff) and under our engine
# (`xmbl run --stats`), checks that all outputs match the native output, and prints a Markdown table.
#
# Usage: bench/programs/compare.sh [program...]        (default: every program in src/)
# Environment:
#   REPS=N        runs per configuration, the best (lowest) time is kept (default 1)
#   XMBL_DLL=path the CLI to use (default: builds src/Cli in Release and uses its xmbl.dll)
#   NODE=path     node binary (default: node)
# Times: native = wall time of the process; node / xmbl = compile + instantiate + run as reported by the
# harness itself (process start-up of node/.NET excluded). Ratios are relative to native (lower is better).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
REPS="${REPS:-1}"
NODE="${NODE:-node}"

[[ -x "$here/native/fib" ]] || "$here/build.sh" --native-only >/dev/null
if [[ -z "${XMBL_DLL:-}" ]]; then
    dotnet build "$root/src/Cli" -c Release -nologo -v q >/dev/null
    XMBL_DLL="$root/src/Cli/bin/Release/net10.0/xmbl.dll"
fi

if [[ $# -gt 0 ]]; then programs=("$@"); else
    programs=(); for f in "$here"/src/*.c; do programs+=("$(basename "$f" .c)"); done
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

now_ns() { date +%s%N; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
# Extracts key=value from the stats line a harness wrote to stderr.
stat() { grep -o "$2=[0-9.]*" "$1" | tail -1 | cut -d= -f2; }

run_native() {  # prog -> ms
    local t0 t1
    t0=$(now_ns); "$here/native/$1" >"$out/$1.native.out"; t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}
run_node() {  # prog tag flags... -> ms
    local prog="$1" tag="$2"; shift 2
    "$NODE" --no-warnings --no-concurrent-marking "$@" "$here/run-node.mjs" "$here/wasm/$prog.wasm" \
        >"$out/$prog.$tag.out" 2>"$out/$prog.$tag.err"
    awk -v c="$(stat "$out/$prog.$tag.err" compile_ms)" -v r="$(stat "$out/$prog.$tag.err" run_ms)" \
        'BEGIN { printf "%.1f", c + r }'
}
run_xmbl() {  # prog -> ms
    local prog="$1"
    dotnet "$XMBL_DLL" run --stats "$here/wasm/$prog.wasm" >"$out/$prog.xmbl.out" 2>"$out/$prog.xmbl.err"
    awk -v c="$(stat "$out/$prog.xmbl.err" compile_ms)" -v i="$(stat "$out/$prog.xmbl.err" instantiate_ms)" \
        -v r="$(stat "$out/$prog.xmbl.err" run_ms)" 'BEGIN { printf "%.1f", c + i + r }'
}

echo "| program | native ms | node ms | node --no-liftoff ms | xmbl ms | node/native | node-nl/native | xmbl/native | xmbl/node-nl | output |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
lognode=0; lognl=0; logx=0; logxnl=0; n=0
for prog in "${programs[@]}"; do
    tn=""; td=""; tl=""; tx=""
    for ((i = 0; i < REPS; i++)); do
        tn=$(min "$tn" "$(run_native "$prog")")
        td=$(min "$td" "$(run_node "$prog" node)")
        tl=$(min "$tl" "$(run_node "$prog" nodenl --no-liftoff)")
        tx=$(min "$tx" "$(run_xmbl "$prog" || echo "")")
    done
    status=ok
    for tag in node nodenl xmbl; do
        cmp -s "$out/$prog.native.out" "$out/$prog.$tag.out" || status="MISMATCH($tag)"
    done
    if [[ -z "$tn" || -z "$td" || -z "$tl" || -z "$tx" || "$tx" == "0.0" ]]; then
        echo "| $prog | ${tn:-?} | ${td:-?} | ${tl:-?} | ${tx:-?} | | | | | FAILED: see stderr |"
        cat "$out/$prog.xmbl.err" >&2
        continue
    fi
    read -r rd rl rx rxl < <(awk -v n="$tn" -v d="$td" -v l="$tl" -v x="$tx" \
        'BEGIN { printf "%.2f %.2f %.2f %.2f\n", d / n, l / n, x / n, x / l }')
    echo "| $prog | $tn | $td | $tl | $tx | $rd | $rl | $rx | $rxl | $status |"
    read -r lognode lognl logx logxnl < <(awk -v a="$lognode" -v b="$lognl" -v c="$logx" -v e="$logxnl" \
        -v d="$rd" -v l="$rl" -v x="$rx" -v xl="$rxl" \
        'BEGIN { printf "%f %f %f %f\n", a + log(d), b + log(l), c + log(x), e + log(xl) }')
    n=$((n + 1))
done
[[ $n -gt 0 ]] && awk -v a="$lognode" -v b="$lognl" -v c="$logx" -v e="$logxnl" -v n="$n" \
    'BEGIN { printf "| **geometric mean** | | | | | %.2f | %.2f | %.2f | %.2f | |\n", exp(a / n), exp(b / n), exp(c / n), exp(e / n) }'
