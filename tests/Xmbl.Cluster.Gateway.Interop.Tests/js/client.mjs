// A gRPC client that is not ours: @grpc/grpc-js with the .proto loaded at run time by @grpc/proto-loader. It signs
// calls itself (node:crypto Ed25519, docs/api.md "Signed gRPC calls"), so the test proves the scheme from the outside.
// Usage: node client.mjs <command> '<json arguments>'; prints one JSON line (the result, or {"error": {...}}).
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.resolve(here, '../../../src/Gateway/Protos');
const definition = protoLoader.loadSync('xmbl/v1/xmbl.proto', { includeDirs: [protoRoot], longs: String, enums: String, defaults: true, oneofs: true });
const v1 = grpc.loadPackageDefinition(definition).xmbl.v1;

const [command, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}');
// grpc-js receives with HTTP/2's 64 KiB window unless told otherwise: a download then waits a round trip every 64 KiB.
const options = {
  'grpc.max_receive_message_length': 8 << 20,
  'grpc.max_send_message_length': 8 << 20,
  'grpc-node.flow_control_window': args.flowWindow ?? 8 << 20,
};
const client = (service) => new v1[service](args.address, grpc.credentials.createInsecure(), options);

// --- signing: the REST scheme (xmbl-request-v1) with method POST and the call's path ---
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out; }
  return out;
}
function keyOf(seedHex) {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = Buffer.from(key.export({ format: 'jwk' }).x, 'base64url');
  return { key, did: 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), publicKey])) };
}
function signed(seedHex, target, contentSha256) {
  const { key, did } = keyOf(seedHex);
  const timestamp = String(Date.now());
  const nonce = randomBytes(16).toString('base64url');
  const canonical = ['xmbl-request-v1', 'POST', target, contentSha256, did, timestamp, nonce].join('\n');
  const metadata = new grpc.Metadata();
  metadata.set('x-xmbl-identity', did);
  metadata.set('x-xmbl-timestamp', timestamp);
  metadata.set('x-xmbl-nonce', nonce);
  metadata.set('x-xmbl-content-sha256', contentSha256);
  metadata.set('x-xmbl-signature', sign(null, Buffer.from(canonical, 'ascii'), key).toString('hex'));
  return metadata;
}
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
// A call with one request message signs that message's bytes: serialized here exactly as grpc-js sends them.
function signedUnary(service, method, message) {
  const serialize = definition[`xmbl.v1.${service}`][method].requestSerialize;
  return args.seed ? signed(args.seed, `/xmbl.v1.${service}/${method}`, sha256(serialize(message))) : new grpc.Metadata();
}
const unary = (service, method, message, metadata = new grpc.Metadata(), callOptions = {}) => new Promise((resolve, reject) => {
  client(service)[method](message, metadata, callOptions, (error, response) => (error ? reject(error) : resolve(response)));
});
const deadline = () => (args.deadlineMs ? { deadline: new Date(Date.now() + args.deadlineMs) } : {});
// RFC 3986 unreserved characters stay, everything else is percent-encoded (encodeURIComponent leaves !'()* alone).
const encodeRfc3986 = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const commands = {
  // Uploads a module, submits a job running it, watches it to the end and reads the output.
  async job() {
    const upload = { content: await readFile(args.module) };
    const module = await unary('Modules', 'UploadModule', upload, signedUnary('Modules', 'UploadModule', upload));
    const submit = { module: module.hash, validators: 1 };
    const job = await unary('Jobs', 'SubmitJob', submit, signedUnary('Jobs', 'SubmitJob', submit));
    const statuses = [];
    await new Promise((resolve, reject) => {
      const call = client('Jobs').WatchJob({ id: job.id });
      call.on('data', (j) => { for (const t of j.transitions) if (!statuses.includes(t.to)) statuses.push(t.to); });
      call.on('error', reject);
      call.on('end', resolve);
    });
    const output = await unary('Jobs', 'GetJobOutput', { id: job.id });
    const final = await unary('Jobs', 'GetJob', { id: job.id });
    return { id: job.id, statuses, final: final.status, executor: final.executor, validators: final.validatorNodes, output: Buffer.from(output.content).toString('utf8') };
  },
  // Client-streams a file as an object in chunks of args.chunk bytes, signed with the file's hash when args.seed is given.
  // With args.stopAfter, stops sending after that many bytes: then cancels (args.cancel) or waits for the deadline.
  async put() {
    const bytes = await readFile(args.file);
    const hash = sha256(bytes);
    const target = `/xmbl.v1.Objects/PutObject/${args.namespace}/${encodeRfc3986(args.name)}`;
    const metadata = args.seed ? signed(args.seed, target, hash) : new grpc.Metadata();
    return new Promise((resolve, reject) => {
      const call = client('Objects').PutObject(metadata, deadline(), (error, info) => (error ? reject(error) : resolve(info)));
      call.write({ header: { namespace: args.namespace, name: args.name, contentType: 'application/octet-stream', size: bytes.length, contentSha256: hash } });
      const chunk = args.chunk ?? 1 << 20;
      let offset = 0;
      const pump = () => {
        while (offset < bytes.length) {
          if (args.stopAfter !== undefined && offset >= args.stopAfter) {
            if (args.cancel) setTimeout(() => call.cancel(), args.cancelAfterMs ?? 500);
            return;
          }
          const end = Math.min(offset + chunk, bytes.length);
          const more = call.write({ chunk: bytes.subarray(offset, end) });
          offset = end;
          if (!more) { call.once('drain', pump); return; }
        }
        call.end();
      };
      pump();
    });
  },
  // Server-streams an object into a file; returns its info, the bytes received and their hash.
  async get() {
    const out = createWriteStream(args.file);
    const hash = createHash('sha256');
    let info = null;
    let received = 0;
    let chunks = 0;
    await new Promise((resolve, reject) => {
      const call = client('Objects').GetObject({ namespace: args.namespace, name: args.name });
      call.on('data', (m) => {
        if (m.info) { info = m.info; return; }
        hash.update(m.chunk); received += m.chunk.length; chunks++;
        if (!out.write(m.chunk)) { call.pause(); out.once('drain', () => call.resume()); }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    await new Promise((resolve) => out.end(resolve));
    return { info, received, chunks, sha256: hash.digest('hex') };
  },
  // One call with args.message, signed when args.seed is given.
  async call() {
    const message = args.message ?? {};
    return unary(args.service, args.method, message, signedUnary(args.service, args.method, message), deadline());
  },
  // As call, but signed over args.signedMessage while args.message is sent (a tampered message).
  async tampered() {
    return unary(args.service, args.method, args.message, signedUnary(args.service, args.method, args.signedMessage));
  },
};

try {
  const result = await commands[command]();
  process.stdout.write(JSON.stringify({ result }) + '\n');
} catch (error) {
  const trailers = error.metadata ? error.metadata.getMap() : {};
  process.stdout.write(JSON.stringify({ error: { code: grpc.status[error.code] ?? String(error.code), details: error.details ?? String(error), trailers } }) + '\n');
}
