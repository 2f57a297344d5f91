import type { paths } from '../../api/schema'
import type { Role } from '../../session'

export type Env = paths['/v1/environments/{id}']['get']['responses'][200]['content']['application/json']

/** What every environment tab receives: the environment and the signed-in member's role in its workspace. */
export interface EnvTabProps {
  readonly env: Env
  readonly role: Role | undefined
}
