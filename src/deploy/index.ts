/**
 * Deployments, releases, rollbacks, jobs, logs, access rules and domains, and the drivers that run
 * environments' processes. Work on one environment is serialised; the edge receives each environment's
 * route through a `RouteSink` (the edge's RouteTable).
 * @example
 * const deploy = createDeploy({ db, audit, clock, tenancy, driver: createLocalDriver({ dataDir, isolate: true }), dataDir, baseDomain, gitLocalRoots })
 * await deploy.attachRoutes(edge.routes); await deploy.resume()
 * const d = await deploy.create(principal, ctx, envId, {})
 */
import { createAccess } from './access.js'
import { createDomains } from './domains.js'
import { createDeployer } from './deployer.js'
import { createGitPush } from './git-push.js'
import { createMaintenanceHold } from './maintenance-hold.js'
import type { DeployDeps } from './types.js'

export function createDeploy(deps: DeployDeps) {
  const deployer = createDeployer(deps)
  const git = createGitPush(deps, deployer)
  // A rename moves default hosts: the edge gets the new routes (old host gone, new host served, in one
  // upsert per environment) before the rename is answered.
  deps.tenancy.events.onHostsChanged(async (ids) => {
    for (const id of ids) await deployer.publish(id)
  })
  return {
    ...deployer,
    ...createAccess(deps, deployer.publish),
    ...createDomains(deps, deployer.publish, deps.domains),
    ...createMaintenanceHold(deps, deployer.publish),
    git,
    async close(): Promise<void> {
      await git.stop()
      await deployer.close()
    },
  }
}
export type Deploy = ReturnType<typeof createDeploy>

export {
  createLocalDriver,
  sandboxName,
  DEFAULT_BACKOFF,
  type Backoff,
  type LocalDriverOptions,
} from './drivers/local/local-driver.js'
export { hardenDataDir, removeSandbox } from './drivers/local/isolation.js'
export { createServerGuard, type ServerGuard } from './drivers/local/server-guard.js'
export {
  createProcessRecords,
  processStartTime,
  type ProcessRecord,
} from './drivers/local/process-records.js'
export { inspectProcesses, reapProcesses, type Inspection } from './drivers/local/reconcile.js'
export type {
  DeployDriver,
  ProcessStatus,
  ProcessState,
  Upstream,
  IsolationReport,
} from './drivers/driver.js'
export type {
  EnvironmentDriver,
  EnvironmentTarget,
  EnvironmentStatus,
  ReleaseArtifact,
  DriftReport,
} from './drivers/environment-driver.js'
export { createLocalEnvironmentDriver } from './drivers/local/local-environment-driver.js'
/** The Kubernetes driver (PALISADE_DRIVER=kubernetes): plain-JSON server-side apply, read back. */
export { createKubernetesDriver, type KubernetesDriver } from './drivers/kubernetes/kubernetes-driver.js'
export {
  createKubeClient,
  credentialsFromKubeconfig,
  inClusterCredentials,
  type KubeClient,
} from './drivers/kubernetes/kube-client.js'
export { KUBE_ERRORS } from './drivers/kubernetes/kube-errors.js'
export { createKubernetesControl, type KubernetesControl } from './kubernetes-control.js'
export { kubeClientFor } from './kubernetes-connect.js'
export {
  planSizing,
  parseSizing,
  kubernetesResources,
  CPU_PERIOD_US,
  PIDS as SIZING_PIDS,
  type SizingPlan,
  type ProcessLimits,
} from './sizing.js'
export { LogStore } from './log-store.js'
export type { GitPush, PushTarget } from './git-push.js'
export { DEPLOY_ERRORS } from './errors.js'
export { ACCESS_LIMITS, assertDomain, normaliseCidr } from './access.js'
export { DOMAIN_DEFAULTS, type DomainOptions } from './domains.js'
export {
  proveDomain,
  CHALLENGE_LABEL,
  CHALLENGE_PATH,
  TXT_PREFIX,
  type DomainProofOptions,
  type ProofResult,
} from './domain-proof.js'
export { resolveRepository, assertRef } from './git-source.js'
export { planBuild, parseProcfile } from './build-plan.js'
export {
  DEFAULT_DEPLOY_OPTIONS,
  DEPLOYMENT_STATUSES,
  JOB_TYPES,
  type AccessInput,
  type AccessPatch,
  type Deployment,
  type DeployDeps,
  type DeployOptions,
  type Domain,
  type EnvironmentAccess,
  type EnvironmentRuntimeStatus,
  type Job,
  type JobType,
  type PublishedRoute,
  type RouteSink,
  type RuntimePins,
} from './types.js'
export type { CurrentRelease } from './deployer.js'

/** Unicast public addresses only (no loopback, private, link-local/metadata, CGNAT…): also for outbound webhooks. */
export { isPublicAddress } from './drivers/local/egress-policy.js'
