import RE2 from 're2'
import { RememberedValues, type MemoryBudget } from '../memory-budget.js'

/** Total length of the values whose set results are remembered (the oldest are dropped beyond it). */
const CACHE_BUDGET = 4 * 1024 * 1024
/** What an answer costs besides its value's characters (map entry, array header). */
const ENTRY_OVERHEAD = 64
/**
 * Patterns per RE2 set. One set over all ~280 patterns of CRS at paranoia 1 and Palisade's rules costs about
 * 25 µs per new value: its DFA is the product of every pattern's, so new input keeps building states and the
 * state cache keeps filling and starting over. Sets of ~32 patterns cost about 10 µs for all of them together
 * on the same values (bench/waf/set-chunks.ts measures it); smaller sets pay more in calls than they save.
 */
const PATTERNS_PER_SET = 32
/** A value's answer records which sets have scanned it in one 31-bit mask. */
const MAX_SETS = 31

/**
 * RE2 sets over every `@rx` pattern of a rule set that RE2 runs. Most values match none of the ~200
 * CRS patterns they are tested against; a set answers "which patterns match this value?" in one DFA
 * pass instead of one pass per rule (measured 20-50× fewer microseconds for a typical header or body).
 * The patterns are split into sets of PATTERNS_PER_SET, in the order they register, and a value is
 * scanned by a set only when a rule of that set asks about it. A rule's operator asks `matches` first
 * and runs its own regex (for captures and PCRE details) only on a hit, so verdicts are exactly those
 * of the single regexes. Answers are remembered per value string (the engine hands every rule the same
 * transformed string), within a byte budget.
 */
export interface RegexSetPrefilter {
  /** Adds an RE2 pattern (flags `sm`) before the first match; answers its index, or -1 once the sets are built. */
  register(re2Source: string): number
  /**
   * Whether pattern `index` matches `input` (whose UTF-8 bytes `bytes` gives) — exactly RE2#test; undefined when
   * the set cannot say (the pattern is not in a set, or RE2 refused to build its set): the caller tests on its own.
   */
  matches(index: number, input: string, bytes: (input: string) => Buffer): boolean | undefined
  /** Counts the remembered answers against `budget` too (shared with other caches; see MemoryBudget). */
  share(budget: MemoryBudget): void
  /** Forgets every remembered answer and leaves the shared budget. */
  release(): void
}

/**
 * What is known about a value: a number is the mask of the sets that scanned it and found nothing (most values);
 * an array holds one byte per pattern (1: matches) followed by one byte per set (1: scanned).
 */
type Answer = number | Uint8Array

interface BuiltSet {
  match(input: Buffer): number[]
}

export function createRegexSetPrefilter(): RegexSetPrefilter {
  const sources: string[] = []
  // undefined: not built yet; an entry is null where RE2 refused that set (its operators then test on their own).
  let sets: Array<BuiltSet | null> | undefined
  let perSet = PATTERNS_PER_SET
  // The answer about the value asked about last (kept whether or not `answers` still holds it; answers are facts).
  let lastInput: string | undefined
  let lastAnswer: Answer | undefined
  const answers = new RememberedValues<Answer>(
    CACHE_BUDGET,
    (input, answer) => input.length + (typeof answer === 'number' ? 0 : answer.length) + ENTRY_OVERHEAD,
  )

  function build(): Array<BuiltSet | null> {
    perSet = Math.max(PATTERNS_PER_SET, Math.ceil(sources.length / MAX_SETS))
    const built: Array<BuiltSet | null> = []
    for (let from = 0; from < sources.length; from += perSet) {
      try {
        built.push(new RE2.Set(sources.slice(from, from + perSet), 'sm'))
      } catch {
        built.push(null)
      }
    }
    return built
  }

  /** Scans `input` with set `s`; records its hits in `answer` (an array) or answers the new mask. */
  function scan(
    s: number,
    set: BuiltSet,
    input: string,
    bytes: (input: string) => Buffer,
    answer: Answer,
  ): Answer {
    const matched = set.match(bytes(input))
    if (matched.length === 0 && typeof answer === 'number') return answer | (1 << s)
    let out = answer
    if (typeof out === 'number') {
      out = new Uint8Array(sources.length + sets!.length)
      for (let k = 0; k < sets!.length; k++) if ((answer as number) & (1 << k)) out[sources.length + k] = 1
    }
    const from = s * perSet
    for (const i of matched) out[from + i] = 1
    out[sources.length + s] = 1
    return out
  }

  return {
    register(re2Source) {
      if (sets !== undefined) return -1
      sources.push(re2Source)
      return sources.length - 1
    },
    matches(index, input, bytes) {
      sets ??= build()
      if (index < 0) return undefined
      const s = (index / perSet) | 0
      const set = sets[s]
      if (set === null || set === undefined) return undefined
      // Rules in a row ask about the same value: the last one's answer without a lookup in the large table.
      const known = input === lastInput ? lastAnswer : answers.get(input)
      if (known === undefined) {
        const answer = scan(s, set, input, bytes, 0)
        answers.add(input, answer)
        lastInput = input
        lastAnswer = answer
        return typeof answer !== 'number' && answer[index] === 1
      }
      lastInput = input
      lastAnswer = known
      if (typeof known === 'number') {
        if ((known & (1 << s)) !== 0) return false
      } else if (known[sources.length + s] === 1) return known[index] === 1
      const answer = scan(s, set, input, bytes, known)
      if (answer !== known) answers.replace(input, known, answer)
      lastAnswer = answer
      return typeof answer !== 'number' && answer[index] === 1
    },
    share: (budget) => answers.share(budget),
    release: () => {
      lastInput = undefined
      lastAnswer = undefined
      answers.release()
    },
  }
}
