import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import path from 'node:path'

type Listener = (event: { text: string } | { end: true }) => void

const KEY_RE = /^[a-z]+_[a-z0-9]{8,40}$/

/**
 * Per-deployment and per-job log files under `<dir>/<key>.log`, size-capped: past `capBytes` the file
 * is rotated to `<key>.1.log` (one old file kept), so a chatty or hostile app cannot fill the disk.
 * Followers get every append until `end(key)`.
 */
export class LogStore {
  readonly #dir: string
  readonly #capBytes: number
  readonly #sizes = new Map<string, number>()
  readonly #listeners = new Map<string, Set<Listener>>()
  readonly #ended = new Set<string>()

  constructor(dir: string, options: { capBytes: number }) {
    this.#dir = dir
    this.#capBytes = options.capBytes
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  }

  #file(key: string, old = false): string {
    // Keys are ids generated here; the check keeps a bad key from ever naming a path outside the dir.
    if (!KEY_RE.test(key)) throw new Error(`bad log key ${JSON.stringify(key)}`)
    return path.join(this.#dir, old ? `${key}.1.log` : `${key}.log`)
  }

  append(key: string, text: string): void {
    if (text === '') return
    const file = this.#file(key)
    let size = this.#sizes.get(key) ?? (existsSync(file) ? statSync(file).size : 0)
    const bytes = Buffer.byteLength(text)
    if (size + bytes > this.#capBytes && size > 0) {
      renameSync(file, this.#file(key, true))
      size = 0
    }
    // A single chunk larger than the cap is cut: the log keeps its head and says so.
    const chunk =
      bytes > this.#capBytes
        ? Buffer.from(text).subarray(0, this.#capBytes).toString() +
          '\n[palisade] output cut: log size cap reached\n'
        : text
    appendFileSync(file, chunk, { mode: 0o600 })
    this.#sizes.set(key, size + Buffer.byteLength(chunk))
    this.#ended.delete(key)
    for (const l of this.#listeners.get(key) ?? []) l({ text: chunk })
  }

  /** A line from the platform itself, prefixed so that it cannot be confused with app output. */
  note(key: string, line: string): void {
    this.append(key, `[palisade] ${line}\n`)
  }

  read(key: string): string {
    const parts: string[] = []
    for (const f of [this.#file(key, true), this.#file(key)])
      if (existsSync(f)) parts.push(readFileSync(f, 'utf8'))
    return parts.join('')
  }

  /** No more output will come for `key`: followers are released. */
  end(key: string): void {
    this.#ended.add(key)
    for (const l of this.#listeners.get(key) ?? []) l({ end: true })
    this.#listeners.delete(key)
  }

  isEnded(key: string): boolean {
    return this.#ended.has(key)
  }

  subscribe(key: string, listener: Listener): () => void {
    let set = this.#listeners.get(key)
    if (!set) this.#listeners.set(key, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }
}
