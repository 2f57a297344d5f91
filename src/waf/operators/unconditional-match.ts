/**
 * Description: always matches.
 * Arguments: none.
 * Example SecRule: SecRule REMOTE_ADDR "@unconditionalMatch" "id:1,phase:1,t:none,pass,nolog,setvar:tx.seen=1"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const unconditionalMatch: OperatorFactory = () => () => MATCH_WITHOUT_CAPTURE
