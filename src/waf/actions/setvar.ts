/**
 * `setvar` — Description: sets, adds to, subtracts from or deletes a collection variable on a match.
 * Macros in the name and value are expanded per transaction.
 * Arguments: `col.name=value`, `col.name=+N`, `col.name=-N`, `!col.name`, or `col.name` (sets 1).
 * Example SecRule: `SecRule ARGS "@detectSQLi" "id:5001,phase:2,pass,setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"`
 */
import { actionError, requireArg, type ActionDefinition } from './action.js'
import { constantMacro, parseMacro } from './macro.js'

export const setvar: ActionDefinition = {
  name: 'setvar',
  kind: 'nondisruptive',
  init(rule, arg) {
    let text = requireArg('setvar', arg).trim()
    let remove = false
    if (text.startsWith('!')) {
      remove = true
      text = text.slice(1)
    }
    const eq = text.indexOf('=')
    const name = eq < 0 ? text : text.slice(0, eq)
    let value = eq < 0 ? '1' : text.slice(eq + 1)
    const dot = name.indexOf('.')
    if (dot <= 0 || dot === name.length - 1) actionError(`setvar needs 'collection.name', got '${name}'`)
    const collection = name.slice(0, dot).toLowerCase()
    const keyMacro = parseMacro(name.slice(dot + 1))
    const constKey = constantMacro(keyMacro)?.toLowerCase()
    let op: '=' | '+' | '-' | '!' = remove ? '!' : '='
    if (!remove && (value.startsWith('+') || value.startsWith('-'))) {
      op = value[0] as '+' | '-'
      value = value.slice(1)
    }
    const valueMacro = parseMacro(value)
    const constValue = constantMacro(valueMacro)
    rule.effects.push((tx, info) => {
      const key = constKey ?? tx.expand(keyMacro, info).toLowerCase()
      tx.setVar(collection, key, op, constValue ?? tx.expand(valueMacro, info))
    })
  },
}
