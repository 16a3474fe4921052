#!/usr/bin/env bash
# Builds the benchmark programs in src/ to WebAssembly (wasm32-wasi, committed under wasm/) and natively
# (native/, not committed). Needs Debian packages clang-14, lld-14 and wasi-libc.
# Usage: bench/programs/build.sh [--wasm-only|--native-only]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CC="${CC:-clang-14}"
mode="${1:-all}"
mkdir -p "$here/wasm" "$here/native"
for src in "$here"/src/*.c; do
    name="$(basename "$src" .c)"
    if [[ "$mode" != "--native-only" ]]; then
        # -Wl,--strip-all keeps the committed binaries small; the name section is not needed to run them.
        "$CC" --target=wasm32-wasi -O2 -Wall -Werror -Wl,--strip-all -o "$here/wasm/$name.wasm" "$src" -lm
    fi
    if [[ "$mode" != "--wasm-only" ]]; then
        "$CC" -O2 -Wall -Werror -o "$here/native/$name" "$src" -lm
    fi
    echo "built $name"
done
