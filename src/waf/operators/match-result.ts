import type { OperatorMatch } from './operator.js'

/** A match with nothing to capture. Frozen and shared: operators allocate nothing per call. */
export const MATCH_WITHOUT_CAPTURE: OperatorMatch = Object.freeze({ captures: Object.freeze([]) })

/** A frozen match whose TX.0 is always `text` (the parameter of @contains, @beginsWith, ...). */
export function fixedMatch(text: string): OperatorMatch {
  return Object.freeze({ captures: Object.freeze([text]) })
}
