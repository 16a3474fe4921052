// Runs a wasm32-wasi program under Node's WASI (node:wasi, preview1) and reports timings on stderr.
// Usage: node [--no-concurrent-marking] [--no-liftoff] run-node.mjs PROGRAM.wasm [args...]
// stdout/stderr of the program pass through; the last stderr line is
//   node-stats compile_ms=<compile+instantiate> run_ms=<_start> exit=<code>
// Node 20 was seen to segfault at exit after programs with large memories; --no-concurrent-marking avoids it.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node run-node.mjs PROGRAM.wasm [args...]');
  process.exit(2);
}

const bytes = await readFile(file);
const wasi = new WASI({ version: 'preview1', args: [basename(file), ...args], env: {}, returnOnExit: true });
const t0 = performance.now();
const module = await WebAssembly.compile(bytes);
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const t1 = performance.now();
const code = wasi.start(instance);
const t2 = performance.now();
process.stderr.write(`node-stats compile_ms=${(t1 - t0).toFixed(1)} run_ms=${(t2 - t1).toFixed(1)} exit=${code}\n`);
process.exitCode = code;
