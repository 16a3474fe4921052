#!/usr/bin/env bash
# Builds the job test fixtures written in WebAssembly text. Needs wat2wasm (Debian package wabt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for src in "$here"/*.wat; do
    wat2wasm "$src" -o "${src%.wat}.wasm"
    echo "built $(basename "${src%.wat}.wasm")"
done
