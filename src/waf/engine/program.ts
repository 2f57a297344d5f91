/**
 * A rule set compiled for running. The loader's rules carry what SecLang said (selectors, operator
 * names, action lists) in objects of many shapes; the engine's hot loop reads them ~300 times per
 * request. Here every rule of a phase becomes a `RuleStep` and every target a `TargetStep`: one class
 * each, fields set once in the constructor, so the loop's property reads stay monomorphic, and
 * everything that does not depend on the transaction (variable definitions, exclusions, the static
 * operator, the transformation functions, marker positions) is resolved once per rule set.
 */
import type { RuntimeAction } from '../actions/action.js'
import type { Operator } from '../operators/operator.js'
import type { Transform } from '../transforms/transform.js'
import { findVariable, selectorCovers } from '../variables/index.js'
import type { Entry, TransactionData, VariableDefinition } from '../variables/variable.js'
import { foldStaticRules, type FoldedHit } from './fold.js'
import { MissMemo } from './miss-memo.js'
import type { CompiledOperator, Rule, RuleSet, VariableSelector } from './rule.js'
import type { MatchedRule } from './types.js'

/** Operators whose work on a value costs more than remembering the answer (all are pure functions of it). */
const MEMO_OPERATORS = new Set([
  'rx',
  'pm',
  'pmfromfile',
  'pmf',
  'detectsqli',
  'detectxss',
  'validatebyterange',
  'validateurlencoding',
  'validateutf8encoding',
  'containsword',
  'strmatch',
  'istext',
])
/** Characters of remembered values per rule set (with their records, ~16 MB at most), and the longest one. */
const MEMO_BUDGET = 8 * 1024 * 1024
const MEMO_MAX_VALUE = 2048

const NO_EXCLUDES: readonly VariableSelector[] = Object.freeze([])

/** One target of a rule (`ARGS`, `REQUEST_HEADERS:User-Agent`, `&TX:x`), with the rule's own `!` exclusions. */
export class TargetStep {
  readonly selector: VariableSelector
  readonly variable: string
  /** Literal key, lower-case (XML: the XPath); undefined for the whole variable. */
  readonly key: string | undefined
  readonly keyRegex: RegExp | undefined
  /** `keyRegex` as a test; a plain `^prefix` pattern becomes a prefix comparison (CRS's `TX:/^header_name_/`). */
  readonly keyMatches: ((key: string) => boolean) | undefined
  readonly count: boolean
  readonly xml: boolean
  /** The variable has keys: matched names read `VAR:key`. */
  readonly collection: boolean
  /** Values can change within a phase (TX, MATCHED_*): never cached. */
  readonly volatile: boolean
  readonly read: (data: TransactionData) => readonly Entry[]
  readonly readKey: ((data: TransactionData, key: string) => readonly Entry[]) | undefined
  readonly definition: VariableDefinition
  /** TX, IP, GLOBAL, ... with a literal key: the collection to read that key from (see VariableDefinition). */
  readonly keyedCollection: string | undefined
  readonly excludes: readonly VariableSelector[]
  /** The rule excludes some keys of this variable (`excludes` is not empty): read without loading the list. */
  readonly hasExcludes: boolean
  /** `excludes` as key tests (`!REQUEST_COOKIES:/__utm/` on every cookie of ~60 CRS rules). */
  readonly excludeTests: ReadonlyArray<(key: string) => boolean>
  /**
   * The engine reads this target's values as one list that stays the same for the whole phase (a
   * non-volatile variable, whole or by literal key), so what is known about the list can be kept beside it.
   */
  readonly phaseList: boolean
  /**
   * For a `phaseList` target, the number of its list among the rule set's (the same variable and key, the same
   * number), so a transaction keeps the list and what it knows about it in arrays instead of maps; -1 otherwise.
   * Set by compilePhases.
   */
  slot = -1
  /** XML targets: 1 for `XML://@*` (attributes), 2 for `XML:/*` (texts), 0 for any other path. */
  readonly xmlPath: 0 | 1 | 2

  constructor(
    selector: VariableSelector,
    definition: VariableDefinition,
    excludes: readonly VariableSelector[],
  ) {
    this.selector = selector
    this.variable = selector.variable
    this.key = selector.key
    this.keyRegex = selector.keyRegex
    this.keyMatches = selector.keyRegex === undefined ? undefined : keyTest(selector.keyRegex)
    this.count = selector.count
    this.xml = selector.variable === 'XML'
    this.collection = definition.collection
    this.volatile = definition.volatile === true
    this.read = definition.get.bind(definition)
    this.readKey = definition.getKey?.bind(definition)
    this.definition = definition
    this.keyedCollection = selector.key === undefined ? undefined : definition.keyedCollection
    this.excludes = excludes.length === 0 ? NO_EXCLUDES : excludes
    this.hasExcludes = excludes.length > 0
    this.excludeTests = excludes.map(excludeTest)
    this.phaseList =
      !this.volatile &&
      !this.xml &&
      !this.count &&
      this.keyedCollection === undefined &&
      (this.key === undefined || this.readKey === undefined)
    const path = (this.key ?? '').trim()
    this.xmlPath = path === '//@*' ? 1 : path === '/*' || path === '' ? 2 : 0
  }
}

/**
 * A selector regex as a key test (selectors are case-insensitive and dot-all). A plain `^prefix` becomes a
 * prefix comparison and a plain word a substring search (CRS's `TX:/^header_name_/`, `!REQUEST_COOKIES:/__utm/`).
 */
function keyTest(re: RegExp): (key: string) => boolean {
  const literal = /^(\^?)([A-Za-z0-9_-]+)$/.exec(re.source)
  if (literal === null) return (key) => re.test(key)
  const text = literal[2]!.toLowerCase()
  if (literal[1] === '^') {
    const n = text.length
    return (key) => {
      if (key.length < n) return false
      // ASCII (every key CRS names): compared in place, without the lower-case copy of the prefix.
      for (let i = 0; i < n; i++) {
        let c = key.charCodeAt(i)
        if (c >= 0x80) return key.slice(0, n).toLowerCase() === text
        if (c >= 0x41 && c <= 0x5a) c |= 0x20
        if (c !== text.charCodeAt(i)) return false
      }
      return true
    }
  }
  return (key) => key.length >= text.length && key.toLowerCase().includes(text)
}

/** Whether an exclusion (`!VAR`, `!VAR:key`, `!VAR:/re/`) covers a key of its variable: selectorCovers, with keyTest's shortcuts for a regex. */
function excludeTest(x: VariableSelector): (key: string) => boolean {
  if (x.keyRegex !== undefined) return keyTest(x.keyRegex)
  return (key) => selectorCovers(x, x.variable, key)
}

/** One rule of a chain, ready to run. */
export class RuleStep {
  readonly rule: Rule
  readonly id: number
  /** The rule lists targets (even if all of them are exclusions or unknown). */
  readonly hasTargets: boolean
  readonly targets: readonly TargetStep[]
  readonly operator: CompiledOperator
  /** The operator when its parameter has no macro; otherwise compiled per expanded value. */
  readonly staticOperator: Operator | undefined
  readonly negated: boolean
  readonly transforms: readonly Transform[]
  readonly transformKey: number
  readonly multiMatch: boolean
  readonly capture: boolean
  readonly effects: readonly RuntimeAction[]
  readonly next: RuleStep | undefined
  /** This rule's bit in the MissMemo records, or -1 when it does not take part. */
  readonly missBit: number
  /** What a match of this rule records when the rule does not log and does not interrupt (the same each time). */
  readonly quietMatch: MatchedRule
  /**
   * The matches this rule has on every request (none: it never matches), when they do not depend on the request;
   * set once by foldStaticRules after the whole program is built.
   */
  fold: readonly FoldedHit[] | undefined = undefined

  constructor(rule: Rule, memo: MissMemo) {
    this.rule = rule
    this.id = rule.id
    this.hasTargets = rule.targets.length > 0
    this.targets = planTargets(rule)
    this.operator = rule.operator
    this.staticOperator = rule.operator.run
    this.negated = rule.operator.negated
    this.transforms = rule.transforms.map((t) => t.fn)
    this.transformKey = rule.transformKey
    this.multiMatch = rule.multiMatch
    this.capture = rule.capture
    this.effects = rule.effects
    this.next = rule.chainedRule ? new RuleStep(rule.chainedRule, memo) : undefined
    // Cheap operators (@eq, @streq, ...) answer faster than a set lookup. A multiMatch rule's miss is "no stage
    // of the value matched"; negated, it matches at the first stage that misses, so it never learns that.
    const worthIt = MEMO_OPERATORS.has(rule.operator.name.toLowerCase())
    const learns = !(rule.multiMatch && rule.operator.negated)
    this.missBit = worthIt && this.staticOperator !== undefined && learns ? memo.enrol() : -1
    this.quietMatch = Object.freeze({
      id: rule.id,
      phase: rule.phase,
      msg: '',
      logdata: '',
      data: '',
      tags: rule.tags,
      severity: rule.severity,
      log: false,
      disruptive: false,
    })
  }
}

export interface CompiledPhases {
  /** Index 1..5 (0 is empty, as in `RuleSet.phases`). */
  readonly phases: readonly PhaseProgram[]
  /** What the rules found nothing in, across transactions. */
  readonly misses: MissMemo
  /** How many list slots the targets use (TargetStep.slot). */
  readonly slots: number
}

/** A phase's rules in file order; `undefined` where the list has a SecMarker. */
export interface PhaseProgram {
  readonly steps: ReadonlyArray<RuleStep | undefined>
  /**
   * For a rule with skipAfter, the position of the first marker of that name after it (evaluation goes on
   * from there), or -1 when there is none (the phase ends); -1 for every other position.
   */
  readonly skipTo: readonly number[]
}

function planTargets(rule: Rule): TargetStep[] {
  const steps: TargetStep[] = []
  for (const sel of rule.targets) {
    if (sel.exclude) continue
    const definition = findVariable(sel.variable)
    if (!definition) continue
    const excludes = rule.targets.filter((x) => x.exclude && x.variable === sel.variable)
    steps.push(new TargetStep(sel, definition, excludes))
  }
  return steps
}

/**
 * Compiles phases 1–5 of a rule set (index 0 is empty, as in `RuleSet.phases`); with `fold`, works out the
 * outcomes that do not depend on the request (fold.ts).
 */
export function compilePhases(ruleSet: RuleSet, fold = true): CompiledPhases {
  const misses = new MissMemo(MEMO_BUDGET, MEMO_MAX_VALUE)
  const phases = ruleSet.phases.map((entries) => {
    const markers = new Map<string, number[]>()
    const steps = entries.map((e, i) => {
      if (e.kind === 'rule') return new RuleStep(e.rule, misses)
      const list = markers.get(e.name)
      if (list) list.push(i)
      else markers.set(e.name, [i])
      return undefined
    })
    const skipTo = steps.map((step, i) => {
      const name = step?.rule.skipAfter
      if (name === undefined) return -1
      return markers.get(name)?.find((at) => at > i) ?? -1
    })
    return { steps, skipTo }
  })
  if (fold) foldStaticRules(phases, ruleSet.config.ruleEngine)
  return { phases, misses, slots: numberLists(phases) }
}

/** Gives every `phaseList` target the slot of its list (one per variable and literal key); answers how many. */
function numberLists(phases: readonly PhaseProgram[]): number {
  const byDefinition = new Map<VariableDefinition, Map<string | undefined, number>>()
  let slots = 0
  for (const phase of phases) {
    for (const first of phase.steps) {
      for (let step = first; step !== undefined; step = step.next) {
        for (const target of step.targets) {
          if (!target.phaseList) continue
          let byKey = byDefinition.get(target.definition)
          if (byKey === undefined)
            byDefinition.set(target.definition, (byKey = new Map<string | undefined, number>()))
          let slot = byKey.get(target.key)
          if (slot === undefined) byKey.set(target.key, (slot = slots++))
          target.slot = slot
        }
      }
    }
  }
  return slots
}
