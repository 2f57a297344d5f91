import { RememberedValues, type MemoryBudget } from '../memory-budget.js'

/**
 * Remembers, across transactions, the values a rule's operator found nothing in. Traffic repeats itself
 * (the same User-Agent, Accept and cookie names on every request, a visitor's session cookie on each of
 * their requests), and for most rules the answer to a repeated value is "no match": a rule that has
 * seen a value before skips its transformations and operator for it. Only rules whose operator is a
 * pure function of the transformed value take part (every operator Palisade has, with a parameter
 * free of macros), so a remembered miss is exactly what the operator would say again.
 *
 * One record per value, not one set per rule: a bit per participating rule. The engine looks a value
 * up here once per transaction and keeps the record beside the value for the rest of it, so testing a
 * rule against a value costs a bit test instead of a lookup in a large table.
 *
 * Bounded: values longer than `maxValue` are never remembered, and once the characters of the values
 * remembered pass `budget`, the oldest records are dropped.
 */
export class MissMemo {
  readonly #records: RememberedValues<MissRecord>
  readonly #maxValue: number
  #rules = 0

  constructor(budget: number, maxValue: number) {
    this.#records = new RememberedValues(budget, cost)
    this.#maxValue = maxValue
  }

  /** Gives a participating rule its bit (call while compiling, before the first `record`). */
  enrol(): number {
    return this.#rules++
  }

  /** The record of `value` (created empty on first sight), or undefined when the value is too long to keep. */
  record(value: string): MissRecord | undefined {
    if (value.length > this.#maxValue) return undefined
    let bits = this.#records.get(value)
    if (bits === undefined) {
      bits = new Array<number>((this.#rules + BITS - 1) >> SHIFT).fill(0)
      this.#records.add(value, bits)
    }
    return bits
  }

  /** Counts the records against `budget` too (shared with other caches; see MemoryBudget). */
  share(budget: MemoryBudget): void {
    this.#records.share(budget)
  }

  /** Forgets every record and leaves the shared budget. */
  release(): void {
    this.#records.release()
  }
}

/** What a record costs: its value's characters, its bits, and the map entry. */
const cost = (value: string, bits: MissRecord): number => value.length + bits.length * 4 + 64

/**
 * A value's bits, 16 to an array element: small integers stay unboxed in a plain array, which V8
 * allocates far faster than a typed array's separate buffer (one record per new value).
 */
export type MissRecord = number[]
const SHIFT = 4
const BITS = 1 << SHIFT

/** Whether rule `bit` found nothing in the value whose record is `bits`. */
export function missed(bits: MissRecord, bit: number): boolean {
  return (bits[bit >> SHIFT]! & (1 << (bit & (BITS - 1)))) !== 0
}

/** Records that rule `bit` found nothing in the value whose record is `bits`. */
export function markMissed(bits: MissRecord, bit: number): void {
  bits[bit >> SHIFT]! |= 1 << (bit & (BITS - 1))
}

/** Keeps in `into` only the misses `other` also has; answers whether any is left. */
export function keepCommonMisses(into: MissRecord, other: MissRecord): boolean {
  let left = 0
  for (let i = 0; i < into.length; i++) left |= into[i]! &= other[i]!
  return left !== 0
}
