/**
 * A case-insensitive Aho–Corasick automaton over bytes, as ModSecurity's acmp builds for @pm:
 * patterns and input are compared with ASCII letters folded to lowercase (C `tolower`). The goto
 * function is compiled into a dense transition table over byte classes (bytes that no pattern
 * uses share one class), so matching is one table lookup per input byte and allocates nothing.
 */

const NONE = -1

export interface AhoCorasickHit {
  /** Index of the pattern in the list given to the constructor. */
  readonly pattern: number
  /** Offset just past the last byte of the match. */
  readonly end: number
}

function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c & 0xff
}

export class AhoCorasick {
  readonly #classOf = new Uint8Array(256)
  readonly #classes: number
  readonly #delta: Int32Array
  /** Pattern reported at a state: its own, else the longest one reachable through suffix links. */
  readonly #output: Int32Array

  constructor(patterns: readonly string[]) {
    // Byte classes: one per distinct (folded) byte used by a pattern, class 0 for the rest.
    let classes = 1
    for (const p of patterns)
      for (let k = 0; k < p.length; k++) {
        const c = fold(p.charCodeAt(k))
        if (this.#classOf[c] === 0) this.#classOf[c] = classes++
      }
    for (let c = 0x41; c <= 0x5a; c++) this.#classOf[c] = this.#classOf[c + 0x20]!
    this.#classes = classes

    // Trie.
    const edges: Array<Map<number, number>> = [new Map<number, number>()]
    const own: number[] = [NONE]
    const depth: number[] = [0]
    patterns.forEach((p, index) => {
      let s = 0
      for (let k = 0; k < p.length; k++) {
        const cls = this.#classOf[fold(p.charCodeAt(k))]!
        let next = edges[s]!.get(cls)
        if (next === undefined) {
          next = edges.length
          edges.push(new Map<number, number>())
          own.push(NONE)
          depth.push(depth[s]! + 1)
          edges[s]!.set(cls, next)
        }
        s = next
      }
      // Empty patterns are ignored. With duplicates, the first one wins.
      if (p.length > 0 && own[s] === NONE) own[s] = index
    })

    // Breadth-first: failure links, dense transitions and outputs.
    const states = edges.length
    const delta = new Int32Array(states * classes)
    const fail = new Int32Array(states)
    const output = new Int32Array(states).fill(NONE)
    const queue: number[] = []
    for (let cls = 0; cls < classes; cls++) {
      const next = edges[0]!.get(cls)
      if (next !== undefined) {
        delta[cls] = next
        fail[next] = 0
        queue.push(next)
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]!
      output[s] = own[s] !== NONE ? own[s]! : output[fail[s]!]!
      for (let cls = 0; cls < classes; cls++) {
        const next = edges[s]!.get(cls)
        if (next !== undefined) {
          fail[next] = delta[fail[s]! * classes + cls]!
          delta[s * classes + cls] = next
          queue.push(next)
        } else {
          delta[s * classes + cls] = delta[fail[s]! * classes + cls]!
        }
      }
    }
    this.#delta = delta
    this.#output = output
  }

  /** The first match in scan order (earliest end; the longest pattern ending there), or null. */
  find(input: string): AhoCorasickHit | null {
    const delta = this.#delta
    const classOf = this.#classOf
    const output = this.#output
    const classes = this.#classes
    let s = 0
    for (let i = 0; i < input.length; i++) {
      s = delta[s * classes + classOf[input.charCodeAt(i) & 0xff]!]!
      const hit = output[s]!
      if (hit !== NONE) return { pattern: hit, end: i + 1 }
    }
    return null
  }
}
