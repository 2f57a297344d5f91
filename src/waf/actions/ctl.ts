/**
 * `ctl` — Description: changes the engine's configuration for the current transaction only.
 * Supported: ruleEngine=On|Off|DetectionOnly, ruleRemoveById=ID|A-B, ruleRemoveByTag=REGEX,
 * ruleRemoveByMsg=REGEX, ruleRemoveTargetById=ID;VAR[:key], ruleRemoveTargetByTag=REGEX;VAR[:key],
 * ruleRemoveTargetByMsg=REGEX;VAR[:key], ruleRemoveTargetById=ID;%{MATCHED_VAR_NAME} (Palisade: removes
 * only the value that matched the current rule from rule ID's targets), requestBodyProcessor=URLENCODED|MULTIPART|JSON|XML,
 * requestBodyAccess=On|Off, forceRequestBodyVariable=On|Off. auditEngine/auditLogParts/debugLogLevel are
 * accepted and ignored (Palisade has no ModSecurity audit log).
 * Arguments: `option=value`.
 * Example SecRule: `SecRule REQUEST_URI "@beginsWith /api/upload" "id:5501,phase:1,pass,nolog,ctl:ruleRemoveTargetById=942100;ARGS:doc"`
 */
import { actionError, requireArg, type ActionDefinition, type CtlCommand } from './action.js'

const IGNORED = new Set(['auditengine', 'auditlogparts', 'debugloglevel', 'hashengine', 'hashenforcement'])

function parseIdRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  for (const part of text.split(/[\s,]+/)) {
    if (part === '') continue
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) actionError(`not a rule id or id range: '${part}'`)
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    if (to < from) actionError(`empty id range '${part}'`)
    ranges.push([from, to])
  }
  if (ranges.length === 0) actionError('missing rule id')
  return ranges
}

function regex(text: string): RegExp {
  try {
    return new RegExp(text)
  } catch (cause) {
    return actionError(`invalid regular expression '${text}': ${String(cause)}`)
  }
}

function onOff(name: string, value: string): boolean {
  const v = value.toLowerCase()
  if (v === 'on') return true
  if (v === 'off') return false
  return actionError(`ctl:${name} takes On or Off, got '${value}'`)
}

function splitTarget(name: string, value: string): [string, string] {
  const semi = value.indexOf(';')
  if (semi <= 0 || semi === value.length - 1)
    actionError(`ctl:${name} needs 'which;VARIABLE', got '${value}'`)
  return [value.slice(0, semi), value.slice(semi + 1)]
}

/** Parses the argument of `ctl:` (exported for tests and for Palisade's exclusion settings). */
export function parseCtl(text: string): CtlCommand {
  const eq = text.indexOf('=')
  if (eq <= 0) actionError(`ctl needs 'option=value', got '${text}'`)
  const option = text.slice(0, eq).trim()
  const value = text.slice(eq + 1).trim()
  switch (option.toLowerCase()) {
    case 'ruleengine': {
      const mode = ['On', 'Off', 'DetectionOnly'].find((m) => m.toLowerCase() === value.toLowerCase())
      if (!mode) actionError(`ctl:ruleEngine takes On, Off or DetectionOnly, got '${value}'`)
      return { kind: 'ruleEngine', mode: mode as 'On' | 'Off' | 'DetectionOnly' }
    }
    case 'ruleremovebyid':
      return { kind: 'ruleRemoveById', ranges: parseIdRanges(value) }
    case 'ruleremovebytag':
      return { kind: 'ruleRemoveByTag', pattern: regex(value) }
    case 'ruleremovebymsg':
      return { kind: 'ruleRemoveByMsg', pattern: regex(value) }
    case 'ruleremovetargetbyid': {
      const [which, target] = splitTarget(option, value)
      // Palisade extension: the value that matched the rule running this ctl (one value, not every
      // value of that name: `a=prose&a=payload` keeps the payload in view).
      if (target.toUpperCase() === '%{MATCHED_VAR_NAME}')
        return { kind: 'ruleRemoveMatchedValueById', ranges: parseIdRanges(which) }
      return { kind: 'ruleRemoveTargetById', ranges: parseIdRanges(which), target }
    }
    case 'ruleremovetargetbytag': {
      const [which, target] = splitTarget(option, value)
      return { kind: 'ruleRemoveTargetByTag', pattern: regex(which), target }
    }
    case 'ruleremovetargetbymsg': {
      const [which, target] = splitTarget(option, value)
      return { kind: 'ruleRemoveTargetByMsg', pattern: regex(which), target }
    }
    case 'requestbodyprocessor': {
      const p = value.toUpperCase()
      if (p !== 'URLENCODED' && p !== 'MULTIPART' && p !== 'JSON' && p !== 'XML') {
        actionError(`ctl:requestBodyProcessor takes URLENCODED, MULTIPART, JSON or XML, got '${value}'`)
      }
      return { kind: 'requestBodyProcessor', processor: p }
    }
    case 'requestbodyaccess':
      return { kind: 'requestBodyAccess', on: onOff(option, value) }
    case 'forcerequestbodyvariable':
      return { kind: 'forceRequestBodyVariable', on: onOff(option, value) }
    default:
      if (IGNORED.has(option.toLowerCase())) return { kind: 'ignored' }
      return actionError(`unsupported ctl option '${option}'`)
  }
}

export const ctl: ActionDefinition = {
  name: 'ctl',
  kind: 'nondisruptive',
  init(rule, arg) {
    const command = parseCtl(requireArg('ctl', arg))
    if (command.kind === 'ignored') return
    rule.effects.push((tx) => tx.ctl(command))
  },
}
