/**
 * The newest `keep` items of each key, oldest first when read: memory stays bounded whatever arrives (an
 * environment's last access-log lines, in an edge worker or in an in-process edge).
 */
export class KeyedRing<T> {
  readonly #keep: number
  readonly #rings = new Map<string, { items: T[]; next: number }>()

  constructor(keep: number) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError('keep must be a positive integer')
    this.#keep = keep
  }

  push(key: string, item: T): void {
    let ring = this.#rings.get(key)
    if (!ring) this.#rings.set(key, (ring = { items: [], next: 0 }))
    if (ring.items.length < this.#keep) ring.items.push(item)
    else ring.items[ring.next] = item
    ring.next = (ring.next + 1) % this.#keep
  }

  /** The kept items of `key`, oldest first (a copy). */
  recent(key: string): T[] {
    const ring = this.#rings.get(key)
    if (!ring) return []
    if (ring.items.length < this.#keep) return [...ring.items]
    return [...ring.items.slice(ring.next), ...ring.items.slice(0, ring.next)]
  }

  forget(key: string): void {
    this.#rings.delete(key)
  }
}
