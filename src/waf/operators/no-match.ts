/**
 * Description: never matches.
 * Arguments: none.
 * Example SecRule: SecRule REMOTE_ADDR "@noMatch" "id:1,phase:1,t:none,pass,nolog"
 */
import type { OperatorFactory } from './operator.js'

export const noMatch: OperatorFactory = () => () => null
