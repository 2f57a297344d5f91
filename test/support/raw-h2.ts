/**
 * A hand-written HTTP/2 client over a raw TLS socket, for attacks Node's own client will not send (it paces
 * and validates what it writes). Frames per RFC 9113 §4.1: a 9-byte header (24-bit length, type, flags,
 * 31-bit stream id), then the payload.
 */
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls'

export const FRAME = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  GOAWAY: 0x7,
})
const END_STREAM = 0x1
const END_HEADERS = 0x4
const ACK = 0x1
/** RST_STREAM code a client sends when it no longer wants the answer (RFC 9113 §7). */
export const CANCEL = 0x8

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

export interface Frame {
  readonly type: number
  readonly flags: number
  readonly streamId: number
  readonly payload: Buffer
}

export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head.writeUInt8(type, 3)
  head.writeUInt8(flags, 4)
  head.writeUInt32BE(streamId & 0x7fffffff, 5)
  return Buffer.concat([head, payload])
}

/** HPACK integer with a 7-bit prefix (RFC 7541 §5.1); the H bit stays 0: no Huffman. */
function hpackLength(n: number): Buffer {
  if (n < 0x7f) return Buffer.from([n])
  const bytes = [0x7f]
  for (n -= 0x7f; n >= 0x80; n >>= 7) bytes.push((n & 0x7f) | 0x80)
  bytes.push(n)
  return Buffer.from(bytes)
}

/** Each field as "literal header field without indexing, new name" (RFC 7541 §6.2.2), so no table state. */
export function encodeHeaderBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1')
    const v = Buffer.from(value, 'latin1')
    parts.push(Buffer.from([0x00]), hpackLength(n.length), n, hpackLength(v.length), v)
  }
  return Buffer.concat(parts)
}

/** A whole GET in one HEADERS frame (END_HEADERS|END_STREAM): no body follows. */
export function getRequest(streamId: number, authority: string, path: string): Buffer {
  const block = encodeHeaderBlock([
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', path],
    [':authority', authority],
  ])
  return encodeFrame(FRAME.HEADERS, END_HEADERS | END_STREAM, streamId, block)
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4)
  payload.writeUInt32BE(code)
  return encodeFrame(FRAME.RST_STREAM, 0, streamId, payload)
}

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameReader {
  #pending = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.#pending = Buffer.concat([this.#pending, chunk])
    const frames: Frame[] = []
    while (this.#pending.length >= 9) {
      const length = this.#pending.readUIntBE(0, 3)
      if (this.#pending.length < 9 + length) break
      frames.push({
        type: this.#pending.readUInt8(3),
        flags: this.#pending.readUInt8(4),
        streamId: this.#pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.#pending.subarray(9, 9 + length),
      })
      this.#pending = this.#pending.subarray(9 + length)
    }
    return frames
  }
}

export interface Goaway {
  readonly lastStreamId: number
  readonly errorCode: number
}

/**
 * An HTTP/2 connection after the handshake (client preface, an empty SETTINGS, and an ACK of the server's),
 * recording what the server sends back.
 */
export interface RawH2Session {
  readonly socket: TLSSocket
  /** Every frame received so far, in order. */
  readonly frames: readonly Frame[]
  /** The server's GOAWAY, once it arrived. */
  goaway(): Goaway | undefined
  /** Whether the connection is gone (closed by either side). */
  closed(): boolean
  /** Resolves once a frame matching `match` arrives, or rejects when the connection closes first. */
  waitFor(match: (f: Frame) => boolean): Promise<Frame>
  /** Resolves once the connection is gone. */
  readonly whenClosed: Promise<void>
}

export function connectRawH2(options: ConnectionOptions): Promise<RawH2Session> {
  return new Promise((resolve, reject) => {
    const socket = connect({ ...options, ALPNProtocols: ['h2'] })
    const reader = new FrameReader()
    const frames: Frame[] = []
    const waiters = new Set<{
      match: (f: Frame) => boolean
      resolve: (f: Frame) => void
      reject: (e: Error) => void
    }>()
    let goaway: Goaway | undefined
    let isClosed = false
    let markClosed: () => void = () => undefined
    const whenClosed = new Promise<void>((r) => (markClosed = r))
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        frames.push(f)
        if (f.type === FRAME.SETTINGS && (f.flags & ACK) === 0)
          socket.write(encodeFrame(FRAME.SETTINGS, ACK, 0))
        if (f.type === FRAME.GOAWAY) {
          goaway = {
            lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff,
            errorCode: f.payload.readUInt32BE(4),
          }
        }
        for (const w of waiters)
          if (w.match(f)) {
            waiters.delete(w)
            w.resolve(f)
          }
      }
    })
    // A write racing the server's close fails with EPIPE or ECONNRESET: the close is what the tests observe.
    socket.on('error', (error: Error) => {
      if (!socket.alpnProtocol) reject(error)
    })
    socket.on('close', () => {
      isClosed = true
      markClosed()
      for (const w of waiters) w.reject(new Error('the connection closed first'))
      waiters.clear()
    })
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        reject(new Error(`ALPN chose ${String(socket.alpnProtocol)}, not h2`))
        socket.destroy()
        return
      }
      socket.write(Buffer.concat([PREFACE, encodeFrame(FRAME.SETTINGS, 0, 0)]))
      resolve({
        socket,
        frames,
        goaway: () => goaway,
        closed: () => isClosed,
        waitFor: (match) =>
          new Promise((res, rej) => {
            const seen = frames.find(match)
            if (seen) res(seen)
            else if (isClosed) rej(new Error('the connection closed first'))
            else waiters.add({ match, resolve: res, reject: rej })
          }),
        whenClosed,
      })
    })
  })
}
