import type { ActionDefinition } from './action.js'
import { capture, multiMatch } from './capture.js'
import { ctl } from './ctl.js'
import { allow, block, deny, drop, pass, proxy, redirect, status } from './disruptive.js'
import { expirevar } from './expirevar.js'
import { chain, skip, skipAfter } from './flow.js'
import { initcol, setsid, setuid } from './initcol.js'
import * as logging from './logging.js'
import { accuracy, id, logdata, maturity, msg, phase, rev, severity, tag, ver } from './metadata.js'
import { setvar } from './setvar.js'
import { t } from './transform.js'

export type {
  ActionDefinition,
  ActionKind,
  ActionRuleInfo,
  ActionTx,
  CtlCommand,
  DisruptiveAction,
  RuleDraft,
  RuntimeAction,
} from './action.js'
export { emptyRuleDraft } from './action.js'
export { parseMacro, constantMacro, hasMacro } from './macro.js'
export type { Macro, MacroRef } from './macro.js'
export { parseCtl } from './ctl.js'

const ALL: ActionDefinition[] = [
  id,
  phase,
  msg,
  logdata,
  tag,
  severity,
  ver,
  rev,
  accuracy,
  maturity,
  deny,
  block,
  drop,
  pass,
  allow,
  redirect,
  proxy,
  status,
  chain,
  skip,
  skipAfter,
  logging.log,
  logging.nolog,
  logging.auditlog,
  logging.noauditlog,
  logging.sanitiseArg,
  logging.sanitiseMatched,
  logging.sanitiseMatchedBytes,
  logging.sanitiseRequestHeader,
  logging.sanitiseResponseHeader,
  setvar,
  expirevar,
  initcol,
  setuid,
  setsid,
  capture,
  multiMatch,
  t,
  ctl,
]

/** Every SecLang action Palisade implements, keyed in SecLang spelling. */
export const ACTIONS: ReadonlyMap<string, ActionDefinition> = new Map(ALL.map((a) => [a.name, a]))

const byLowerName: ReadonlyMap<string, ActionDefinition> = new Map(ALL.map((a) => [a.name.toLowerCase(), a]))

/** Finds an action by name, case-insensitively. */
export function findAction(name: string): ActionDefinition | undefined {
  return byLowerName.get(name.toLowerCase())
}
