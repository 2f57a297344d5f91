/** Bytes of access lines an edge worker keeps per environment for `palisade logs` (about 1 200 lines of 160 bytes). */
export const ACCESS_RING_BYTES = 192 * 1024
/** A longer line is cut here (its fields no longer decode, so `palisade logs` leaves it out). */
const MAX_LINE_BYTES = 16 * 1024
const FIRST_BYTES = 4 * 1024
const NEWLINE = 0x0a

interface Ring {
  buf: Buffer
  /** Where the next byte goes. */
  head: number
  /** The buffer is full size and has been written round: the oldest bytes start at `head`. */
  wrapped: boolean
  /** After a wrap: whether the oldest bytes begin a line (else they are the cut end of an overwritten one). */
  oldestWhole: boolean
}

/**
 * The newest access lines of each environment (encodeAccessLine, which never holds a line break), as UTF-8 bytes
 * in one ring buffer per environment. Bytes outside the JavaScript heap rather than a ring of strings: strings kept
 * for a while outlive the young generation and each one costs the garbage collector a copy into the old one — the
 * edge's CPU per request rose 14 % with a ring of 1 000 strings (bench/monitor/pipeline-ab.sh). A ring starts
 * small and grows to `capacity` bytes; then the newest bytes overwrite the oldest.
 */
export class AccessLineRing {
  readonly #capacity: number
  readonly #rings = new Map<string, Ring>()
  readonly #scratch = Buffer.allocUnsafe(MAX_LINE_BYTES)

  constructor(capacity = ACCESS_RING_BYTES) {
    if (!Number.isInteger(capacity) || capacity < 1024)
      throw new RangeError('capacity must be at least 1024 bytes')
    this.#capacity = capacity
  }

  push(envId: string, line: string): void {
    let ring = this.#rings.get(envId)
    if (!ring) {
      ring = {
        buf: Buffer.alloc(Math.min(FIRST_BYTES, this.#capacity)),
        head: 0,
        wrapped: false,
        oldestWhole: true,
      }
      this.#rings.set(envId, ring)
    }
    // Whole characters only (write() never splits one); the line break after it.
    const length = this.#scratch.write(line, 0, MAX_LINE_BYTES - 1, 'utf8')
    this.#scratch[length] = NEWLINE
    const n = length + 1
    while (!ring.wrapped && ring.head + n >= ring.buf.length && ring.buf.length < this.#capacity) {
      const bigger = Buffer.alloc(Math.min(ring.buf.length * 2, this.#capacity))
      ring.buf.copy(bigger, 0, 0, ring.head)
      ring.buf = bigger
    }
    const { buf } = ring
    const written = Math.min(n, buf.length)
    const end = (ring.head + written) % buf.length
    // What follows the new line begins a line when the overwritten byte before it ended one.
    if (ring.wrapped || ring.head + written >= buf.length) {
      // (The first time round the buffer was filled exactly: the oldest bytes are the first line written.)
      ring.oldestWhole = (!ring.wrapped && end === 0) || buf[(end - 1 + buf.length) % buf.length] === NEWLINE
      ring.wrapped = true
    }
    const room = buf.length - ring.head
    if (written <= room) this.#scratch.copy(buf, ring.head, 0, written)
    else {
      this.#scratch.copy(buf, ring.head, 0, room)
      this.#scratch.copy(buf, 0, room, written)
    }
    ring.head = end
  }

  /** The kept lines of an environment, oldest first (after a wrap the oldest, cut one is left out). */
  recent(envId: string): string[] {
    const ring = this.#rings.get(envId)
    if (!ring) return []
    const text = ring.wrapped
      ? Buffer.concat([ring.buf.subarray(ring.head), ring.buf.subarray(0, ring.head)]).toString('utf8')
      : ring.buf.toString('utf8', 0, ring.head)
    const lines = text.split('\n')
    lines.pop() // after the last line break
    if (ring.wrapped && !ring.oldestWhole) lines.shift()
    return lines
  }

  forget(envId: string): void {
    this.#rings.delete(envId)
  }

  /** Bytes held for every environment (doctor's memory view). */
  bytes(): number {
    let total = 0
    for (const r of this.#rings.values()) total += r.buf.length
    return total
  }
}
