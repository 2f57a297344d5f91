/**
 * Remembers, across transactions, the values a rule's operator found nothing in. Traffic repeats itself
 * (the same User-Agent, Accept and cookie names on every request, a visitor's session cookie on each of
 * their requests), and for most rules the answer to a repeated value is "no match": a rule that has
 * seen a value before skips its transformations and operator for it. Only rules whose operator is a
 * pure function of the transformed value take part (every operator Palisade has, with a parameter
 * free of macros), so a remembered miss is exactly what the operator would say again.
 *
 * Bounded: values longer than `maxValue` are never remembered, and when the characters remembered
 * across all rules pass `budget`, every set is emptied and starts again.
 */
export class MissMemo {
  readonly #sets: Array<Set<string>> = []
  readonly #budget: number
  readonly #maxValue: number
  #chars = 0

  constructor(budget: number, maxValue: number) {
    this.#budget = budget
    this.#maxValue = maxValue
  }

  /** A set for one rule. */
  create(): Set<string> {
    const set = new Set<string>()
    this.#sets.push(set)
    return set
  }

  /** Records that the rule owning `set` found nothing in `value`. */
  remember(set: Set<string>, value: string): void {
    if (value.length > this.#maxValue) return
    // Counted per rule even when rules share the string: an over-estimate keeps the bound safe.
    this.#chars += value.length + 32
    if (this.#chars > this.#budget) {
      for (const s of this.#sets) s.clear()
      this.#chars = 0
    }
    set.add(value)
  }
}
