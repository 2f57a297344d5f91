/**
 * `expirevar` — Description: makes a persistent-collection variable expire N seconds from now.
 * Arguments: `col.name=seconds` (macros allowed in both).
 * Example SecRule: `SecRule IP:DOS_COUNTER "@gt 10" "id:5101,phase:5,pass,setvar:ip.dos_block=1,expirevar:ip.dos_block=60"`
 */
import { actionError, requireArg, type ActionDefinition } from './action.js'
import { parseMacro } from './macro.js'

export const expirevar: ActionDefinition = {
  name: 'expirevar',
  kind: 'nondisruptive',
  init(rule, arg) {
    const text = requireArg('expirevar', arg).trim()
    const eq = text.indexOf('=')
    const name = eq < 0 ? text : text.slice(0, eq)
    const dot = name.indexOf('.')
    if (dot <= 0) actionError(`expirevar needs 'collection.name=seconds', got '${text}'`)
    const collection = name.slice(0, dot).toLowerCase()
    const key = parseMacro(name.slice(dot + 1))
    const seconds = parseMacro(eq < 0 ? '0' : text.slice(eq + 1))
    rule.effects.push((tx, info) => {
      const n = Number.parseInt(tx.expand(seconds, info), 10)
      tx.expireVar(collection, tx.expand(key, info).toLowerCase(), Number.isFinite(n) ? n : 0)
    })
  },
}
