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
