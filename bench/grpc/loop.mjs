// Small-request throughput over gRPC with @grpc/grpc-js: keeps CONCURRENCY unary calls in flight on one HTTP/2
// channel for SECONDS, then prints calls/s and latency percentiles as one JSON line.
// Usage: node loop.mjs <address> <GetJob|SubmitJob> <seconds> <concurrency> [job id | module hash]
// grpc-js and proto-loader come from the interop tests' install (npm ci in tests/Xmbl.Cluster.Gateway.Interop.Tests/js).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'tests/Xmbl.Cluster.Gateway.Interop.Tests/js/package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const definition = protoLoader.loadSync('xmbl/v1/xmbl.proto', { includeDirs: [path.join(root, 'src/Gateway/Protos')], longs: String, enums: String, defaults: true, oneofs: true });
const v1 = grpc.loadPackageDefinition(definition).xmbl.v1;

const [address, method, seconds, concurrency, arg] = process.argv.slice(2);
const jobs = new v1.Jobs(address, grpc.credentials.createInsecure());
// A 1 KiB job: the module hash and 1 KiB of stdin (the REST bench's body is the same job as JSON).
const stdin = Buffer.alloc(1024 - 80, 'x');
const request = method === 'GetJob' ? { id: arg } : { module: arg, validators: 0, stdin };
const latencies = [];
let errors = 0;
let stop = false;
const until = Date.now() + Number(seconds) * 1000;

function one() {
  if (stop) return Promise.resolve();
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    jobs[method](request, (err) => {
      if (err) errors++;
      else latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (Date.now() >= until) stop = true;
      resolve();
    });
  }).then(one);
}

// Warm-up: one second, not counted.
const warm = Date.now() + 1000;
while (Date.now() < warm) await new Promise((r) => jobs[method](request, () => r()));
const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, one));
const elapsed = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
console.log(JSON.stringify({ method, calls: latencies.length, errors, perSecond: Math.round(latencies.length / elapsed), p50ms: at(0.5), p99ms: at(0.99) }));
jobs.close();
