/**
 * A tiny MySQL-protocol client for bench/services. It connects with `DATABASE_URL` (the variable an app in a
 * Palisade environment receives), warms up, prints `{"server": …}`, then for each line N on stdin runs N
 * `SELECT 1` round trips on its one connection and prints their durations (µs) as a JSON array; an empty
 * line or EOF ends it. No dependency: mysql2 is not one of the project's, and the `mariadb` CLI cannot time
 * single queries. Only what `SELECT 1` needs is implemented: the v10 handshake, `mysql_native_password`
 * (also after an auth switch), COM_QUERY and text result sets.
 *
 * Usage: DATABASE_URL=mysql://user:pass@localhost/db?socket=/path.sock node --import tsx mysql-ping.ts [warm-up]
 *        DATABASE_URL=mysql://user:pass@127.0.0.1:3306/db …
 */
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const CLIENT_LONG_PASSWORD = 0x1
const CLIENT_LONG_FLAG = 0x4
const CLIENT_CONNECT_WITH_DB = 0x8
const CLIENT_PROTOCOL_41 = 0x200
const CLIENT_TRANSACTIONS = 0x2000
const CLIENT_SECURE_CONNECTION = 0x8000
const CLIENT_MULTI_RESULTS = 0x20000
const CLIENT_PLUGIN_AUTH = 0x80000
const NATIVE = 'mysql_native_password'

interface Packet {
  readonly seq: number
  readonly body: Buffer
}

export interface Target {
  readonly user: string
  readonly password: string
  readonly database: string
  /** A Unix socket, or host and port for TCP. */
  readonly socket?: string
  readonly host?: string
  readonly port?: number
}

/** Reads mysql://user:pass@host[:port]/db[?socket=…] (the form Palisade injects as DATABASE_URL). */
export function parseDatabaseUrl(text: string): Target {
  const u = new URL(text)
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw new Error('DATABASE_URL is not mysql://')
  const socket = u.searchParams.get('socket')
  const base = {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  }
  return socket ? { ...base, socket } : { ...base, host: u.hostname, port: Number(u.port || 3306) }
}

/** SHA1(password) XOR SHA1(seed + SHA1(SHA1(password))). */
function nativeScramble(password: string, seed: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const sha1 = (b: Buffer | string): Buffer => createHash('sha1').update(b).digest()
  const p1 = sha1(password)
  const p2 = sha1(Buffer.concat([seed, sha1(p1)]))
  return Buffer.from(p1.map((b, i) => b ^ (p2[i] ?? 0)))
}

function serverError(body: Buffer): Error {
  const code = body.readUInt16LE(1)
  const msg = body.subarray(body[3] === 0x23 ? 9 : 3).toString('utf8')
  return new Error(`server error ${code}: ${msg}`)
}

/** One connection: packets framed as 3-byte length + sequence number. */
class Connection {
  private buf: Buffer = Buffer.alloc(0)
  private readonly ready: Packet[] = []
  private waiter: ((p: Packet) => void) | null = null
  private failure: Error | null = null
  private onFail: ((e: Error) => void) | null = null

  constructor(private readonly sock: Socket) {
    sock.setNoDelay(true)
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      while (this.buf.length >= 4) {
        const len = this.buf.readUIntLE(0, 3)
        if (this.buf.length < 4 + len) break
        const p = { seq: this.buf[3] ?? 0, body: this.buf.subarray(4, 4 + len) }
        this.buf = this.buf.subarray(4 + len)
        if (this.waiter) {
          const w = this.waiter
          this.waiter = null
          this.onFail = null
          w(p)
        } else this.ready.push(p)
      }
    })
    const fail = (e: Error): void => {
      this.failure ??= e
      this.onFail?.(e)
    }
    sock.on('error', fail)
    sock.on('close', () => fail(new Error('connection closed')))
  }

  next(): Promise<Packet> {
    const p = this.ready.shift()
    if (p) return Promise.resolve(p)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.onFail = reject
    })
  }

  send(seq: number, body: Buffer): void {
    const head = Buffer.alloc(4)
    head.writeUIntLE(body.length, 0, 3)
    head[3] = seq & 0xff
    this.sock.write(Buffer.concat([head, body]))
  }

  end(): void {
    this.send(0, Buffer.from([0x01])) // COM_QUIT
    this.sock.end()
  }
}

export interface Session {
  readonly server: string
  /** Runs `SELECT 1` and checks that the answer is 1. */
  selectOne(): Promise<void>
  close(): void
}

/** Connects and authenticates with mysql_native_password. */
export async function open(t: Target): Promise<Session> {
  const sock = t.socket ? connect(t.socket) : connect(t.port ?? 3306, t.host ?? '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve)
    sock.once('error', reject)
  })
  const c = new Connection(sock)
  const hello = await c.next()
  const h = hello.body
  if (h[0] === 0xff) throw serverError(h)
  if (h[0] !== 10) throw new Error(`unsupported protocol ${h[0]}`)
  let o = 1
  const nul = h.indexOf(0, o)
  const server = h.subarray(o, nul).toString('latin1')
  o = nul + 1 + 4 // connection id
  const seed1 = h.subarray(o, o + 8)
  o += 8 + 1
  const capLow = h.readUInt16LE(o)
  o += 2 + 1 + 2 // charset, status
  const capHigh = h.readUInt16LE(o)
  o += 2
  const authLen = h[o] ?? 0
  o += 1 + 10
  const caps = capLow | (capHigh << 16)
  let seed = seed1
  let plugin = NATIVE
  if (caps & CLIENT_SECURE_CONNECTION) {
    const n = Math.max(13, authLen - 8)
    seed = Buffer.concat([seed1, h.subarray(o, o + n - 1)]) // the last byte is a NUL
    o += n
  }
  if (caps & CLIENT_PLUGIN_AUTH) plugin = h.subarray(o, h.indexOf(0, o)).toString('latin1')
  if (plugin !== NATIVE) seed = Buffer.alloc(20) // answered below by an auth switch

  const flags =
    CLIENT_LONG_PASSWORD |
    CLIENT_LONG_FLAG |
    CLIENT_CONNECT_WITH_DB |
    CLIENT_PROTOCOL_41 |
    CLIENT_TRANSACTIONS |
    CLIENT_SECURE_CONNECTION |
    CLIENT_MULTI_RESULTS |
    CLIENT_PLUGIN_AUTH
  const head = Buffer.alloc(32)
  head.writeUInt32LE(flags >>> 0, 0)
  head.writeUInt32LE(1 << 24, 4)
  head[8] = 45 // utf8mb4_general_ci
  const auth = nativeScramble(t.password, seed)
  c.send(
    hello.seq + 1,
    Buffer.concat([
      head,
      Buffer.from(t.user + '\0'),
      Buffer.from([auth.length]),
      auth,
      Buffer.from(t.database + '\0'),
      Buffer.from(NATIVE + '\0'),
    ]),
  )
  for (;;) {
    const r = await c.next()
    if (r.body[0] === 0x00) break
    if (r.body[0] === 0xff) throw serverError(r.body)
    if (r.body[0] === 0xfe) {
      const end = r.body.indexOf(0, 1)
      const name = r.body.subarray(1, end).toString('latin1')
      if (name !== NATIVE) throw new Error(`unsupported auth plugin ${name}`)
      const data = r.body.subarray(end + 1, end + 21)
      c.send(r.seq + 1, nativeScramble(t.password, data))
      continue
    }
    throw new Error(`unexpected packet 0x${(r.body[0] ?? 0).toString(16)} during authentication`)
  }
  const query = Buffer.concat([Buffer.from([0x03]), Buffer.from('SELECT 1')])
  const isEof = (b: Buffer): boolean => b[0] === 0xfe && b.length < 9
  return {
    server,
    async selectOne() {
      c.send(0, query)
      const first = (await c.next()).body
      if (first[0] === 0xff) throw serverError(first)
      const columns = first[0] ?? 0
      for (let i = 0; i < columns; i++) await c.next()
      if (!isEof((await c.next()).body)) throw new Error('expected the end of the column definitions')
      let rows = 0
      for (;;) {
        const b = (await c.next()).body
        if (isEof(b)) break
        if (b[0] === 0xff) throw serverError(b)
        // One length-encoded string "1".
        if (b.length !== 2 || b[0] !== 1 || b[1] !== 0x31) throw new Error('SELECT 1 did not answer 1')
        rows++
      }
      if (rows !== 1) throw new Error(`SELECT 1 answered ${rows} rows`)
    },
    close: () => c.end(),
  }
}

async function main(): Promise<void> {
  const warm = Number(process.argv[2] ?? 200)
  const url = process.env['DATABASE_URL']
  if (!url) throw new Error('DATABASE_URL is not set')
  const s = await open(parseDatabaseUrl(url))
  for (let i = 0; i < warm; i++) await s.selectOne()
  process.stdout.write(JSON.stringify({ server: s.server }) + '\n')
  // One batch per line read: its size in, its timings out (the runner interleaves several clients).
  for await (const line of createInterface({ input: process.stdin })) {
    const n = Number(line)
    if (!Number.isInteger(n) || n <= 0) break
    const samplesUs: number[] = []
    for (let i = 0; i < n; i++) {
      const a = performance.now()
      await s.selectOne()
      // Microseconds, to the nanosecond.
      samplesUs.push(Math.round((performance.now() - a) * 1e6) / 1000)
    }
    process.stdout.write(JSON.stringify(samplesUs) + '\n')
  }
  s.close()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`mysql-ping: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
