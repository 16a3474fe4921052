// The js-libp2p peer the interop tests drive. One JSON line per command on stdin, one JSON line per reply on
// stdout ({"id":…,"ok":true,…} or {"id":…,"ok":false,"error":"…"}). The first line out is {"event":"ready",…}.
// Flags: --dht runs kad-dht in server mode; --bootstrap <multiaddr> dials that peer at start (repeatable).
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'

// js-libp2p 3.x needs Promise.withResolvers (Node 22); keep working on older Node for local runs.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { kadDHT } = await import('@libp2p/kad-dht')
const { multiaddr } = await import('@multiformats/multiaddr')
const { peerIdFromString } = await import('@libp2p/peer-id')
const xmbl = await import('./xmbl.mjs')

const args = process.argv.slice(2)
const dht = args.includes('--dht')
const bootstrap = args.flatMap((a, i) => (a === '--bootstrap' ? [args[i + 1]] : []))

const ECHO = '/xmbl-test/echo/1.0.0'
const SINK = '/xmbl-test/sink/1.0.0'

const services = { identify: identify(), ping: ping() }
if (dht) {
  // Loopback addresses are all the tests have, so keep them (the default mapper drops private addresses).
  services.dht = kadDHT({ clientMode: false, protocol: '/ipfs/kad/1.0.0', peerInfoMapper: (p) => p })
}

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // The connection-set-up benchmark dials many times a second from one address; js throttles that by default.
  connectionManager: { inboundConnectionThreshold: 10000 },
  services
})

// Echo: every chunk goes straight back; the write side closes when the remote closes its own.
await node.handle(ECHO, async (stream) => {
  for await (const chunk of stream) {
    if (!stream.send(chunk.subarray ? chunk.subarray() : chunk)) {
      await stream.onDrain()
    }
  }
  await stream.close()
}, { maxInboundStreams: 64 })

// Sink: reads everything, then answers with the byte count (8 bytes, big-endian) and the SHA-256 of the bytes.
await node.handle(SINK, async (stream) => {
  const hash = createHash('sha256')
  let total = 0n
  for await (const chunk of stream) {
    const bytes = chunk.subarray ? chunk.subarray() : chunk
    hash.update(bytes)
    total += BigInt(bytes.length)
  }
  const reply = Buffer.alloc(8 + 32)
  reply.writeBigUInt64BE(total, 0)
  hash.digest().copy(reply, 8)
  stream.send(reply)
  await stream.close()
}, { maxInboundStreams: 64 })

// Discard: reads everything without looking at it, then answers with the byte count (8 bytes, big-endian).
await node.handle('/xmbl-test/discard/1.0.0', async (stream) => {
  let total = 0n
  for await (const chunk of stream) total += BigInt(chunk.byteLength)
  const reply = Buffer.alloc(8)
  reply.writeBigUInt64BE(total, 0)
  stream.send(reply)
  await stream.close()
}, { maxInboundStreams: 64 })

function write (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

// The deterministic bytes both sides agree on: byte i of the stream is (i * 31 + seed) & 0xff.
function pattern (offset, length, seed) {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + seed) & 0xff
  return b
}

const commands = {
  async ping ({ addr }) {
    const rtt = await node.services.ping.ping(multiaddr(addr), { signal: AbortSignal.timeout(10000) })
    return { rtt }
  },
  async dial ({ addr }) {
    const conn = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(10000) })
    return { remotePeer: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString() }
  },
  async peerInfo ({ peerId }) {
    // Identify runs once per new connection; wait for its result to reach the peer store.
    const id = peerIdFromString(peerId)
    const deadline = Date.now() + 10000
    for (;;) {
      try {
        const peer = await node.peerStore.get(id)
        const agent = peer.metadata.get('AgentVersion')
        if (agent != null && peer.protocols.length > 0) {
          return {
            protocols: peer.protocols,
            agentVersion: new TextDecoder().decode(agent),
            addrs: peer.addresses.map((a) => a.multiaddr.toString())
          }
        }
      } catch (err) {
        if (err.name !== 'NotFoundError') throw err
      }
      if (Date.now() > deadline) throw new Error('identify of ' + peerId + ' did not complete in 10 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  },
  // Dials the given protocol (on the C# side: a sink that answers with count + SHA-256) and sends `bytes` pattern bytes.
  // With `reuse`, one pattern chunk is sent over and over (for throughput runs: no per-chunk fill cost).
  async send ({ addr, protocol, bytes, seed, reuse }) {
    const stream = await node.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(10000) })
    const chunk = 64 * 1024
    const fixed = reuse ? pattern(0, chunk, seed) : null
    const start = process.hrtime.bigint()
    for (let off = 0; off < bytes; off += chunk) {
      const n = Math.min(chunk, bytes - off)
      const data = fixed != null ? (n === chunk ? fixed : fixed.subarray(0, n)) : pattern(off, n, seed)
      if (!stream.send(data)) await stream.onDrain()
    }
    await stream.close()
    const parts = []
    for await (const c of stream) parts.push(Buffer.from(c.subarray ? c.subarray() : c))
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    return { reply: Buffer.concat(parts).toString('hex'), ms }
  },
  // Dials `count` fresh connections one after another (TCP + Noise + Yamux), closing each; returns the mean time.
  async dialBench ({ addr, count }) {
    const ma = multiaddr(addr)
    let total = 0
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint()
      const conn = await node.dial(ma, { force: true, signal: AbortSignal.timeout(10000) })
      total += Number(process.hrtime.bigint() - start) / 1e6
      await conn.close()
    }
    return { meanMs: total / count }
  },
  // Dials an echo protocol on the other side, sends `bytes` pattern bytes and checks the echo is identical.
  async echo ({ addr, protocol, bytes, seed }) {
    const stream = await node.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(10000) })
    const reader = (async () => {
      let off = 0
      for await (const c of stream) {
        const got = c.subarray ? c.subarray() : c
        const want = pattern(off, got.length, seed)
        if (Buffer.compare(Buffer.from(got), want) !== 0) throw new Error('echo differs at offset ' + off)
        off += got.length
      }
      return off
    })()
    const chunk = 64 * 1024
    for (let off = 0; off < bytes; off += chunk) {
      const n = Math.min(chunk, bytes - off)
      if (!stream.send(pattern(off, n, seed))) await stream.onDrain()
    }
    await stream.close()
    const received = await reader
    if (received !== bytes) throw new Error('echo returned ' + received + ' bytes, sent ' + bytes)
    return { received }
  },
  async findPeer ({ peerId }) {
    const info = await node.peerRouting.findPeer(peerIdFromString(peerId), { signal: AbortSignal.timeout(20000) })
    return { peerId: info.id.toString(), addrs: info.multiaddrs.map((a) => a.toString()) }
  },
  async connections () {
    return { peers: node.getConnections().map((c) => c.remotePeer.toString()) }
  },
  async hangUp ({ peerId }) {
    await node.hangUp(peerIdFromString(peerId))
    return {}
  },
  async stop () {
    await node.stop()
    setTimeout(() => process.exit(0), 10)
    return {}
  }
}
// The gateway bridge's /xmbl/… protocols (xmbl.mjs).
Object.assign(commands, xmbl.commands(node, multiaddr))

for (const addr of bootstrap) {
  await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(10000) })
}

write({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) })

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let msg
  try {
    msg = JSON.parse(line)
  } catch {
    write({ ok: false, error: 'not JSON: ' + line })
    return
  }
  const fn = commands[msg.cmd]
  if (fn == null) {
    write({ id: msg.id, ok: false, error: 'unknown command ' + msg.cmd })
    return
  }
  fn(msg).then(
    (result) => write({ ...result, id: msg.id, ok: true }),
    (err) => write({ id: msg.id, ok: false, error: String(err?.stack ?? err) })
  )
})
// The test process going away ends the peer.
rl.on('close', () => { node.stop().finally(() => process.exit(0)) })
