/**
 * The compiled form of SecLang: what seclang/ produces and engine/ runs. Built once per rule set.
 */
import type { ActionRuleInfo, DisruptiveAction, RuntimeAction } from '../actions/action.js'
import type { Macro } from '../actions/macro.js'
import type { Operator } from '../operators/operator.js'
import type { RegexSetPrefilter } from '../operators/regex-set.js'
import type { Transform } from '../transforms/transform.js'
import type { Phase } from './types.js'

/** One `VAR`, `VAR:key`, `VAR:/regex/`, `&VAR`, or `!VAR:key` element of a rule's target list. */
export interface VariableSelector {
  /** Upper-case: `ARGS`, `REQUEST_HEADERS`, `TX`, `XML`. */
  readonly variable: string
  /** Literal key, lower-cased (keys are case-insensitive as in ModSecurity); XML keeps the XPath. */
  readonly key: string | undefined
  readonly keyRegex: RegExp | undefined
  /** `&VAR`: the number of values instead of the values. */
  readonly count: boolean
  /** `!VAR:key`: removes matching values of VAR from the rule's other targets. */
  readonly exclude: boolean
  /** As written, for messages and `ruleRemoveTarget*` matching. */
  readonly text: string
}

export interface CompiledOperator {
  readonly name: string
  readonly param: string
  readonly negated: boolean
  /** Compiled once; undefined when the parameter has macros (then compiled per expanded value, cached). */
  readonly run: Operator | undefined
  readonly paramMacro: Macro | undefined
  readonly compile: (param: string) => Operator
}

export interface CompiledTransform {
  readonly name: string
  readonly fn: Transform
}

export interface Rule extends ActionRuleInfo {
  readonly phase: Phase
  readonly file: string
  readonly line: number
  /** Mutable during loading only (SecRuleUpdateTarget*). */
  targets: VariableSelector[]
  readonly operator: CompiledOperator
  transforms: CompiledTransform[]
  /** Interned id of the transformation chain, for the per-transaction cache. */
  transformKey: number
  readonly effects: readonly RuntimeAction[]
  readonly accuracy: number | undefined
  readonly maturity: number | undefined
  /** After SecDefaultAction merge; `block` is resolved to the default's action. */
  disruptive: DisruptiveAction
  readonly allowScope: 'all' | 'phase' | 'request'
  status: number | undefined
  readonly redirectUrl: Macro | undefined
  readonly chainedRule: Rule | undefined
  readonly skip: number
  readonly skipAfter: string | undefined
  readonly capture: boolean
  readonly multiMatch: boolean
  log: boolean
  readonly auditlog: boolean
}

/** An entry of a phase's rule list: a rule (chain starter) or a SecMarker. */
export type RuleEntry = { kind: 'rule'; rule: Rule } | { kind: 'marker'; name: string }

export interface RuleSetConfig {
  ruleEngine: 'On' | 'Off' | 'DetectionOnly'
  requestBodyAccess: boolean
  responseBodyAccess: boolean
  requestBodyLimit: number
  requestBodyNoFilesLimit: number
  requestBodyLimitAction: 'Reject' | 'ProcessPartial'
  responseBodyLimit: number
  responseBodyLimitAction: 'Reject' | 'ProcessPartial'
  responseBodyMimeTypes: string[]
  /** Seconds. */
  collectionTimeout: number
  componentSignatures: string[]
  /** JSON nesting beyond this is a body error (defends the parser against deep-nesting DoS). */
  requestBodyJsonDepthLimit: number
  /** Maximum number of arguments a body processor creates before flagging an error. */
  argumentsLimit: number
}

/** A compiled, immutable-after-load rule set. Create with `loadRuleSet` / `crsRuleSet`. */
export interface RuleSet {
  readonly config: Readonly<RuleSetConfig>
  /** Index 1..5; each list in file order, with markers present in every phase. */
  readonly phases: ReadonlyArray<readonly RuleEntry[]>
  /** All chain starters, in file order. */
  readonly rules: readonly Rule[]
  /** Non-fatal notes from loading (e.g. an operator that is accepted but never matches). */
  readonly warnings: readonly string[]
  /** Number of distinct transformation chains (size of the per-transaction cache table). */
  readonly transformChains: number
  /** The RE2 set over the rule set's `@rx` patterns, with its remembered answers. */
  readonly regexSet: RegexSetPrefilter
}
