/**
 * Description: no transformation. In a rule's action list `t:none` also clears the transformations
 * inherited from SecDefaultAction; that part is the engine's job, here it is the identity.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx attack" "id:1,phase:2,t:none,deny"
 */
export function none(input: string): string {
  return input
}
