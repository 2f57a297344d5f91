/**
 * Runtimes: the catalog of runtime versions (a dated snapshot, refreshable from the npm registry)
 * and the SemVer update planner. The planner is pure; the scheduler that applies its steps lives
 * with deploy. Custom runtimes and exact pins are never changed; majors are never applied automatically.
 * @example
 * const runtimes = createRuntimes({ dataDir: config.dataDir })
 * const plan = await runtimes.planFor(environment)
 */
export {
  createRuntimes,
  catalogFile,
  type Runtimes,
  type RuntimesOptions,
  type PlanOptions,
  type CatalogSummaryEntry,
} from './runtimes.js'
export {
  planRuntimeUpdates,
  RUNTIME_POLICY,
  EOL_OPTIONS,
  type RuntimePlan,
  type PlanStep,
  type StepKind,
  type EolInfo,
  type PlanInput,
  type RuntimePolicy,
} from './planner.js'
export { parseRuntimeSetting, settingAllows, CHANNELS, type Channel, type RuntimeSetting } from './setting.js'
export { parseVersion, compareVersions, formatVersion, type Version } from './semver.js'
export { windowAt, nthWindow, isInWindow, zonedInstant, type WindowOccurrence } from './window.js'
export { shippedCatalog, refreshCatalog, findRuntime, findMajor, releasedBy } from './catalog/catalog.js'
export {
  refreshNodeCatalog,
  NPM_REGISTRY,
  NODE_PACKAGE,
  type FetchJson,
  type RefreshNodeOptions,
} from './catalog/refresh-node.js'
export { createRegistryFetch, type RegistryFetchOptions } from './catalog/registry-fetch.js'
export { validateCatalog } from './catalog/validate-catalog.js'
export type { RuntimeCatalog, RuntimeEntry, MajorInfo, VersionInfo } from './catalog/types.js'
export { RUNTIME_ERRORS } from './errors.js'
export {
  installNodeVersion,
  nodeInstallDir,
  removeTree,
  type InstallNodeOptions,
  type InstallResult,
} from './install/node-installer.js'
export { createRuntimePins, type RuntimePinsOptions } from './install/runtime-pins.js'
export {
  decideRuntimeUpdate,
  retryAfterFailure,
  postponeLimit,
  SCHEDULER_POLICY,
  type Decision,
  type DecisionInput,
  type Notice,
  type SchedulerPolicy,
  type UpdateToApply,
} from './updates/decide.js'
export {
  createRuntimeUpdates,
  type RuntimeUpdates,
  type RuntimeUpdatesDeps,
  type RuntimeUpdateDeploy,
  type RuntimePlanView,
} from './updates/runtime-updates.js'
