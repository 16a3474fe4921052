#!/usr/bin/env bash
# Runs every benchmark program natively, under Node (default tiers and --no-liftoff) and under both of our engines
# (`xmbl run --engine wasmtime|managed --stats`, fuel metering on), checks that all outputs match the native output,
# and prints a Markdown table with each engine's fuel count.
#
# Usage: bench/programs/compare.sh [program...]        (default: every program in src/)
# Environment:
#   REPS=N        runs per configuration, the best (lowest) time is kept (default 1)
#   XMBL_DLL=path the CLI to use (default: builds src/Cli in Release and uses its xmbl.dll)
#   NODE=path     node binary (default: node)
# Times: native = wall time of the process; node / xmbl = compile + instantiate + run as reported by the
# harness itself (process start-up of node/.NET excluded). Ratios: node/native, then each engine against
# node --no-liftoff (lower is better). Wasmtime's compile time includes Cranelift (no disk cache in xmbl run).
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
run_xmbl() {  # prog engine -> ms
    local prog="$1" engine="$2"
    dotnet "$XMBL_DLL" run --engine "$engine" --stats "$here/wasm/$prog.wasm" >"$out/$prog.$engine.out" 2>"$out/$prog.$engine.err"
    awk -v c="$(stat "$out/$prog.$engine.err" compile_ms)" -v i="$(stat "$out/$prog.$engine.err" instantiate_ms)" \
        -v r="$(stat "$out/$prog.$engine.err" run_ms)" 'BEGIN { printf "%.1f", c + i + r }'
}

echo "| program | native ms | node ms | node --no-liftoff ms | wasmtime ms | managed ms | node-nl/native | wasmtime/node-nl | managed/node-nl | wasmtime/managed | fuel wasmtime | fuel managed | output |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
lognl=0; logw=0; logm=0; logwm=0; n=0
for prog in "${programs[@]}"; do
    tn=""; td=""; tl=""; tw=""; tm=""
    for ((i = 0; i < REPS; i++)); do
        tn=$(min "$tn" "$(run_native "$prog")")
        td=$(min "$td" "$(run_node "$prog" node)")
        tl=$(min "$tl" "$(run_node "$prog" nodenl --no-liftoff)")
        tw=$(min "$tw" "$(run_xmbl "$prog" wasmtime || echo "")")
        tm=$(min "$tm" "$(run_xmbl "$prog" managed || echo "")")
    done
    status=ok
    for tag in node nodenl wasmtime managed; do
        cmp -s "$out/$prog.native.out" "$out/$prog.$tag.out" || status="MISMATCH($tag)"
    done
    if [[ -z "$tn" || -z "$td" || -z "$tl" || -z "$tw" || -z "$tm" || "$tw" == "0.0" || "$tm" == "0.0" ]]; then
        echo "| $prog | ${tn:-?} | ${td:-?} | ${tl:-?} | ${tw:-?} | ${tm:-?} | | | | | | | FAILED: see stderr |"
        cat "$out/$prog.wasmtime.err" "$out/$prog.managed.err" >&2
        continue
    fi
    fw=$(stat "$out/$prog.wasmtime.err" fuel_consumed); fm=$(stat "$out/$prog.managed.err" fuel_consumed)
    read -r rl rw rm rwm < <(awk -v n="$tn" -v l="$tl" -v w="$tw" -v m="$tm" \
        'BEGIN { printf "%.2f %.2f %.2f %.2f\n", l / n, w / l, m / l, w / m }')
    echo "| $prog | $tn | $td | $tl | $tw | $tm | $rl | $rw | $rm | $rwm | $fw | $fm | $status |"
    read -r lognl logw logm logwm < <(awk -v a="$lognl" -v b="$logw" -v c="$logm" -v e="$logwm" \
        -v l="$rl" -v w="$rw" -v m="$rm" -v wm="$rwm" \
        'BEGIN { printf "%f %f %f %f\n", a + log(l), b + log(w), c + log(m), e + log(wm) }')
    n=$((n + 1))
done
[[ $n -gt 0 ]] && awk -v a="$lognl" -v b="$logw" -v c="$logm" -v e="$logwm" -v n="$n" \
    'BEGIN { printf "| **geometric mean** | | | | | | %.2f | %.2f | %.2f | %.2f | | | |\n", exp(a / n), exp(b / n), exp(c / n), exp(e / n) }'
