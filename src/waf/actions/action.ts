/**
 * Contract between SecLang actions and the engine. Actions are leaves: they never import seclang/ or
 * engine/. At load time an action's `init` records what it means on a `RuleDraft`; actions that do
 * something while traffic flows (setvar, ctl, ...) return a `RuntimeAction` the engine runs on a match.
 */
import type { Macro } from './macro.js'

export type ActionKind = 'metadata' | 'disruptive' | 'flow' | 'data' | 'nondisruptive'

export type DisruptiveAction = 'deny' | 'drop' | 'redirect' | 'pass' | 'allow' | 'block'

/** A rule under construction; metadata and flow actions fill it in. */
export interface RuleDraft {
  id: number
  phase: 1 | 2 | 3 | 4 | 5 | undefined
  msg: Macro | undefined
  logdata: Macro | undefined
  tags: string[]
  severity: number | undefined
  ver: string | undefined
  rev: string | undefined
  accuracy: number | undefined
  maturity: number | undefined
  disruptive: DisruptiveAction | undefined
  allowScope: 'all' | 'phase' | 'request'
  status: number | undefined
  redirectUrl: Macro | undefined
  chain: boolean
  skip: number
  skipAfter: string | undefined
  capture: boolean
  multiMatch: boolean
  log: boolean | undefined
  auditlog: boolean | undefined
  /** Transformation names in order; `none` clears what came before (including defaults). */
  transforms: string[]
  /** True once `t:none` was seen: SecDefaultAction transformations are not inherited. */
  transformsReset: boolean
  /** Non-disruptive actions run, in order, when the rule matches. */
  effects: RuntimeAction[]
}

/** What runtime actions may read about the rule that matched (for `%{rule.*}` macros). */
export interface ActionRuleInfo {
  readonly id: number
  readonly msg: Macro | undefined
  readonly logdata: Macro | undefined
  readonly severity: number | undefined
  readonly tags: readonly string[]
  readonly ver: string | undefined
  readonly rev: string | undefined
}

/** A `ctl:` change to one transaction. */
export type CtlCommand =
  | { kind: 'ruleEngine'; mode: 'On' | 'Off' | 'DetectionOnly' }
  | { kind: 'ruleRemoveById'; ranges: Array<[number, number]> }
  | { kind: 'ruleRemoveByTag'; pattern: RegExp }
  | { kind: 'ruleRemoveByMsg'; pattern: RegExp }
  | { kind: 'ruleRemoveTargetById'; ranges: Array<[number, number]>; target: string }
  | { kind: 'ruleRemoveTargetByTag'; pattern: RegExp; target: string }
  | { kind: 'ruleRemoveTargetByMsg'; pattern: RegExp; target: string }
  /** `ctl:ruleRemoveTargetById=ID;%{MATCHED_VAR_NAME}`: only the value that matched, not its name. */
  | { kind: 'ruleRemoveMatchedValueById'; ranges: Array<[number, number]> }
  | { kind: 'requestBodyProcessor'; processor: 'URLENCODED' | 'MULTIPART' | 'JSON' | 'XML' }
  | { kind: 'requestBodyAccess'; on: boolean }
  | { kind: 'forceRequestBodyVariable'; on: boolean }
  | { kind: 'ignored' }

/** What a runtime action may do to the transaction. Implemented by the engine. */
export interface ActionTx {
  expand(macro: Macro, rule: ActionRuleInfo): string
  /** `op`: '=' set, '+' add, '-' subtract, '!' delete. Collection names are lower-case (`tx`, `ip`). */
  setVar(collection: string, key: string, op: '=' | '+' | '-' | '!', value: string): void
  expireVar(collection: string, key: string, seconds: number): void
  /** initcol/setuid/setsid: binds a persistent collection to a key for this transaction. */
  initCollection(collection: string, key: string): void
  ctl(command: CtlCommand): void
}

export type RuntimeAction = (tx: ActionTx, rule: ActionRuleInfo) => void

/** One action's definition: `init` validates the argument (throwing an Error with a clear message). */
export interface ActionDefinition {
  readonly name: string
  readonly kind: ActionKind
  init(rule: RuleDraft, arg: string | undefined): void
}

/** Throws a plain Error; seclang wraps it in a WafConfigError that names the file, line and column. */
export function actionError(message: string): never {
  throw new Error(message)
}

export function requireArg(name: string, arg: string | undefined): string {
  if (arg === undefined || arg === '') actionError(`action '${name}' needs an argument`)
  return arg
}

export function forbidArg(name: string, arg: string | undefined): void {
  if (arg !== undefined) actionError(`action '${name}' takes no argument`)
}

/** A rule with no actions applied yet (the parser fills it action by action). */
export function emptyRuleDraft(): RuleDraft {
  return {
    id: 0,
    phase: undefined,
    msg: undefined,
    logdata: undefined,
    tags: [],
    severity: undefined,
    ver: undefined,
    rev: undefined,
    accuracy: undefined,
    maturity: undefined,
    disruptive: undefined,
    allowScope: 'all',
    status: undefined,
    redirectUrl: undefined,
    chain: false,
    skip: 0,
    skipAfter: undefined,
    capture: false,
    multiMatch: false,
    log: undefined,
    auditlog: undefined,
    transforms: [],
    transformsReset: false,
    effects: [],
  }
}
