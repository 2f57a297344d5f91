/**
 * Folds the rules whose outcome is the same on every request. CRS evaluates ~110 rules per request that read
 * nothing but TX variables its own set-up wrote moments before: the paranoia-level checks at the top and middle
 * of every file (`TX:DETECTION_PARANOIA_LEVEL "@lt 2"`), the defaults of REQUEST-901 (`&TX:x "@eq 0"`), the
 * application-exclusion switches. Walking phases 1 and 2 in order while tracking what TX holds (a value, absent,
 * or unknown), a rule that reads only TX keys whose contents are known on every path to it gets its outcome
 * worked out here: the (value, name) pairs it matches on every request, or none.
 *
 * What TX holds is tracked by running each rule's own effects (setvar, initcol, ...) against a stand-in
 * transaction: exactly for a folded rule that matches, as "may have written" for any other rule. Paths join at
 * `skipAfter` markers, where keys that differ between the paths become unknown. Anything the tracking does not
 * model ends it for the rest of the request phases (`skip`, `allow`), and the engine stops using folds in a
 * transaction once a `ctl:` changes its rules (removals, `ruleEngine`). The engine still records a folded
 * rule's matches and runs its effects, so TX, MATCHED_VAR and the matched list are what evaluating would give.
 */
import type { ActionRuleInfo, ActionTx, CtlCommand } from '../actions/action.js'
import type { Macro } from '../actions/macro.js'
import type { PhaseProgram, RuleStep } from './program.js'
import { toInt } from './tx-int.js'

/** One match of a folded rule: the value and the name MATCHED_VAR and MATCHED_VAR_NAME take. */
export interface FoldedHit {
  readonly value: string
  readonly name: string
}

function foldedHit(value: string, name: string): FoldedHit {
  return Object.freeze({ value, name })
}

/** Operators that are pure functions of the value (so an outcome worked out once holds on every request). */
const PURE_OPERATORS = new Set([
  'eq',
  'ge',
  'gt',
  'le',
  'lt',
  'streq',
  'contains',
  'beginswith',
  'endswith',
  'within',
  'rx',
  'pm',
  'unconditionalmatch',
  'nomatch',
])

const UNKNOWN = Symbol('unknown')
/** A TX key's contents at one point: a value, absent (null) or not known. */
type Known = string | null | typeof UNKNOWN
/** What the stand-in transaction expands a macro part it cannot know to. */
const UNKNOWN_TEXT = '\u0000unknown\u0000'

/** What TX holds at one point of the rule list, on every path that reaches it. */
class TxState {
  /** What a key not listed holds: absent at the start of a transaction, unknown after initcol:tx. */
  base: 'absent' | 'unknown' = 'absent'
  readonly keys = new Map<string, Known>()
  /** Keys a setvar with a macro in the name may have written (`tx.header_name_%{tx.0}`), unless listed since. */
  readonly wild: RegExp[] = []

  get(key: string): Known {
    const k = this.keys.get(key)
    if (k !== undefined) return k
    if (this.base === 'unknown' || this.wild.some((re) => re.test(key))) return UNKNOWN
    return null
  }

  set(key: string, value: Known): void {
    this.keys.set(key, value)
  }

  /** A write to a key known only in part: `pattern` is the key with UNKNOWN_TEXT where it is not known. */
  setSome(pattern: string): void {
    const re = new RegExp(`^${pattern.split(UNKNOWN_TEXT).map(escapeRegExp).join('.*')}$`, 's')
    for (const key of this.keys.keys()) if (re.test(key)) this.keys.set(key, UNKNOWN)
    if (!this.wild.some((w) => w.source === re.source)) this.wild.push(re)
  }

  forgetAll(): void {
    this.base = 'unknown'
    this.keys.clear()
    this.wild.length = 0
  }

  /** Changes whenever what the state says changes (taint's fixpoint). */
  signature(): string {
    const keys = [...this.keys].map(([k, v]) => `${k}=${v === UNKNOWN ? '?' : v === null ? '-' : `'${v}`}`)
    return `${this.base}|${this.wild.length}|${keys.join('\u0001')}`
  }

  clone(): TxState {
    const copy = new TxState()
    copy.base = this.base
    for (const [k, v] of this.keys) copy.keys.set(k, v)
    copy.wild.push(...this.wild)
    return copy
  }

  /** Joins another path's state into this one: what the two disagree on becomes unknown. */
  join(other: TxState): void {
    const keys = new Set([...this.keys.keys(), ...other.keys.keys()])
    const values = [...keys].map((k) => [k, this.get(k), other.get(k)] as const)
    this.base = this.base === 'absent' && other.base === 'absent' ? 'absent' : 'unknown'
    this.keys.clear()
    for (const [k, a, b] of values) this.keys.set(k, a === b ? a : UNKNOWN)
    this.wild.push(...other.wild)
  }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Runs a rule's effects against a TxState. `exact`: the rule matched (its effects ran with these values);
 * otherwise they may or may not have run, so every key they write becomes unknown.
 */
class StandInTx implements ActionTx {
  constructor(
    private readonly state: TxState,
    private readonly exact: boolean,
  ) {}

  expand(macro: Macro, _rule: ActionRuleInfo): string {
    let out = ''
    for (const part of macro) {
      if (typeof part === 'string') out += part
      else if (part.variable === 'TX' && part.key !== undefined) {
        const k = this.state.get(part.key)
        out += k === UNKNOWN ? UNKNOWN_TEXT : (k ?? '')
      } else out += UNKNOWN_TEXT // RULE.*, MATCHED_VAR, request data: not worked out here
    }
    return out
  }

  setVar(collection: string, key: string, op: '=' | '+' | '-' | '!', value: string): void {
    if (collection !== 'tx') return
    if (key.includes(UNKNOWN_TEXT)) return this.state.setSome(key)
    if (!this.exact || value.includes(UNKNOWN_TEXT)) return this.state.set(key, UNKNOWN)
    if (op === '!') return this.state.set(key, null)
    if (op === '=') return this.state.set(key, value)
    const current = this.state.get(key)
    if (current === UNKNOWN) return this.state.set(key, UNKNOWN)
    const n = toInt(current ?? undefined)
    this.state.set(key, String(op === '+' ? n + toInt(value) : n - toInt(value)))
  }

  initCollection(collection: string): void {
    if (collection === 'tx') this.state.forgetAll()
  }

  expireVar(): void {}

  ctl(_command: CtlCommand): void {}
}

const noHits: readonly FoldedHit[] = Object.freeze([])

/** The hits of `step` given `state`, or undefined when they are not the same on every request. */
function outcome(step: RuleStep, state: TxState): readonly FoldedHit[] | undefined {
  const op = step.staticOperator
  if (op === undefined || step.next !== undefined || step.multiMatch || step.capture) return undefined
  if (!PURE_OPERATORS.has(step.operator.name.toLowerCase())) return undefined
  const test = (value: string): boolean => {
    let v = value
    for (const t of step.transforms) v = t(v)
    return (op(v) !== null) !== step.negated
  }
  try {
    if (!step.hasTargets) return test('') ? Object.freeze([foldedHit('', '')]) : noHits
    const hits: FoldedHit[] = []
    for (const target of step.targets) {
      if (target.keyedCollection !== 'tx' || target.excludes.length > 0) return undefined
      const key = target.key!
      const k = state.get(key)
      if (k === UNKNOWN) return undefined
      const value = target.count ? (k === null ? '0' : '1') : k
      if (value !== null && test(value)) hits.push(foldedHit(value, `${target.variable}:${key}`))
    }
    return hits.length === 0 ? noHits : Object.freeze(hits)
  } catch {
    return undefined
  }
}

function runEffects(step: RuleStep, tx: StandInTx): void {
  for (const effect of step.effects) effect(tx, step.rule)
}

/**
 * Effects of a rule (and its chain) that may or may not run, once or once per match: what they write becomes
 * unknown. Run until nothing changes, since a later run can read what an earlier one made unknown (a key
 * named after a value the same rule counts up); a rule that keeps changing things makes all of TX unknown.
 */
function taint(first: RuleStep, state: TxState): void {
  const tx = new StandInTx(state, false)
  for (let round = 0; round < 4; round++) {
    const before = state.signature()
    for (let step: RuleStep | undefined = first; step; step = step.next) {
      // Captures land in TX.0-9 before the effects run.
      if (step.capture) for (let i = 0; i < 10; i++) state.set(String(i), UNKNOWN)
      runEffects(step, tx)
    }
    if (state.signature() === before) return
  }
  state.forgetAll()
}

const STOPS = new Set(['deny', 'drop', 'redirect'])

/**
 * Sets `fold` on every rule of phases 1 and 2 whose outcome is the same on every request (see above).
 * `engine` is the rule set's SecRuleEngine: a deny stops the request only when it is `On`.
 */
export function foldStaticRules(
  phases: readonly PhaseProgram[],
  engine: 'On' | 'Off' | 'DetectionOnly',
): void {
  if (engine === 'Off') return
  // null: no path reaches this point (every one before it stopped or jumped past it).
  let state: TxState | null = new TxState()
  for (const phase of [1, 2]) {
    const { steps, skipTo } = phases[phase]!
    const arriving = new Map<number, TxState[]>()
    const arrive = (at: number, s: TxState): void => {
      const list = arriving.get(at)
      if (list) list.push(s)
      else arriving.set(at, [s])
    }
    const leaving: TxState[] = [] // paths that jump past the end of the phase
    for (let i = 0; i < steps.length; i++) {
      for (const s of arriving.get(i) ?? []) {
        if (state === null) state = s
        else state.join(s)
      }
      const step = steps[i]
      if (step === undefined || state === null) continue
      const rule = step.rule
      if (rule.skip > 0 || rule.disruptive === 'allow') return // not tracked: no folds from here on
      const hits = outcome(step, state)
      if (hits === undefined) {
        taint(step, state)
        if (rule.skipAfter !== undefined) {
          const to = skipTo[i]!
          if (to < 0) leaving.push(state.clone())
          else arrive(to, state.clone())
        }
        continue
      }
      step.fold = hits
      if (hits.length === 0) continue
      const tx = new StandInTx(state, true)
      for (let h = 0; h < hits.length; h++) runEffects(step, tx)
      if (engine === 'On' && STOPS.has(rule.disruptive)) state = null
      else if (rule.skipAfter !== undefined) {
        const to = skipTo[i]!
        if (to < 0) leaving.push(state)
        else arrive(to, state)
        state = null
      }
    }
    for (const s of leaving) {
      if (state === null) state = s
      else state.join(s)
    }
    if (state === null) return
  }
}
