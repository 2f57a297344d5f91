/**
 * One limit on what several caches remember together. Each compiled WAF remembers answers about values it
 * has seen (MissMemo, the RE2 set's answers), bounded per WAF; the edge compiles one WAF per distinct tuning
 * and keeps up to 32 of them, so per-WAF bounds alone add up. Caches that share a budget charge it for what
 * they keep; when the total passes the limit, room is made by dropping oldest entries: the charging cache's
 * own when it holds more than its share (limit / caches), otherwise those of the cache holding the most, so a
 * busy WAF cannot starve the others of their first entries.
 *
 * Units are what the caches count (characters of the values kept, plus a fixed overhead per entry).
 */
export interface BudgetedCache {
  /** Units this cache holds now. */
  readonly held: number
  /** Drops this cache's oldest entry and answers the units freed (0 when it holds nothing). */
  dropOldest(): number
}

export class MemoryBudget {
  readonly limit: number
  readonly #caches = new Set<BudgetedCache>()
  #used = 0

  constructor(limit: number) {
    this.limit = limit
  }

  /** Units held by all member caches together. */
  get used(): number {
    return this.#used
  }

  /** Makes `cache` a member, charging what it already holds. */
  join(cache: BudgetedCache): void {
    if (this.#caches.has(cache)) return
    this.#caches.add(cache)
    this.charge(cache, cache.held)
  }

  /** Ends membership and takes back what `cache` held (the cache is expected to drop it all). */
  leave(cache: BudgetedCache): void {
    if (this.#caches.delete(cache)) this.#used -= cache.held
  }

  /** Accounts `units` that `cache` has just kept, then drops oldest entries until the total fits. */
  charge(cache: BudgetedCache, units: number): void {
    this.#used += units
    while (this.#used > this.limit) {
      const fairShare = this.limit / this.#caches.size
      const victim = cache.held > fairShare ? cache : this.#largest()
      const freed = victim.dropOldest()
      if (freed <= 0) break
      this.#used -= freed
    }
  }

  /** Accounts `units` that a member dropped on its own (its own bound, or a clear). */
  credit(units: number): void {
    this.#used -= units
  }

  #largest(): BudgetedCache {
    let largest: BudgetedCache | undefined
    for (const c of this.#caches) if (largest === undefined || c.held > largest.held) largest = c
    return largest!
  }
}

/**
 * Values remembered by string key, oldest first out: past `limit` units of its own, or when the shared budget it
 * was given (`share`) needs room. `cost` says what an entry costs, in the budget's units.
 */
export class RememberedValues<V> implements BudgetedCache {
  readonly #entries = new Map<string, V>()
  readonly #limit: number
  readonly #cost: (key: string, value: V) => number
  /** Keys in the order they were added, from `#head` on (each key once: entries are only removed from the front). */
  #order: string[] = []
  #head = 0
  #shared: MemoryBudget | undefined
  #held = 0

  constructor(limit: number, cost: (key: string, value: V) => number) {
    this.#limit = limit
    this.#cost = cost
  }

  get held(): number {
    return this.#held
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)
  }

  /** Remembers `value` for a key not remembered yet, then makes room if either bound is passed. */
  add(key: string, value: V): void {
    const old = this.#entries.get(key)
    if (old !== undefined) return this.replace(key, old, value)
    this.#entries.set(key, value)
    this.#order.push(key)
    const units = this.#cost(key, value)
    this.#held += units
    this.#shared?.charge(this, units)
    this.#fit()
  }

  /** Replaces the value remembered for `key` (`old`, as `get` gave it), keeping its place in the order. */
  replace(key: string, old: V, value: V): void {
    if (!this.#entries.has(key)) return this.add(key, value)
    this.#entries.set(key, value)
    const delta = this.#cost(key, value) - this.#cost(key, old)
    this.#held += delta
    if (delta > 0) this.#shared?.charge(this, delta)
    else this.#shared?.credit(-delta)
    this.#fit()
  }

  /** Drops oldest entries past this cache's own limit (the newest one always stays). */
  #fit(): void {
    while (this.#held > this.#limit && this.#entries.size > 1) {
      const freed = this.dropOldest()
      this.#shared?.credit(freed)
    }
  }

  dropOldest(): number {
    // The oldest key comes from the queue: a Map's own first entry is found by iterating past the entries
    // deleted before it, which V8 keeps until the table is rebuilt (tens of µs per drop in a full cache).
    while (this.#head < this.#order.length) {
      const key = this.#order[this.#head]!
      this.#head++
      const value = this.#entries.get(key)
      if (value === undefined) continue
      this.#entries.delete(key)
      if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
        this.#order = this.#order.slice(this.#head)
        this.#head = 0
      }
      const freed = this.#cost(key, value)
      this.#held -= freed
      return freed
    }
    return 0
  }

  /** Counts what is remembered against `budget` too (shared with other caches). */
  share(budget: MemoryBudget): void {
    this.#shared = budget
    budget.join(this)
  }

  /** Forgets everything and leaves the shared budget. */
  release(): void {
    this.#shared?.leave(this)
    this.#shared = undefined
    this.#entries.clear()
    this.#order = []
    this.#head = 0
    this.#held = 0
  }
}
