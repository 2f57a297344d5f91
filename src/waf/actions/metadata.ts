/**
 * Metadata actions: they describe a rule and do nothing on a match.
 *
 * - `id` — Description: the rule's unique number. Arguments: a positive integer.
 *   Example: `SecRule ARGS "@rx a" "id:1001,phase:2,pass"`
 * - `phase` — Description: when the rule runs. Arguments: 1..5 or `request` (2), `response` (4), `logging` (5).
 *   Example: `SecRule REQUEST_HEADERS:Host "@rx ^$" "id:1002,phase:request,deny"`
 * - `msg` / `logdata` — Description: log message and logged data; macros are expanded on a match.
 *   Arguments: text. Example: `SecRule ARGS "@rx x" "id:1003,msg:'Found %{MATCHED_VAR_NAME}',logdata:'%{MATCHED_VAR}'"`
 * - `tag` — Description: a label, used by `ctl:ruleRemoveByTag` and exclusions. Arguments: text (repeatable).
 *   Example: `SecRule ARGS "@rx x" "id:1004,tag:'attack-sqli',tag:'paranoia-level/1'"`
 * - `severity` — Description: 0..7 or a name (EMERGENCY .. DEBUG). Example: `"id:1005,severity:'CRITICAL'"`
 * - `ver`, `rev`, `accuracy`, `maturity` — Description: provenance and quality notes. Arguments: text / 1..9.
 *   Example: `"id:1006,ver:'OWASP_CRS/3.3.4',accuracy:9,maturity:9"`
 */
import { actionError, requireArg, type ActionDefinition } from './action.js'
import { parseMacro } from './macro.js'

const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG']
const PHASE_NAMES: Record<string, 1 | 2 | 3 | 4 | 5> = { request: 2, response: 4, logging: 5 }

export const id: ActionDefinition = {
  name: 'id',
  kind: 'metadata',
  init(rule, arg) {
    const text = requireArg('id', arg)
    if (!/^\d+$/.test(text)) actionError(`id must be a positive integer, got '${text}'`)
    const n = Number(text)
    if (n <= 0 || n > 2 ** 31) actionError(`id out of range: ${text}`)
    rule.id = n
  },
}

export const phase: ActionDefinition = {
  name: 'phase',
  kind: 'metadata',
  init(rule, arg) {
    const text = requireArg('phase', arg).toLowerCase()
    const named = PHASE_NAMES[text]
    if (named !== undefined) {
      rule.phase = named
      return
    }
    if (!/^[1-5]$/.test(text)) actionError(`phase must be 1..5, request, response or logging; got '${text}'`)
    rule.phase = Number(text) as 1 | 2 | 3 | 4 | 5
  },
}

export const msg: ActionDefinition = {
  name: 'msg',
  kind: 'metadata',
  init(rule, arg) {
    rule.msg = parseMacro(arg ?? '')
  },
}

export const logdata: ActionDefinition = {
  name: 'logdata',
  kind: 'nondisruptive',
  init(rule, arg) {
    rule.logdata = parseMacro(arg ?? '')
  },
}

export const tag: ActionDefinition = {
  name: 'tag',
  kind: 'metadata',
  init(rule, arg) {
    rule.tags.push(requireArg('tag', arg))
  },
}

export const severity: ActionDefinition = {
  name: 'severity',
  kind: 'metadata',
  init(rule, arg) {
    const text = requireArg('severity', arg)
    if (/^[0-7]$/.test(text)) {
      rule.severity = Number(text)
      return
    }
    const index = SEVERITIES.indexOf(text.toUpperCase())
    if (index < 0) actionError(`unknown severity '${text}'`)
    rule.severity = index
  },
}

export const ver: ActionDefinition = {
  name: 'ver',
  kind: 'metadata',
  init(rule, arg) {
    rule.ver = requireArg('ver', arg)
  },
}

export const rev: ActionDefinition = {
  name: 'rev',
  kind: 'metadata',
  init(rule, arg) {
    rule.rev = requireArg('rev', arg)
  },
}

function oneToNine(name: string, arg: string | undefined): number {
  const text = requireArg(name, arg)
  if (!/^[1-9]$/.test(text)) actionError(`${name} must be 1..9, got '${text}'`)
  return Number(text)
}

export const accuracy: ActionDefinition = {
  name: 'accuracy',
  kind: 'metadata',
  init(rule, arg) {
    rule.accuracy = oneToNine('accuracy', arg)
  },
}

export const maturity: ActionDefinition = {
  name: 'maturity',
  kind: 'metadata',
  init(rule, arg) {
    rule.maturity = oneToNine('maturity', arg)
  },
}
