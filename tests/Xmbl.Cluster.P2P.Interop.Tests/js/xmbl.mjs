// The /xmbl/… protocols of the gateway's libp2p bridge (docs/p2p.md), as a public peer speaks them: varint-length-
// prefixed protobuf messages (encoded here by hand from src/Gateway.P2P/Protos/xmbl_p2p.proto, so nothing is generated
// from our side) and, for object bodies, varint-length-prefixed raw frames ended by an empty frame.
import { createHash } from 'node:crypto'
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WASI } from 'node:wasi'

// ---- protobuf wire format: varint (0) and length-delimited (2) fields are all these messages use.

function varint (n) {
  let v = BigInt.asUintN(64, BigInt(n))
  const out = []
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) b |= 0x80
    out.push(b)
  } while (v > 0n)
  return Buffer.from(out)
}

// fields: [fieldNumber, value] pairs; numbers/bigints are varints, strings and buffers are length-delimited,
// a nested [[…]] array is an embedded message.
export function encode (fields) {
  const parts = []
  for (const [no, value] of fields) {
    if (value === undefined || value === null) continue
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
      parts.push(varint((no << 3) | 0), varint(typeof value === 'boolean' ? (value ? 1 : 0) : value))
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Array.isArray(value) ? encode(value) : Buffer.from(value)
      parts.push(varint((no << 3) | 2), varint(bytes.length), bytes)
    }
  }
  return Buffer.concat(parts)
}

function readVarint (buf, pos) {
  let v = 0n
  let shift = 0n
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint')
    const b = buf[pos++]
    v |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return [v, pos]
    shift += 7n
  }
}

// Returns field number → array of values (BigInt for varints, Buffer for length-delimited).
export function decode (buf) {
  const out = new Map()
  let pos = 0
  while (pos < buf.length) {
    let key
    ;[key, pos] = readVarint(buf, pos)
    const no = Number(key >> 3n)
    const type = Number(key & 7n)
    let value
    if (type === 0) {
      ;[value, pos] = readVarint(buf, pos)
    } else if (type === 2) {
      let len
      ;[len, pos] = readVarint(buf, pos)
      value = buf.subarray(pos, pos + Number(len))
      pos += Number(len)
    } else {
      throw new Error('unexpected wire type ' + type)
    }
    if (!out.has(no)) out.set(no, [])
    out.get(no).push(value)
  }
  return out
}

const str = (m, no) => (m.get(no)?.[0] ?? Buffer.alloc(0)).toString('utf8')
const num = (m, no) => Number(m.get(no)?.[0] ?? 0n)

// ---- framing on a js-libp2p stream

export class Framed {
  constructor (stream) {
    this.stream = stream
    this.iter = stream[Symbol.asyncIterator]()
    this.buf = Buffer.alloc(0)
    this.done = false
  }

  async fill () {
    const { value, done } = await this.iter.next()
    if (done) { this.done = true; return false }
    this.buf = Buffer.concat([this.buf, Buffer.from(value.subarray ? value.subarray() : value)])
    return true
  }

  // The next length-prefixed payload, or null at a clean end of stream.
  async read () {
    for (;;) {
      try {
        const [len, pos] = readVarint(this.buf, 0)
        if (this.buf.length >= pos + Number(len)) {
          const payload = this.buf.subarray(pos, pos + Number(len))
          this.buf = this.buf.subarray(pos + Number(len))
          return payload
        }
      } catch (e) {
        if (e.message !== 'truncated varint') throw e
      }
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null
        throw new Error('stream ended inside a message')
      }
    }
  }

  async write (payload) {
    if (!this.stream.send(Buffer.concat([varint(payload.length), payload]))) await this.stream.onDrain()
  }
}

// ---- messages

function errorOf (m) {
  return { code: num(m, 1), message: str(m, 2), fields: (m.get(3) ?? []).map((f) => { const d = decode(f); return { field: str(d, 1), message: str(d, 2) } }) }
}

function jobInfo (buf) {
  const m = decode(buf)
  return {
    id: str(m, 1),
    status: str(m, 2),
    submitter: str(m, 3),
    resultHash: str(m, 4),
    outcome: str(m, 5),
    exitCode: num(m, 6),
    fuel: num(m, 7),
    outputLength: num(m, 8),
    failureReason: str(m, 9),
    price: str(m, 10),
    nodeId: str(m, 11),
    events: (m.get(12) ?? []).map((e) => { const d = decode(e); return { from: str(d, 2), to: str(d, 3), nodeId: str(d, 4), reason: str(d, 5) } })
  }
}

function objectInfo (buf) {
  const m = decode(buf)
  return { namespace: str(m, 1), name: str(m, 2), size: num(m, 3), contentType: str(m, 4), sha256: str(m, 5), version: str(m, 6), owner: str(m, 7) }
}

// The deterministic bytes both sides agree on: byte i is (i * 31 + seed) & 0xff.
function pattern (offset, length, seed) {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + seed) & 0xff
  return b
}

// Runs a WASI command with Node's own WASI (no fuel metering: the gateway takes fuel from a silo node that agrees).
async function runWasi (a) {
  const dir = mkdtempSync(join(tmpdir(), 'xmbl-edge-'))
  try {
    writeFileSync(join(dir, 'stdin'), a.stdin)
    const fds = [openSync(join(dir, 'stdin'), 'r'), openSync(join(dir, 'stdout'), 'w'), openSync(join(dir, 'stderr'), 'w')]
    const env = Object.fromEntries(a.env.map((e) => [e.name, e.value]))
    const wasi = new WASI({ version: 'preview1', args: ['module', ...a.args], env, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true })
    let exitCode = 0
    let outcome = 'exited'
    let detail = ''
    try {
      const { instance } = await WebAssembly.instantiate(a.module, wasi.getImportObject())
      exitCode = wasi.start(instance)
    } catch (e) {
      outcome = 'trapped'
      exitCode = 134
      detail = String(e.message ?? e)
    } finally {
      for (const fd of fds) closeSync(fd)
    }
    return { output: readFileSync(join(dir, 'stdout')), exitCode, outcome, detail }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function assignmentOf (buf) {
  const m = decode(buf)
  return {
    jobId: str(m, 1),
    assignmentId: num(m, 2),
    role: str(m, 3),
    moduleHash: str(m, 4),
    module: Buffer.from(m.get(5)?.[0] ?? []),
    entry: str(m, 6),
    args: (m.get(7) ?? []).map((a) => a.toString('utf8')),
    env: (m.get(8) ?? []).map((e) => { const d = decode(e); return { name: str(d, 1), value: str(d, 2) } }),
    stdin: Buffer.from(m.get(9)?.[0] ?? [])
  }
}

// A ShardRequest (put 2, get 3, delete 4) answered as a ShardResponse: 200 done, 404 not held, 422 bad hash.
function shardAnswer (state, r, alter) {
  const id = num(r, 1)
  if (r.has(2)) {
    const p = decode(r.get(2)[0])
    const data = Buffer.from(p.get(3)?.[0] ?? [])
    const sha = createHash('sha256').update(data).digest('hex')
    state.shardOps.put++
    if (sha !== str(p, 2)) return [[1, id], [2, 422], [4, sha], [5, 'the bytes do not hash to the given sha256']]
    state.shards.set(str(p, 1), data)
    return [[1, id], [2, 200], [4, sha]]
  }
  if (r.has(3)) {
    state.shardOps.get++
    const data = state.shards.get(str(decode(r.get(3)[0]), 1))
    if (data === undefined) return [[1, id], [2, 404]]
    const sent = alter ? Buffer.from(data) : data
    if (alter) sent[0] ^= 0xff
    return [[1, id], [2, 200], [3, sent]]
  }
  if (r.has(4)) {
    state.shardOps.delete++
    return [[1, id], [2, state.shards.delete(str(decode(r.get(4)[0]), 1)) ? 200 : 404]]
  }
  return [[1, id], [2, 400], [5, 'unknown shard operation']]
}

export function commands (node, multiaddr) {
  const open = (addr, protocol) => node.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(10000) })
  let edge = null

  return {
    // Submits a job (module inline, base64) and follows it to the end; returns every status seen and the last record.
    async jobSubmit ({ addr, moduleBase64, args, stdinBase64, validators, maxPrice, follow }) {
      const framed = new Framed(await open(addr, '/xmbl/job/1.0.0'))
      const submit = [
        [2, Buffer.from(moduleBase64, 'base64')],
        ...(args ?? []).map((a) => [4, a]),
        [6, stdinBase64 ? Buffer.from(stdinBase64, 'base64') : undefined],
        [10, maxPrice],
        [11, validators],
        [14, follow !== false]
      ]
      await framed.write(encode([[1, submit]]))
      const statuses = []
      let job = null
      for (let msg; (msg = await framed.read()) !== null;) {
        const m = decode(msg)
        if (m.has(3)) return { error: errorOf(decode(m.get(3)[0])) }
        job = jobInfo(m.get(1)[0])
        statuses.push(job.status)
      }
      return { statuses, job }
    },
    async jobOutput ({ addr, jobId }) {
      const framed = new Framed(await open(addr, '/xmbl/job/1.0.0'))
      await framed.write(encode([[3, [[1, jobId]]]]))
      const parts = []
      for (let msg; (msg = await framed.read()) !== null;) {
        const m = decode(msg)
        if (m.has(3)) return { error: errorOf(decode(m.get(3)[0])) }
        parts.push(Buffer.from(m.get(2)[0]))
      }
      return { outputBase64: Buffer.concat(parts).toString('base64') }
    },
    // Stores `bytes` pattern bytes in frames of `frame` bytes; returns the stored object's info.
    async objectPut ({ addr, namespace, name, bytes, seed, frame, declareSize, sha256 }) {
      const framed = new Framed(await open(addr, '/xmbl/object/1.0.0'))
      const hash = createHash('sha256')
      for (let off = 0; off < bytes; off += 1 << 20) hash.update(pattern(off, Math.min(1 << 20, bytes - off), seed))
      const put = [[1, namespace], [2, name], [3, 'application/octet-stream'], [4, declareSize === false ? undefined : bytes], [5, sha256 ?? hash.digest('hex')]]
      await framed.write(encode([[1, put]]))
      const size = frame ?? 256 * 1024
      for (let off = 0; off < bytes; off += size) await framed.write(pattern(off, Math.min(size, bytes - off), seed))
      await framed.write(Buffer.alloc(0))
      const answer = await framed.read()
      if (answer === null) throw new Error('the gateway closed the stream without an answer')
      const m = decode(answer)
      return m.has(2) ? { error: errorOf(decode(m.get(2)[0])) } : { object: objectInfo(m.get(1)[0]) }
    },
    // Reads an object; returns its info, the bytes received and their SHA-256, and whether they match the pattern.
    async objectGet ({ addr, namespace, name, seed }) {
      const framed = new Framed(await open(addr, '/xmbl/object/1.0.0'))
      await framed.write(encode([[2, [[1, namespace], [2, name]]]]))
      const answer = await framed.read()
      const m = decode(answer)
      if (m.has(2)) return { error: errorOf(decode(m.get(2)[0])) }
      const object = objectInfo(m.get(1)[0])
      const hash = createHash('sha256')
      let received = 0
      let matches = true
      for (;;) {
        const chunk = await framed.read()
        if (chunk === null) throw new Error('the body ended without its end frame')
        if (chunk.length === 0) break
        if (seed !== undefined && Buffer.compare(chunk, pattern(received, chunk.length, seed)) !== 0) matches = false
        hash.update(chunk)
        received += chunk.length
      }
      return { object, received, sha256: hash.digest('hex'), matches }
    },
    // Serves as an edge node over /xmbl/node/1.0.0: hello, heartbeats, runs each assignment with Node's WASI and,
    // with `storageBytes`, keeps shards in memory. With `lie`, appends bytes to every output (a dishonest node); with
    // `alterShards`, flips a byte of every shard it sends back; `storagePrice` is its price per GB-month (decimal
    // text, default none). Returns the welcome.
    async edgeStart ({ addr, cores, memoryBytes, storageBytes, concurrency, price, storagePrice, lie, alterShards }) {
      const framed = new Framed(await open(addr, '/xmbl/node/1.0.0'))
      const hello = [[1, cores ?? 2], [2, memoryBytes ?? 4 * 1024 * 1024 * 1024], [3, storageBytes ?? 0], [4, concurrency ?? 4], [5, price ?? '0.01'], [6, storagePrice], [7, 'node-wasi ' + process.versions.node]]
      await framed.write(encode([[1, hello]]))
      const first = decode(await framed.read())
      if (first.has(4)) return { error: errorOf(decode(first.get(4)[0])) }
      const w = decode(first.get(1)[0])
      const welcome = { nodeId: str(w, 1), heartbeatMs: num(w, 2), deathTimeoutMs: num(w, 3) }
      edge = { framed, assignments: [], results: [], cancels: [], closed: false, shards: new Map(), shardOps: { put: 0, get: 0, delete: 0 } }
      const state = edge
      const beat = setInterval(() => { framed.write(encode([[2, [[1, 0]]]])).catch(() => {}) }, Math.max(100, welcome.heartbeatMs / 2))
      ;(async () => {
        try {
          for (let msg; (msg = await framed.read()) !== null;) {
            const m = decode(msg)
            if (m.has(3)) { state.cancels.push(str(decode(m.get(3)[0]), 1)); continue }
            if (m.has(5)) { await framed.write(encode([[4, shardAnswer(state, decode(m.get(5)[0]), alterShards)]])); continue }
            if (!m.has(2)) continue
            const a = assignmentOf(m.get(2)[0])
            state.assignments.push({ jobId: a.jobId, assignmentId: a.assignmentId, role: a.role, moduleHash: a.moduleHash })
            const start = Date.now()
            const r = await runWasi(a)
            const output = lie ? Buffer.concat([r.output, Buffer.from('(altered by edge)')]) : r.output
            state.results.push({ jobId: a.jobId, assignmentId: a.assignmentId, output: output.toString('base64'), exitCode: r.exitCode, outcome: r.outcome })
            await framed.write(encode([[3, [[1, a.jobId], [2, a.assignmentId], [3, output], [4, r.exitCode], [5, r.outcome], [6, r.detail], [7, Date.now() - start]]]]))
          }
        } catch (e) {
          state.error = String(e)
        } finally {
          clearInterval(beat)
          state.closed = true
        }
      })()
      return { welcome }
    },
    async edgeStatus () {
      if (edge == null) throw new Error('not an edge node: run edgeStart first')
      return { assignments: edge.assignments, results: edge.results, cancels: edge.cancels, closed: edge.closed, error: edge.error ?? null, shards: edge.shards.size, shardOps: edge.shardOps }
    },
    async edgeStop () {
      if (edge != null) await edge.framed.stream.close()
      return {}
    }
  }
}
