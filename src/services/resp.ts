import { connect } from 'node:net'
import type { Duplex } from 'node:stream'

/** A decoded RESP2 reply. Errors are values (`{ error }`), never thrown: callers decide. */
export type RespValue = string | number | null | { readonly error: string } | RespValue[]

/** Encodes one command as a RESP array of bulk strings (binary-safe, no inline parsing on the server). */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = Buffer.from(a, 'utf8')
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

/**
 * Parses one reply starting at `offset`; returns undefined when the buffer does not hold a whole reply yet.
 */
export function parseReply(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const eol = buf.indexOf('\r\n', offset)
  if (eol < 0) return undefined
  const type = String.fromCharCode(buf[offset] as number)
  const line = buf.toString('utf8', offset + 1, eol)
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 }
    case '-':
      return { value: { error: line }, next: eol + 2 }
    case ':':
      return { value: Number(line), next: eol + 2 }
    case '$': {
      const n = Number(line)
      if (n < 0) return { value: null, next: eol + 2 }
      if (buf.length < eol + 2 + n + 2) return undefined
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), next: eol + 2 + n + 2 }
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return { value: null, next: eol + 2 }
      const items: RespValue[] = []
      let at = eol + 2
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at)
        if (!r) return undefined
        items.push(r.value)
        at = r.next
      }
      return { value: items, next: at }
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`)
  }
}

/**
 * Sends commands over a Unix socket (or `{host, port}`) and resolves with one reply per command.
 * Used by the control plane for readiness checks and BGSAVE, and by the tests as a real client.
 */
export function respCall(
  target: string | { host: string; port: number } | (() => Duplex),
  commands: readonly (readonly string[])[],
  timeoutMs = 10_000,
): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const socket: Duplex =
      typeof target === 'function'
        ? target()
        : typeof target === 'string'
          ? connect(target)
          : connect(target.port, target.host)
    const replies: RespValue[] = []
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(new Error('redis did not answer in time')), timeoutMs)
    socket.on('connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      let r = parseReply(buf)
      while (r) {
        replies.push(r.value)
        buf = buf.subarray(r.next)
        r = buf.length > 0 ? parseReply(buf) : undefined
      }
      if (replies.length >= commands.length) {
        clearTimeout(timer)
        socket.end()
        resolve(replies)
      }
    })
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      if (replies.length < commands.length) reject(new Error('connection closed before all replies arrived'))
    })
  })
}

export function isRespError(v: RespValue | undefined): v is { error: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'error' in v
}
