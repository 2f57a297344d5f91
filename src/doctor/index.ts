/**
 * Host checks behind `palisade doctor`: isolation, data directory, store, WAF rules, service binaries and
 * pending Debian security updates. Reads only; changes nothing on the host.
 */
export {
  runDoctor,
  type CheckResult,
  type CheckStatus,
  type CommandResult,
  type DoctorDeps,
} from './checks.js'
export { parseAptUpgradable, type PendingUpdate } from './apt-updates.js'
export { runKubernetesDoctor } from './kubernetes-checks.js'
export { stopLeftovers } from './processes.js'
