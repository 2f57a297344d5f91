/**
 * Workspaces → projects → environments, their variables and the first-start setup.
 * Every use case takes the principal first, authorizes through iam and records its audit event
 * in the same transaction as the change.
 * @example const env = await tenancy.environments.create(principal, ctx, projectId, { name: 'main' })
 */
import type { TenancyDeps } from './deps.js'
import { createEnvironments } from './environments.js'
import { createProjects } from './projects.js'
import { createSetup } from './setup.js'
import { createVariables } from './variables.js'
import { createWorkspaces } from './workspaces.js'
import { createWafSettings } from './waf-settings.js'
import { createTenancyEvents } from './events.js'
import { createSecretValues } from './secret-values.js'

export function createTenancy(deps: TenancyDeps) {
  const events = createTenancyEvents()
  const environments = createEnvironments(deps, events)
  return {
    setup: createSetup(deps),
    workspaces: createWorkspaces(deps, events),
    projects: createProjects(deps, events),
    environments,
    variables: createVariables(deps, environments, events),
    waf: createWafSettings(deps, environments),
    /** Committed changes others react to: renamed hosts (routes are republished), changed variables. */
    events,
    /** Plain secret variable values per environment, for masking them in the edge's logs; `load()` at start. */
    secretValues: createSecretValues(deps, events),
  }
}
export type Tenancy = ReturnType<typeof createTenancy>

export type { TenancyDeps, Page, PageRequest } from './deps.js'
export { MAX_PAGE, DEFAULT_PAGE, DEFAULT_RUNTIME } from './deps.js'
export type { Workspace, WorkspacePatch } from './workspaces.js'
export { findWorkspaceRow } from './workspaces.js'
export type { Project, ProjectInput } from './projects.js'
export { projectCriticality } from './projects.js'
export {
  CRITICALITIES,
  RUNTIME_CHANNELS,
  WEEKDAYS,
  LIMITS as ENVIRONMENT_LIMITS,
  type Environment,
  type EnvironmentInput,
  type Sizing,
  DEFAULT_SIZING,
  type MaintenanceWindow,
  type Criticality,
  type RuntimeChannel,
  type EgressSetting,
  DEFAULT_EGRESS,
  type ThrottleSetting,
  DEFAULT_THROTTLE,
} from './environments.js'
export { VARIABLE_LIMITS, type Variable, type VariableInput } from './variables.js'
export {
  NAME_PATTERN,
  RUNTIME_PATTERN,
  VARIABLE_NAME_PATTERN,
  assertRepository,
  assertBranch,
} from './validate.js'
export { defaultHost } from './hosts.js'
export { TENANCY_ERRORS } from './errors.js'
export type { TenancyEvents } from './events.js'
export type { SecretValues } from './secret-values.js'
export {
  DEFAULT_WAF,
  WAF_LIMITS,
  WAF_OFF_SWITCHES,
  validateWafSettings,
  type WafSettings,
  type WafExclusion,
  type WafEvent,
  type WafEventCounts,
} from './waf-settings.js'
