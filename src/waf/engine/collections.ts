/**
 * Persistent collections (IP, GLOBAL, RESOURCE, USER, SESSION) behind a pluggable store.
 * The default store is in memory, bounded (oldest records are evicted first: an attacker who sends
 * from many addresses cannot grow it without limit) and honours per-variable expiry (`expirevar`)
 * and the collection timeout (`SecCollectionTimeout`).
 */
import type { Entry, KeyedCollection } from '../variables/variable.js'

/** A record bound to one transaction; mutations are visible to the store at `release`. */
export interface CollectionRecord {
  readonly vars: KeyedCollection
  /** Absolute expiry times (ms) per variable key. */
  readonly expiries: Map<string, number>
}

export interface CollectionStore {
  /** Returns the live record for (collection, key), creating it if absent. `now` in ms. */
  acquire(collection: string, key: string, now: number, timeoutSeconds: number): CollectionRecord
  /** Called when the transaction is done with the record. */
  release(collection: string, key: string, record: CollectionRecord, now: number): void
}

interface Stored extends CollectionRecord {
  lastUsed: number
  timeout: number
}

/** In-memory store. `maxRecords` bounds memory (default 100 000). */
export function createMemoryCollectionStore(opts: { maxRecords?: number } = {}): CollectionStore {
  const maxRecords = opts.maxRecords ?? 100_000
  const records = new Map<string, Stored>()
  return {
    acquire(collection, key, now, timeoutSeconds) {
      const id = `${collection}\u0000${key}`
      let r = records.get(id)
      if (r && now - r.lastUsed > r.timeout * 1000) {
        records.delete(id)
        r = undefined
      }
      if (!r) {
        const vars: KeyedCollection = new Map<string, Entry>()
        r = { vars, expiries: new Map(), lastUsed: now, timeout: timeoutSeconds }
        vars.set('key', { key: 'KEY', value: key })
        vars.set('create_time', { key: 'CREATE_TIME', value: String(Math.floor(now / 1000)) })
        vars.set('timeout', { key: 'TIMEOUT', value: String(timeoutSeconds) })
        if (records.size >= maxRecords) {
          const oldest = records.keys().next()
          if (!oldest.done) records.delete(oldest.value)
        }
      } else {
        records.delete(id) // re-insert to keep Map order = least recently used first
      }
      records.set(id, r)
      for (const [k, at] of r.expiries) {
        if (at <= now) {
          r.vars.delete(k)
          r.expiries.delete(k)
        }
      }
      r.lastUsed = now
      return r
    },
    release(_collection, _key, record, now) {
      ;(record as Stored).lastUsed = now
    },
  }
}
